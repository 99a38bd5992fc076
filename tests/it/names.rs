//! Names at the file system's limit (255 bytes): every recording name the source disk
//! accepts is backed up under that same name, while cctv-mirror's own longer names (the
//! temporary, the in-progress copy, the versions kept beside) take a short form that
//! still leads back to the recording.

use std::fs;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::common::*;

tests![
    a_recording_named_255_bytes_is_backed_up_under_its_name,
    a_recording_in_progress_at_the_limit_is_followed_then_finished,
    the_watcher_copies_a_recording_named_255_bytes,
    a_file_time_outside_the_calendar_stops_nothing,
];

/// A Dahua-style name of exactly `len` bytes, ending `.dav`.
fn long_name(len: usize) -> String {
    let stem = "CAMERA_ENTRADA_PRINCIPAL_ch12_main_20261127100000_20261127110000_".repeat(5);
    format!("{}.dav", &stem[..len - 4])
}

fn a_recording_named_255_bytes_is_backed_up_under_its_name() {
    let env = Env::new(json!({}));
    let rel = dated(today(), &long_name(255));
    env.record(&rel, &payload(70_000, 1));
    env.pass();
    assert_eq!(env.last_pass("errors"), 0, "{}", env.logs_text());
    assert_eq!(env.backup_files(), vec![rel.clone()], "no temporary left");
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), payload(70_000, 1));
    env.pass();
    assert_eq!((env.last_pass("copied"), env.last_pass("up_to_date")), (0, 1));

    // Its source changes: the new content is kept beside under a short name, once.
    let p = env.record(&rel, &payload(70_000, 2));
    set_mtime(&p, SystemTime::now() - Duration::from_secs(30));
    env.pass();
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), payload(70_000, 1));
    let files = env.backup_files();
    assert_eq!(files.len(), 2, "{files:?}");
    let beside = files.iter().find(|f| **f != rel).unwrap();
    assert!(
        beside.contains(".changed-1.dav") && beside.len() < rel.len(),
        "{beside}"
    );
    assert_eq!(fs::read(env.backup.join(beside)).unwrap(), payload(70_000, 2));
    env.pass();
    assert_eq!(env.last_pass("bytes_copied"), 0, "the kept version is found again");
    assert_eq!(env.backup_files().len(), 2);

    // Both were recorded in the manifest when copied: verify adopts neither.
    let out = env.command(&["verify", "--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["result"]["files"], 2, "{doc}");
    assert_eq!(doc["result"]["adopted"], 0, "{doc}");
}

/// A recorder's in-progress name at the limit (`NAME.dav_`, 255 bytes): its copy grows
/// under a short `.partial` name, and takes the full final name once renamed.
fn a_recording_in_progress_at_the_limit_is_followed_then_finished() {
    let env = Env::new(json!({}));
    let name = long_name(254);
    let part = env.record(&dated(today(), &format!("{name}_")), &payload(40_000, 3));
    env.pass();
    assert_eq!(env.last_pass("errors"), 0, "{}", env.logs_text());
    let files = env.backup_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with(".dav.partial") && files[0].contains('~'),
        "{files:?}"
    );
    env.pass();
    assert_eq!(
        env.last_pass("bytes_copied"),
        0,
        "the short in-progress copy is found again"
    );
    let rel = dated(today(), &name);
    fs::rename(&part, env.source.join(&rel)).unwrap();
    env.pass();
    assert_eq!(env.last_pass("errors"), 0, "{}", env.logs_text());
    assert_eq!(env.backup_files(), vec![rel.clone()]);
    assert_eq!(fs::read(env.backup.join(&rel)).unwrap(), payload(40_000, 3));
}

/// The watcher copies a recording at the limit too (the Windows build under Wine).
fn the_watcher_copies_a_recording_named_255_bytes() {
    let env = Env::new(json!({"reconcile_interval_secs": 3600, "settle_secs": 1}));
    fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let child = env.watching();
    let rel = dated(today(), &long_name(255));
    env.record(&rel, &payload(50_000, 4));
    wait_until(60, "the recording in the backup", || {
        fs::read(env.backup.join(&rel)).is_ok_and(|b| b == payload(50_000, 4))
    });
    stop(child);
    assert!(!env.logs_text().contains("not copied"), "{}", env.logs_text());
}

/// A file time outside the calendar (year 318,857: tmpfs stores 64-bit times) never
/// stops a pass: the file is logged once, dated today and copied, and so is the rest.
fn a_file_time_outside_the_calendar_stops_nothing() -> Outcome {
    native_only("Wine's file times (FILETIME) cannot hold the year 318,857")?;
    let shm = std::path::Path::new("/dev/shm");
    let Ok(tmp) = tempfile::tempdir_in(shm) else {
        return missing("a tmpfs at /dev/shm, to hold a 64-bit file time");
    };
    // Both trees on tmpfs: ext4 would store the copy's time clamped to the year 2446.
    let env = Env::new(json!({ "source_dir": tmp.path().join("source"), "backup_dir": tmp.path().join("backup") }));
    let odd = write_file(&tmp.path().join("source/cam/odd.dav"), b"odd recording");
    let plain = write_file(
        &tmp.path()
            .join(format!("source/{}", dated(today(), "cam/10.00.00-10.59.59.dav"))),
        b"plain",
    );
    set_mtime(&plain, SystemTime::now() - Duration::from_secs(600));
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000_000_000);
    set_mtime(&odd, far);
    if mtime(&odd) != far {
        return missing("a /dev/shm that keeps 64-bit file times");
    }
    for _ in 0..2 {
        let out = env.pass();
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(env.alert_kinds(), Vec::<String>::new(), "{}", show(&out));
    }
    let backup = Env {
        backup: tmp.path().join("backup"),
        ..env
    };
    assert_eq!(
        backup.backup_files(),
        vec![dated(today(), "cam/10.00.00-10.59.59.dav"), "cam/odd.dav".to_string()]
    );
    let env = backup;
    let said = env
        .logs_text()
        .matches("modification time is outside the calendar")
        .count();
    assert_eq!(said, 2, "once per file in each run --once process");
    Ok(())
}
