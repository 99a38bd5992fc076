//! Object lock against moto's server, which enforces it (SeaweedFS takes the headers
//! and ignores them): each upload carries compliance mode and the day after its
//! offsite retention; the server refuses to delete a version before then; offsite
//! retention asked to delete a locked recording (its retention shortened) stays
//! quiet; a recording whose lock ended is deleted, every version; `check` says the
//! bucket has object lock, and refuses the setting on a bucket without it. Encrypted
//! objects (`NAME.dav.age`) are locked and deleted alike.

use serde_json::{json, Value};

use crate::common::*;
use crate::offsite::moto::Moto;
use crate::offsite::SECRET;
use crate::offsite_daemon::{config, rec_name};

tests![
    recordings_stay_locked_until_their_retention_ends_then_go_every_version,
    check_refuses_object_lock_on_a_bucket_without_it,
    encrypted_objects_are_locked_alike_and_go_every_version_once_free,
];

/// The offsite section on `moto`, with object lock and `retention_days` offsite.
fn locked_config(env: &Env, moto: &Moto, retention_days: u32) -> Value {
    config(
        env,
        SECRET,
        json!({"endpoint": moto.endpoint(), "object_lock": {"mode": "compliance"}, "retention_days": retention_days}),
        json!({"retention_days": 31}),
    )
}

fn recordings_stay_locked_until_their_retention_ends_then_go_every_version() -> Outcome {
    need_faketime()?;
    let moto = Moto::start_with(true)?;
    let s3 = moto.client();
    let env = Env::new(json!({}));
    env.write_config(locked_config(&env, &moto, 30));
    // One recording uploaded 20 days ago by the clock of the time (its lock ended 16
    // days ago, at 3 days offsite), two now (locked for 30 days and a day).
    let old = rec_name(days_ago(20), 1, 9);
    env.record(&old, &payload(40_000, 1));
    env.adopt_backup();
    env.write_config(locked_config(&env, &moto, 3));
    pass_at(&env, "-20d");
    env.write_config(locked_config(&env, &moto, 30));
    let (earlier, recent) = (rec_name(days_ago(5), 2, 10), rec_name(days_ago(1), 2, 11));
    env.record(&earlier, &payload(40_000, 2));
    env.record(&recent, &payload(40_000, 3));
    // Enough recent ones that the two due are no mass deletion.
    for h in 12..15 {
        env.record(&rec_name(today(), 3, h), &payload(40_000, h as u8));
    }
    env.pass();
    let key = |rel: &str| format!("site/{rel}");
    for (rel, days) in [(&earlier, 5), (&recent, 1)] {
        let head = s3.head(&key(rel)).unwrap().expect("uploaded");
        let (mode, until) = head.lock.expect("locked");
        assert_eq!(mode, "COMPLIANCE");
        let want = (days_ago(days) + chrono::Days::new(31)).format("%Y-%m-%d").to_string();
        assert!(until.starts_with(&want), "{rel}: kept until {until}, want {want}");
    }
    // Nobody with the keys can delete a locked recording: the server refuses.
    let ids = s3.versions(&key(&recent)).unwrap();
    assert_eq!(ids.len(), 1);
    let refused = s3.delete_version(&key(&recent), &ids[0]);
    assert!(refused.is_err(), "a locked version deleted: {refused:?}");

    // Retention shortened to 3 days: the recording of 5 days ago is due, but still
    // locked; the one of 20 days ago is due and free. Every version of it goes, the
    // locked one stays, and nothing is raised.
    env.write_config(locked_config(&env, &moto, 3));
    let before = env.logs_text().len();
    env.pass();
    let run = env.logs_text()[before..].to_string();
    assert!(s3.versions(&key(&old)).unwrap().is_empty(), "{run}");
    assert!(
        run.contains("deleted from the offsite bucket (offsite retention)") && run.contains(&key(&old)),
        "{run}"
    );
    assert_eq!(s3.versions(&key(&earlier)).unwrap().len(), 1, "{run}");
    assert!(run.contains("kept by the bucket's object lock"), "{run}");
    assert!(!run.contains(" WARN "), "quiet: {run}");
    assert!(env.alert_kinds().iter().all(|k| !k.starts_with("offsite")), "{:?}", env.alert_kinds());
    Ok(())
}

fn check_refuses_object_lock_on_a_bucket_without_it() -> Outcome {
    let locked = Moto::start_with(true)?;
    let env = Env::new(json!({}));
    env.write_config(locked_config(&env, &locked, 31));
    let out = env.command(&["check"]).output().unwrap();
    assert!(show(&out).contains("object lock on"), "{}", show(&out));
    drop(locked);
    let plain = Moto::start_with(false)?;
    env.write_config(locked_config(&env, &plain, 31));
    let out = env.command(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("the bucket has no object lock"), "{}", show(&out));
    Ok(())
}

fn encrypted_objects_are_locked_alike_and_go_every_version_once_free() -> Outcome {
    need_faketime()?;
    let moto = Moto::start_with(true)?;
    let s3 = moto.client();
    let env = Env::new(json!({}));
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let sealed = |days: u32| {
        let mut cfg = locked_config(&env, &moto, days);
        cfg["offsite"]["encryption"] = json!({"recipient": recipient});
        cfg
    };
    // Uploaded 20 days ago, kept 3 days: its lock ended 16 days ago.
    let old = rec_name(days_ago(20), 1, 9);
    env.record(&old, &payload(40_000, 1));
    env.adopt_backup();
    env.write_config(sealed(3));
    pass_at(&env, "-20d");
    env.write_config(sealed(30));
    let recent = rec_name(days_ago(1), 2, 11);
    env.record(&recent, &payload(40_000, 3));
    for h in 12..15 {
        env.record(&rec_name(today(), 3, h), &payload(40_000, h as u8));
    }
    env.pass();
    let key = |rel: &str| format!("site/{rel}.age");
    let (mode, until) = s3.head(&key(&recent)).unwrap().expect("uploaded").lock.expect("locked");
    assert_eq!(mode, "COMPLIANCE");
    let want = (days_ago(1) + chrono::Days::new(31)).format("%Y-%m-%d").to_string();
    assert!(until.starts_with(&want), "kept until {until}, want {want}");
    let ids = s3.versions(&key(&recent)).unwrap();
    assert!(s3.delete_version(&key(&recent), &ids[0]).is_err(), "a locked version deleted");

    // Kept 3 days now: the old object is free and goes, every version; the recent
    // one is not due.
    env.write_config(sealed(3));
    env.pass();
    let logs = env.logs_text();
    assert!(s3.versions(&key(&old)).unwrap().is_empty(), "{logs}");
    assert_eq!(s3.versions(&key(&recent)).unwrap().len(), 1, "{logs}");
    assert!(logs.contains(&key(&old)), "{logs}");
    assert!(env.alert_kinds().iter().all(|k| !k.starts_with("offsite")), "{:?}", env.alert_kinds());
    Ok(())
}
