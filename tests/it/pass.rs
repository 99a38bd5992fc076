//! One `run --once` pass: what it copies, updates, keeps, and how it reports it.

use std::fs;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::common::*;

tests![
    first_pass_copies_the_window_with_layout_and_mtime,
    a_pass_with_nothing_new_copies_nothing,
    a_grown_recording_gets_only_its_new_bytes,
    a_shorter_source_never_shrinks_the_backup,
    a_different_source_is_kept_beside_never_over_the_backup,
    deletions_in_the_source_never_propagate_and_a_wipe_is_reported,
    a_missing_source_deletes_nothing_even_when_old,
    stale_temporaries_are_removed,
    a_future_recording_is_copied_and_raises_clock_suspect,
    dates_come_from_mtime_without_dated_folders,
    low_free_space_raises_an_alert_but_the_pass_succeeds,
    an_unreadable_file_is_counted_and_retried_without_stopping_the_pass,
    status_json_has_the_documented_schema,
    each_pass_writes_its_own_log_named_after_its_start,
    a_backfill_killed_midway_leaves_only_whole_copies,
    a_recording_written_before_the_clock_went_back_is_followed_not_finished,
];

fn first_pass_copies_the_window_with_layout_and_mtime() {
    let env = Env::new(json!({}));
    let a = dated(today(), "08.00.00-09.00.00[R][0@0][0].dav");
    let b = dated(days_ago(10), "ch2/NVR_ch2_main_20261116080000_20261116090000.DAV");
    let old = dated(days_ago(40), "old.dav");
    env.record(&a, &payload(5000, 1));
    env.record(&b, &payload(7000, 2));
    env.record(&old, &payload(10, 3));
    env.record(&dated(today(), "index.idx"), b"not a recording");
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    set_mtime(&env.source.join(&a), t);

    let out = env.pass();
    assert_eq!(env.backup_files(), {
        let mut v = vec![a.clone(), b.clone()];
        v.sort();
        v
    });
    assert_eq!(fs::read(env.backup.join(&a)).unwrap(), payload(5000, 1));
    assert_eq!(mtime(&env.backup.join(&a)), t, "modification time preserved");
    assert_eq!(env.last_pass("copied"), 2);
    assert_eq!(env.last_pass("bytes_copied"), 12000);
    assert_eq!(env.last_pass("scanned"), 2);
    assert_eq!(env.last_pass("errors"), 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("copied"),
        "console shows the copies"
    );
    let log = env.logs_text();
    assert!(log.contains(&format!("copied path={a}")), "{log}");
    assert!(log.contains("pass finished"), "{log}");
}

fn a_pass_with_nothing_new_copies_nothing() {
    let env = Env::new(json!({}));
    for i in 0..20 {
        env.record(&dated(today(), &format!("ch{i}.dav")), &payload(100, i));
    }
    env.pass();
    let before = mtime(&env.backup.join(dated(today(), "ch0.dav")));
    env.pass();
    assert_eq!(env.last_pass("copied"), 0);
    assert_eq!(env.last_pass("updated"), 0);
    assert_eq!(env.last_pass("up_to_date"), 20);
    assert_eq!(env.last_pass("bytes_copied"), 0);
    assert_eq!(mtime(&env.backup.join(dated(today(), "ch0.dav"))), before);
}

fn a_grown_recording_gets_only_its_new_bytes() {
    let env = Env::new(json!({}));
    let rel = dated(today(), "growing.dav");
    let full = payload(3 << 20, 9);
    env.record(&rel, &full[..2 << 20]);
    env.pass();
    let inode_before = inode(&env.backup.join(&rel));
    env.record(&rel, &full);
    env.pass();
    assert_eq!(env.last_pass("updated"), 1);
    assert_eq!(env.last_pass("bytes_copied"), 1 << 20, "only the new mebibyte");
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), full);
    assert_eq!(inode(&env.backup.join(&rel)), inode_before, "appended in place");
    assert!(env.logs_text().contains("updated: appended new bytes"));
}

#[cfg(unix)]
fn inode(p: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap())
}
#[cfg(not(unix))]
fn inode(_: &std::path::Path) -> u64 {
    0
}

fn a_shorter_source_never_shrinks_the_backup() {
    let env = Env::new(json!({}));
    let rel = dated(today(), "cut.dav");
    let full = payload(4096, 4);
    env.record(&rel, &full);
    env.pass();
    env.record(&rel, &full[..1000]);
    env.pass();
    assert_eq!(
        fs::read(env.backup.join(&rel)).unwrap(),
        full,
        "backup keeps every byte"
    );
    assert_eq!(env.backup_files(), vec![rel.clone()], "nothing new to keep beside it");
    assert_eq!(env.alert_kinds(), vec!["source_shrunk"]);
    assert!(env.logs_text().contains("alert=source_shrunk"));
}

fn a_different_source_is_kept_beside_never_over_the_backup() {
    let env = Env::new(json!({}));
    let rel = dated(today(), "10.00.00-11.00.00[R][0@0][0].dav");
    env.record(&rel, &payload(4096, 1));
    env.pass();
    let p = env.record(&rel, &payload(4096, 2));
    set_mtime(&p, SystemTime::now() - Duration::from_secs(30));
    env.pass();
    let beside = dated(today(), "10.00.00-11.00.00[R][0@0][0].changed-1.dav");
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), payload(4096, 1));
    assert_eq!(fs::read(env.backup.join(&beside)).unwrap(), payload(4096, 2));
    assert_eq!(env.alert_kinds(), vec!["source_shrunk"]);
    let msg = env.status()["alerts"][0]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("changed-1.dav"), "{msg}");
    // Stable: a further pass stores nothing again and still says so.
    env.pass();
    assert_eq!(env.backup_files().len(), 2);
    assert_eq!(env.last_pass("bytes_copied"), 0);
}

fn deletions_in_the_source_never_propagate_and_a_wipe_is_reported() {
    let env = Env::new(json!({}));
    let names: Vec<String> = (0..10).map(|i| dated(today(), &format!("ch{i}.dav"))).collect();
    for (i, n) in names.iter().enumerate() {
        env.record(n, &payload(100, i as u8));
    }
    env.pass();
    assert!(env.alert_kinds().is_empty());
    for n in &names[..8] {
        fs::remove_file(env.source.join(n)).unwrap();
    }
    env.pass();
    assert_eq!(env.backup_files().len(), 10, "the backup keeps what the source lost");
    assert_eq!(env.alert_kinds(), vec!["source_wipe"]);
    assert!(env.logs_text().contains("alert=source_wipe"));
    // The whole source folder gone: nothing copied or deleted, the source is unavailable.
    fs::remove_dir_all(&env.source).unwrap();
    env.pass();
    assert_eq!(env.backup_files().len(), 10);
    assert_eq!(env.alert_kinds(), vec!["source_unavailable", "source_wipe"]);
}

fn a_missing_source_deletes_nothing_even_when_old() {
    let env = Env::new(json!({}));
    write_file(&env.backup.join(dated(days_ago(90), "old.dav")), b"kept");
    fs::remove_dir_all(&env.source).unwrap();
    let out = env.pass();
    assert_eq!(env.backup_files(), vec![dated(days_ago(90), "old.dav")]);
    assert!(
        env.alert_kinds().contains(&"source_unavailable".to_string()),
        "{:?}",
        env.alert_kinds()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("alert=source_unavailable"));
}

fn stale_temporaries_are_removed() {
    let env = Env::new(json!({}));
    let tmp = env.backup.join(dated(today(), ".ch1.dav.cctv-tmp"));
    write_file(&tmp, b"half a copy");
    env.record(&dated(today(), "ch1.dav"), b"whole");
    env.pass();
    assert_eq!(env.backup_files(), vec![dated(today(), "ch1.dav")]);
    assert!(env.logs_text().contains("removed temporary"));
}

fn a_future_recording_is_copied_and_raises_clock_suspect() {
    let env = Env::new(json!({}));
    env.record("2099/01/01/a.dav", b"from the future");
    env.pass();
    assert_eq!(env.backup_files(), vec!["2099/01/01/a.dav"]);
    assert_eq!(env.alert_kinds(), vec!["clock_suspect"]);
}

fn dates_come_from_mtime_without_dated_folders() {
    let env = Env::new(json!({}));
    let recent = env.record("cam1/recent.dav", b"r");
    let old = env.record("cam1/old.dav", b"o");
    set_mtime(&recent, SystemTime::now() - Duration::from_secs(5 * 86400));
    set_mtime(&old, SystemTime::now() - Duration::from_secs(45 * 86400));
    env.pass();
    assert_eq!(env.backup_files(), vec!["cam1/recent.dav"]);
    let _ = recent;
}

fn low_free_space_raises_an_alert_but_the_pass_succeeds() {
    let env = Env::new(json!({"min_free_percent": 100.0}));
    env.record(&dated(today(), "a.dav"), b"x");
    env.pass();
    assert_eq!(env.alert_kinds(), vec!["low_disk_space"]);
    assert_eq!(env.last_pass("copied"), 1);
    assert!(env.logs_text().contains("alert=low_disk_space"));
}

fn an_unreadable_file_is_counted_and_retried_without_stopping_the_pass() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(json!({}));
    let locked = env.record(&dated(today(), "locked.dav"), b"secret");
    env.record(&dated(today(), "fine.dav"), b"fine");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads anything: the pass runs as `nobody`, owning the tree, so the mode bites.
    let pass = || {
        let out = env.command_unprivileged(&["run", "--once"]).output().unwrap();
        assert!(out.status.success(), "{}", show(&out));
    };
    pass();
    assert_eq!(env.backup_files(), vec![dated(today(), "fine.dav")]);
    assert_eq!(env.last_pass("errors"), 1);
    assert_eq!(env.alert_kinds(), vec!["copy_errors"]);
    assert!(env
        .logs_text()
        .contains(&format!("path={}", dated(today(), "locked.dav"))));
    // Readable again: the next pass copies it and the alert clears.
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    pass();
    assert_eq!(env.backup_files().len(), 2);
    assert!(env.alert_kinds().is_empty());
}

fn status_json_has_the_documented_schema() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"x");
    env.pass();
    let s = env.status();
    for key in [
        "updated_at",
        "mode",
        "state",
        "version",
        "pid",
        "backup_available",
        "disk",
        "last_pass",
        "alerts",
    ] {
        assert!(s.get(key).is_some(), "status.json lacks {key}: {s}");
    }
    for key in ["free_bytes", "total_bytes", "free_percent"] {
        assert!(s["disk"][key].is_number(), "disk.{key}: {s}");
    }
    for key in [
        "started_at",
        "finished_at",
        "scanned",
        "copied",
        "updated",
        "bytes_copied",
        "up_to_date",
        "deleted",
        "errors",
    ] {
        assert!(s["last_pass"].get(key).is_some(), "last_pass.{key}: {s}");
    }
    assert_eq!(s["mode"], "once");
    assert_eq!(s["backup_available"], true);
}

fn each_pass_writes_its_own_log_named_after_its_start() {
    let env = Env::new(json!({}));
    env.pass();
    std::thread::sleep(Duration::from_millis(1100));
    env.pass();
    let files = env.log_files();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        let rel = f.strip_prefix(&env.logs).unwrap().to_string_lossy().into_owned();
        let ok = chrono::NaiveDateTime::parse_from_str(&rel, "%Y/%m/%d/%H-%M-%S.log").is_ok();
        assert!(ok, "{rel} is not YYYY/MM/DD/HH-MM-SS.log");
        assert!(fs::read_to_string(f).unwrap().contains("pass finished"));
    }
    let logged = env.status()["last_pass"]["log_file"].as_str().unwrap().to_string();
    assert_eq!(std::path::Path::new(&logged), files[1]);
}

/// A first backfill flushes its new copies in batches; killed in the middle, it leaves
/// under a final name only whole copies (the rest are temporaries), and the next pass
/// finishes the work and removes the temporaries.
fn a_backfill_killed_midway_leaves_only_whole_copies() {
    let env = Env::new(json!({}));
    let n = 3000;
    for i in 0..n {
        let rel = dated(today(), &format!("ch{:02}/{i:05}.dav", i % 16));
        env.record(&rel, &payload(2000 + i % 700, i as u8));
    }
    let mut child = env
        .command(&["run", "--once"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run the binary");
    wait_until(120, "a first part of the backfill", || {
        env.backup.exists() && env.backup_files().len() > 300
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let copied: Vec<String> = env.backup_files();
    let finals: Vec<&String> = copied
        .iter()
        .filter(|f| !f.rsplit('/').next().unwrap().starts_with('.'))
        .collect();
    eprintln!("killed with {} of {n} copied", finals.len());
    assert!(finals.len() < n, "killed before the end: {} of {n}", finals.len());
    for f in &finals {
        let (src, dst) = (
            fs::read(env.source.join(f)).unwrap(),
            fs::read(env.backup.join(f)).unwrap(),
        );
        assert!(src == dst, "{f}: {} of {} bytes, or other bytes", dst.len(), src.len());
    }
    env.pass();
    let after = env.backup_files();
    assert_eq!(
        after.len(),
        n,
        "all copied, no temporary left: {:?}",
        &after[..5.min(after.len())]
    );
    assert_eq!(env.last_pass("errors"), 0);
}

/// Found by the soak: a recording written a moment before the clock was set back has a
/// time in the future, which once counted as hours of age; a pass took it for finished
/// and gave its copy the final name while the recorder still wrote it.
fn a_recording_written_before_the_clock_went_back_is_followed_not_finished() -> Outcome {
    need_faketime()?;
    native_only("faketime shifts this Linux binary's clock")?;
    let env = Env::new(json!({}));
    let rel = dated(days_ago(1), "ch01/10.00.00-10.59.59[R][0@0][0].dav");
    env.record(&rel, b"written a moment ago, still being written");
    // The clock went back 2 hours: the recording's time is 2 hours ahead.
    pass_at(&env, "-2h");
    assert!(env.backup.join(format!("{rel}.partial")).is_file(), "{}", env.logs_text());
    assert!(!env.backup.join(&rel).exists(), "not under its final name while it may be written");
    // Once the clock is past it, the recording is finished.
    pass_at(&env, "+1h");
    assert!(env.backup.join(&rel).is_file(), "{}", env.logs_text());
    Ok(())
}
