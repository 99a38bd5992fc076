//! Whose prefix it is, against a real SeaweedFS on loopback: without a `prefix` key a
//! site writes under its own name, made key-safe, and marks the prefix as its own; a
//! prefix marked by another site is never pruned, and `check` says why.

use serde_json::{json, Value};

use crate::common::*;
use crate::offsite::{client, section, Weed, BUCKET, SECRET};

tests![
    without_a_prefix_a_site_writes_under_its_own_name_and_marks_it,
    a_prefix_marked_by_another_site_is_never_pruned_and_check_says_why,
];

const MARKER: &str = ".cctv-mirror-site.json";

/// The offsite section with the secret in a file beside the config, `prefix` as given
/// (None: left out), and the site's name.
fn config(env: &Env, prefix: Option<&str>, site: &str) -> Value {
    std::fs::write(env.dir.path().join("s3-secret.txt"), SECRET).unwrap();
    let mut cfg = section(json!({"secret_access_key_file": "s3-secret.txt"}));
    let o = cfg["offsite"].as_object_mut().unwrap();
    o.remove("secret_access_key_env");
    match prefix {
        Some(p) => o.insert("prefix".into(), json!(p)),
        None => o.remove("prefix"),
    };
    cfg["site_name"] = json!(site);
    cfg["reconcile_interval_secs"] = json!(2);
    cfg
}

fn rec(day: chrono::NaiveDate) -> String {
    dated(day, "ch01/10.00.00-10.59.59[R][0@0][0].dav")
}

fn check(env: &Env) -> (Option<i32>, String) {
    let out = env.command(&["check"]).output().unwrap();
    (out.status.code(), show(&out))
}

fn without_a_prefix_a_site_writes_under_its_own_name_and_marks_it() -> Outcome {
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let env = Env::new(json!({}));
    env.write_config(config(&env, None, "Loja São João"));
    let (code, out) = check(&env);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("s3://cctv/loja-sao-joao/ at") && out.contains("the first run marks it as \"Loja São João\"'s"),
        "{out}"
    );
    let rel = rec(today());
    env.record(&rel, &payload(20_000, 1));
    env.adopt_backup();
    let _daemon = env.watching();
    wait_until(120, "the recording under the site's own prefix", || {
        s3.head(&format!("loja-sao-joao/{rel}")).is_ok_and(|h| h.is_some())
    });
    wait_until(60, "the prefix marked as this site's", || {
        s3.get(&format!("loja-sao-joao/{MARKER}"))
            .is_ok_and(|b| String::from_utf8_lossy(&b).contains("\"site_name\": \"Loja São João\""))
    });
    let keys: Vec<String> = s3.list("").unwrap().into_iter().map(|l| l.key).collect();
    let elsewhere: Vec<&String> = keys
        .iter()
        .filter(|k| k.ends_with(&rel) && !k.starts_with("loja-sao-joao/"))
        .collect();
    assert!(elsewhere.is_empty(), "nowhere else: {elsewhere:?}");
    let (code, out) = check(&env);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("marked as \"Loja São João\"'s"), "{out}");
    Ok(())
}

fn a_prefix_marked_by_another_site_is_never_pruned_and_check_says_why() -> Outcome {
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let marker = br#"{"site_name": "Cliente Y", "written_at": "2026-11-01T10:00:00-03:00"}"#;
    s3.put(&format!("site/{MARKER}"), marker, &[]).unwrap();
    // Another site's recordings: two old enough for this site's retention, and enough
    // recent ones that the mass-delete guard would let those two go.
    let theirs = [rec(days_ago(60)), rec(days_ago(45)), rec(days_ago(3)), rec(days_ago(2)), rec(days_ago(1))];
    for rel in &theirs {
        s3.put(&format!("site/{rel}"), b"their footage", &[]).unwrap();
    }
    let env = Env::new(json!({}));
    env.write_config(config(&env, Some("site"), "Cliente X"));
    let (code, out) = check(&env);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("the prefix is marked as another site's (\"Cliente Y\", this one is \"Cliente X\")"),
        "{out}"
    );
    env.record(&rec(today()), &payload(20_000, 2));
    env.adopt_backup();
    let _daemon = env.watching();
    wait_until(120, "offsite retention refused, with its reason", || {
        env.logs_text().lines().any(|l| {
            l.contains("offsite retention not run")
                && l.contains("retention_refused")
                && l.contains("names another site")
                && l.contains("Cliente Y")
        })
    });
    wait_until(60, "this site's recording uploaded all the same", || {
        s3.head(&format!("site/{}", rec(today()))).is_ok_and(|h| h.is_some())
    });
    for rel in &theirs {
        assert_eq!(s3.get(&format!("site/{rel}")).unwrap(), b"their footage", "{rel} kept");
    }
    assert_eq!(s3.get(&format!("site/{MARKER}")).unwrap(), marker, "their marker kept");
    Ok(())
}
