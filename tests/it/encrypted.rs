//! The offsite copy encrypted to age recipients, against a real SeaweedFS on loopback:
//! the bucket holds `NAME.dav.age` objects, never DHAV, that the reference `age` CLI
//! opens to the exact recording; nothing is uploaded twice, even after the recipients
//! change; `restore` and `export` need the identity and bring back every byte; a kill
//! -9 mid multipart resumes to an object that decrypts exactly.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use age::secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::common::*;
use crate::offsite::{client, client_at, Weed, BUCKET, SECRET};
use crate::offsite_daemon::{config, rec_name};
use crate::relay::Relay;

tests![
    the_bucket_holds_age_objects_the_age_cli_opens_and_none_is_uploaded_twice,
    restore_and_export_need_the_identity_and_bring_back_every_byte,
    a_kill_9_mid_encrypted_multipart_resumes_to_an_object_that_decrypts_exactly,
    a_grown_recording_and_offsite_retention_act_on_the_encrypted_objects,
];

/// A new identity, kept in `NAME` in the test folder (as age-keygen writes it); with
/// its recipient.
fn identity(env: &Env, name: &str) -> (PathBuf, String) {
    let id = age::x25519::Identity::generate();
    let file = env.dir.path().join(name);
    fs::write(&file, format!("# test identity\n{}\n", id.to_string().expose_secret())).unwrap();
    (file, id.to_public().to_string())
}

/// The site's config: 5 MiB parts, objects encrypted to `recipients`.
fn sealed_site(env: &Env, recipients: &[&str], extra: Value) -> Value {
    let mut offsite = json!({"part_size_mib": 5, "encryption": {"recipient": recipients}});
    for (k, v) in extra.as_object().unwrap() {
        offsite[k] = v.clone();
    }
    config(env, SECRET, offsite, json!({"reconcile_interval_secs": 2}))
}

/// The reference CLI's `age -d -i FILE` of `object`: its stdout, or None when it failed.
fn age_cli(identity: &Path, object: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().unwrap();
    let feed = {
        let object = object.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&object);
        })
    };
    let out = child.wait_with_output().ok()?;
    feed.join().unwrap();
    out.status.success().then_some(out.stdout)
}

fn need_age() -> Outcome {
    if Command::new("age").arg("--version").output().is_err() {
        return missing("age: apt-get install age");
    }
    Ok(())
}

fn uploads(env: &Env) -> usize {
    env.logs_text().matches("uploaded to the offsite bucket").count()
}

/// `report --format json`'s (recordings, offsite) of each day that has recordings.
fn offsite_days(env: &Env) -> Vec<(u64, u64)> {
    let out = env.command(&["report", "--format", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let days = doc["cameras"].as_array().into_iter().flatten().flat_map(|c| c["days"].as_array().unwrap());
    days.filter(|d| d["recordings"].as_u64() > Some(0))
        .map(|d| (d["recordings"].as_u64().unwrap(), d["offsite"].as_u64().unwrap_or(0)))
        .collect()
}

fn has_dhav(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"DHAV")
}

fn the_bucket_holds_age_objects_the_age_cli_opens_and_none_is_uploaded_twice() -> Outcome {
    need_age()?;
    let _weed = Weed::start()?;
    let env = Env::new(json!({}));
    let (key1, r1) = identity(&env, "key1.txt");
    let (key2, r2) = identity(&env, "key2.txt");
    env.write_config(sealed_site(&env, &[&r1], json!({})));
    let day = days_ago(1);
    let recs = [
        (rec_name(day, 1, 10), payload(200_000, 1)),
        (rec_name(day, 1, 11), payload(12 << 20, 2)),
    ];
    for (rel, bytes) in &recs {
        env.record(rel, bytes);
    }
    env.adopt_backup();
    env.pass();
    let s3 = client(SECRET, BUCKET);
    let mut keys: Vec<String> = s3.list("site/").unwrap().into_iter().map(|l| l.key).collect();
    keys.retain(|k| k.ends_with(".dav") || k.ends_with(".age"));
    let mut want: Vec<String> = recs.iter().map(|(rel, _)| format!("site/{rel}.age")).collect();
    want.sort();
    assert_eq!(keys, want, "only encrypted objects, named NAME.dav.age");
    for (rel, bytes) in &recs {
        let key = format!("site/{rel}.age");
        let object = s3.get(&key).unwrap();
        assert!(object.starts_with(b"age-encryption.org/v1\n"), "{key}");
        assert!(has_dhav(bytes) && !has_dhav(&object), "{key}: no DHAV frame in clear");
        let head = s3.head(&key).unwrap().unwrap();
        assert_eq!(head.meta["size"], bytes.len().to_string(), "the recording's size");
        assert_eq!(head.meta["blake3"], blake3::hash(bytes).to_hex().as_str());
        assert!(age_cli(&key1, &object).unwrap() == *bytes, "{key}: age -d gives the recording");
        assert!(age_cli(&key2, &object).is_none(), "{key}: another identity opens nothing");
    }
    let check = env.command(&["check"]).output().unwrap();
    assert!(
        show(&check).contains("objects encrypted to 1 age recipient"),
        "{}",
        show(&check)
    );

    // Another pass, then a second recipient: the objects there are not sent again.
    let sent = uploads(&env);
    assert_eq!(sent, 2, "{}", env.logs_text());
    env.pass();
    env.write_config(sealed_site(&env, &[&r1, &r2], json!({})));
    let queued = env.logs_text().matches("queued for upload").count();
    env.pass();
    assert_eq!(uploads(&env), sent, "nothing uploaded twice: {}", env.logs_text());
    let again = env.logs_text().matches("queued for upload").count();
    assert_eq!(again, queued, "the sweep read their sizes, offered none: {}", env.logs_text());
    // `report` reads the objects sealed to one recipient as their recordings.
    assert_eq!(offsite_days(&env), [(2, 2)], "every recording offsite");
    // A new recording goes to both.
    let new = (rec_name(today(), 1, 0), payload(70_000, 3));
    env.record(&new.0, &new.1);
    env.pass();
    let object = s3.get(&format!("site/{}.age", new.0)).unwrap();
    for key in [&key1, &key2] {
        assert!(age_cli(key, &object).unwrap() == new.1, "either identity opens it");
    }
    assert_eq!(uploads(&env), sent + 1, "{}", env.logs_text());
    let check = env.command(&["check"]).output().unwrap();
    assert!(show(&check).contains("encrypted to 2 age recipients"), "{}", show(&check));
    Ok(())
}

fn restore_and_export_need_the_identity_and_bring_back_every_byte() -> Outcome {
    let _weed = Weed::start()?;
    let env = Env::new(json!({}));
    let (key, r) = identity(&env, "key.txt");
    let (other, _) = identity(&env, "other.txt");
    env.write_config(sealed_site(&env, &[&r], json!({})));
    let day = days_ago(1);
    let recs: Vec<(String, Vec<u8>)> = vec![
        (rec_name(day, 3, 12), payload(150_000, 4)),
        (rec_name(day, 3, 13), payload(11 << 20, 5)),
        (rec_name(day, 3, 14), payload(90_000, 6)),
    ];
    for (rel, bytes) in &recs {
        env.record(rel, bytes);
    }
    env.adopt_backup();
    env.pass();
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let (key, other) = (path(&key), path(&other));

    // The backup disk is lost.
    fs::remove_dir_all(&env.backup).unwrap();
    fs::create_dir_all(&env.backup).unwrap();
    let to = path(&env.backup);
    let restore = |extra: &[&str]| -> Output {
        let mut args = vec!["restore", "--from-offsite", "--to", &to];
        args.extend_from_slice(extra);
        env.command(&args).output().unwrap()
    };
    let out = restore(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("give --identity FILE"), "{}", show(&out));
    let out = restore(&["--identity", &other]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(show(&out).contains("not one of the object's recipients"), "{}", show(&out));
    let missing_file = path(&env.dir.path().join("none.txt"));
    let out = restore(&["--identity", &missing_file]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("cannot read the identity file"), "{}", show(&out));
    let out = restore(&["--identity", &key]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(show(&out).contains("3 restored"), "{}", show(&out));
    for (rel, bytes) in &recs {
        assert!(fs::read(env.backup.join(rel)).unwrap() == *bytes, "{rel} byte for byte");
    }
    env.adopt_backup();
    let out = env.command(&["verify", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["result"]["problems"], json!([]), "{doc}");
    // The identity's secret is in no output.
    let secret = fs::read_to_string(&key).unwrap();
    let secret = secret.lines().last().unwrap();
    assert!(!env.logs_text().contains(secret) && !show(&out).contains(secret));

    // Export from the bucket: the same bytes, proven.
    let export = |name: &str, extra: &[&str]| {
        let o = path(&env.dir.path().join(name));
        let (from, until) = (format!("{day} 12:30"), format!("{day} 14:30"));
        let mut args = vec!["export", "--camera", "ch03", "--from", &from, "--to", &until, "--output", &o, "--from-offsite"];
        args.extend_from_slice(extra);
        (env.command(&args).output().unwrap(), env.dir.path().join(name))
    };
    let (run, _) = export("without", &[]);
    assert_eq!(run.status.code(), Some(2), "{}", show(&run));
    assert!(show(&run).contains("give --identity FILE"), "{}", show(&run));
    let (run, out) = export("with", &["--identity", &key]);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    let doc: Value = serde_json::from_str(&fs::read_to_string(out.join("export.json")).unwrap()).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{doc}");
    for (f, (rel, bytes)) in files.iter().zip(&recs) {
        assert_eq!(f["check"], "matches_manifest", "{f}");
        assert!(fs::read(out.join(rel)).unwrap() == *bytes, "{rel} byte for byte");
    }
    Ok(())
}

fn a_kill_9_mid_encrypted_multipart_resumes_to_an_object_that_decrypts_exactly() -> Outcome {
    need_age()?;
    let _weed = Weed::start()?;
    let relay = Relay::start("127.0.0.1:8333");
    let env = Env::new(json!({}));
    let (key_file, r) = identity(&env, "key.txt");
    let size: usize = 300 << 20;
    let rel = rec_name(today(), 1, 3);
    env.record(&rel, &payload(size, 7));
    env.adopt_backup();
    let slow = json!({"endpoint": relay.endpoint(), "max_mbps": 400});
    env.write_config(sealed_site(&env, &[&r], slow));
    let mut daemon = env.daemon(&["--no-watch"]);
    wait_until(300, "a third of the upload", || relay.sent() > (size / 3) as u64);
    daemon.kill().unwrap(); // SIGKILL
    let _ = daemon.wait();
    let first = relay.sent();
    let s3 = client_at(&relay.endpoint(), SECRET, BUCKET);
    let key = format!("site/{rel}.age");
    assert_eq!(s3.head(&key).unwrap(), None, "nothing under the name until complete");
    env.write_config(sealed_site(&env, &[&r], json!({"endpoint": relay.endpoint()})));
    let before = relay.sent();
    env.pass();
    let second = relay.sent() - before;
    let (part, total) = (5u64 << 20, rules_sealed_size(size as u64));
    assert!(first < total, "killed before the end: {first}");
    // Requests add a little; two parts at most are sent again.
    assert!(
        first + second <= total + 2 * part + (4 << 20),
        "resent too much: {first} before the kill, {second} after, of {total}"
    );
    let object = client(SECRET, BUCKET).get(&key).unwrap();
    assert_eq!(object.len() as u64, total);
    assert!(age_cli(&key_file, &object).unwrap() == payload(size, 7), "decrypts exactly");
    eprintln!("kill -9 mid encrypted upload: {first} bytes before, {second} after, of {total}");
    Ok(())
}

fn a_grown_recording_and_offsite_retention_act_on_the_encrypted_objects() -> Outcome {
    need_age()?;
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    // Objects dated 40 and 5 days ago, encrypted and (from before encryption) in clear.
    let (old, old_clear, recent) = (rec_name(days_ago(40), 2, 1), rec_name(days_ago(40), 2, 2), rec_name(days_ago(5), 2, 1));
    // A second recent one: the expired stay under half the prefix.
    let recent2 = rec_name(days_ago(4), 2, 1);
    let put = [old.clone() + ".age", old_clear.clone(), recent.clone() + ".age", recent2 + ".age"];
    for key in put.iter().map(|k| format!("site/{k}")) {
        s3.put(&key, b"x", &[]).unwrap();
    }
    let env = Env::new(json!({}));
    let (key_file, r) = identity(&env, "key.txt");
    env.write_config(sealed_site(&env, &[&r], json!({})));
    let rel = rec_name(today(), 1, 0);
    env.record(&rel, &payload(80_000, 8));
    env.adopt_backup();
    env.pass();
    // The recording grows after its upload: its newer version replaces the object.
    let longer = [payload(80_000, 8), payload(20_000, 9)].concat();
    env.record(&rel, &longer);
    env.pass();
    let keys: Vec<String> = s3.list("site/").unwrap().into_iter().map(|l| l.key).collect();
    let grown = format!("site/{}.age", rel.replace(".dav", ".grown-1.dav"));
    assert!(keys.contains(&grown), "{keys:?}");
    assert!(!keys.contains(&format!("site/{rel}.age")), "the older version deleted: {keys:?}");
    let object = s3.get(&grown).unwrap();
    assert!(age_cli(&key_file, &object).unwrap() == longer, "the newer version decrypts whole");
    // Offsite retention takes the expired objects, encrypted or not, and keeps the rest.
    for gone in [format!("site/{old}.age"), format!("site/{old_clear}")] {
        assert!(!keys.contains(&gone), "{gone} expired: {keys:?}");
    }
    assert!(keys.contains(&format!("site/{recent}.age")), "{keys:?}");
    let logs = env.logs_text();
    let deleted = logs.lines().filter(|l| l.contains("deleted from the offsite bucket (offsite retention)"));
    assert_eq!(deleted.filter(|l| l.contains(&format!("{old}.age"))).count(), 1, "{logs}");
    Ok(())
}

/// The object's size for a recording of `plain` bytes sealed to one recipient.
fn rules_sealed_size(plain: u64) -> u64 {
    cctv_mirror::rules::sealed::sealed_size(plain, 1)
}
