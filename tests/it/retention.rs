//! Retention through the binary: what goes, what stays, and clocks that lie.

use serde_json::json;

use crate::common::*;

tests![
    old_recordings_go_everything_else_stays,
    retention_days_is_honoured,
    a_clock_a_year_ahead_deletes_nothing_recent,
    a_clock_behind_the_recordings_raises_clock_suspect_and_deletes_nothing,
    retention_refuses_to_delete_most_of_the_backup_unless_asked,
];

fn old_recordings_go_everything_else_stays() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "now.dav"), b"now");
    let old = dated(days_ago(40), "old.dav");
    let edge = dated(days_ago(31), "edge.dav");
    write_file(&env.backup.join(&old), b"old");
    write_file(&env.backup.join(&edge), b"edge");
    write_file(&env.backup.join(dated(days_ago(40), "notes.txt")), b"operator's file");
    write_file(&env.backup.join(dated(days_ago(50), "sub/old2.DAV")), b"old");
    // The recent days a real backup holds: the old ones are a minority, as every day.
    for d in 1..=3 {
        write_file(&env.backup.join(dated(days_ago(d), "recent.dav")), b"recent");
    }
    // A link inside the backup to recordings outside it: neither followed nor removed.
    let outside = env.dir.path().join("elsewhere");
    write_file(&outside.join(dated(days_ago(60), "foreign.dav")), b"not ours");
    std::os::unix::fs::symlink(&outside, env.backup.join("link")).unwrap();
    std::os::unix::fs::symlink(
        outside.join(dated(days_ago(60), "foreign.dav")),
        env.backup.join("2000.dav"),
    )
    .unwrap();

    env.pass();
    let files = env.backup_files();
    assert!(!files.contains(&old), "{files:?}");
    assert!(!files.contains(&dated(days_ago(50), "sub/old2.DAV")), "{files:?}");
    assert!(
        files.contains(&edge),
        "a recording exactly retention_days old is kept: {files:?}"
    );
    assert!(files.contains(&dated(days_ago(40), "notes.txt")), "{files:?}");
    assert!(
        files.contains(&"link".to_string()) && files.contains(&"2000.dav".to_string()),
        "{files:?}"
    );
    assert!(outside.join(dated(days_ago(60), "foreign.dav")).exists());
    assert!(
        !env.backup.join(days_ago(50).format("%Y/%m/%d").to_string()).exists(),
        "emptied folders removed"
    );
    assert_eq!(env.last_pass("deleted"), 2);
    let log = env.logs_text();
    assert!(log.contains(&format!("deleted path={old}")), "{log}");
    assert!(
        log.contains(&format!("before {}", days_ago(31))),
        "the reason names the cutoff: {log}"
    );
}

fn retention_days_is_honoured() {
    let env = Env::new(json!({"retention_days": 3}));
    env.record(&dated(today(), "a.dav"), b"a");
    env.record(&dated(days_ago(5), "b.dav"), b"b");
    write_file(&env.backup.join(dated(days_ago(4), "c.dav")), b"c");
    write_file(&env.backup.join(dated(days_ago(3), "d.dav")), b"d");
    env.pass();
    assert_eq!(
        env.backup_files(),
        vec![dated(days_ago(3), "d.dav"), dated(today(), "a.dav")]
    );
}

fn a_clock_a_year_ahead_deletes_nothing_recent() -> Outcome {
    need_faketime()?;
    let env = Env::new(json!({}));
    let recent = [
        dated(today(), "a.dav"),
        dated(days_ago(20), "b.dav"),
        dated(days_ago(30), "c.dav"),
    ];
    for r in &recent {
        env.record(r, b"rec");
    }
    env.pass();
    pass_at(&env, "+400d");
    let mut want = recent.to_vec();
    want.sort();
    assert_eq!(env.backup_files(), want, "nothing deleted");
    assert_eq!(env.last_pass("deleted"), 0);
    // The pass really ran with the shifted clock: its log is filed under the future date.
    let future = (today() + chrono::Days::new(400)).format("%Y/%m/%d").to_string();
    assert!(
        env.log_files().iter().any(|f| f.to_string_lossy().contains(&future)),
        "{:?}",
        env.log_files()
    );
    Ok(())
}

fn a_clock_behind_the_recordings_raises_clock_suspect_and_deletes_nothing() -> Outcome {
    need_faketime()?;
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"rec");
    write_file(&env.backup.join(dated(days_ago(20), "b.dav")), b"rec");
    pass_at(&env, "-30d");
    assert_eq!(env.backup_files().len(), 2);
    assert!(
        env.alert_kinds().contains(&"clock_suspect".to_string()),
        "{:?}",
        env.alert_kinds()
    );
    Ok(())
}

fn retention_refuses_to_delete_most_of_the_backup_unless_asked() {
    let env = Env::new(json!({"retention_days": 31}));
    env.record(&dated(today(), "now.dav"), b"now");
    let old: Vec<String> = (0..6).map(|i| dated(days_ago(60 + i), "old.dav")).collect();
    for o in &old {
        write_file(&env.backup.join(o), b"old");
    }
    env.pass();
    assert_eq!(env.alert_kinds(), vec!["retention_refused"]);
    assert!(old.iter().all(|o| env.backup.join(o).exists()), "nothing deleted");
    assert_eq!(env.last_pass("deleted"), 0);
    // The operator confirms, once.
    let out = env.command(&["run", "--once", "--allow-mass-delete"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(env.last_pass("deleted"), 6);
    assert_eq!(env.backup_files(), vec![dated(today(), "now.dav")]);
    assert!(env.alert_kinds().is_empty());
}
