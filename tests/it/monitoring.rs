//! The read-only HTTP endpoint (`http_listen`) as a monitoring team uses it: `/metrics`
//! checked by Prometheus's own `promtool` and scraped by a real Prometheus server on
//! loopback; the page in headless Chromium; the JSON files as in `log_dir`; a bad
//! address or a port in use refused at start.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::*;
use crate::coverage::{chromium, headless, looks};

tests![
    metrics_pass_promtool_and_a_real_prometheus_reads_the_copies,
    the_page_shows_the_site_and_an_active_alert_in_chromium,
    the_json_files_are_those_of_the_log_folder,
    a_bad_address_or_a_port_in_use_is_one_line_and_exit_2,
    the_ready_made_prometheus_config_and_rules_hold,
];

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A watching daemon serving on a free port, with three recordings copied.
fn serving(extra: Value) -> (Env, Daemon, String) {
    let port = free_port();
    let mut cfg = json!({"http_listen": format!("127.0.0.1:{port}"), "site_name": "Cliente <X>"});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let env = Env::new(cfg);
    for i in 0..3 {
        env.record(&dated(today(), &format!("ch01/{i:02}.00.00-{i:02}.59.59[R][0@0][0].dav")), &payload(4000, i));
    }
    let daemon = env.watching();
    (env, daemon, format!("http://127.0.0.1:{port}"))
}

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).call() {
        Ok(mut r) => (r.status().as_u16(), r.body_mut().read_to_string().unwrap()),
        Err(ureq::Error::StatusCode(code)) => (code, String::new()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// The value of the sample `name` (no labels) in an exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn metrics_pass_promtool_and_a_real_prometheus_reads_the_copies() -> Outcome {
    let Some(promtool) = ["/usr/bin/promtool"].into_iter().find(|p| Path::new(p).exists()) else {
        return missing("prometheus: apt-get install prometheus");
    };
    let (env, daemon, base) = serving(json!({}));
    let (code, text) = get(&format!("{base}/metrics"));
    assert_eq!(code, 200);
    assert_eq!(sample(&text, "cctv_mirror_recordings_copied_total"), Some(3.0), "{text}");
    assert_eq!(sample(&text, "cctv_mirror_protection_lag_seconds"), Some(0.0), "{text}");
    // A recording whose place in the backup a folder takes cannot be copied: the lag
    // counts it from its end (a minute back) on.
    let blocked = dated(today(), "ch01/10.00.00-10.59.59[R][0@0][0].dav");
    std::fs::create_dir_all(env.backup.join(&blocked)).unwrap();
    env.record(&blocked, b"never copied");
    let mut lag = 0.0;
    wait_until(60, "the lag to count the blocked recording", || {
        lag = sample(&get(&format!("{base}/metrics")).1, "cctv_mirror_protection_lag_seconds").unwrap_or(0.0);
        lag >= 60.0
    });
    let (_, text) = get(&format!("{base}/metrics"));
    assert!(sample(&text, "cctv_mirror_copy_errors_total").unwrap_or(0.0) >= 1.0, "{text}");
    assert!(text.contains("cctv_mirror_alert_active{kind=\"low_disk_space\"} 0"), "{text}");
    assert!(text.contains("cctv_mirror_build_info{version=\""), "{text}");
    // promtool parses the exposition and holds its names to Prometheus's conventions.
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(check.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool: {}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty() && String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "promtool found problems: {}",
        show(&out)
    );
    // Every metric the ready-made rules and Zabbix template read is served.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/monitoring");
    for file in ["cctv-mirror.rules.yml", "zabbix_template.yaml"] {
        let text_of = std::fs::read_to_string(dir.join(file)).unwrap();
        let names: Vec<&str> = text_of
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("cctv_mirror_"))
            // Served only with an offsite tier, which this site has not.
            .filter(|w| !w.starts_with("cctv_mirror_offsite_"))
            .collect();
        assert!(names.len() >= 4, "{file}: {names:?}");
        for name in names {
            assert!(text.contains(&format!("# TYPE {name} ")), "{file} reads {name}, which /metrics lacks");
        }
    }
    // A real server scrapes it every second; its query API answers the copies.
    let port = free_port();
    let dir = env.dir.path().join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let target = base.trim_start_matches("http://");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cctv\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let server = Daemon(
        Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let query = format!("http://127.0.0.1:{port}/api/v1/query?query=cctv_mirror_recordings_copied_total");
    let mut answer = Value::Null;
    wait_until(90, "Prometheus to scrape the copies", || {
        let Ok(mut r) = ureq::get(&query).call() else {
            return false;
        };
        answer = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or_default();
        answer["data"]["result"][0]["value"][1] == "3"
    });
    assert_eq!(answer["data"]["result"][0]["metric"]["job"], "cctv", "{answer}");
    drop(server);
    stop(daemon);
    Ok(())
}

fn the_page_shows_the_site_and_an_active_alert_in_chromium() -> Outcome {
    if chromium().is_none() {
        return missing("chromium: apt-get install chromium");
    }
    // Every byte counts as too little room: low_disk_space stands.
    let (env, daemon, base) = serving(json!({"min_free_percent": 100.0}));
    let (code, html) = get(&format!("{base}/"));
    assert_eq!(code, 200);
    for outside in ["http://", "https://", "<script", "<link", "@import"] {
        assert!(!html.contains(outside), "self-contained: found {outside}");
    }
    let profile = env.dir.path().join("chromium");
    let dom = headless(&profile).arg("--dump-dom").arg(format!("{base}/")).output().unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Cliente &lt;X&gt;"), "the site, escaped: {dom}");
    assert!(dom.contains("low_disk_space"), "the active alert: {dom}");
    assert!(dom.contains("Add space"), "what to do: {dom}");
    assert!(dom.contains("Every finished recording is in the backup."), "{dom}");
    let shot = env.dir.path().join("page.png");
    let out = headless(&profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,800")
        .arg(format!("{base}/"))
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", show(&out));
    let (colours, inked) = looks(&shot);
    println!("the page's screenshot: {colours} colours, {:.1} % inked", inked * 100.0);
    assert!(colours >= 3 && inked > 0.01, "not blank: {colours} colours, {inked} inked");
    stop(daemon);
    Ok(())
}

fn the_json_files_are_those_of_the_log_folder() {
    let (env, daemon, base) = serving(json!({}));
    wait_until(60, "coverage.json", || env.logs.join("coverage.json").exists());
    for name in ["status.json", "coverage.json"] {
        let (code, body) = get(&format!("{base}/{name}"));
        assert_eq!(code, 200, "{name}");
        let served: Value = serde_json::from_str(&body).unwrap();
        assert!(served.is_object(), "{name}: {body}");
        if name == "coverage.json" {
            let file: Value = serde_json::from_str(&std::fs::read_to_string(env.logs.join(name)).unwrap()).unwrap();
            assert_eq!(served, file, "{name} as in log_dir");
        } else {
            assert_eq!(served["pid"], env.status()["pid"]);
        }
    }
    assert_eq!(get(&format!("{base}/nothing")).0, 404);
    let post = ureq::post(&format!("{base}/metrics")).send_empty();
    assert!(matches!(post, Err(ureq::Error::StatusCode(405))), "read-only: {post:?}");
    stop(daemon);
}

fn a_bad_address_or_a_port_in_use_is_one_line_and_exit_2() {
    let env = Env::new(json!({"http_listen": "localhost"}));
    let out = env.command(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("http_listen"), "{err}");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    env.write_config(json!({"http_listen": format!("127.0.0.1:{port}")}));
    let mut daemon = Daemon(
        env.command(&["run"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let code = exit_code(&mut daemon, 60);
    let mut err = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("cannot listen on 127.0.0.1:{port}")), "{err}");
    drop(taken);
}

/// packaging/monitoring/: the scrape config and the rules load, and each rule fires on
/// the series that should raise it (`promtool test rules`).
fn the_ready_made_prometheus_config_and_rules_hold() -> Outcome {
    if !Path::new("/usr/bin/promtool").exists() {
        return missing("prometheus: apt-get install prometheus");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/monitoring");
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["test", "rules", "cctv-mirror.rules.test.yml"],
    ] {
        let out = Command::new("promtool").args(args).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "promtool {args:?}: {}", show(&out));
    }
    Ok(())
}
