//! The alert life cycle through the binary: an alert is announced once when it
//! appears and once when it goes, across `--once` runs and restarts.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

tests![
    raised_once_and_cleared_once_across_once_runs,
];

/// The log of the newest pass (passes a second apart have a file each).
fn last_log(env: &Env) -> String {
    let files = env.log_files();
    std::fs::read_to_string(files.last().expect("a pass log")).unwrap()
}

fn once(env: &Env) -> String {
    std::thread::sleep(Duration::from_millis(1100));
    env.pass();
    last_log(env)
}

fn raised_once_and_cleared_once_across_once_runs() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"a");
    let log = once(&env);
    assert!(!log.contains("alert raised"), "{log}");

    let away = env.dir.path().join("source-away");
    std::fs::rename(&env.source, &away).unwrap();
    let log = once(&env);
    assert!(
        log.contains("alert raised") && log.contains("alert=source_unavailable"),
        "{log}"
    );
    let kept = std::fs::read_to_string(env.logs.join("alerts.json")).unwrap();
    assert!(kept.contains("source_unavailable"), "{kept}");
    let log = once(&env);
    assert!(!log.contains("alert raised"), "announced twice: {log}");
    assert!(
        env.alert_kinds().contains(&"source_unavailable".to_string()),
        "still active in status.json"
    );

    std::fs::rename(&away, &env.source).unwrap();
    let log = once(&env);
    assert!(
        log.contains("alert cleared") && log.contains("alert=source_unavailable"),
        "{log}"
    );
    let log = once(&env);
    assert!(!log.contains("alert cleared"), "cleared twice: {log}");
    assert!(env.alert_kinds().is_empty());
}
