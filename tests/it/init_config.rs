//! `init-config`: a first config written from a few values, valid for `check`; an
//! existing one left byte for byte; missing or refused values write nothing.

use std::fs;

use crate::common::*;

tests![
    writes_a_checked_config_once_and_never_over_one,
    missing_or_refused_values_write_nothing,
];

fn init_config(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    program()
        .arg("init-config")
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn writes_a_checked_config_once_and_never_over_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("recordings");
    fs::create_dir_all(&source).unwrap();
    let backup = dir.path().join("backup");
    let config = dir.path().join("etc").join("config.json");
    let (s, b) = (source.to_str().unwrap(), backup.to_str().unwrap());

    let out = init_config(
        &config,
        &["--source-dir", s, "--backup-dir", b, "--retention-days", "14"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let written = fs::read(&config).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(v["retention_days"], 14);
    assert!(v["log_dir"].as_str().unwrap().ends_with("logs"), "{v}");
    let check = program().arg("check").arg("--config").arg(&config).output().unwrap();
    assert!(check.status.success(), "{}", show(&check));

    let out = init_config(&config, &["--source-dir", b, "--backup-dir", s]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("left as it is"),
        "{}",
        show(&out)
    );
    assert_eq!(fs::read(&config).unwrap(), written, "an existing config was changed");
    let left = fs::read_dir(config.parent().unwrap()).unwrap().count();
    assert_eq!(left, 1, "a temporary was left beside the config");
}

fn missing_or_refused_values_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let source = dir.path().join("s");
    let inside = source.join("backup");
    let (s, i) = (source.to_str().unwrap(), inside.to_str().unwrap());

    // What the installer passes when no property was given: empty values.
    let out = init_config(&config, &["--source-dir", "", "--backup-dir", "", "--log-dir", ""]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--source-dir and --backup-dir"));
    let out = init_config(&config, &["--source-dir", s, "--backup-dir", i]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("backup_dir: is inside source_dir"),
        "{}",
        show(&out)
    );
    let out = init_config(
        &config,
        &["--source-dir", s, "--backup-dir", "/elsewhere", "--retention-days", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("retention_days"),
        "{}",
        show(&out)
    );
    assert!(!config.exists());
}
