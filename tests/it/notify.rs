//! Alerts reaching a person through the binary: webhooks (each format) against a real
//! HTTP server on 127.0.0.1, a command, heartbeats, delivery that survives a dead
//! channel without slowing copies, and `--once` runs that never announce twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::receiver::{Receiver, Request};

fn hook(r: &Receiver, path: &str, format: &str) -> Value {
    json!({ "url": format!("{}{path}", r.url), "format": format, "chat_id": "-100" })
}

fn events(reqs: &[Request], path: &str) -> Vec<(String, String)> {
    reqs.iter()
        .filter(|r| r.path == path)
        .map(|r| {
            let v = r.json();
            (
                v["event"].as_str().unwrap_or("").to_string(),
                v["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn once(env: &Env) {
    std::thread::sleep(Duration::from_millis(1100)); // a log file per pass
    env.pass();
}

#[test]
fn each_alert_is_posted_once_when_raised_and_once_when_cleared_across_once_runs() {
    let r = Receiver::start();
    let env = Env::new(json!({ "site_name": "Cliente X", "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    env.record(&dated(today(), "a.dav"), b"a");
    once(&env);
    let away = env.dir.path().join("source-away");
    std::fs::rename(&env.source, &away).unwrap();
    once(&env);
    once(&env);
    std::fs::rename(&away, &env.source).unwrap();
    once(&env);
    once(&env);
    let got = events(&r.requests(), "/json");
    let of = |kind: &str| {
        got.iter()
            .filter(|(_, k)| k == kind)
            .map(|(e, _)| e.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("source_unavailable"), ["raised", "cleared"], "{got:?}");
    let first = r.requests().into_iter().find(|q| q.path == "/json").unwrap();
    let v = first.json();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["event", "host", "kind", "message", "since", "site", "time"]);
    assert_eq!(v["site"], "Cliente X");
    assert_eq!(first.header("content-type"), Some("application/json"));
}

#[test]
fn every_webhook_format_has_its_services_shape() {
    let r = Receiver::start();
    let hooks: Vec<Value> = ["json", "slack", "discord", "ntfy", "telegram"]
        .iter()
        .map(|f| hook(&r, &format!("/{f}"), f))
        .collect();
    let env = Env::new(json!({ "site_name": "Cliente X", "notify": { "webhooks": hooks } }));
    // A recording dated tomorrow: clock_suspect.
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    env.pass();
    let reqs = r.wait_for(30, "five webhooks", |q| q.len() >= 5);
    let at = |p: &str| {
        reqs.iter()
            .find(|q| q.path == p)
            .unwrap_or_else(|| panic!("{p}: {reqs:?}", reqs = reqs.len()))
    };
    assert_eq!(at("/json").json()["kind"], "clock_suspect");
    let slack = at("/slack").json()["text"].as_str().unwrap().to_string();
    assert!(
        slack.contains("Cliente X") && slack.contains("clock_suspect"),
        "{slack}"
    );
    let discord = at("/discord").json()["content"].as_str().unwrap().to_string();
    assert!(
        discord.contains("Cliente X") && discord.contains("clock_suspect"),
        "{discord}"
    );
    let tg = at("/telegram").json();
    assert_eq!(tg["chat_id"], "-100");
    assert!(tg["text"].as_str().unwrap().contains("clock_suspect"));
    let ntfy = at("/ntfy");
    assert!(
        ntfy.header("title").unwrap().contains("Cliente X") && ntfy.header("title").unwrap().contains("clock_suspect")
    );
    assert_eq!(ntfy.header("priority"), Some("high"));
    assert!(ntfy.text().contains("dated after today"), "{}", ntfy.text());
}

#[test]
fn heartbeat_after_a_clean_pass_and_the_fail_url_after_one_with_an_alert() {
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": {
        "heartbeat_url": format!("{}/ping/abc", r.url),
        "heartbeat_fail_url": format!("{}/ping/abc/fail", r.url),
    } }));
    env.record(&dated(today(), "a.dav"), b"a");
    env.pass();
    r.wait_for(30, "the heartbeat", |q| {
        q.iter().any(|q| q.method == "GET" && q.path == "/ping/abc")
    });
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    once(&env);
    let reqs = r.wait_for(30, "the fail ping", |q| q.iter().any(|q| q.path == "/ping/abc/fail"));
    assert_eq!(
        reqs.iter().filter(|q| q.path == "/ping/abc").count(),
        1,
        "no success ping with an alert active"
    );
    let status = env.status();
    let names: Vec<&str> = status["notify"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["channel"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.starts_with("heartbeat 127.0.0.1:")), "{names:?}");
}

#[test]
fn a_command_gets_the_event_in_its_environment_and_on_stdin() {
    let env = Env::new(json!({}));
    let out = env.dir.path().join("alert-out.txt");
    let script = write_file(
        &env.dir.path().join("alert.sh"),
        format!(
            "#!/bin/sh\n{{ echo \"$CCTV_EVENT $CCTV_ALERT_KIND $CCTV_SITE\"; cat; echo; }} >> {}\n",
            out.display()
        )
        .as_bytes(),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.write_config(json!({ "site_name": "Cliente X", "notify": { "command": [script] } }));
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    env.pass();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.starts_with("raised clock_suspect Cliente X\n"), "{text}");
    let body: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(body["kind"], "clock_suspect");
}

/// A channel that is down: copies keep their pace, `--once` keeps what it could not
/// deliver in log_dir, and the next run sends it.
#[test]
fn what_once_could_not_deliver_is_sent_by_the_next_run() {
    let r = Receiver::start();
    r.stop();
    let env = Env::new(json!({ "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    for i in 0..50 {
        env.record(&dated(today(), &format!("{i}.dav")), b"recording");
    }
    let started = Instant::now();
    env.pass();
    let took = started.elapsed();
    assert_eq!(env.last_pass("copied"), 51);
    assert!(env.logs.join("notify-outbox.json").exists(), "kept for the next run");
    assert!(
        env.logs_text().contains("notification not delivered"),
        "the failure is logged"
    );
    let st = env.status();
    let webhook = &st["notify"][0];
    assert!(
        webhook["last_error"].as_str().unwrap().contains("cannot connect"),
        "{webhook}"
    );
    assert_eq!(webhook["pending"], 1);
    println!(
        "FIGURE a --once pass with its only channel down: {:.2} s",
        took.as_secs_f64()
    );

    r.restart();
    once(&env);
    let got = events(&r.wait_for(30, "the late delivery", |q| !q.is_empty()), "/json");
    assert_eq!(
        got,
        [("raised".to_string(), "clock_suspect".to_string())],
        "once, not twice"
    );
    assert!(!env.logs.join("notify-outbox.json").exists());
}

/// The daemon: a backup folder gone under it is announced within seconds, and so is
/// its return; a channel that is slow never holds up copies.
#[test]
fn a_daemon_announces_a_lost_backup_within_seconds_and_its_return() {
    let r = Receiver::start();
    let env =
        Env::new(json!({ "reconcile_interval_secs": 3600, "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    std::fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let _daemon = env.watching();
    let away = env.dir.path().join("backup-away");
    std::fs::rename(&env.backup, &away).unwrap();
    let cause = Instant::now();
    env.record(&dated(today(), "during.dav"), b"made while the disk is away");
    r.wait_for(60, "backup_unavailable raised", |q| {
        events(q, "/json").contains(&("raised".into(), "backup_unavailable".into()))
    });
    println!(
        "FIGURE cause -> webhook (backup gone): {:.2} s",
        cause.elapsed().as_secs_f64()
    );
    r.set_delay(Duration::from_secs(8));
    std::fs::rename(&away, &env.backup).unwrap();
    wait_until(60, "the copy once the disk is back", || {
        env.backup.join(dated(today(), "during.dav")).exists()
    });
    r.wait_for(60, "backup_unavailable cleared", |q| {
        events(q, "/json").contains(&("cleared".into(), "backup_unavailable".into()))
    });
}

#[test]
fn a_reminder_comes_after_remind_hours() {
    if !have_faketime() {
        return;
    }
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": { "webhooks": [hook(&r, "/json", "json")], "remind_hours": 24 } }));
    let away = env.dir.path().join("source-away");
    std::fs::rename(&env.source, &away).unwrap();
    env.pass();
    pass_at(&env, "+25h");
    let got = events(&r.wait_for(30, "a reminder", |q| q.len() >= 2), "/json");
    assert!(
        got.contains(&("reminder".into(), "source_unavailable".into())),
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|(e, _)| e == "raised").count(), 1, "{got:?}");
}
