//! Recordings still being written: their copy follows them as `NAME.partial` (by the
//! watcher every `live_sync_secs`, by each pass), takes its final name once they are
//! finished, and outlives a source that is wiped mid-recording.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::common::*;

tests![
    a_growing_recording_is_followed_then_takes_its_final_name,
    a_wipe_mid_recording_keeps_what_was_followed,
    a_pass_copies_a_recording_in_progress_as_partial_and_finishes_it_later,
    a_locked_recording_is_retried_with_growing_pauses,
    status_json_shows_the_daemon_live_state,
];

fn env() -> Env {
    Env::new(json!({"reconcile_interval_secs": 3600, "settle_secs": 1, "live_sync_secs": 2}))
}

/// A recorder writing one file without pause (a 16 KiB chunk every 100 ms) until
/// stopped; the file stays open the whole time. For the Windows build it is a Windows
/// program (scripts/wine/hold-writer.c): Wine's sharing checks, which tell the watcher
/// a writer holds the file, do not see a Linux process's open file.
enum Recorder {
    Thread(Arc<AtomicBool>, JoinHandle<()>),
    Wine(std::process::Child, PathBuf),
}

impl Recorder {
    fn start(path: &Path) -> Recorder {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        if let Some(writer) = std::env::var_os("CCTV_MIRROR_TEST_HOLD_WRITER") {
            let runner = std::env::var_os("CCTV_MIRROR_TEST_RUNNER").unwrap_or("wine".into());
            let child = std::process::Command::new(runner)
                .arg(writer)
                .arg(format!("Z:{}", path.display()).replace('/', "\\"))
                .args(["16384", "100"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            return Recorder::Wine(child, path.to_path_buf());
        }
        let mut f = fs::File::create(path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut i = 0u8;
            while !flag.load(Ordering::Relaxed) {
                f.write_all(&payload(16 * 1024, i)).unwrap();
                i = i.wrapping_add(1);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Recorder::Thread(stop, thread)
    }

    /// Stops writing and closes the file.
    fn finish(self) {
        match self {
            Recorder::Thread(stop, thread) => {
                stop.store(true, Ordering::Relaxed);
                thread.join().unwrap();
            }
            Recorder::Wine(mut child, path) => {
                fs::write(format!("{}.release", path.display()), b"").unwrap();
                assert!(child.wait().unwrap().success());
            }
        }
    }
}

fn len(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// True when `copy` holds a true prefix of `source` (at least `min` bytes).
fn is_prefix(copy: &Path, source: &Path, min: u64) -> bool {
    match (fs::read(copy), fs::read(source)) {
        (Ok(c), Ok(s)) => c.len() as u64 >= min && s.starts_with(&c),
        _ => false,
    }
}

fn a_growing_recording_is_followed_then_takes_its_final_name() {
    let env = env();
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let child = env.watching();
    let rel = dated(today(), "10.00.00-11.00.00[R][0@0][0].dav");
    let (src, fin) = (env.source.join(&rel), env.backup.join(&rel));
    let partial = PathBuf::from(format!("{}.partial", fin.display()));
    let rec = Recorder::start(&src);
    // While the file is open and growing, its copy appears and grows: followed, not
    // waited for.
    wait_until(60, "an in-progress copy while recording", || {
        is_prefix(&partial, &src, 1)
    });
    let first = len(&partial);
    wait_until(60, "the in-progress copy to follow the growth", || {
        len(&partial) > first && is_prefix(&partial, &src, first + 1)
    });
    assert!(!fin.exists(), "no final name while recording");
    rec.finish();
    wait_until(60, "the finished copy under its final name", || {
        fs::read(&fin).ok() == fs::read(&src).ok()
    });
    assert!(!partial.exists(), "the in-progress copy is gone once finished");
    wait_until(60, "the log lines of both steps", || {
        let log = env.logs_text();
        log.contains("in-progress copy started") && log.contains("in-progress copy completed and renamed")
    });
    stop(child);
}

fn a_wipe_mid_recording_keeps_what_was_followed() {
    let env = env();
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let child = env.watching();
    // A recorder that writes `NAME.dav_` and renames it at the end.
    let src = env.source.join(dated(today(), "ch1.dav_"));
    let partial = env.backup.join(dated(today(), "ch1.dav.partial"));
    let rec = Recorder::start(&src);
    wait_until(60, "an in-progress copy of the .dav_ file", || {
        is_prefix(&partial, &src, 100_000)
    });
    // The platform wipes its recordings mid-recording, once the copy has caught up
    // (a sync may still be appending the last bytes written).
    rec.finish();
    wait_until(60, "the in-progress copy to hold every byte", || {
        fs::read(&partial).ok() == fs::read(&src).ok()
    });
    let saved = fs::read(&partial).unwrap();
    fs::remove_file(&src).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    stop(child);
    assert_eq!(fs::read(&partial).unwrap(), saved, "the in-progress copy is untouched");
    // A pass afterwards keeps it too: only retention removes it, when it is old.
    env.pass();
    assert_eq!(fs::read(&partial).unwrap(), saved);
    assert_eq!(env.backup_files(), vec![dated(today(), "ch1.dav.partial")]);
}

fn a_pass_copies_a_recording_in_progress_as_partial_and_finishes_it_later() {
    let env = Env::new(json!({}));
    let rel = dated(today(), "ch1.dav");
    // Changed just now: still being recorded.
    let src = write_file(&env.source.join(&rel), &payload(5000, 1));
    env.pass();
    assert_eq!(env.backup_files(), vec![format!("{rel}.partial")]);
    assert_eq!(env.last_pass("following"), 1);
    // It grew, then the recorder closed it a minute ago: finished.
    let mut f = fs::OpenOptions::new().append(true).open(&src).unwrap();
    f.write_all(&payload(3000, 2)).unwrap();
    drop(f);
    set_mtime(&src, SystemTime::now() - Duration::from_secs(60));
    env.pass();
    assert_eq!(env.backup_files(), vec![rel.clone()]);
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), fs::read(&src).unwrap());
    assert_eq!(env.last_pass("completed"), 1);
    assert!(env
        .logs_text()
        .contains("finished: the in-progress copy (5000 of 8000 bytes)"));
}

fn a_locked_recording_is_retried_with_growing_pauses() -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    // The daemon runs as another user, whose reads a file's mode can refuse.
    native_only("it runs the daemon as another Linux user")?;
    need_root()?;
    let env = env();
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let mut child = Daemon(
        env.command_unprivileged(&["run"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until(60, "the watcher to start", || {
        env.logs_text().contains("watching the source folder")
    });
    // Refused to the daemon (EACCES), as a recorder's sharing violation would be.
    let rel = dated(today(), "locked.dav");
    let path = env.source.join(&rel);
    let mut f = fs::File::create(&path).unwrap();
    f.set_permissions(fs::Permissions::from_mode(0o000)).unwrap();
    f.write_all(&payload(1000, 4)).unwrap();
    drop(f);
    wait_until(60, "the daemon to say it is locked", || {
        env.logs_text().contains("locked by another program")
    });
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    wait_until(120, "the copy once readable, without waiting for the tick", || {
        fs::read(env.backup.join(&rel)).ok() == fs::read(&path).ok()
    });
    let log = env.logs_text();
    assert_eq!(log.matches("locked by another program").count(), 1, "said once: {log}");
    signal(&child, stop_signal());
    assert_eq!(exit_code(&mut child, 60), Some(0));
    Ok(())
}

fn status_json_shows_the_daemon_live_state() {
    let env = env();
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let child = env.watching();
    let d = env.status()["daemon"].clone();
    assert_eq!(d["watcher"], "watching", "{d}");
    assert!(d["started_at"].is_string() && d["queue_length"].is_u64(), "{d}");
    let rel = dated(today(), "a.dav");
    env.record(&rel, &payload(4000, 6));
    // Paths in status.json are the OS's own.
    let shown = if windows_build() {
        rel.replace('/', "\\")
    } else {
        rel.clone()
    };
    wait_until(60, "status.json to show the copy", || {
        let d = env.status()["daemon"].clone();
        d["last_copy"]["path"] == shown.as_str() && d["since_start"]["copied"].as_u64() >= Some(1)
    });
    let d = env.status()["daemon"].clone();
    assert_eq!(d["last_copy"]["outcome"], "copied", "{d}");
    assert_eq!(d["since_start"]["bytes_copied"], 4000, "{d}");
    stop(child);
    assert_eq!(env.status()["state"], "stopped");
    assert_eq!(env.status()["daemon"]["watcher"], "off");
}
