//! `cctv-mirror demo`: the simulated site it writes (recordings whose names and DHAV
//! frames agree, the planted gaps and no others, a config `check` accepts), writing it
//! again, its refusals, and `--live`: a growing `.dav_`, finished segments, the wipe.

use std::fs;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, SystemTime};

use cctv_mirror::rules::span::{self, Span};
use chrono::{Days, Local, NaiveDateTime, TimeDelta, TimeZone, Timelike};

use crate::common::*;

tests![
    writes_a_site_whose_names_frames_and_gaps_agree,
    a_demo_folder_is_written_again_and_any_other_is_refused,
    live_grows_finishes_and_wipes_the_source,
    report_reads_back_exactly_the_planted_gaps,
];

fn demo(dir: &Path, args: &[&str]) -> Output {
    program()
        .arg("demo")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run the binary")
}

/// Every file under `dir`, relative with `/`, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The hours of the past a demo of `days` days writes now: from the first day's
/// midnight to the start of the current hour.
fn hours(days: u64) -> i64 {
    let now = Local::now().naive_local();
    let first = now.date().checked_sub_days(Days::new(days - 1)).unwrap();
    let until = now.date().and_hms_opt(now.hour(), 0, 0).unwrap();
    (until - first.and_hms_opt(0, 0, 0).unwrap()).num_hours()
}

/// `planted-gaps.json`: (camera, from, to), each gap's `secs` checked against its times.
fn planted(dir: &Path) -> Vec<(String, NaiveDateTime, NaiveDateTime)> {
    let text = fs::read_to_string(dir.join("planted-gaps.json")).expect("planted-gaps.json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let time = |v: &serde_json::Value| NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").unwrap();
    let mut gaps: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let (from, to) = (time(&g["from"]), time(&g["to"]));
            assert_eq!(g["secs"].as_i64(), Some((to - from).num_seconds()), "{g}");
            (g["camera"].as_str().unwrap().to_string(), from, to)
        })
        .collect();
    gaps.sort();
    gaps
}

/// The span of the recording at `rel` under `source`, checked to be the same by its
/// name and by its frames.
fn span_of(source: &Path, rel: &str) -> Span {
    let bytes = fs::read(source.join(rel)).unwrap();
    let by_frames = span::from_frames(&bytes, &bytes);
    let by_name = span::from_name(Path::new(rel));
    assert!(by_name.is_some(), "{rel}: no span in its name");
    assert_eq!(by_frames, by_name, "{rel}: the frames and the name disagree");
    by_name.unwrap()
}

/// Each camera's stretches longer than 60 s that no recording covers, from `from` to
/// the newest end any camera reached (as a coverage report counts them).
fn uncovered(spans: &[(String, Span)], from: NaiveDateTime) -> Vec<(String, NaiveDateTime, NaiveDateTime)> {
    let newest = spans.iter().map(|(_, s)| s.end).max().unwrap();
    let mut cameras: Vec<&String> = spans.iter().map(|(c, _)| c).collect();
    cameras.sort();
    cameras.dedup();
    let mut found = Vec::new();
    for camera in cameras {
        let mut mine: Vec<Span> = spans.iter().filter(|(c, _)| c == camera).map(|(_, s)| *s).collect();
        mine.sort_by_key(|s| s.start);
        let mut at = from;
        for s in mine.iter().chain(
            [Span {
                start: newest,
                end: newest,
            }]
            .iter(),
        ) {
            if (s.start - at).num_seconds() > 60 {
                found.push((camera.clone(), at, s.start));
            }
            at = at.max(s.end);
        }
    }
    found.sort();
    found
}

fn writes_a_site_whose_names_frames_and_gaps_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    let before = hours(2);
    let out = demo(&dir, &["--cameras", "3", "--days", "2"]);
    let after = hours(2);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("planted gaps") && stdout.contains("cctv-mirror report --config"),
        "{stdout}"
    );

    let source = dir.join("source");
    let recs = files(&source);
    let gaps = planted(&dir);
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    let missing: i64 = gaps
        .iter()
        .filter(|(_, from, to)| from.minute() == 0 && (*to - *from).num_seconds() % 3600 == 0)
        .map(|(_, from, to)| (*to - *from).num_seconds() / 3600)
        .sum();
    let n = recs.len() as i64;
    assert!(
        n == 3 * before - missing || n == 3 * after - missing,
        "{n} recordings, {missing} missing"
    );

    let mut spans = Vec::new();
    for rel in &recs {
        let s = span_of(&source, rel);
        let camera = span::camera(Path::new(rel)).unwrap();
        let end = SystemTime::from(Local.from_local_datetime(&s.end).earliest().unwrap());
        let off = mtime(&source.join(rel))
            .duration_since(end)
            .unwrap_or_else(|e| e.duration());
        assert!(off <= Duration::from_secs(2), "{rel}: its time is not its end");
        spans.push((camera, s));
    }
    let first = (Local::now().date_naive() - TimeDelta::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let first = spans.iter().map(|(_, s)| s.start).min().unwrap().min(first);
    assert_eq!(uncovered(&spans, first), gaps, "the planted gaps, and no others");

    let check = program()
        .args(["check", "--config"])
        .arg(dir.join("config.json"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", show(&check));
}

fn a_demo_folder_is_written_again_and_any_other_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    let out = demo(&dir, &["--cameras", "1", "--days", "1"]);
    assert!(out.status.success(), "{}", show(&out));
    let stray = write_file(&dir.join("source/stray.dav"), b"not the demo's");
    fs::write(
        dir.join("config.json"),
        fs::read_to_string(dir.join("config.json")).unwrap() + " ",
    )
    .unwrap();
    let edited = fs::read_to_string(dir.join("config.json")).unwrap();
    let out = demo(&dir, &["--cameras", "2", "--days", "2"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(!stray.exists(), "the source is written anew");
    assert!(files(&dir.join("source")).iter().any(|f| f.contains("/ch02/")));
    assert_eq!(
        fs::read_to_string(dir.join("config.json")).unwrap(),
        edited,
        "the config is kept"
    );

    let other = tmp.path().join("other");
    write_file(&other.join("keep.txt"), b"mine");
    let out = demo(&other, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(files(&other), ["keep.txt"], "nothing written");

    let out = demo(&tmp.path().join("third"), &["--wipe-after", "5"]);
    assert_eq!(out.status.code(), Some(2), "--wipe-after needs --live: {}", show(&out));
}

/// The `recorded …` lines' recordings, relative to the source.
fn recorded(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("recorded "))
        .filter_map(|l| l.split(" (").next())
        .map(str::to_string)
        .collect()
}

/// What was printed after the `wiped …` line, if there is one.
fn after_wipe(text: &str) -> Option<&str> {
    let at = text.find("\nwiped ")?;
    Some(&text[at + 1..])
}

fn live_grows_finishes_and_wipes_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    let source = dir.join("source");
    let log = tmp.path().join("stdout.txt");
    let child = program()
        .arg("demo")
        .arg("--dir")
        .arg(&dir)
        .args(["--cameras", "2", "--days", "1", "--live", "--segment-secs", "2"])
        .args(["--wipe-after", "15"])
        .stdout(Stdio::from(fs::File::create(&log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Daemon(child);
    let out = || fs::read_to_string(&log).unwrap_or_default();

    wait_until(60, "a growing .dav_", || {
        files(&source).iter().any(|f| f.ends_with(".dav_"))
    });
    wait_until(60, "a finished segment", || !recorded(&out()).is_empty());
    let before = files(&source);
    assert!(
        after_wipe(&out()).is_none(),
        "the wipe came before the checks: {}",
        out()
    );
    let rel = &recorded(&out())[0];
    assert!(before.contains(rel), "{rel} is there as .dav");
    assert!(!source.join(format!("{rel}_")).exists(), "{rel}_ was renamed");
    let s = span_of(&source, rel);
    assert!(s.secs() >= 1 && s.secs() <= 2, "{rel}: a 2 s segment");

    wait_until(60, "the wipe", || after_wipe(&out()).is_some());
    for f in &before {
        assert!(!source.join(f).exists(), "{f} survived the wipe");
    }
    wait_until(60, "recording after the wipe", || {
        out()
            .split("wiped")
            .nth(1)
            .is_some_and(|after| !recorded(after).is_empty())
    });

    signal(&child, stop_signal());
    assert_eq!(exit_code(&mut child, 60), Some(0), "{}", out());
    assert!(out().trim_end().ends_with("stopped"), "{}", out());
    let left = files(&source);
    assert!(left.iter().all(|f| f.ends_with(".dav")), "closed on stop: {left:?}");
    for f in &left {
        span_of(&source, f);
    }
}

/// The gaps a coverage document (docs/report.md) shows: (camera, from, to), a gap
/// across midnight once.
fn gaps_in(doc: &serde_json::Value) -> Vec<(String, NaiveDateTime, NaiveDateTime)> {
    let time = |v: &serde_json::Value| NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").unwrap();
    let mut found: Vec<(String, NaiveDateTime, NaiveDateTime)> = Vec::new();
    for c in doc["cameras"].as_array().unwrap() {
        for g in c["days"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["gaps"].as_array().unwrap())
        {
            let (cam, from, to) = (
                c["camera"].as_str().unwrap().to_string(),
                time(&g["from"]),
                time(&g["to"]),
            );
            match found.last_mut() {
                Some(last) if last.0 == cam && last.2 == from => last.2 = to,
                _ => found.push((cam, from, to)),
            }
        }
    }
    found.sort();
    found
}

/// The contract between `demo` and `report`: mirrored by a pass, the demo site's
/// coverage shows exactly the planted gaps and no others — over the whole 31-day window,
/// where the days before the site's first recording are history not yet begun, not gaps;
/// in `report` and in the daemon's own `coverage.json`.
fn report_reads_back_exactly_the_planted_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = demo(&dir, &["--days", "3", "--cameras", "4"]);
    assert!(out.status.success(), "{}", show(&out));
    let config = dir.join("config.json");
    let out = program()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let out = program()
        .args(["report", "--format", "json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
    let daemons = fs::read(dir.join("logs").join("coverage.json")).expect("the daemon's coverage.json");
    let daemons: serde_json::Value = serde_json::from_slice(&daemons).unwrap();
    let mut planted = planted(&dir);
    planted.sort();
    assert!(!planted.is_empty(), "the demo plants gaps");
    for doc in [&doc, &daemons] {
        assert_eq!(gaps_in(doc), planted, "{}", doc["verdict"]);
        let v = &doc["verdict"];
        assert_eq!(v["cameras"], 4);
        assert_eq!(v["gaps"], planted.len());
        let missing: i64 = planted.iter().map(|(_, a, b)| (*b - *a).num_seconds()).sum();
        assert_eq!(v["missing_secs"], missing, "only the planted gaps are missing");
        assert_eq!(
            v["camera_days"],
            4 * 3,
            "the days before the first recording are left out"
        );
        let full_on = v["history_full_on"].as_str().expect("the window is not full yet");
        let sentence = v["sentence"].as_str().unwrap();
        assert!(
            sentence.ends_with(&format!("31 days of history on {full_on}.")),
            "{sentence}"
        );
        let before = doc["cameras"][0]["days"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["before_first_recording"] == true)
            .count();
        assert_eq!(before, 31 - 3);
    }
    let html = fs::read_to_string(dir.join("logs").join("coverage.html")).unwrap();
    assert_eq!(
        html.matches("cell cbf").count(),
        4 * (31 - 3),
        "before the first recording: light grey"
    );
    assert_eq!(out.status.code(), Some(3), "gaps: not complete");
}
