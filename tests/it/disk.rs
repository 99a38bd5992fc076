//! A real small file system as the backup disk (tmpfs), filled up and then grown.

use std::fs;
use std::process::Command;

use serde_json::json;

use crate::common::*;

tests![
    a_full_backup_disk_leaves_nothing_partial_and_recovers,
    a_write_that_hits_enospc_leaves_no_temporary,
    a_daemon_copies_what_did_not_fit_as_soon_as_there_is_room,
];

/// A tmpfs mounted at a path, unmounted when dropped.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    pub fn mount(at: &std::path::Path, size: &str) -> Result<Tmpfs, Skip> {
        fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(Tmpfs(at.to_path_buf())),
            Ok(o) => missing(format!(
                "root, to mount a tmpfs as a small disk: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => missing(format!("the mount command: {e}")),
        }
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

fn a_full_backup_disk_leaves_nothing_partial_and_recovers() -> Outcome {
    let env = Env::new(json!({"min_free_percent": 5.0}));
    let disk = Tmpfs::mount(&env.backup, "2m")?;
    // A new, empty disk: the operator says it is the backup.
    env.adopt_backup();
    env.record(&dated(today(), "small.dav"), &payload(100_000, 1));
    env.record(&dated(today(), "big.dav"), &payload(3 << 20, 2));
    env.pass();
    assert_eq!(
        env.backup_files(),
        vec![dated(today(), "small.dav")],
        "no partial big.dav, no temporary"
    );
    assert_eq!(env.last_pass("errors"), 1);
    assert!(
        env.alert_kinds().contains(&"low_disk_space".to_string()),
        "{:?}",
        env.alert_kinds()
    );
    assert!(env.logs_text().contains("did not fit") || env.logs_text().contains("not enough space"));

    disk.resize("16m");
    env.pass();
    assert_eq!(
        fs::read(env.backup.join(dated(today(), "big.dav"))).unwrap(),
        payload(3 << 20, 2)
    );
    assert!(env.alert_kinds().is_empty(), "{:?}", env.alert_kinds());
    Ok(())
}

fn a_write_that_hits_enospc_leaves_no_temporary() -> Outcome {
    // The free-space check passes (the file fits at first) but the disk fills during the
    // copy because something else takes the room: ENOSPC mid-write must still leave
    // nothing behind. Simulated by a source bigger than what is free but a check that
    // sees only the starting size: a recording that grows while it is copied.
    let env = Env::new(json!({"min_free_percent": 0.0}));
    let _disk = Tmpfs::mount(&env.backup, "4m")?;
    let filler = env.backup.join("filler.bin");
    fs::write(&filler, payload(3 << 20, 0)).unwrap();
    env.record(&dated(today(), "a.dav"), &payload(2 << 20, 3));
    env.pass();
    assert_eq!(env.backup_files(), vec!["filler.bin".to_string()]);
    fs::remove_file(&filler).unwrap();
    env.pass();
    assert_eq!(env.backup_files(), vec![dated(today(), "a.dav")]);
    Ok(())
}

fn a_daemon_copies_what_did_not_fit_as_soon_as_there_is_room() -> Outcome {
    let env = Env::new(json!({"min_free_percent": 0.0, "reconcile_interval_secs": 3600}));
    let disk = Tmpfs::mount(&env.backup, "2m")?;
    // A new, empty disk: the operator says it is the backup.
    env.adopt_backup();
    let big = dated(today(), "big.dav");
    env.record(&big, &payload(3 << 20, 2));
    let child = env.daemon(&["--no-watch"]);
    wait_until(60, "low_disk_space after the first pass", || {
        env.logs.join("status.json").exists() && env.alert_kinds().contains(&"low_disk_space".to_string())
    });
    assert!(env.backup_files().is_empty(), "nothing partial");
    // Room comes back (a bigger volume, files moved away): no need to wait for the tick.
    disk.resize("16m");
    wait_until(60, "the copy once there is room", || {
        fs::read(env.backup.join(&big)).ok() == Some(payload(3 << 20, 2))
    });
    wait_until(60, "the alert to clear", || env.alert_kinds().is_empty());
    assert!(env.logs_text().contains("there is room on the backup disk again"));
    stop(child);
    Ok(())
}
