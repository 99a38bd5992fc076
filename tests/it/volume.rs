//! The backup-volume guard: the backup folder carries a marker; where it is missing
//! after the folder was marked (an unmounted disk leaves a bare mount point), nothing
//! is written or deleted there, `backup_unavailable` is raised, and once the volume is
//! back the daemon copies what it missed without a restart.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::common::*;

tests![
    a_backup_written_by_the_old_scripts_is_adopted_and_kept,
    a_backup_folder_that_lost_its_marker_is_left_alone_until_adopted,
    an_empty_folder_without_a_marker_is_not_taken_for_the_backup,
    an_unmounted_backup_volume_gets_nothing_and_is_caught_up_when_back,
    check_refuses_an_empty_unmarked_backup_folder_as_the_pass_does,
    a_volume_gone_after_the_check_gets_nothing,
];

fn a_backup_written_by_the_old_scripts_is_adopted_and_kept() {
    let env = Env::new(json!({}));
    let old = dated(today(), "07.00.00-07.59.59[R][0@0][0].dav");
    write_file(&env.backup.join(&old), b"copied by the old scripts");
    env.record(&dated(today(), "new.dav"), b"new");
    env.pass();
    assert!(env.backup.join(MARKER).is_file());
    assert_eq!(env.backup_files(), vec![old.clone(), dated(today(), "new.dav")]);
    assert!(
        env.logs_text().contains("adopted the existing folder"),
        "{}",
        env.logs_text()
    );
    assert_eq!(fs::read(env.backup.join(&old)).unwrap(), b"copied by the old scripts");
}

fn a_backup_folder_that_lost_its_marker_is_left_alone_until_adopted() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"a");
    env.pass();
    // The disk is gone; an empty folder stands at its mount point.
    fs::remove_dir_all(&env.backup).unwrap();
    fs::create_dir(&env.backup).unwrap();
    env.record(&dated(today(), "b.dav"), b"b");
    write_file(&env.backup.join(dated(days_ago(90), "old.dav")), b"not ours to judge");
    env.pass();
    assert_eq!(env.alert_kinds(), vec!["backup_unavailable"]);
    assert_eq!(
        env.backup_files(),
        vec![dated(days_ago(90), "old.dav")],
        "nothing written, nothing deleted"
    );
    assert!(!env.backup.join(MARKER).exists());
    let check = env.command(&["check"]).output().unwrap();
    assert_eq!(check.status.code(), Some(2), "{}", show(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("LOST its marker"));
    // The operator replaced the disk on purpose.
    let adopt = env.command(&["adopt-backup"]).output().unwrap();
    assert!(adopt.status.success(), "{}", show(&adopt));
    env.pass();
    assert!(env.backup.join(dated(today(), "b.dav")).exists());
    // The adopted folder's only recording is old: deleting all of it at once is left
    // to the operator.
    assert_eq!(env.alert_kinds(), vec!["retention_refused"]);
    assert!(env.backup.join(dated(days_ago(90), "old.dav")).exists());
}

fn an_empty_folder_without_a_marker_is_not_taken_for_the_backup() {
    // What the mount point of a disk that is not mounted looks like, on a first run (or
    // after log_dir, which remembers the marking, was cleared).
    let env = Env::new(json!({}));
    fs::create_dir(&env.backup).unwrap();
    env.record(&dated(today(), "a.dav"), b"a");
    env.pass();
    assert_eq!(env.alert_kinds(), vec!["backup_unavailable"]);
    assert_eq!(fs::read_dir(&env.backup).unwrap().count(), 0, "nothing written");
    env.adopt_backup();
    env.pass();
    assert_eq!(env.backup_files(), vec![dated(today(), "a.dav")]);
    // A missing folder is still created on first use (its parent is there).
    let fresh = Env::new(json!({}));
    fresh.record(&dated(today(), "b.dav"), b"b");
    fresh.pass();
    assert!(fresh.backup.join(MARKER).is_file());
}

/// A bind mount of `disk` at `at`, unmounted on drop.
struct Mount {
    at: PathBuf,
    mounted: bool,
}

impl Mount {
    fn bind(disk: &Path, at: &Path) -> Result<Mount, Skip> {
        let out = match Command::new("mount").arg("--bind").arg(disk).arg(at).output() {
            Ok(out) => out,
            Err(e) => return missing(format!("the mount command: {e}")),
        };
        if !out.status.success() {
            return missing(format!(
                "root, to bind-mount: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Mount {
            at: at.to_path_buf(),
            mounted: true,
        })
    }

    fn unmount(&mut self) {
        // Lazy: a copy in flight keeps its open files on the detached volume.
        let st = Command::new("umount").arg("-l").arg(&self.at).status().unwrap();
        assert!(st.success());
        self.mounted = false;
    }

    fn remount(&mut self, disk: &Path) {
        let st = Command::new("mount")
            .arg("--bind")
            .arg(disk)
            .arg(&self.at)
            .status()
            .unwrap();
        assert!(st.success());
        self.mounted = true;
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.at).status();
        }
    }
}

fn an_unmounted_backup_volume_gets_nothing_and_is_caught_up_when_back() -> Outcome {
    need_root()?;
    let env = Env::new(json!({"reconcile_interval_secs": 3600, "settle_secs": 1}));
    let disk = env.dir.path().join("disk");
    fs::create_dir_all(&disk).unwrap();
    fs::create_dir_all(&env.backup).unwrap();
    let mut mount = Mount::bind(&disk, &env.backup)?;
    env.adopt_backup();
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let child = env.watching();
    let first = dated(today(), "first.dav");
    env.record(&first, &payload(2000, 1));
    wait_until(60, "the first recording on the volume", || disk.join(&first).exists());
    assert!(disk.join(MARKER).is_file(), "the volume carries the marker");

    // The iSCSI session drops: a bare folder stands where the volume was.
    mount.unmount();
    let missed: Vec<String> = (0..3).map(|i| dated(today(), &format!("missed{i}.dav"))).collect();
    for (i, m) in missed.iter().enumerate() {
        env.record(m, &payload(1500, i as u8));
    }
    wait_until(60, "backup_unavailable raised without waiting for the tick", || {
        env.alert_kinds().contains(&"backup_unavailable".to_string())
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        fs::read_dir(&env.backup).unwrap().count(),
        0,
        "nothing written at the bare mount point"
    );

    // The volume is back: what was missed is copied, by the same process.
    mount.remount(&disk);
    wait_until(60, "the missed recordings on the volume", || {
        missed.iter().all(|m| disk.join(m).exists())
    });
    wait_until(60, "the alert to clear", || env.alert_kinds().is_empty());
    assert!(env.logs_text().contains("the backup volume is back"));
    stop(child);
    Ok(())
}

/// `check` (and so `service install`) says what a pass would do with an empty,
/// unmarked backup folder: refuse it until `adopt-backup`.
fn check_refuses_an_empty_unmarked_backup_folder_as_the_pass_does() {
    let env = Env::new(serde_json::json!({}));
    std::fs::create_dir_all(&env.backup).unwrap();
    let out = env.command(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty folder without the marker"));
    let out = env.command(&["service", "install"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("adopt-backup"),
        "{}",
        show(&out)
    );
    env.adopt_backup();
    let out = env.command(&["check"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
}

/// The volume goes away after a copy checked its marker and before it created its
/// first file (the soak found this under load): nothing appears at the bare mount
/// point, and the copy says the backup is gone.
fn a_volume_gone_after_the_check_gets_nothing() -> Outcome {
    use cctv_mirror::rules::names::Names;
    use cctv_mirror::rules::stage::Stage;
    use cctv_mirror::store::copy::{CopyError, Mirror};
    use cctv_mirror::store::volume;
    if cfg!(windows) {
        return not_applicable("a Linux mount taken away under a copy");
    }
    let t = tempfile::tempdir().unwrap();
    let (source, backup) = (t.path().join("source"), t.path().join("backup"));
    let rel = dated(today(), "ch01/08.00.00-08.59.59[R][0@0][0].dav");
    write_file(&source.join(&rel), &payload(100_000, 7));
    let _disk = crate::disk::Tmpfs::mount(&backup, "4m")?;
    volume::mark(&backup, &t.path().join("logs")).unwrap();
    let names = Names {
        extensions: vec!["dav".into()],
        in_progress_suffixes: vec![".dav_".into()],
    };
    let m = Mirror::new(source, backup.clone(), names);
    let mount_point = backup.clone();
    m.faults.before_create(move || {
        let st = Command::new("umount").arg("-l").arg(&mount_point).status().unwrap();
        assert!(st.success(), "umount");
    });
    let out = m.sync(Path::new(&rel), Stage::Finished);
    assert!(matches!(out, Err(CopyError::BackupGone(_))), "{out:?}");
    let left: Vec<_> = fs::read_dir(&backup).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "written at the bare mount point: {left:?}");
    Ok(())
}
