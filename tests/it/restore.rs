//! `restore --from-offsite` against a real SeaweedFS on loopback, the bucket filled by
//! the daemon itself: a lost backup disk comes back byte for byte (a grown recording
//! at its newest version, a multipart one whole), then `adopt-backup` and a clean
//! `verify`; a temporary left by a stop resumes; a kill -9 midway and a rerun; other
//! bytes are never overwritten; the choice by camera, day and time; bad input. And
//! `export` taking from the bucket what the backup lacks, or everything with
//! `--from-offsite`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::{json, Value};

use crate::common::*;
use crate::offsite::{client, Weed, BUCKET, SECRET};
use crate::offsite_daemon::{rec_name, small_parts_site};

tests![
    a_lost_backup_disk_comes_back_byte_for_byte_then_adopt_and_verify_are_clean,
    a_stopped_restore_resumes_and_other_bytes_are_never_overwritten,
    restore_chooses_by_camera_day_and_time_and_refuses_bad_input,
    export_takes_from_the_bucket_what_the_backup_lacks_or_all_with_from_offsite,
];

/// An offsite site whose daemon has put `recordings` (path, bytes) in the bucket, and
/// been stopped.
fn uploaded(recordings: &[(String, Vec<u8>)]) -> Env {
    let env = small_parts_site();
    for (rel, bytes) in recordings {
        env.record(rel, bytes);
    }
    env.adopt_backup();
    let daemon = env.watching();
    let s3 = client(SECRET, BUCKET);
    wait_until(120, "every recording in the bucket", || {
        recordings
            .iter()
            .all(|(rel, b)| s3.head(&format!("site/{rel}")).is_ok_and(|h| h.is_some_and(|h| h.size == b.len() as u64)))
    });
    drop(daemon);
    env
}

fn restore(env: &Env, args: &[&str]) -> Output {
    let mut all = vec!["restore", "--from-offsite"];
    all.extend_from_slice(args);
    env.command(&all).output().expect("run restore")
}

/// Every file under `dir`, relative with `/`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(dir, &mut found);
    let mut rel: Vec<String> = found
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    rel.sort();
    rel
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The restore's log lines (its own log file in the log folder).
fn restore_log(env: &Env) -> String {
    env.logs_text()
        .lines()
        .skip_while(|l| !l.contains("restore started"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn a_lost_backup_disk_comes_back_byte_for_byte_then_adopt_and_verify_are_clean() -> Outcome {
    let _weed = Weed::start()?;
    let grown = rec_name(days_ago(1), 1, 10);
    let recs = vec![
        (rec_name(days_ago(2), 1, 9), payload(200_000, 1)),
        (grown.clone(), payload(100_000, 2)),
        (rec_name(days_ago(1), 2, 10), payload(12 << 20, 3)),
        (rec_name(today(), 2, 0), payload(50_000, 4)),
    ];
    let env = uploaded(&recs);
    // The recording grows after its upload: the bucket takes a newer version.
    let longer = [payload(100_000, 2), payload(30_000, 9)].concat();
    env.record(&grown, &longer);
    let daemon = env.watching();
    let s3 = client(SECRET, BUCKET);
    let newer = format!("site/{}", grown.replace(".dav", ".grown-1.dav"));
    wait_until(120, "the grown version in the bucket", || {
        s3.head(&newer).is_ok_and(|h| h.is_some())
    });
    drop(daemon);
    let mut want: Vec<(String, Vec<u8>)> = recs;
    want[1].1 = longer;

    // The backup disk dies; a new, empty one takes its place.
    fs::remove_dir_all(&env.backup).unwrap();
    fs::create_dir_all(&env.backup).unwrap();
    let to = env.backup.to_string_lossy().into_owned();
    let out = restore(&env, &["--to", &to]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = show(&out);
    assert!(text.contains("4 restored"), "{text}");
    let mut names: Vec<String> = want.iter().map(|(r, _)| r.clone()).collect();
    names.sort();
    assert_eq!(files(&env.backup), names, "the recordings, no temporary, nothing else");
    for (rel, bytes) in &want {
        let back = env.backup.join(rel);
        assert!(fs::read(&back).unwrap() == *bytes, "{rel} byte for byte");
        // Windows keeps file times to 100 ns.
        let (restored, recorded) = (mtime(&back), mtime(&env.source.join(rel)));
        let apart = restored.duration_since(recorded).or_else(|e| Ok::<_, ()>(e.duration())).unwrap();
        assert!(apart.as_micros() < 1, "{rel} keeps its time: {restored:?} against {recorded:?}");
    }
    assert!(restore_log(&env).contains("adopt-backup makes it the backup"), "{}", restore_log(&env));

    env.adopt_backup();
    let out = env.command(&["verify", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["result"]["problems"], json!([]), "{doc}");
    assert_eq!(doc["result"]["files"], 4, "{doc}");
    // A pass finds the backup current: nothing is copied again.
    env.pass();
    assert_eq!(env.last_pass("copied") + env.last_pass("updated"), 0, "{}", env.logs_text());
    // Run again: everything is there already.
    let out = restore(&env, &["--to", &to]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(show(&out).contains("0 restored") && show(&out).contains("4 already there"), "{}", show(&out));
    Ok(())
}

fn a_stopped_restore_resumes_and_other_bytes_are_never_overwritten() -> Outcome {
    let _weed = Weed::start()?;
    let recs: Vec<(String, Vec<u8>)> = (0..6)
        .map(|h| (rec_name(days_ago(1), 1, h), payload(3 << 20, h as u8)))
        .collect();
    let env = uploaded(&recs);
    let dir = env.dir.path().join("rebuilt");
    let to = dir.to_string_lossy().into_owned();

    // A kill -9 wherever it lands, then a rerun: every recording whole, no temporary.
    let mut child = env
        .command(&["restore", "--from-offsite", "--to", &to])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(60, "the restore to start", || restore_log(&env).contains("restore started"));
    child.kill().unwrap();
    let _ = child.wait();
    for f in files(&dir) {
        if let Some((rel, bytes)) = recs.iter().find(|(r, _)| *r == f) {
            assert!(fs::read(dir.join(rel)).unwrap() == *bytes, "{rel}: whole under its name, or absent");
        }
    }
    let out = restore(&env, &["--to", &to]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let mut names: Vec<String> = recs.iter().map(|(r, _)| r.clone()).collect();
    names.sort();
    assert_eq!(files(&dir), names);

    // What a stop leaves: the first half of one recording in its temporary. The rerun
    // asks the bucket only for the rest.
    let (rel, bytes) = &recs[2];
    let dest = dir.join(rel);
    fs::remove_file(&dest).unwrap();
    let tmp = dest.with_file_name(format!(".{}.cctv-tmp", dest.file_name().unwrap().to_string_lossy()));
    fs::write(&tmp, &bytes[..bytes.len() / 2]).unwrap();
    // Other bytes under a recording's name: kept, the recording beside them.
    let (other_rel, other_bytes) = &recs[4];
    fs::write(dir.join(other_rel), b"an operator's own file").unwrap();
    let out = restore(&env, &["--to", &to]);
    let text = show(&out);
    assert_eq!(out.status.code(), Some(3), "kept beside: {text}");
    assert!(fs::read(&dest).unwrap() == *bytes, "resumed to the whole recording");
    assert!(!tmp.exists(), "the temporary took its name");
    let half = (bytes.len() - bytes.len() / 2).to_string();
    assert!(
        text.lines().any(|l| l.contains("restored") && l.contains(&format!("bytes={half}"))),
        "only the missing half was received: {text}"
    );
    assert_eq!(fs::read(dir.join(other_rel)).unwrap(), b"an operator's own file", "never overwritten");
    let beside = other_rel.replace(".dav", ".changed-1.dav");
    assert!(fs::read(dir.join(&beside)).unwrap() == *other_bytes, "the recording beside it");
    assert!(text.contains("restored beside"), "{text}");
    assert!(text.contains("1 beside other bytes"), "{text}");

    // An object whose bytes are not the recording its metadata names is never restored.
    let (bad_rel, _) = &recs[5];
    let key = format!("site/{bad_rel}");
    let s3 = client(SECRET, BUCKET);
    let meta: Vec<(String, String)> = s3.head(&key).unwrap().unwrap().meta.into_iter().collect();
    s3.delete(&key).unwrap();
    let mut forged = fs::read(dir.join(bad_rel)).unwrap();
    forged[1000] ^= 1;
    s3.put(&key, &forged, &meta).unwrap();
    fs::remove_file(dir.join(bad_rel)).unwrap();
    let out = restore(&env, &["--to", &to]);
    let text = show(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("not restored") && text.contains("not the recording recorded at upload"), "{text}");
    assert!(!dir.join(bad_rel).exists(), "nothing under its name");
    assert!(files(&dir).iter().all(|f| !f.contains(".cctv-tmp")), "no temporary left: {:?}", files(&dir));
    Ok(())
}

fn restore_chooses_by_camera_day_and_time_and_refuses_bad_input() -> Outcome {
    let _weed = Weed::start()?;
    let day = days_ago(1);
    let recs = vec![
        (rec_name(day, 1, 14), payload(10_000, 1)),
        (rec_name(day, 1, 15), payload(10_000, 2)),
        (rec_name(day, 2, 14), payload(10_000, 3)),
        (rec_name(days_ago(3), 1, 14), payload(10_000, 4)),
    ];
    let env = uploaded(&recs);
    let to = |name: &str| env.dir.path().join(name).to_string_lossy().into_owned();
    let d = day.format("%Y-%m-%d").to_string();

    let out = restore(&env, &["--to", &to("cam"), "--camera", "CH01"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(files(Path::new(&to("cam"))), vec![recs[3].0.clone(), recs[0].0.clone(), recs[1].0.clone()]);

    let out = restore(&env, &["--to", &to("days"), "--days", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(files(Path::new(&to("days"))).len(), 3, "not the one of 3 days ago");

    let (from, end) = (format!("{d} 14:30"), format!("{d} 15:00"));
    let out = restore(&env, &["--to", &to("range"), "--from", &from, "--to", &end, "--camera", "ch01"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(files(Path::new(&to("range"))), vec![recs[0].0.clone()]);

    let refused = |args: &[&str], says: &str| {
        let out = restore(&env, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(says) && err.lines().count() == 1, "{args:?}: {err}");
    };
    refused(&["--to", &to("x"), "--camera", "ch09"], "its cameras: ch01, ch02");
    refused(&["--to", &to("x"), "--from", &from], "a second --to gives the range's end");
    refused(&["--to", &to("x"), "--from", &end, "--to", &from], "must come before");
    let src = env.source.join("inside").to_string_lossy().into_owned();
    refused(&["--to", &src], "outside the source folder");
    // Into the backup folder while the daemon writes there: stop it first.
    let daemon = env.watching();
    let backup = env.backup.to_string_lossy().into_owned();
    refused(&["--to", &backup], "stop it first");
    drop(daemon);
    let out = env.command(&["restore", "--to", &to("x")]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("add --from-offsite"), "{}", show(&out));
    assert!(!Path::new(&to("x")).exists(), "nothing written on bad input");
    Ok(())
}

fn export_takes_from_the_bucket_what_the_backup_lacks_or_all_with_from_offsite() -> Outcome {
    let _weed = Weed::start()?;
    let day = days_ago(1);
    let recs: Vec<(String, Vec<u8>)> = (12..15).map(|h| (rec_name(day, 3, h), payload(100_000 + h as usize, h as u8))).collect();
    let env = uploaded(&recs);
    let at = |h: u32, m: u32| format!("{day} {h:02}:{m:02}");
    let export = |out: &str, extra: &[&str]| {
        let out = env.dir.path().join(out);
        let o = out.to_string_lossy().into_owned();
        let (from, to) = (at(12, 30), at(14, 30));
        let mut args = vec!["export", "--camera", "ch03", "--from", &from, "--to", &to, "--output", &o];
        args.extend_from_slice(extra);
        let run = env.command(&args).output().unwrap();
        (run, out)
    };
    let check = |out: &Path, origins: &[&str]| {
        let doc: Value = serde_json::from_str(&fs::read_to_string(out.join("export.json")).unwrap()).unwrap();
        assert_eq!(doc["complete"], true, "{doc}");
        assert!(doc["bucket"].as_str().unwrap().starts_with("s3://cctv/site"), "{doc}");
        let files = doc["files"].as_array().unwrap();
        assert_eq!(files.len(), 3, "{doc}");
        for ((f, (rel, bytes)), origin) in files.iter().zip(&recs).zip(origins) {
            assert_eq!(f["name"], rel.as_str());
            assert_eq!(f["origin"], *origin, "{f}");
            assert_eq!(f["check"], "matches_manifest", "{f}");
            let copy = out.join(rel);
            assert!(fs::read(&copy).unwrap() == *bytes, "{rel}: byte for byte");
            let sum = std::process::Command::new("sha256sum").arg(&copy).output().unwrap();
            let sum = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap().to_string();
            assert_eq!(f["sha256"].as_str().unwrap(), sum);
        }
    };

    // The backup lost one recording: the bucket gives it.
    fs::remove_file(env.backup.join(&recs[1].0)).unwrap();
    let (run, out) = export("lacking", &[]);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    check(&out, &["backup", "offsite", "backup"]);
    assert!(show(&run).contains("from the offsite bucket"), "{}", show(&run));

    // The backup disk is gone: --from-offsite takes all from the bucket.
    fs::remove_dir_all(&env.backup).unwrap();
    let (run, _) = export("none", &[]);
    assert_eq!(run.status.code(), Some(1), "{}", show(&run));
    assert!(show(&run).contains("--from-offsite takes the recordings from the bucket"), "{}", show(&run));
    let (run, out) = export("bucket", &["--from-offsite"]);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    check(&out, &["offsite", "offsite", "offsite"]);

    // Without an offsite section there is no bucket to take from.
    let plain = Env::new(json!({}));
    let o = plain.dir.path().join("x").to_string_lossy().into_owned();
    let run = plain
        .command(&["export", "--camera", "ch03", "--from", &at(12, 0), "--to", &at(13, 0), "--output", &o, "--from-offsite"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", show(&run));
    assert!(show(&run).contains("no offsite section"), "{}", show(&run));
    Ok(())
}
