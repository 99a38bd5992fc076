//! No secret, ever, whatever an operator writes in the config: a secret pasted where a
//! variable's name or a file's path belongs is refused (or, as a path, not found)
//! without being repeated, in no output, log, status file, alert or notification.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::{dated, show, today, Env};
use crate::receiver::Receiver;

tests![
    a_secret_pasted_as_a_variable_name_is_refused_without_being_repeated,
    a_secret_pasted_as_a_file_path_is_in_no_output_log_status_or_alert,
];

/// What an operator might paste: an S3 secret key, or an e-mail password.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        if e.file_type().unwrap().is_dir() {
            out.push_str(&all_text(&e.path()));
        } else {
            out.push_str(&String::from_utf8_lossy(&fs::read(e.path()).unwrap_or_default()));
        }
    }
    out
}

fn offsite(secret_key: (&str, &str)) -> Value {
    let mut o = json!({ "endpoint": "http://127.0.0.1:1", "bucket": "cctv", "prefix": "site", "access_key_id": "AK" });
    o[secret_key.0] = json!(secret_key.1);
    o
}

fn email(password_key: (&str, &str)) -> Value {
    let mut e = json!({ "smtp_host": "127.0.0.1", "smtp_port": 1, "security": "none",
                        "username": "backup@example.com", "from": "a@example.com", "to": ["b@example.com"] });
    e[password_key.0] = json!(password_key.1);
    e
}

fn a_secret_pasted_as_a_variable_name_is_refused_without_being_repeated() {
    for (section, key) in [
        (
            json!({ "offsite": offsite(("secret_access_key_env", SECRET)) }),
            "offsite.secret_access_key_env",
        ),
        (
            json!({ "notify": { "email": email(("password_env", SECRET)) } }),
            "notify.email.password_env",
        ),
    ] {
        let env = Env::new(section);
        for args in [&["check"][..], &["run", "--once"], &["status"], &["notify-test"]] {
            let out = env.command(args).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
            let text = show(&out);
            assert!(text.contains(key), "{args:?} names the key: {text}");
            assert!(!text.contains(SECRET), "{args:?} echoed the secret: {text}");
        }
        assert!(!all_text(env.dir.path())
            .replace(&fs::read_to_string(&env.config).unwrap(), "")
            .contains(SECRET));
    }
}

fn a_secret_pasted_as_a_file_path_is_in_no_output_log_status_or_alert() {
    let r = Receiver::start();
    let env = Env::new(json!({
        "offsite": offsite(("secret_access_key_file", SECRET)),
        "notify": {
            "email": email(("password_file", SECRET)),
            "webhooks": [{ "url": format!("{}/json", r.url), "format": "json" }],
        },
    }));
    env.record(&dated(today(), "ch01/10.00.00-10.59.59.dav"), b"recording");
    let check = env.command(&["check"]).output().unwrap();
    let once = env.pass();
    assert!(once.status.success(), "{}", show(&once));
    assert!(
        env.alert_kinds().contains(&"offsite_unavailable".to_string()),
        "{}",
        show(&once)
    );
    let reqs = r.wait_for(60, "the offsite_unavailable alert", |reqs| {
        reqs.iter().any(|q| q.text().contains("offsite_unavailable"))
    });
    let test = env.command(&["notify-test"]).output().unwrap();
    let mut seen = [show(&check), show(&once), show(&test)].join("\n");
    seen.push_str(&all_text(&env.logs));
    seen.push_str(&all_text(&env.backup));
    for q in &reqs {
        seen.push_str(&q.text());
    }
    assert!(seen.contains("offsite.secret_access_key_file: cannot read the file it names"), "{seen}");
    assert!(seen.contains("notify.email.password_file: cannot read the file it names"), "{seen}");
    assert!(!seen.contains(SECRET), "the secret was echoed: {seen}");
    assert!(!seen.contains("wJalrXUtnFEMI"), "part of the secret was echoed");
}
