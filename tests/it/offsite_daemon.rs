//! The offsite tier in the running program, against a real SeaweedFS on loopback:
//! uploads in the backup's layout with their metadata, skips and conflicts, a kill -9
//! in the middle of a multipart upload, an outage and its catch-up, refused
//! credentials, offsite retention under a jumped clock, and the secret in no output.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::common::*;
use crate::offsite::{client, client_at, section, Weed, BUCKET, SECRET};
use crate::relay::Relay;

tests![
    finished_recordings_reach_the_bucket_in_the_backup_layout_with_their_metadata,
    a_kill_9_mid_multipart_resumes_and_sends_only_the_missing_parts,
    an_outage_raises_offsite_unavailable_local_copies_go_on_and_uploads_catch_up,
    refused_credentials_raise_a_clear_alert_and_never_show_the_secret,
    offsite_retention_is_anchored_bounded_to_its_prefix_and_ignores_a_lost_backup,
    an_unreadable_secret_raises_offsite_unavailable_and_local_copies_go_on,
    a_failing_server_raises_offsite_unavailable_with_its_answer,
    a_recording_that_grows_after_its_upload_replaces_its_object_without_an_alert,
];

/// The config's offsite section (`prefix` "site/"), the secret in a file of the test
/// folder, with `extra` keys; the main config keys in `main`.
pub fn config(env: &Env, secret: &str, extra: Value, main: Value) -> Value {
    // Beside the config, named relative to it (the Windows build reads it too).
    std::fs::write(env.dir.path().join("s3-secret.txt"), secret).unwrap();
    let mut keys = json!({"secret_access_key_file": "s3-secret.txt", "secret_access_key_env": null});
    for (k, v) in extra.as_object().unwrap() {
        keys[k] = v.clone();
    }
    let mut cfg = section(keys);
    cfg["offsite"].as_object_mut().unwrap().remove("secret_access_key_env");
    for (k, v) in main.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    cfg
}

pub fn rec_name(day: chrono::NaiveDate, ch: u32, hour: u32) -> String {
    dated(
        day,
        &format!("ch{ch:02}/{hour:02}.00.00-{hour:02}.59.59[R][0@0][0].dav"),
    )
}

/// Every output the program left: its logs, status.json, the alerts' state.
fn all_output(env: &Env) -> String {
    let mut text = env.logs_text();
    for f in ["status.json", "alerts.json"] {
        text.push_str(&std::fs::read_to_string(env.logs.join(f)).unwrap_or_default());
    }
    text
}

/// How many recordings the bucket holds under `site/` (not the site's marker); None
/// while it cannot be listed.
fn recordings(s3: &cctv_mirror::offsite::client::Client) -> Option<usize> {
    let listed = s3.list("site/").ok()?;
    Some(listed.iter().filter(|l| l.key.ends_with(".dav")).count())
}

fn count(text: &str, what: &str) -> usize {
    text.matches(what).count()
}

/// A site with the offsite section: 5 MiB parts, a pass every 2 s.
pub fn small_parts_site() -> Env {
    let env = Env::new(json!({}));
    env.write_config(config(
        &env,
        SECRET,
        json!({"part_size_mib": 5}),
        json!({"reconcile_interval_secs": 2}),
    ));
    env
}

fn finished_recordings_reach_the_bucket_in_the_backup_layout_with_their_metadata() -> Outcome {
    let _weed = Weed::start()?;
    let env = small_parts_site();
    let s3 = client(SECRET, BUCKET);
    let old = rec_name(days_ago(2), 1, 10);
    let big = rec_name(today(), 2, 0);
    env.record(&old, &payload(300_000, 1));
    env.record(&big, &payload(12 << 20, 2));
    // The bucket already holds another version of this one: kept, the new one beside.
    let clash = rec_name(days_ago(1), 3, 7);
    env.record(&clash, &payload(50_000, 3));
    s3.put(&format!("site/{clash}"), b"another version", &[]).unwrap();
    env.adopt_backup();
    let daemon = env.watching();
    wait_until(120, "the recordings in the bucket", || {
        recordings(&s3).is_some_and(|n| n == 4)
    });
    for rel in [&old, &big] {
        let key = format!("site/{rel}");
        let local = std::fs::read(env.backup.join(rel)).unwrap();
        assert_eq!(s3.get(&key).unwrap(), local, "{key} byte-identical");
        let head = s3.head(&key).unwrap().unwrap();
        assert_eq!(head.meta["size"], local.len().to_string());
        assert_eq!(head.meta["blake3"], blake3::hash(&local).to_hex().to_string());
        assert!(head.meta["mtime"].starts_with(&rel[..4]), "{:?}", head.meta);
    }
    let kept = format!("site/{clash}");
    assert_eq!(s3.get(&kept).unwrap(), b"another version", "never overwritten");
    let beside = kept.replace(".dav", ".offsite-1.dav");
    assert_eq!(s3.get(&beside).unwrap(), payload(50_000, 3));
    // A recording finished while it runs goes up at once, without waiting for a pass.
    let new = rec_name(today(), 4, 1);
    env.record(&new, &payload(80_000, 4));
    wait_until(60, "the new recording in the bucket", || {
        s3.head(&format!("site/{new}")).is_ok_and(|h| h.is_some())
    });
    wait_until(30, "status.json to show the uploads", || {
        let o = &env.status()["offsite"];
        o["state"] == "ok" && o["uploaded_files"] == 4 && o["pending_files"] == 0
    });
    // Raised at the pass after the conflict, cleared at the one after (the logs keep
    // both; status.json shows it only between them).
    let logged = |change: &str| {
        env.logs_text()
            .lines()
            .any(|l| l.contains(change) && l.contains("alert=offsite_conflict"))
    };
    wait_until(30, "the conflict alert raised, then cleared", || {
        logged("alert raised") && logged("alert cleared")
    });
    // The coverage report's offsite column: every finished copy of every day is there.
    wait_until(30, "the offsite column of coverage.json", || {
        let text = std::fs::read_to_string(env.logs.join("coverage.json")).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or_default();
        let days: Vec<&Value> = doc["cameras"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["days"].as_array().unwrap())
            .filter(|d| d["recordings"].as_u64() > Some(0))
            .collect();
        days.len() == 4 && days.iter().all(|d| d["offsite"] == d["recordings"])
    });
    // The page needs Chromium; without it the test says so once the rest is checked.
    let page = offsite_cells_render(&env, 4);
    let screen = String::from_utf8_lossy(&env.command(&["status"]).output().unwrap().stdout).into_owned();
    assert!(
        screen.contains("Offsite:     ok: nothing waiting; 4 uploaded"),
        "{screen}"
    );
    let report = env.command(&["report"]).output().unwrap();
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    assert!(report.contains("offsite") && report.contains("1/1"), "{report}");
    stop(daemon);
    let uploads = count(&env.logs_text(), "uploaded to the offsite bucket");
    assert_eq!(uploads, 4, "{}", env.logs_text());
    // Everything is there: another run uploads nothing.
    env.pass();
    assert_eq!(count(&env.logs_text(), "uploaded to the offsite bucket"), uploads);
    assert_eq!(recordings(&s3), Some(5));
    let out = all_output(&env);
    assert!(!out.contains(SECRET), "the secret in no output");
    page
}

/// coverage.html, rendered by headless Chromium, has its offsite table with `days`
/// camera-days whose copies are all in the bucket.
fn offsite_cells_render(env: &Env, days: usize) -> Outcome {
    let Some(_) = crate::coverage::chromium() else {
        return missing("chromium for the page part, the rest passed: apt-get install chromium");
    };
    let page = env.logs.join("coverage.html");
    let profile = env.dir.path().join("chromium");
    let dom = crate::coverage::headless(&profile)
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let table = dom
        .split("id=\"offsite\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no offsite table: {dom}"));
    let table = table.split("</table>").next().unwrap();
    assert_eq!(table.matches("class=\"cell c100\"").count(), days, "{table}");
    assert_eq!(table.matches(">1/1</td>").count(), days, "{table}");
    Ok(())
}

fn a_kill_9_mid_multipart_resumes_and_sends_only_the_missing_parts() -> Outcome {
    let _weed = Weed::start()?;
    let relay = Relay::start("127.0.0.1:8333");
    let env = Env::new(json!({}));
    let size: usize = 300 << 20;
    let rel = rec_name(today(), 1, 3);
    env.record(&rel, &payload(size, 7));
    env.adopt_backup();
    // Slowed to 400 Mbit/s so it can be caught in the middle.
    let slow = json!({"endpoint": relay.endpoint(), "part_size_mib": 5, "max_mbps": 400});
    env.write_config(config(&env, SECRET, slow, json!({})));
    let mut daemon = env.daemon(&["--no-watch"]);
    wait_until(300, "a third of the upload", || relay.sent() > (size / 3) as u64);
    daemon.kill().unwrap(); // SIGKILL
    let _ = daemon.wait();
    let first = relay.sent();
    assert!(first < size as u64, "killed before the end: {first}");
    let s3 = client_at(&relay.endpoint(), SECRET, BUCKET);
    let key = format!("site/{rel}");
    assert_eq!(s3.head(&key).unwrap(), None, "nothing under the name until complete");
    let fast = json!({"endpoint": relay.endpoint(), "part_size_mib": 5});
    env.write_config(config(&env, SECRET, fast, json!({})));
    let before = relay.sent();
    env.pass();
    let second = relay.sent() - before;
    let part = 5u64 << 20;
    // What was sent before the kill, less the part cut short, is not sent again.
    assert!(
        second + first <= size as u64 + 2 * part + (4 << 20),
        "resent too much: {first} before the kill, {second} after, of {size}"
    );
    assert!(second < size as u64 - first / 2, "resumed, not started over: {second}");
    let got = client(SECRET, BUCKET).get(&key).unwrap();
    assert!(got == payload(size, 7), "the object is complete and byte-identical");
    eprintln!("kill -9 mid-upload: {first} bytes before, {second} after, of {size}");
    Ok(())
}

fn an_outage_raises_offsite_unavailable_local_copies_go_on_and_uploads_catch_up() -> Outcome {
    let mut weed = Weed::start()?;
    let env = Env::new(json!({}));
    let main = json!({"reconcile_interval_secs": 2});
    env.write_config(config(&env, SECRET, json!({"max_lag_hours": 1}), main));
    env.adopt_backup();
    let daemon = env.watching();
    weed.stop();
    // Recorded two hours ago, finished now, while the bucket is away.
    let during: Vec<String> = (0..3).map(|ch| rec_name(today(), ch + 1, 5)).collect();
    for rel in &during {
        let p = env.record(rel, &payload(40_000, 9));
        set_mtime(&p, SystemTime::now() - Duration::from_secs(2 * 3600));
    }
    wait_until(60, "the local copies", || {
        during.iter().all(|r| env.backup.join(r).exists())
    });
    wait_until(90, "offsite_unavailable and offsite_lagging", || {
        let kinds = env.alert_kinds();
        kinds.contains(&"offsite_unavailable".into()) && kinds.contains(&"offsite_lagging".into())
    });
    let status = env.status();
    assert_eq!(status["offsite"]["state"], "unavailable", "{status}");
    assert!(status["offsite"]["pending_files"].as_u64().unwrap() >= 3, "{status}");
    assert!(status["offsite"]["lag_secs"].as_u64().unwrap() >= 7000, "{status}");
    let why = status["offsite"]["reason"].as_str().unwrap();
    assert!(why.contains("cannot be reached"), "{why}");
    weed.restart();
    let s3 = client(SECRET, BUCKET);
    wait_until(180, "the catch-up", || {
        recordings(&s3).is_some_and(|n| n == 3)
    });
    wait_until(60, "the alerts to clear", || {
        let kinds = env.alert_kinds();
        !kinds.iter().any(|k| k.starts_with("offsite_"))
    });
    stop(daemon);
    let logs = env.logs_text();
    assert!(logs.contains("the offsite bucket answers again"), "{logs}");
    Ok(())
}

fn refused_credentials_raise_a_clear_alert_and_never_show_the_secret() -> Outcome {
    let _weed = Weed::start()?;
    let env = Env::new(json!({}));
    let wrong = "wrong-secret-0123456789";
    env.write_config(config(&env, wrong, json!({}), json!({})));
    env.record(&rec_name(today(), 1, 1), &payload(10_000, 1));
    env.pass();
    let alerts = env.status()["alerts"].clone();
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "offsite_unavailable")
        .unwrap_or_else(|| panic!("{alerts}"));
    assert!(alert["message"].as_str().unwrap().contains("access denied"), "{alert}");
    assert_eq!(env.backup_files().len(), 1, "the local copy is made all the same");
    let out = all_output(&env);
    assert!(!out.contains(wrong), "the secret in no output");
    Ok(())
}

fn offsite_retention_is_anchored_bounded_to_its_prefix_and_ignores_a_lost_backup() -> Outcome {
    // The Windows build runs on the real clock (faketime cannot shift a Wine process);
    // the jumped clock is the native build's.
    if !windows_build() {
        need_faketime()?;
    }
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let put = |key: &str| s3.put(key, b"x", &[]).unwrap();
    let expired = [rec_name(days_ago(40), 1, 1), rec_name(days_ago(35), 1, 1)];
    let recent = [rec_name(days_ago(5), 1, 1), rec_name(today(), 1, 1)];
    for rel in expired.iter().chain(&recent) {
        put(&format!("site/{rel}"));
    }
    put(&format!("other-site/{}", expired[0]));
    put("site/notes.txt");
    // The backup is empty (lost, or the source wiped): nothing recent is deleted.
    let env = Env::new(json!({}));
    env.write_config(config(&env, SECRET, json!({}), json!({})));
    env.adopt_backup();
    if windows_build() {
        env.pass();
    } else {
        pass_at(&env, "+400d");
    }
    let keys: Vec<String> = s3.list("").unwrap().into_iter().map(|l| l.key).collect();
    for rel in &recent {
        assert!(keys.contains(&format!("site/{rel}")), "{rel} kept: {keys:?}");
    }
    for rel in &expired {
        assert!(!keys.contains(&format!("site/{rel}")), "{rel} deleted: {keys:?}");
    }
    assert!(
        keys.contains(&format!("other-site/{}", expired[0])),
        "outside the prefix: never"
    );
    assert!(keys.contains(&"site/notes.txt".to_string()), "undated: never");
    let logs = env.logs_text();
    assert_eq!(count(&logs, "deleted from the offsite bucket"), 2, "{logs}");
    assert!(logs.contains("before"), "each with its reason: {logs}");
    Ok(())
}

fn an_unreadable_secret_raises_offsite_unavailable_and_local_copies_go_on() {
    let env = Env::new(json!({}));
    let mut cfg = config(&env, SECRET, json!({}), json!({}));
    let offsite = cfg["offsite"].as_object_mut().unwrap();
    offsite.remove("secret_access_key_file");
    offsite.insert("secret_access_key_env".into(), json!("CCTV_TEST_NO_SUCH_VARIABLE"));
    env.write_config(cfg);
    env.record(&rec_name(today(), 1, 1), &payload(10_000, 1));
    env.pass();
    assert_eq!(env.backup_files().len(), 1, "the local copy is made");
    let status = env.status();
    let why = status["offsite"]["reason"].as_str().unwrap_or_default().to_string();
    assert!(why.contains("CCTV_TEST_NO_SUCH_VARIABLE is not set"), "{status}");
    assert!(
        env.alert_kinds().contains(&"offsite_unavailable".to_string()),
        "{status}"
    );
}

/// A server on loopback that answers every request with `503 Slow Down`, as an
/// overloaded or failing S3 server does; its port.
fn failing_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
            while let Some(Ok(line)) = lines.next() {
                if line.is_empty() {
                    break;
                }
            }
            let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            let _ = write!(
                stream,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn a_failing_server_raises_offsite_unavailable_with_its_answer() {
    let port = failing_server();
    let env = Env::new(json!({}));
    let endpoint = json!({"endpoint": format!("http://127.0.0.1:{port}")});
    env.write_config(config(&env, SECRET, endpoint, json!({})));
    env.record(&rec_name(today(), 1, 1), &payload(10_000, 1));
    env.pass();
    assert_eq!(env.backup_files().len(), 1, "the local copy is made");
    let status = env.status();
    assert_eq!(status["offsite"]["state"], "unavailable", "{status}");
    let why = status["offsite"]["reason"].as_str().unwrap_or_default();
    assert!(why.contains("503"), "{status}");
    assert!(
        env.alert_kinds().contains(&"offsite_unavailable".to_string()),
        "{status}"
    );
    let screen = String::from_utf8_lossy(&env.command(&["status"]).output().unwrap().stdout).into_owned();
    assert!(
        screen.contains("Offsite:     unavailable") && screen.contains("503"),
        "{screen}"
    );
}

fn a_recording_that_grows_after_its_upload_replaces_its_object_without_an_alert() -> Outcome {
    let _weed = Weed::start()?;
    let env = Env::new(json!({}));
    env.write_config(config(&env, SECRET, json!({}), json!({"reconcile_interval_secs": 2})));
    let s3 = client(SECRET, BUCKET);
    let rel = rec_name(days_ago(1), 5, 10);
    let key = format!("site/{rel}");
    let first = payload(40_000, 5);
    env.record(&rel, &first);
    env.adopt_backup();
    let daemon = env.watching();
    wait_until(120, "the recording in the bucket", || s3.get(&key).is_ok_and(|b| b == first));
    // The recorder reopens it and writes on: the backup grows, then the bucket.
    let mut whole = first.clone();
    whole.extend(payload(25_000, 6));
    env.record(&rel, &whole);
    let newer = key.replace(".dav", ".grown-1.dav");
    wait_until(120, "its newer version in the bucket", || s3.get(&newer).is_ok_and(|b| b == whole));
    wait_until(60, "the older version deleted", || s3.head(&key).is_ok_and(|h| h.is_none()));
    // Another pass finds it there: nothing uploaded again, nothing beside.
    let passes = env.logs_text().matches("pass finished").count();
    wait_until(60, "two more passes", || env.logs_text().matches("pass finished").count() >= passes + 2);
    stop(daemon);
    let logs = env.logs_text();
    assert!(!logs.contains("offsite_conflict"), "no alert: {logs}");
    assert!(logs.contains("as the newer version of a recording that grew"), "{logs}");
    let keys: Vec<String> = s3.list("site/").unwrap().into_iter().map(|l| l.key).collect();
    assert_eq!(keys.iter().filter(|k| k.ends_with(".dav")).collect::<Vec<_>>(), vec![&newer]);
    Ok(())
}
