//! `status` as a monitoring check: 0 healthy, 3 when something needs attention (no
//! run yet, an alert, a daemon stopped or silent, a stale pass), 2 bad config.

use std::fs;

use chrono::{DateTime, Local, TimeDelta};
use serde_json::{json, Value};

use crate::common::*;

tests![
    status_exit_codes_follow_health,
    a_running_daemon_is_healthy_and_a_stopped_one_is_not,
];

fn status(env: &Env, json_form: bool) -> (Option<i32>, String) {
    let args: &[&str] = if json_form { &["status", "--json"] } else { &["status"] };
    let out = env.command(args).output().expect("run status");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Moves every time in status.json `secs` seconds back, as if written that long ago.
fn age_status(env: &Env, secs: i64) {
    let path = env.logs.join("status.json");
    let mut s: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let back = |v: &mut Value| {
        if let Some(t) = v.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
            *v = json!((t - TimeDelta::seconds(secs)).with_timezone(&Local).to_rfc3339());
        }
    };
    back(&mut s["updated_at"]);
    back(&mut s["last_pass"]["finished_at"]);
    back(&mut s["last_pass"]["started_at"]);
    fs::write(&path, s.to_string()).unwrap();
}

fn status_exit_codes_follow_health() {
    let env = Env::new(json!({"reconcile_interval_secs": 600}));
    let (code, text) = status(&env, false);
    assert_eq!(code, Some(3), "never ran: {text}");
    assert!(
        text.contains("NEEDS ATTENTION") && text.contains("has not run"),
        "{text}"
    );

    env.record(
        &dated(days_ago(1), "ch01/10.00.00-10.59.59[R][0@0][0].dav"),
        &payload(5000, 1),
    );
    env.pass();
    let (code, text) = status(&env, false);
    assert_eq!(code, Some(0), "{text}");
    for line in [
        "Daemon:",
        "Last pass:",
        "Backup disk:",
        "Alerts:      none",
        "Coverage:",
        "HEALTHY",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    let (code, text) = status(&env, true);
    assert_eq!(code, Some(0));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["healthy"], true);
    assert_eq!(doc["status"]["mode"], "once");
    assert_eq!(
        doc["coverage"]["verdict"]["complete"], false,
        "one recording is not 31 days"
    );

    // Twice the interval without a pass.
    age_status(&env, 1300);
    let (code, text) = status(&env, false);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("more than twice reconcile_interval_secs"), "{text}");

    // An active alert.
    env.write_config(json!({"reconcile_interval_secs": 600, "min_free_percent": 100.0}));
    env.pass();
    let (code, text) = status(&env, true);
    assert_eq!(code, Some(3), "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["problems"][0].as_str().unwrap().contains("low_disk_space"), "{doc}");

    fs::write(&env.config, "{ not json").unwrap();
    let (code, _) = status(&env, false);
    assert_eq!(code, Some(2));
}

fn a_running_daemon_is_healthy_and_a_stopped_one_is_not() {
    let env = Env::new(json!({"reconcile_interval_secs": 600}));
    env.record(
        &dated(days_ago(1), "ch01/10.00.00-10.59.59[R][0@0][0].dav"),
        &payload(5000, 1),
    );
    let daemon = env.daemon(&["--no-watch"]);
    wait_until(60, "the daemon's first pass", || {
        fs::read_to_string(env.logs.join("status.json")).is_ok_and(|s| s.contains("\"running\""))
    });
    let (code, text) = status(&env, false);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("running (daemon mode"), "{text}");
    stop(daemon);
    let (code, text) = status(&env, false);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("the daemon is not running"), "{text}");
}
