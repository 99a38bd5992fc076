//! Folders as an operator writes them, and links retention must not cross. These run
//! against the Windows build too (`scripts/wine-tests.sh`), where names ignore case,
//! `\` separates folders, and Wine shows a Unix folder link as a plain folder.

use std::process::Command;

use serde_json::json;

use crate::common::*;

tests![
    a_backup_inside_the_source_is_refused,
    a_backup_reached_through_a_link_into_the_source_is_refused,
    retention_never_deletes_through_a_folder_link,
    retention_never_deletes_on_a_disk_mounted_inside_the_backup,
];

/// `check` and `run --once` both refuse `backup_dir` inside `source_dir`, with one line
/// naming the key and exit 2, also when the backup folder does not exist yet.
fn refused(env: &Env, backup_dir: &str) {
    refused_as(env, backup_dir, "inside source_dir");
}

fn refused_as(env: &Env, backup_dir: &str, why: &str) {
    env.write_config(json!({ "backup_dir": backup_dir }));
    for args in [&["check"][..], &["run", "--once"][..]] {
        let out = env.command(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{backup_dir}: {}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("backup_dir") && err.contains(why), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    assert!(!env.logs.exists(), "nothing written for a refused config");
}

fn a_backup_inside_the_source_is_refused() {
    let env = Env::new(json!({}));
    refused(&env, "source/backup");
    refused(&env, "./source/x/../backup");
    if windows_build() {
        // The Windows rules: case, either separator, the long-path prefix.
        refused(&env, "SOURCE\\Backup");
        let abs = env.source.join("b").display().to_string().replace('/', "\\");
        refused(&env, &format!("\\\\?\\Z:{abs}"));
        refused(&env, &env.source.join("b").display().to_string().to_uppercase());
        refused_as(&env, &env.source.display().to_string().to_uppercase(), "same folder");
    }
}

fn a_backup_reached_through_a_link_into_the_source_is_refused() {
    let env = Env::new(json!({}));
    std::os::unix::fs::symlink(&env.source, env.dir.path().join("alias")).unwrap();
    refused(&env, "alias/backup");
}

/// A day folder in the backup that is really a link to recordings elsewhere: retention
/// deletes the backup's own old recordings and never the ones behind the link, even
/// where the link looks like a plain folder (Wine).
fn retention_never_deletes_through_a_folder_link() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "now.dav"), b"now");
    for d in 1..=4 {
        write_file(&env.backup.join(dated(days_ago(d), "recent.dav")), b"recent");
    }
    let own = dated(days_ago(45), "own.dav");
    write_file(&env.backup.join(&own), b"old, ours");
    let outside = env.dir.path().join("elsewhere");
    let foreign = write_file(&outside.join("foreign.dav"), b"not ours");
    let linked_day = env.backup.join(days_ago(60).format("%Y/%m/%d").to_string());
    std::fs::create_dir_all(linked_day.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&outside, &linked_day).unwrap();

    env.pass();
    assert!(foreign.exists(), "a recording behind a link was deleted");
    assert!(!env.backup.join(&own).exists(), "the backup's own old recording stays");
    let log = env.logs_text();
    if windows_build() {
        assert!(log.contains("not deleted") && log.contains("through a link"), "{log}");
    }
}

/// A disk mounted on a folder inside the backup is not the backup: nothing on it is
/// deleted, although no link is on the way. Linux only (needs root for the mount).
fn retention_never_deletes_on_a_disk_mounted_inside_the_backup() -> Outcome {
    native_only("the mount is made by this Linux host, under the native program's rules")?;
    need_root()?;
    let env = Env::new(json!({}));
    env.record(&dated(today(), "now.dav"), b"now");
    for d in 1..=4 {
        write_file(&env.backup.join(dated(days_ago(d), "recent.dav")), b"recent");
    }
    let day = env.backup.join(days_ago(60).format("%Y/%m/%d").to_string());
    std::fs::create_dir_all(&day).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&day)
        .status()
        .unwrap();
    assert!(ok.success());
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _guard = Unmount(day.clone());
    let foreign = write_file(&day.join("foreign.dav"), b"on another disk");

    env.pass();
    assert!(
        foreign.exists(),
        "a recording on a disk mounted inside the backup was deleted"
    );
    let log = env.logs_text();
    assert!(log.contains("another disk mounted inside"), "{log}");
    Ok(())
}
