//! Bad input through the binary: one clear line, exit 2, never a panic; and `check`.

use std::fs;
use std::process::Command;

use serde_json::json;

use crate::common::*;

tests![
    bad_configs_give_one_line_and_exit_2,
    missing_keys_invalid_json_and_missing_file,
    bad_usage_exits_2_and_help_explains,
    relative_paths_resolve_against_the_config_folder,
    check_prints_the_settings_and_judges_the_folders,
    a_log_folder_that_cannot_be_created_exits_1,
    a_byte_order_mark_is_accepted,
];

fn assert_one_line_error(out: &std::process::Output, key: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", show(out));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(key), "names {key}: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
}

fn bad_configs_give_one_line_and_exit_2() {
    let cases = [
        (json!({"retention_days": 0}), "retention_days"),
        (json!({"retention_days": -5}), "retention_days"),
        (json!({"retention_days": "31"}), "retention_days"),
        (json!({"copy_workers": 0}), "copy_workers"),
        (json!({"copy_workers": 2.5}), "copy_workers"),
        (json!({"retention": 31}), "retention"),
        (json!({"extensions": "dav"}), "extensions"),
        (json!({"extensions": []}), "extensions"),
        (json!({"min_free_percent": -1}), "min_free_percent"),
        (json!({"reconcile_interval_secs": 0}), "reconcile_interval_secs"),
        (json!({"backup_dir": "source"}), "backup_dir"),
        (json!({"backup_dir": "source/backup"}), "backup_dir"),
        (json!({"source_dir": "backup/src"}), "source_dir"),
        (json!({"log_dir": "source/logs"}), "log_dir"),
        (json!({"source_dir": null}), "source_dir"),
        (json!({"live_sync_secs": -1}), "live_sync_secs"),
        (json!({"in_progress_suffixes": [".tmp"]}), "in_progress_suffixes"),
        (json!({"in_progress_suffixes": ".dav_"}), "in_progress_suffixes"),
        (json!({"log_retention_days": -1}), "log_retention_days"),
        (json!({"site_name": " "}), "site_name"),
        (
            json!({"notify": {"webhooks": [{"url": "hooks.example.com"}]}}),
            "notify.webhooks[0].url",
        ),
        (
            json!({"notify": {"webhooks": [{"url": "https://x.example", "format": "teams"}]}}),
            "notify.webhooks[0].format",
        ),
        (
            json!({"notify": {"email": {"smtp_host": "h.example.com", "from": "a@b.c", "to": ["nobody"]}}}),
            "notify.email.to[0]",
        ),
        (
            json!({"notify": {"email": {"smtp_host": "h.example.com", "from": "a@b.c", "to": ["a@b.c"], "password": "inline"}}}),
            "notify.email.password",
        ),
        (json!({"notify": {"remind_hours": "daily"}}), "notify.remind_hours"),
        (
            json!({"notify": {"daily_summary_at": "25:00"}}),
            "notify.daily_summary_at",
        ),
        (json!({"notify": {"command": []}}), "notify.command"),
    ];
    for (extra, key) in cases {
        let env = Env::new(extra.clone());
        for cmd in [&["run", "--once"][..], &["check"][..]] {
            let out = env.command(cmd).output().unwrap();
            assert_one_line_error(&out, key);
        }
        assert!(
            !env.backup.exists() && !env.logs.exists(),
            "nothing written for {extra}"
        );
    }
}

fn missing_keys_invalid_json_and_missing_file() {
    let env = Env::new(json!({}));
    fs::write(&env.config, r#"{"source_dir": "s", "backup_dir": "b"}"#).unwrap();
    assert_one_line_error(&env.command(&["run", "--once"]).output().unwrap(), "log_dir");

    fs::write(
        &env.config,
        "{\n  \"source_dir\": \"s\",\n  \"backup_dir\": \"b\"\n  \"log_dir\": \"l\"\n}",
    )
    .unwrap();
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert_one_line_error(&out, "line 4");

    fs::write(&env.config, "").unwrap();
    assert_one_line_error(&env.command(&["check"]).output().unwrap(), "JSON");

    fs::remove_file(&env.config).unwrap();
    assert_one_line_error(&env.command(&["run", "--once"]).output().unwrap(), "cannot read");
}

fn bad_usage_exits_2_and_help_explains() {
    let out = Command::new(BIN).args(["run", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("run") && help.contains("check"), "{help}");
    let out = Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--once") && help.contains("--no-watch") && help.contains("--config"),
        "{help}"
    );
}

fn relative_paths_resolve_against_the_config_folder() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"a");
    let out = Command::new(BIN)
        .args(["run", "--once", "--config"])
        .arg(&env.config)
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(env.backup_files(), vec![dated(today(), "a.dav")]);
}

fn check_prints_the_settings_and_judges_the_folders() {
    let env = Env::new(json!({"retention_days": 7}));
    env.record(&dated(today(), "a.dav"), b"a");
    let out = env.command(&["check"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "retention_days:          7",
        "extensions:              dav",
        "copy_workers:            2",
        "live_sync_secs:          60",
        "in_progress_suffixes:    .dav_",
        "1 recordings",
        "result: ready",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert!(!env.backup.exists(), "check writes nothing");

    fs::remove_dir_all(&env.source).unwrap();
    let out = env.command(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("source_dir"));
}

fn a_log_folder_that_cannot_be_created_exits_1() {
    let env = Env::new(json!({}));
    fs::write(env.dir.path().join("blocker"), b"a file where a folder should be").unwrap();
    env.write_config(json!({"log_dir": "blocker/logs"}));
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("log folder"),
        "{}",
        show(&out)
    );
}

/// A config saved by Windows Notepad as "UTF-8 with BOM" is read like any other.
fn a_byte_order_mark_is_accepted() {
    let env = Env::new(serde_json::json!({}));
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, format!("\u{feff}{text}")).unwrap();
    let out = env.command(&["check"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
}
