//! The real-time watcher, as a process: recordings reach the backup without waiting
//! for the tick (the tick is set to an hour so only the watcher, or a pass it asks for,
//! can copy them).

use std::fs;
use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::common::*;

tests![
    a_closed_recording_reaches_the_backup,
    a_slow_writer_is_copied_whole,
    a_recording_renamed_from_dav_underscore_is_copied_under_its_final_name,
    the_midnight_rollover_folder_is_scanned,
    a_burst_past_the_inotify_queue_is_fully_mirrored,
    the_source_folder_deleted_and_recreated_while_running,
    a_source_folder_missing_at_start_is_watched_once_it_appears,
    the_watcher_copies_with_the_clock_jumped_ahead,
    the_windows_build_finishes_a_recording_once_its_writer_closes_it,
];

fn env() -> Env {
    Env::new(json!({"reconcile_interval_secs": 3600, "settle_secs": 1}))
}

/// Creates today's folder first (so the watch covers it), then starts the daemon.
fn watching_today(env: &Env) -> Daemon {
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    env.watching()
}

fn same_content(env: &Env, rel: &str) -> bool {
    match (fs::read(env.source.join(rel)), fs::read(env.backup.join(rel))) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn a_closed_recording_reaches_the_backup() {
    let env = env();
    let child = watching_today(&env);
    let rel = dated(today(), "08.00.00-09.00.00[R][0@0][0].dav");
    env.record(&rel, &payload(300_000, 1));
    wait_until(60, "the closed file in the backup", || same_content(&env, &rel));
    // Windows reports no close: there the file is finished once no writer holds it
    // (this writer, a Linux process, is invisible to Wine's sharing checks), or once it
    // holds still.
    let whys: &[&str] = if windows_build() {
        &["closed by its writer", "unchanged for settle_secs"]
    } else {
        &["closed after writing"]
    };
    // The log line follows the rename into the backup by a moment.
    wait_until(60, "the copy's log line", || {
        let logs = env.logs_text();
        whys.iter().any(|w| logs.contains(w))
    });
    stop(child);
}

fn a_slow_writer_is_copied_whole() {
    let env = env();
    let child = watching_today(&env);
    let rel = dated(today(), "slow.dav");
    let mut f = fs::File::create(env.source.join(&rel)).unwrap();
    for i in 0..16u8 {
        f.write_all(&payload(64 * 1024, i)).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(f);
    wait_until(60, "the whole slow recording in the backup", || {
        same_content(&env, &rel)
    });
    assert_eq!(fs::metadata(env.backup.join(&rel)).unwrap().len(), 16 * 64 * 1024);
    stop(child);
}

fn a_recording_renamed_from_dav_underscore_is_copied_under_its_final_name() {
    let env = env();
    let child = watching_today(&env);
    let part = env.record(&dated(today(), "ch1.dav_"), &payload(50_000, 3));
    // Let the debouncer deliver the writes to `.dav_` first (it would otherwise move
    // them onto the new name and report a close), so the rename stands alone.
    std::thread::sleep(Duration::from_secs(3));
    let rel = dated(today(), "ch1.dav");
    fs::rename(&part, env.source.join(&rel)).unwrap();
    wait_until(60, "the renamed recording in the backup", || same_content(&env, &rel));
    wait_until(60, "the copy's log line", || {
        env.logs_text().contains("renamed into place")
    });
    assert!(
        !env.backup_files().iter().any(|f| f.ends_with(".dav_")),
        "{:?}",
        env.backup_files()
    );
    stop(child);
}

fn the_midnight_rollover_folder_is_scanned() {
    let env = env();
    env.record(&dated(days_ago(1), "23.00.00-23.59.59[R][0@0][0].dav"), b"yesterday");
    let child = env.watching();
    // The recorder's rollover: create the day's folders and the first file at once.
    let rel = dated(today(), "ch01/00.00.00-01.00.00[R][0@0][0].dav");
    fs::create_dir_all(env.source.join(&rel).parent().unwrap()).unwrap();
    fs::write(env.source.join(&rel), payload(10_000, 5)).unwrap();
    wait_until(60, "the first file of the new day in the backup", || {
        same_content(&env, &rel)
    });
    stop(child);
}

fn a_burst_past_the_inotify_queue_is_fully_mirrored() {
    let env = env();
    let day = env.source.join(today().format("%Y/%m/%d").to_string());
    fs::create_dir_all(&day).unwrap();
    let child = env.watching();
    // Past inotify's default queue (16,384 events). For the Windows build, past what
    // overflows ReadDirectoryChangesW (about 3,000), fewer because Wine copies slowly.
    let n = if windows_build() { 5_000 } else { 20_000 };
    for i in 0..n {
        fs::write(day.join(format!("f{i:05}.dav")), [i as u8; 16]).unwrap();
    }
    let backup_day = env.backup.join(today().format("%Y/%m/%d").to_string());
    wait_until(300, "every file of the burst in the backup", || {
        fs::read_dir(&backup_day).map(|d| d.count()).unwrap_or(0) == n
    });
    stop(child);
}

fn the_source_folder_deleted_and_recreated_while_running() {
    let env = env();
    let names: Vec<String> = (0..6).map(|i| dated(today(), &format!("ch{i}.dav"))).collect();
    for (i, n) in names.iter().enumerate() {
        env.record(n, &payload(1000, i as u8));
    }
    let child = env.watching();
    wait_until(60, "the first pass copies", || env.backup_files().len() == 6);
    fs::remove_dir_all(&env.source).unwrap();
    wait_until(60, "source_wipe raised without waiting for the tick", || {
        env.alert_kinds().contains(&"source_wipe".to_string())
    });
    assert_eq!(env.backup_files().len(), 6, "nothing propagated");
    // The folder comes back: the watch is re-established and new recordings mirrored.
    let rel = dated(today(), "after.dav");
    env.record(&rel, &payload(2000, 9));
    wait_until(60, "a recording in the recreated folder", || same_content(&env, &rel));
    assert_eq!(env.backup_files().len(), 7);
    stop(child);
}

fn a_source_folder_missing_at_start_is_watched_once_it_appears() {
    let env = env();
    fs::remove_dir_all(&env.source).unwrap();
    let child = env.daemon(&[]);
    wait_until(60, "the first pass to report the missing source", || {
        env.logs.join("status.json").exists() && env.alert_kinds().contains(&"source_unavailable".to_string())
    });
    assert_eq!(env.status()["daemon"]["watcher"], "waiting_for_source");
    // The disk mounts late: the folder and its first recording appear together.
    let rel = dated(today(), "first.dav");
    env.record(&rel, &payload(3000, 8));
    wait_until(60, "the recording mirrored without waiting for the tick", || {
        same_content(&env, &rel)
    });
    wait_until(60, "status.json to show the watch up and the alert gone", || {
        let s = env.status();
        s["daemon"]["watcher"] == "watching" && s["alerts"].as_array().is_some_and(|a| a.is_empty())
    });
    stop(child);
}

/// With this machine's clock a year ahead of the recordings (a wrong clock, or a
/// recorder keeping its own), the watcher anchors its window on the newest recording
/// as the pass does, and copies a new recording at once instead of ignoring it until
/// the tick.
fn the_watcher_copies_with_the_clock_jumped_ahead() -> Outcome {
    native_only("faketime shifts the clock of a Linux program")?;
    need_faketime()?;
    let env = Env::new(serde_json::json!({ "reconcile_interval_secs": 3600 }));
    env.record(&dated(today(), "before.dav"), b"before");
    // faketime runs the program as its child: both get a process group of their own,
    // so the stop reaches the daemon itself, not only faketime.
    use std::os::unix::process::CommandExt;
    let daemon = std::process::Command::new("faketime")
        .args(["-f", "+400d", BIN, "run", "--config"])
        .arg(&env.config)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut daemon = Daemon(daemon);
    let group = format!("-{}", daemon.id());
    wait_until(60, "the first pass", || {
        env.backup.join(dated(today(), "before.dav")).exists()
    });
    wait_until(60, "the watch", || {
        env.logs_text().contains("watching the source folder")
    });
    env.record(&dated(today(), "after.dav"), b"after");
    wait_until(30, "the watcher's copy (the tick is an hour away)", || {
        env.backup.join(dated(today(), "after.dav")).exists()
    });
    let sent = std::process::Command::new("kill")
        .args(["-TERM", "--", &group])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_until(60, "faketime to end", || daemon.try_wait().unwrap().is_some());
    let config = env.config.display().to_string();
    wait_until(60, "the daemon itself to end", || {
        !std::process::Command::new("pgrep")
            .args(["-f", &config])
            .status()
            .unwrap()
            .success()
    });
    Ok(())
}

/// Windows reports no close; the watcher asks whether a writer still holds the file (an
/// open that refuses to share writing succeeds only when none does). With `settle_secs`
/// at ten minutes only that question can finish a recording: while the recorder
/// stand-in (a Windows program, see scripts/wine/hold-writer.c) holds its file, the
/// recording never takes its final name in the backup; once it closes it, it does.
fn the_windows_build_finishes_a_recording_once_its_writer_closes_it() -> Outcome {
    if !windows_build() {
        return not_applicable("Windows build only: scripts/wine-tests.sh runs it");
    }
    let Some(writer) = std::env::var_os("CCTV_MIRROR_TEST_HOLD_WRITER") else {
        return missing("the recorder stand-in CCTV_MIRROR_TEST_HOLD_WRITER: scripts/wine-tests.sh builds it");
    };
    let env = Env::new(json!({"reconcile_interval_secs": 3600, "settle_secs": 600}));
    let child = watching_today(&env);
    let rel = dated(today(), "ch1.dav");
    let path = env.source.join(&rel);
    let runner = std::env::var_os("CCTV_MIRROR_TEST_RUNNER").unwrap_or("wine".into());
    let mut rec = std::process::Command::new(runner)
        .arg(writer)
        .arg(format!("Z:{}", path.display()).replace('/', "\\"))
        .arg("300000")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(60, "the recorder stand-in to write its file", || {
        fs::metadata(&path).is_ok_and(|m| m.len() == 300_000)
    });
    // Held open: many probes later, still no finished copy.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !env.backup.join(&rel).exists(),
        "finished while its writer held it: {:?}",
        env.backup_files()
    );
    fs::write(format!("{}.release", path.display()), b"").unwrap();
    wait_until(60, "the recording in the backup once closed", || {
        same_content(&env, &rel)
    });
    wait_until(30, "the reason in the log", || {
        env.logs_text().contains("closed by its writer")
    });
    assert!(rec.wait().unwrap().success());
    stop(child);
    Ok(())
}
