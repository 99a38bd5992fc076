//! `report`: the coverage of a backup with planted gaps gives exactly those gaps, in
//! text, JSON and HTML (rendered in headless Chromium), and the daemon's
//! `coverage.json` says the same after a pass.

use std::fs;
use std::path::Path;
use std::process::Command;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde_json::{json, Value};

use crate::common::*;

tests![
    the_report_finds_exactly_the_planted_gaps,
    text_and_source_only_recordings,
    a_whole_backup_is_complete_and_the_daemon_keeps_the_coverage_files,
    report_refuses_a_missing_backup_and_bad_days,
    the_html_report_renders_in_chromium_with_a_cell_per_camera_day,
];

/// The path of `camera`'s segment `from`-`to` on `day`.
fn segment(day: NaiveDate, camera: &str, from: &str, to: &str) -> String {
    dated(day, &format!("{camera}/{from}-{to}[R][0@0][0].dav"))
}

/// Whole DHAV frames every 10 s from `start` for `secs` seconds, each carrying its time.
pub fn frames(start: NaiveDateTime, secs: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in (0..secs).step_by(10).chain(std::iter::once(secs - 1)) {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"DHAV");
        f[12..16].copy_from_slice(&64u32.to_le_bytes());
        let t = start + TimeDelta::seconds(i);
        f[16..20].copy_from_slice(&cctv_mirror::rules::span::pack_time(t).to_le_bytes());
        f[56..60].copy_from_slice(b"dhav");
        f[60..].copy_from_slice(&64u32.to_le_bytes());
        out.extend(f);
    }
    out
}

/// Two cameras over the two days before today, with planted gaps:
/// - ch01, two days ago: 05:00 ends ten minutes early (05:50–06:00);
/// - ch01, two days ago: 07:00 starts 30 s late (forgiven: under 60 s);
/// - ch02: 23:00 two days ago and 00:00 yesterday missing (one gap across midnight);
/// - ch02, yesterday: 14:00 missing.
///
/// ch03 (both days whole) has names without times: its frames give them.
fn planted(env: &Env) -> Vec<(String, String, String)> {
    let (d2, d1) = (days_ago(2), days_ago(1));
    for day in [d2, d1] {
        for cam in ["ch01", "ch02"] {
            for h in 0..24 {
                let (from, to) = (format!("{h:02}.00.00"), format!("{h:02}.59.59"));
                let (from, to) = match (day == d2, cam, h) {
                    (true, "ch01", 5) => (from, "05.49.59".to_string()),
                    (true, "ch01", 7) => ("07.00.30".to_string(), to),
                    (true, "ch02", 23) | (false, "ch02", 0) | (false, "ch02", 14) => continue,
                    _ => (from, to),
                };
                env.record(&segment(day, cam, &from, &to), &payload(64, h as u8));
            }
        }
        for h in 0..24 {
            let start = day.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap());
            env.record(&dated(day, &format!("ch03/rec-{h:02}.dav")), &frames(start, 3600));
        }
    }
    let t = |d: NaiveDate, s: &str| format!("{}T{s}", d.format("%Y-%m-%d"));
    vec![
        ("ch01".into(), t(d2, "05:50:00"), t(d2, "06:00:00")),
        ("ch02".into(), t(d2, "23:00:00"), t(d1, "01:00:00")),
        ("ch02".into(), t(d1, "14:00:00"), t(d1, "15:00:00")),
    ]
}

/// `report` with `args`, over the last three days unless they say otherwise.
fn report(env: &Env, args: &[&str]) -> (i32, String) {
    let mut all = vec!["report"];
    if !args.contains(&"--days") {
        all.extend(["--days", "3"]);
    }
    all.extend(args);
    let out = env.command(&all).output().expect("run report");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The gaps of a report, joined across midnight, as (camera, from, to).
fn gaps(doc: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for c in doc["cameras"].as_array().unwrap() {
        let cam = c["camera"].as_str().unwrap().to_string();
        for d in c["days"].as_array().unwrap() {
            for g in d["gaps"].as_array().unwrap() {
                let (from, to) = (
                    g["from"].as_str().unwrap().to_string(),
                    g["to"].as_str().unwrap().to_string(),
                );
                match out.last_mut() {
                    Some(last) if last.0 == cam && last.2 == from => last.2 = to,
                    _ => out.push((cam.clone(), from, to)),
                }
            }
        }
    }
    out
}

fn the_report_finds_exactly_the_planted_gaps() {
    let env = Env::new(json!({}));
    let planted = planted(&env);
    env.pass();
    let (code, text) = report(&env, &["--format", "json"]);
    assert_eq!(code, 3, "incomplete coverage exits 3");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "cctv-mirror/coverage");
    assert_eq!(doc["version"], 1);
    for key in ["site", "generated_at", "from", "to", "verdict", "cameras"] {
        assert!(doc.get(key).is_some(), "{key} in {doc}");
    }
    assert_eq!(gaps(&doc), planted);
    let v = &doc["verdict"];
    assert_eq!(v["gaps"], 3);
    assert_eq!(v["missing_secs"], 600 + 7200 + 3600);
    assert_eq!(v["complete"], false);
    assert_eq!(v["cameras"], 3);
    // ch03's times came from its frames.
    let ch03 = &doc["cameras"][2];
    assert_eq!(ch03["camera"], "ch03");
    assert_eq!(ch03["days"][1]["covered_secs"], 86_400);
    assert_eq!(ch03["days"][1]["unknown_times"], 0);
    assert_eq!(ch03["days"][1]["types"]["?"], 24);
    let day = &doc["cameras"][1]["days"][1];
    assert_eq!(
        (day["covered_secs"].as_i64(), day["expected_secs"].as_i64()),
        (Some(86_400 - 7200), Some(86_400))
    );
    assert_eq!(day["recordings"], 22);
    assert_eq!(day["types"]["R"], 22);
}

fn text_and_source_only_recordings() {
    let env = Env::new(json!({"gap_tolerance_secs": 60}));
    planted(&env);
    env.pass();
    // Recorded after the pass: only in the source.
    env.record(&segment(days_ago(1), "ch02", "14.00.00", "14.59.59"), &payload(64, 1));
    let (code, text) = report(&env, &[]);
    assert_eq!(code, 3);
    assert!(text.contains("Not complete"), "{text}");
    assert!(text.contains("ch02  "), "{text}");
    assert!(
        text.contains(&format!("{} 14:00:00", days_ago(1).format("%Y-%m-%d"))),
        "{text}"
    );
    assert!(
        text.contains("1 recording(s) of these days are only in the source"),
        "{text}"
    );
    // Once it is copied, that gap is gone.
    env.pass();
    let (_, json_text) = report(&env, &["--format", "json"]);
    let doc: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(doc["verdict"]["gaps"], 2);
    assert_eq!(doc["verdict"]["source_only"], 0);
}

fn a_whole_backup_is_complete_and_the_daemon_keeps_the_coverage_files() {
    let env = Env::new(json!({"retention_days": 2}));
    for day in [days_ago(2), days_ago(1)] {
        for h in 0..24 {
            let (from, to) = (format!("{h:02}.00.00"), format!("{h:02}.59.59"));
            env.record(&segment(day, "ch01", &from, &to), &payload(64, h as u8));
        }
    }
    env.pass();
    let (code, text) = report(&env, &["--days", "3"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("Coverage of"), "{text}");
    assert!(text.contains("Complete: 1 camera(s)"), "{text}");
    // The pass wrote the same for the retention window (2 days: yesterday and today).
    let doc: Value = serde_json::from_str(&fs::read_to_string(env.logs.join("coverage.json")).unwrap()).unwrap();
    assert_eq!(doc["from"], days_ago(1).format("%Y-%m-%d").to_string());
    assert_eq!(doc["verdict"]["complete"], true, "{doc}");
    let html = fs::read_to_string(env.logs.join("coverage.html")).unwrap();
    assert!(html.contains("<table class=\"map\""));
    // Five days back, the three before the first recording are not missing: history
    // had not begun. The verdict says when five days of it will be there.
    let (code, text) = report(&env, &["--days", "5"]);
    assert_eq!(code, 0, "{text}");
    let full_on = days_ago(2) + chrono::Days::new(4);
    assert!(text.contains(&format!("5 days of history on {full_on}.")), "{text}");
}

fn report_refuses_a_missing_backup_and_bad_days() {
    let env = Env::new(json!({}));
    env.record(&dated(days_ago(1), "ch01/10.00.00-10.59.59.dav"), &payload(64, 1));
    env.pass();
    fs::rename(&env.backup, env.dir.path().join("elsewhere")).unwrap();
    let out = env.command(&["report"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing"),
        "{}",
        show(&out)
    );
    let out = env.command(&["report", "--days", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

/// Chromium, when installed (`.ci/run` installs it).
pub fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

pub fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium().unwrap());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn the_html_report_renders_in_chromium_with_a_cell_per_camera_day() -> Outcome {
    if chromium().is_none() {
        return missing("chromium: apt-get install chromium");
    }
    let env = Env::new(json!({"site_name": "Cliente <X> & filhos"}));
    planted(&env);
    env.pass();
    let page = env.dir.path().join("coverage.html");
    let out = env
        .command(&[
            "report",
            "--days",
            "3",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let html = fs::read_to_string(&page).unwrap();
    for outside in ["http://", "https://", "<script", "<link", "@import"] {
        assert!(!html.contains(outside), "self-contained: found {outside}");
    }
    let profile = env.dir.path().join("chromium");
    let dom = headless(&profile).arg("--dump-dom").arg(&page).output().unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<td class=\"cell ").count(),
        3 * 3,
        "one cell per camera-day"
    );
    assert!(
        dom.contains("Cliente &lt;X&gt; &amp; filhos"),
        "the site's name escaped"
    );
    assert_eq!(dom.matches("<tr><td>ch0").count(), 3, "the gaps table: one row per gap");
    let shot = env.dir.path().join("shot.png");
    let out = headless(&profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,700")
        .arg(&page)
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", show(&out));
    let (colours, inked) = looks(&shot);
    assert!(colours >= 5, "the heatmap's colours: {colours}");
    assert!(inked > 0.01, "not blank: {inked}");
    Ok(())
}

/// The distinct colours of a PNG and the share of its pixels that are not white.
pub fn looks(png_file: &Path) -> (usize, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(png_file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(step).map(|p| &p[..3]).collect();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let inked = pixels.iter().filter(|p| p.iter().any(|&c| c < 240)).count();
    (colours.len(), inked as f64 / pixels.len() as f64)
}
