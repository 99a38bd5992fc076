//! Pass logs: old ones pruned once a day, everything else in `log_dir` left alone.

use std::fs;

use serde_json::json;

use crate::common::*;

tests![
    old_pass_logs_are_pruned_once_a_day_and_nothing_else,
    zero_keeps_every_log,
    a_clock_jumped_ahead_keeps_the_recent_logs,
];

fn log_at(env: &Env, days_back: u64, name: &str) -> std::path::PathBuf {
    write_file(&env.logs.join(dated(days_ago(days_back), name)), b"an old pass\n")
}

fn old_pass_logs_are_pruned_once_a_day_and_nothing_else() {
    let env = Env::new(json!({ "log_retention_days": 10 }));
    env.record(&dated(today(), "a.dav"), b"a");
    let old = log_at(&env, 11, "08-00-00.log");
    let older = log_at(&env, 40, "23-50-00.log");
    let kept = log_at(&env, 10, "08-00-00.log");
    let recent = log_at(&env, 1, "08-00-00.log");
    let operators = write_file(&env.logs.join(dated(days_ago(40), "notes.txt")), b"mine");
    let look_alike = write_file(&env.logs.join(dated(days_ago(40), "08-00-00.log.bak")), b"mine");
    let other = write_file(
        &env.logs.join("old/2000/01/01/08-00-00.log"),
        b"not a day folder of ours",
    );

    env.pass();
    assert!(!old.exists() && !older.exists(), "logs older than 10 days are gone");
    assert!(kept.exists() && recent.exists(), "the last 10 days stay");
    assert!(
        operators.exists() && look_alike.exists() && other.exists(),
        "other files stay"
    );
    let day11 = env.logs.join(days_ago(11).format("%Y/%m/%d").to_string());
    assert!(!day11.exists(), "the emptied day folder is removed");
    assert!(env.logs.join("status.json").exists() && env.logs.join("backup-marked").exists());
    assert!(env.logs_text().contains("pruned old pass logs"), "the pass log says so");

    // Once a day: a log planted now stays until tomorrow's first pass.
    let planted = log_at(&env, 30, "09-00-00.log");
    env.pass();
    assert!(planted.exists(), "pruning ran twice in one day");
    let stamp = fs::read_to_string(env.logs.join("logs-pruned")).unwrap();
    assert_eq!(stamp.trim(), today().to_string());
}

fn zero_keeps_every_log() {
    let env = Env::new(json!({ "log_retention_days": 0 }));
    let old = log_at(&env, 400, "08-00-00.log");
    env.pass();
    assert!(old.exists());
}

fn a_clock_jumped_ahead_keeps_the_recent_logs() -> Outcome {
    need_faketime()?;
    let env = Env::new(json!({ "log_retention_days": 10 }));
    let recent = log_at(&env, 2, "08-00-00.log");
    pass_at(&env, "+400d");
    assert!(recent.exists(), "a clock 400 days ahead deleted recent logs");
    Ok(())
}
