//! `verify` and the nightly verification: a clean backup is clean; a flipped byte, a
//! truncated file and a vanished file are each found with their path and reason;
//! slices read every recording exactly once; recordings without a manifest entry are
//! adopted, and listed as such until a verified copy replaces their entry; the daemon's
//! nightly slice raises `backup_corrupt` until it is fixed; an update stopped between
//! its last byte and its manifest entry is recorded by the next pass.

use std::collections::BTreeSet;
use std::fs;

use chrono::{Local, Timelike};
use serde_json::{json, Value};

use crate::common::*;

tests![
    a_clean_backup_is_clean_and_each_damage_is_found_with_its_reason,
    slices_read_every_recording_exactly_once,
    recordings_from_the_old_scripts_are_adopted_at_their_first_verification,
    the_nightly_verification_raises_backup_corrupt_until_fixed,
    an_update_cut_short_before_its_manifest_entry_is_recorded_by_the_next_pass,
];

/// Ten recordings of two cameras yesterday, copied by a pass; their paths.
fn backed_up(env: &Env) -> Vec<String> {
    let mut rels = Vec::new();
    for cam in ["ch01", "ch02"] {
        for h in 0..5 {
            let rel = dated(days_ago(1), &format!("{cam}/{h:02}.00.00-{h:02}.59.59[R][0@0][0].dav"));
            env.record(&rel, &payload(200_000 + h * 1000, h as u8));
            rels.push(rel);
        }
    }
    env.pass();
    rels
}

fn verify(env: &Env, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify", "--json"];
    all.extend(args);
    let out = env.command(&all).output().expect("run verify");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("JSON from verify: {}", show(&out)));
    (out.status.code().unwrap_or(-1), doc)
}

fn problems(doc: &Value) -> Vec<(String, String)> {
    doc["result"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_string(),
                p["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn a_clean_backup_is_clean_and_each_damage_is_found_with_its_reason() {
    let env = Env::new(json!({"scrub_days": 0}));
    let rels = backed_up(&env);
    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["result"]["files"], 10);
    assert_eq!(doc["result"]["adopted"], 0, "every copy was recorded when made");
    assert_eq!(doc["result"]["not_dhav"], 0);

    // Bit rot: one byte flipped inside a frame.
    let rotten = env.backup.join(&rels[1]);
    let mut bytes = fs::read(&rotten).unwrap();
    bytes[100_000] ^= 0x01;
    fs::write(&rotten, &bytes).unwrap();
    // Truncated: the last 100 bytes gone.
    let cut = env.backup.join(&rels[6]);
    let len = fs::metadata(&cut).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    // Gone, and not by retention.
    fs::remove_file(env.backup.join(&rels[8])).unwrap();

    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(
        problems(&doc),
        vec![
            (rels[1].clone(), "content_changed".to_string()),
            (rels[6].clone(), "size_changed".to_string()),
            (rels[6].clone(), "frames_broken".to_string()),
            (rels[8].clone(), "missing".to_string()),
        ]
    );
    let broken = &doc["result"]["problems"][2];
    assert_eq!(broken["at"], 3 * 65_536, "the last frame, cut short: {broken}");
    // The plain form names each problem with its path and reason.
    let out = env.command(&["verify"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("PROBLEM {}: content no longer matches", rels[1])),
        "{text}"
    );
    assert!(text.contains("the file ends inside a frame"), "{text}");
}

fn slices_read_every_recording_exactly_once() {
    let env = Env::new(json!({"scrub_days": 0}));
    let rels = backed_up(&env);
    let (mut files, mut bytes) = (0, 0);
    for k in 1..=4 {
        let (code, doc) = verify(&env, &["--slice", &format!("{k}/4")]);
        assert_eq!(code, 0);
        files += doc["result"]["files"].as_u64().unwrap();
        bytes += doc["result"]["bytes"].as_u64().unwrap();
    }
    let total: u64 = rels
        .iter()
        .map(|r| fs::metadata(env.backup.join(r)).unwrap().len())
        .sum();
    assert_eq!((files, bytes), (10, total));
    // Every file damaged but one, which is gone: each problem is found by exactly one
    // slice, the missing one too (a slice holds only its part of the manifest).
    fs::remove_file(env.backup.join(&rels[0])).unwrap();
    for r in &rels[1..] {
        let p = env.backup.join(r);
        let mut b = fs::read(&p).unwrap();
        b[50] ^= 0xff;
        fs::write(&p, b).unwrap();
    }
    let mut found = Vec::new();
    for k in 1..=4 {
        let (_, doc) = verify(&env, &["--slice", &format!("{k}/4")]);
        found.extend(problems(&doc));
    }
    found.sort();
    let mut want: Vec<(String, String)> = rels.iter().map(|r| (r.clone(), "content_changed".to_string())).collect();
    want[0].1 = "missing".to_string();
    want.sort();
    assert_eq!(found, want);
    let out = env.command(&["verify", "--slice", "5/4"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

fn recordings_from_the_old_scripts_are_adopted_at_their_first_verification() {
    let env = Env::new(json!({"scrub_days": 0}));
    for h in 0..3 {
        write_file(
            &env.backup
                .join(dated(days_ago(2), &format!("ch01/{h:02}.00.00-{h:02}.59.59.dav"))),
            &payload(5000, h),
        );
    }
    write_file(
        &env.backup.join(dated(days_ago(2), "ch01/notes.dav")),
        b"not a recording at all, just text",
    );
    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["result"]["adopted"], 0,
        "an unmarked folder is not written into: {doc}"
    );
    assert!(doc["result"]["manifest_not_updated"]
        .as_str()
        .unwrap()
        .contains("marker"));
    // The first pass adopts the old backup (marker written); verify then adopts its files.
    env.pass();
    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        (doc["result"]["adopted"].as_u64(), doc["result"]["not_dhav"].as_u64()),
        (Some(4), Some(1))
    );
    let (_, doc) = verify(&env, &["--days", "3"]);
    assert_eq!(doc["result"]["adopted"], 0, "recorded the first time");
    assert_eq!(doc["result"]["files"], 4);
    let (_, doc) = verify(&env, &["--days", "1"]);
    assert_eq!(doc["result"]["files"], 0, "two days ago is not in the last day");

    // Adopted entries are listed at every verification, never silently trusted...
    let old: Vec<String> = (0..3)
        .map(|h| dated(days_ago(2), &format!("ch01/{h:02}.00.00-{h:02}.59.59.dav")))
        .collect();
    let mut listed: Vec<String> = old.clone();
    listed.push(dated(days_ago(2), "ch01/notes.dav"));
    listed.sort();
    let (_, doc) = verify(&env, &[]);
    assert_eq!(doc["result"]["adopted_unverified"], json!(listed), "{doc}");
    let out = env.command(&["verify"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("ADOPTED {}: ", old[0])) && text.contains("4 adopted, never verified"),
        "{text}"
    );
    // ...until a copy verified against its source replaces the entry.
    let grown = [payload(5000, 0), payload(5000, 0)].concat();
    env.record(&old[0], &grown);
    env.pass();
    assert_eq!(env.last_pass("updated"), 1, "{}", env.logs_text());
    let (_, doc) = verify(&env, &[]);
    listed.retain(|p| *p != old[0]);
    assert_eq!(doc["result"]["adopted_unverified"], json!(listed), "{doc}");
}

fn the_nightly_verification_raises_backup_corrupt_until_fixed() -> Outcome {
    let env = Env::new(json!({"scrub_days": 1}));
    let rels = backed_up(&env);
    let pass = |env: &Env| -> Outcome {
        // The night's verification starts from 01:00: between midnight and 01:00 only a
        // clock shifted two hours ahead reaches it, and faketime shifts the clock of the
        // Linux program only.
        if Local::now().hour() < 1 {
            native_only("between 00:00 and 01:00, only a shifted clock reaches the 01:00 check")?;
            need_faketime()?;
            pass_at(env, "+2h");
        } else {
            env.pass();
        }
        Ok(())
    };
    pass(&env)?;
    assert!(!env.alert_kinds().contains(&"backup_corrupt".to_string()));
    let scrub: Value = serde_json::from_str(&fs::read_to_string(env.logs.join("scrub.json")).unwrap()).unwrap();
    assert_eq!(
        scrub["last"]["files"], 10,
        "the first pass verified the whole backup: {scrub}"
    );
    assert_eq!(scrub["last"]["slice"], "1/1");

    // Bit rot: the content changes, its size and time do not (so passes see a
    // current copy and read none of its bytes).
    let p = env.backup.join(&rels[3]);
    let was = mtime(&p);
    let mut b = fs::read(&p).unwrap();
    b[1234] ^= 0x10;
    fs::write(&p, b).unwrap();
    set_mtime(&p, was);
    // Tomorrow's night, as far as the record says.
    let mut scrub = scrub;
    scrub["last_night"] = json!(days_ago(1).format("%Y-%m-%d").to_string());
    fs::write(env.logs.join("scrub.json"), scrub.to_string()).unwrap();
    pass(&env)?;
    assert!(
        env.alert_kinds().contains(&"backup_corrupt".to_string()),
        "{}",
        env.status()
    );
    assert!(env.logs_text().contains("alert=backup_corrupt"));
    let status = env.command(&["status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(3), "{}", show(&status));

    // Fixed: the damaged copy removed, copied afresh by the next pass, verified by hand.
    fs::remove_file(&p).unwrap();
    env.pass();
    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 0, "{doc}");
    env.pass();
    let kinds: BTreeSet<String> = env.alert_kinds().into_iter().collect();
    assert!(!kinds.contains("backup_corrupt"), "cleared: {kinds:?}");
    Ok(())
}

/// A daemon killed after an update's bytes reached the backup but before the manifest
/// heard of them leaves a copy as long as its source, with the old time and the old
/// entry. The next pass records it (a logged update), so `verify` stays clean.
fn an_update_cut_short_before_its_manifest_entry_is_recorded_by_the_next_pass() {
    let env = Env::new(json!({"scrub_days": 0}));
    let rels = backed_up(&env);
    let grown = [payload(200_000, 0), payload(3_000, 9)].concat();
    let source = env.record(&rels[0], &grown);
    set_mtime(&source, std::time::SystemTime::now() - std::time::Duration::from_secs(20));
    // What the killed update left: every byte appended, the time and entry not yet.
    let copy = env.backup.join(&rels[0]);
    let old_time = fs::metadata(&copy).unwrap().modified().unwrap();
    fs::write(&copy, &grown).unwrap();
    set_mtime(&copy, old_time);

    env.pass();
    assert_eq!(env.last_pass("updated"), 1, "{}", env.logs_text());
    let logs = env.logs_text();
    // Paths in the log are the OS's own.
    let shown = if windows_build() {
        rels[0].replace('/', "\\")
    } else {
        rels[0].clone()
    };
    assert!(
        logs.contains("already held every byte") && logs.contains(&shown),
        "the update is logged with its reason: {logs}"
    );
    let (code, doc) = verify(&env, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["result"]["problems"], json!([]), "{doc}");
    assert_eq!(fs::read(&copy).unwrap(), grown);
}
