//! Alerts reaching a person through the binary: webhooks (each format) against a real
//! HTTP server on 127.0.0.1, a command, heartbeats, delivery that survives a dead
//! channel without slowing copies, and `--once` runs that never announce twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::receiver::{Receiver, Request};

tests![
    each_alert_is_posted_once_when_raised_and_once_when_cleared_across_once_runs,
    every_webhook_format_has_its_services_shape,
    heartbeat_after_a_clean_pass_and_the_fail_url_after_one_with_an_alert,
    a_command_gets_the_event_in_its_environment_and_on_stdin,
    what_once_could_not_deliver_is_sent_by_the_next_run,
    a_daemon_announces_a_lost_backup_within_seconds_and_its_return,
    a_reminder_comes_after_remind_hours,
    an_alert_reaches_smtp_and_the_password_is_never_shown,
    notify_test_says_what_was_delivered_and_exits_3_otherwise,
    the_daily_summary_comes_once_a_day_with_the_counts,
    the_daily_summary_comes_at_its_minute_between_passes,
    copies_keep_their_pace_while_every_channel_is_down,
];

fn hook(r: &Receiver, path: &str, format: &str) -> Value {
    json!({ "url": format!("{}{path}", r.url), "format": format, "chat_id": "-100" })
}

fn events(reqs: &[Request], path: &str) -> Vec<(String, String)> {
    reqs.iter()
        .filter(|r| r.path == path)
        .map(|r| {
            let v = r.json();
            (
                v["event"].as_str().unwrap_or("").to_string(),
                v["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn once(env: &Env) {
    std::thread::sleep(Duration::from_millis(1100)); // a log file per pass
    env.pass();
}

fn each_alert_is_posted_once_when_raised_and_once_when_cleared_across_once_runs() {
    let r = Receiver::start();
    let env = Env::new(json!({ "site_name": "Cliente X", "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    env.record(&dated(today(), "a.dav"), b"a");
    once(&env);
    let away = env.dir.path().join("source-away");
    std::fs::rename(&env.source, &away).unwrap();
    once(&env);
    once(&env);
    std::fs::rename(&away, &env.source).unwrap();
    once(&env);
    once(&env);
    let got = events(&r.requests(), "/json");
    let of = |kind: &str| {
        got.iter()
            .filter(|(_, k)| k == kind)
            .map(|(e, _)| e.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("source_unavailable"), ["raised", "cleared"], "{got:?}");
    let first = r.requests().into_iter().find(|q| q.path == "/json").unwrap();
    let v = first.json();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["event", "host", "kind", "message", "since", "site", "time"]);
    assert_eq!(v["site"], "Cliente X");
    assert_eq!(first.header("content-type"), Some("application/json"));
}

fn every_webhook_format_has_its_services_shape() {
    let r = Receiver::start();
    let hooks: Vec<Value> = ["json", "slack", "discord", "ntfy", "telegram"]
        .iter()
        .map(|f| hook(&r, &format!("/{f}"), f))
        .collect();
    let env = Env::new(json!({ "site_name": "Cliente X", "notify": { "webhooks": hooks } }));
    // A recording dated tomorrow: clock_suspect.
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    env.pass();
    let reqs = r.wait_for(30, "five webhooks", |q| q.len() >= 5);
    let at = |p: &str| {
        reqs.iter()
            .find(|q| q.path == p)
            .unwrap_or_else(|| panic!("{p}: {reqs:?}", reqs = reqs.len()))
    };
    assert_eq!(at("/json").json()["kind"], "clock_suspect");
    let slack = at("/slack").json()["text"].as_str().unwrap().to_string();
    assert!(
        slack.contains("Cliente X") && slack.contains("clock_suspect"),
        "{slack}"
    );
    let discord = at("/discord").json()["content"].as_str().unwrap().to_string();
    assert!(
        discord.contains("Cliente X") && discord.contains("clock_suspect"),
        "{discord}"
    );
    let tg = at("/telegram").json();
    assert_eq!(tg["chat_id"], "-100");
    assert!(tg["text"].as_str().unwrap().contains("clock_suspect"));
    let ntfy = at("/ntfy");
    assert!(
        ntfy.header("title").unwrap().contains("Cliente X") && ntfy.header("title").unwrap().contains("clock_suspect")
    );
    assert_eq!(ntfy.header("priority"), Some("high"));
    assert!(ntfy.text().contains("dated after today"), "{}", ntfy.text());
}

fn heartbeat_after_a_clean_pass_and_the_fail_url_after_one_with_an_alert() {
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": {
        "heartbeat_url": format!("{}/ping/abc", r.url),
        "heartbeat_fail_url": format!("{}/ping/abc/fail", r.url),
    } }));
    env.record(&dated(today(), "a.dav"), b"a");
    env.pass();
    r.wait_for(30, "the heartbeat", |q| {
        q.iter().any(|q| q.method == "GET" && q.path == "/ping/abc")
    });
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    once(&env);
    let reqs = r.wait_for(30, "the fail ping", |q| q.iter().any(|q| q.path == "/ping/abc/fail"));
    assert_eq!(
        reqs.iter().filter(|q| q.path == "/ping/abc").count(),
        1,
        "no success ping with an alert active"
    );
    let status = env.status();
    let names: Vec<&str> = status["notify"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["channel"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.starts_with("heartbeat 127.0.0.1:")), "{names:?}");
}

fn a_command_gets_the_event_in_its_environment_and_on_stdin() {
    let env = Env::new(json!({}));
    let out = env.dir.path().join("alert-out.txt");
    let script = if windows_build() {
        // Windows runs a .cmd through cmd.exe; the event is in its environment.
        let out = format!("Z:{}", out.display().to_string().replace('/', "\\"));
        let text = format!("@echo off\r\necho %CCTV_EVENT% %CCTV_ALERT_KIND% %CCTV_SITE%>> \"{out}\"\r\n");
        write_file(&env.dir.path().join("alert.cmd"), text.as_bytes())
    } else {
        let text = format!(
            "#!/bin/sh\n{{ echo \"$CCTV_EVENT $CCTV_ALERT_KIND $CCTV_SITE\"; cat; echo; }} >> {}\n",
            out.display()
        );
        let script = write_file(&env.dir.path().join("alert.sh"), text.as_bytes());
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        script
    };
    env.write_config(json!({ "site_name": "Cliente X", "notify": { "command": [script] } }));
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    env.pass();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.starts_with("raised clock_suspect Cliente X"), "{text}");
    if !windows_build() {
        let body: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(body["kind"], "clock_suspect");
    }
}

/// A channel that is down: copies keep their pace, `--once` keeps what it could not
/// deliver in log_dir, and the next run sends it.
fn what_once_could_not_deliver_is_sent_by_the_next_run() {
    let r = Receiver::start();
    r.stop();
    let env = Env::new(json!({ "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    for i in 0..50 {
        env.record(&dated(today(), &format!("{i}.dav")), b"recording");
    }
    let started = Instant::now();
    env.pass();
    let took = started.elapsed();
    assert_eq!(env.last_pass("copied"), 51);
    assert!(env.logs.join("notify-outbox.json").exists(), "kept for the next run");
    assert!(
        env.logs_text().contains("notification not delivered"),
        "the failure is logged"
    );
    let st = env.status();
    let webhook = &st["notify"][0];
    assert!(
        webhook["last_error"].as_str().unwrap().contains("cannot connect"),
        "{webhook}"
    );
    assert_eq!(webhook["pending"], 1);
    println!(
        "FIGURE a --once pass with its only channel down: {:.2} s",
        took.as_secs_f64()
    );

    r.restart();
    once(&env);
    let got = events(&r.wait_for(30, "the late delivery", |q| !q.is_empty()), "/json");
    assert_eq!(
        got,
        [("raised".to_string(), "clock_suspect".to_string())],
        "once, not twice"
    );
    assert!(!env.logs.join("notify-outbox.json").exists());
}

/// The daemon: a backup folder gone under it is announced within seconds, and so is
/// its return; a channel that is slow never holds up copies.
fn a_daemon_announces_a_lost_backup_within_seconds_and_its_return() {
    let r = Receiver::start();
    let env =
        Env::new(json!({ "reconcile_interval_secs": 3600, "notify": { "webhooks": [hook(&r, "/json", "json")] } }));
    std::fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let _daemon = env.watching();
    let away = env.dir.path().join("backup-away");
    std::fs::rename(&env.backup, &away).unwrap();
    let cause = Instant::now();
    env.record(&dated(today(), "during.dav"), b"made while the disk is away");
    r.wait_for(60, "backup_unavailable raised", |q| {
        events(q, "/json").contains(&("raised".into(), "backup_unavailable".into()))
    });
    println!(
        "FIGURE cause -> webhook (backup gone): {:.2} s",
        cause.elapsed().as_secs_f64()
    );
    r.set_delay(Duration::from_secs(8));
    std::fs::rename(&away, &env.backup).unwrap();
    wait_until(60, "the copy once the disk is back", || {
        env.backup.join(dated(today(), "during.dav")).exists()
    });
    r.wait_for(60, "backup_unavailable cleared", |q| {
        events(q, "/json").contains(&("cleared".into(), "backup_unavailable".into()))
    });
}

fn a_reminder_comes_after_remind_hours() -> Outcome {
    native_only("faketime shifts the clock of a Linux program")?;
    need_faketime()?;
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": { "webhooks": [hook(&r, "/json", "json")], "remind_hours": 24 } }));
    let away = env.dir.path().join("source-away");
    std::fs::rename(&env.source, &away).unwrap();
    env.pass();
    pass_at(&env, "+25h");
    let got = events(&r.wait_for(30, "a reminder", |q| q.len() >= 2), "/json");
    assert!(
        got.contains(&("reminder".into(), "source_unavailable".into())),
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|(e, _)| e == "raised").count(), 1, "{got:?}");
    Ok(())
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1, stopped when dropped.
struct Smtp {
    child: std::process::Child,
    port: u16,
    mailbox: std::path::PathBuf,
}

impl Smtp {
    fn start(dir: &std::path::Path, user: &str, password: &str) -> Result<Smtp, Skip> {
        use std::io::BufRead;
        let ok = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status();
        if !ok.is_ok_and(|s| s.success()) {
            return missing("aiosmtpd: pip install aiosmtpd");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailbox = dir.join("mailbox");
        std::fs::create_dir_all(&mailbox).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/smtp.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg(&mailbox)
            .args([&port.to_string(), user, password])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first.trim(), "ready");
        Ok(Smtp { child, port, mailbox })
    }

    fn mails(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.mailbox)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn email_config(port: u16, password_env: &str) -> Value {
    json!({ "site_name": "Cliente X", "notify": { "email": {
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "username": "backup@example.com", "password_env": password_env,
        "from": "cctv-mirror <backup@example.com>", "to": ["ops@example.com", "boss@example.com"],
    } } })
}

/// Every file and output a run leaves, to look for a secret in.
fn everything_written(env: &Env, outputs: &[std::process::Output]) -> String {
    let mut all: String = outputs.iter().map(show).collect();
    let mut files = Vec::new();
    fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out)
            } else {
                out.push(e.path())
            }
        }
    }
    walk(&env.logs, &mut files);
    for f in files {
        all.push_str(&String::from_utf8_lossy(&std::fs::read(f).unwrap()));
    }
    all
}

fn an_alert_reaches_smtp_and_the_password_is_never_shown() -> Outcome {
    const PW: &str = "s3cret-smtp-Passw0rd";
    let env = Env::new(json!({}));
    let smtp = Smtp::start(env.dir.path(), "backup@example.com", PW)?;
    env.write_config(email_config(smtp.port, "CCTV_TEST_SMTP_PASSWORD"));
    env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
    let run = |pw: &str| {
        env.command(&["run", "--once"])
            .env("CCTV_TEST_SMTP_PASSWORD", pw)
            .output()
            .unwrap()
    };
    let first = run(PW);
    assert!(first.status.success(), "{}", show(&first));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one e-mail for one alert");
    let subject = mails[0]
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap()
        .to_string();
    assert!(
        subject.starts_with("Subject: [cctv-mirror] Cliente X:") && subject.contains("clock_suspect"),
        "{subject}"
    );
    assert!(mails[0].contains("ops@example.com") && mails[0].contains("boss@example.com"));

    // The check says it is ready without sending; notify-test sends and says delivered.
    let check = env
        .command(&["check"])
        .env("CCTV_TEST_SMTP_PASSWORD", PW)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", show(&check));
    let test = env
        .command(&["notify-test"])
        .env("CCTV_TEST_SMTP_PASSWORD", PW)
        .output()
        .unwrap();
    assert_eq!(test.status.code(), Some(0), "{}", show(&test));
    assert!(String::from_utf8_lossy(&test.stdout)
        .contains("email ops@example.com, boss@example.com via 127.0.0.1: delivered"));
    assert_eq!(smtp.mails().len(), 2);

    // A wrong password: refused, said, and neither password shows anywhere.
    let wrong = env
        .command(&["notify-test"])
        .env("CCTV_TEST_SMTP_PASSWORD", "wr0ng-Passw0rd")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3), "{}", show(&wrong));
    let unset = env
        .command(&["check"])
        .env_remove("CCTV_TEST_SMTP_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2), "{}", show(&unset));
    assert!(String::from_utf8_lossy(&unset.stdout).contains("CCTV_TEST_SMTP_PASSWORD is not set"));
    let all = everything_written(&env, &[first, check, test, wrong, unset]);
    assert!(
        !all.contains(PW) && !all.contains("wr0ng-Passw0rd"),
        "a password was written somewhere"
    );
    Ok(())
}

fn notify_test_says_what_was_delivered_and_exits_3_otherwise() {
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": {
        "webhooks": [hook(&r, "/ok", "json")],
        "heartbeat_url": format!("{}/ping", r.url),
        "heartbeat_fail_url": format!("{}/ping/fail", r.url),
    } }));
    let out = env.command(&["notify-test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let reqs = r.requests();
    assert_eq!(reqs.iter().find(|q| q.path == "/ok").unwrap().json()["event"], "test");
    assert!(reqs.iter().any(|q| q.path == "/ping") && !reqs.iter().any(|q| q.path == "/ping/fail"));
    r.set_status(500);
    let out = env.command(&["notify-test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT delivered: the server answered HTTP 500"));
    let none = Env::new(json!({}));
    assert_eq!(none.command(&["notify-test"]).output().unwrap().status.code(), Some(3));
}

fn the_daily_summary_comes_once_a_day_with_the_counts() {
    let r = Receiver::start();
    let env = Env::new(json!({ "notify": { "webhooks": [hook(&r, "/json", "json")], "daily_summary_at": "00:00" } }));
    for i in 0..3 {
        env.record(&dated(today(), &format!("{i}.dav")), b"recording");
    }
    env.pass();
    let reqs = r.wait_for(30, "the summary", |q| !q.is_empty());
    let v = reqs[0].json();
    assert_eq!(v["event"], "summary");
    assert!(v["message"].as_str().unwrap().contains("3 recordings copied"), "{v}");
    once(&env);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(r.requests().len(), 1, "one summary a day");
}

/// A daemon whose passes are an hour apart sends the summary within a minute of
/// `daily_summary_at`, not at its next pass.
fn the_daily_summary_comes_at_its_minute_between_passes() {
    use chrono::{Local, TimeDelta, Timelike};
    // Not across midnight: the minute and the start on the same day.
    while Local::now().time() > chrono::NaiveTime::from_hms_opt(23, 57, 0).unwrap() {
        std::thread::sleep(Duration::from_secs(10));
    }
    let r = Receiver::start();
    let minute = (Local::now() + TimeDelta::seconds(80)).with_second(0).unwrap().with_nanosecond(0).unwrap();
    let at = minute.format("%H:%M").to_string();
    let env = Env::new(json!({
        "reconcile_interval_secs": 3600,
        "notify": { "webhooks": [hook(&r, "/json", "json")], "daily_summary_at": at }
    }));
    env.record(&dated(today(), "a.dav"), b"recording");
    let daemon = env.watching();
    assert!(Local::now() < minute, "the first pass ended before the minute");
    assert!(r.requests().is_empty(), "nothing before {at}");
    let reqs = r.wait_for(150, "the summary", |q| !q.is_empty());
    let came = Local::now();
    assert_eq!(reqs[0].json()["event"], "summary");
    let late = (came - minute).num_milliseconds() as f64 / 1000.0;
    println!("the summary came {late:.1} s after {at}");
    assert!(came >= minute && late <= 60.0, "within a minute of {at}: {late} s");
    stop(daemon);
    assert_eq!(r.requests().len(), 1, "once");
}

/// Every channel down or slow (a webhook that answers after 20 s, one that refuses,
/// e-mail to a closed port) while a burst of recordings arrives: the daemon copies
/// them all at its usual pace, and the slow webhook still gets its message.
fn copies_keep_their_pace_while_every_channel_is_down() {
    let burst = |notify: Value| {
        let env = Env::new(json!({ "reconcile_interval_secs": 3600, "notify": notify }));
        let day = today().format("%Y/%m/%d").to_string();
        std::fs::create_dir_all(env.source.join(&day)).unwrap();
        // clock_suspect at the first pass: its messages are in flight during the burst.
        env.record(&dated(today().succ_opt().unwrap(), "odd.dav"), b"x");
        let daemon = env.watching();
        let started = Instant::now();
        for i in 0..200 {
            env.record(&dated(today(), &format!("{i:03}.dav")), &payload(64 << 10, i as u8));
        }
        wait_until(120, "the burst copied", || {
            std::fs::read_dir(env.backup.join(&day)).map_or(0, |d| d.count()) >= 200
        });
        (started.elapsed(), env, daemon)
    };
    let (quiet, _, _) = burst(json!({}));
    let slow = Receiver::start();
    slow.set_delay(Duration::from_secs(20));
    let dead = Receiver::start();
    dead.stop();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (loud, env, _daemon) = burst(json!({
        "webhooks": [hook(&slow, "/slow", "json"), hook(&dead, "/dead", "json")],
        "email": { "smtp_host": "127.0.0.1", "smtp_port": closed, "security": "none",
                   "from": "a@example.com", "to": ["b@example.com"] },
    }));
    println!(
        "FIGURE 200 recordings copied by the watcher: {:.2} s with no channel, {:.2} s with every channel down or slow",
        quiet.as_secs_f64(),
        loud.as_secs_f64()
    );
    // The clock_suspect alert reaches the slow webhook after all.
    wait_until(60, "the dead channels' failures in the log", || {
        env.logs_text().contains("notification not delivered")
    });
    let _ = slow.wait_for(90, "the slow webhook's message", |q| {
        q.iter().any(|q| q.path == "/slow")
    });
}
