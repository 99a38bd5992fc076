//! `export`: one camera's recordings of a time range copied out of the backup, byte for
//! byte, with export.json, export.html and SHA256SUMS; gaps listed and exit 3; a copy
//! that differs from its manifest hash flagged; bad input refused with exit 2.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::common::*;
use crate::coverage::{chromium, headless};

tests![
    an_export_copies_the_range_byte_for_byte_and_sha256sum_agrees,
    an_export_with_a_gap_lists_it_and_exits_3,
    a_copy_that_differs_from_its_manifest_hash_is_exported_and_flagged,
    an_export_refuses_bad_input_with_one_line_and_exit_2,
    the_export_page_renders_in_chromium_with_its_files_and_gaps,
];

/// Camera `cam`'s hour-long segments `hours` yesterday, backed up by one pass; their
/// source paths by hour.
fn recorded(env: &Env, cam: &str, hours: &[u32]) -> Vec<(u32, PathBuf)> {
    let day = days_ago(1);
    let paths = hours
        .iter()
        .map(|&h| {
            let rel = dated(day, &format!("{cam}/{h:02}.00.00-{h:02}.59.59[R][0@0][0].dav"));
            (h, env.record(&rel, &payload(100_000 + h as usize, h as u8)))
        })
        .collect();
    env.pass();
    paths
}

fn at(h: u32, m: u32) -> String {
    format!("{} {h:02}:{m:02}", days_ago(1))
}

/// `export` of `cam` from `from` to `to` into `out`.
fn export(env: &Env, cam: &str, from: &str, to: &str, out: &Path) -> Output {
    let out = out.to_str().unwrap();
    env.command(&["export", "--camera", cam, "--from", from, "--to", to, "--output", out])
        .output()
        .unwrap()
}

fn document(out: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(out.join("export.json")).unwrap()).unwrap()
}

fn names(doc: &Value) -> Vec<String> {
    doc["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
}

/// SHA-256 by coreutils, never by cctv-mirror.
fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum (coreutils)");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

fn an_export_copies_the_range_byte_for_byte_and_sha256sum_agrees() {
    let env = Env::new(json!({"site_name": "Cliente X"}));
    let src = recorded(&env, "ch03", &[12, 13, 14, 15, 16]);
    let out = env.dir.path().join("evidence");
    let run = export(&env, "ch03", &at(13, 30), &at(15, 30), &out);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    assert!(show(&run).contains("Complete: 3 recording(s)"), "{}", show(&run));
    let logged = env.logs_text();
    assert!(
        logged.contains("export started") && logged.contains("export finished: Complete"),
        "every line in the log folder too: {logged}"
    );
    let doc = document(&out);
    assert_eq!((doc["schema"].as_str(), doc["version"].as_u64()), (Some("cctv-mirror/export"), Some(1)));
    assert_eq!((doc["camera"].as_str(), doc["site"].as_str()), (Some("ch03"), Some("Cliente X")));
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["gaps"], json!([]));
    let want: Vec<String> = [13, 14, 15]
        .iter()
        .map(|h| dated(days_ago(1), &format!("ch03/{h:02}.00.00-{h:02}.59.59[R][0@0][0].dav")))
        .collect();
    assert_eq!(names(&doc), want);
    for (f, (_, source)) in doc["files"].as_array().unwrap().iter().zip(&src[1..4]) {
        let copy = out.join(f["name"].as_str().unwrap());
        assert_eq!(fs::read(&copy).unwrap(), fs::read(source).unwrap(), "{copy:?}: byte for byte");
        assert_eq!(f["sha256"].as_str().unwrap(), sha256sum(&copy));
        assert_eq!(f["size"].as_u64().unwrap(), fs::metadata(source).unwrap().len());
        assert_eq!(f["check"], "matches_manifest");
        assert_eq!(f["origin"], "backup");
    }
    let check = Command::new("sha256sum").args(["-c", "SHA256SUMS"]).current_dir(&out).output().unwrap();
    assert!(check.status.success(), "sha256sum -c: {}", show(&check));
    assert_eq!(String::from_utf8_lossy(&check.stdout).matches(": OK").count(), 3);
    assert!(out.join("export.html").is_file());
    let hidden = |p: &PathBuf| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let stray: Vec<_> = files_under(&out).into_iter().filter(hidden).collect();
    assert!(stray.is_empty(), "temporaries left: {stray:?}");
    let again = env.dir.path().join("again");
    let run = export(&env, "CH03", &at(14, 0), &at(14, 30), &again);
    assert_eq!(run.status.code(), Some(0), "a camera's name in other case: {}", show(&run));
    assert_eq!(document(&again)["camera"], "ch03");
}

fn an_export_with_a_gap_lists_it_and_exits_3() {
    let env = Env::new(json!({}));
    recorded(&env, "ch03", &[14, 16]);
    let out = env.dir.path().join("evidence");
    let run = export(&env, "ch03", &at(14, 0), &at(17, 0), &out);
    assert_eq!(run.status.code(), Some(3), "{}", show(&run));
    let doc = document(&out);
    assert_eq!(doc["complete"], false);
    assert_eq!(names(&doc).len(), 2, "what exists is still exported");
    let day = days_ago(1).to_string();
    assert_eq!(
        doc["gaps"],
        json!([{"from": format!("{day}T15:00:00"), "to": format!("{day}T16:00:00"), "secs": 3600}])
    );
    assert!(show(&run).contains("1 gap(s)"), "{}", show(&run));
}

fn a_copy_that_differs_from_its_manifest_hash_is_exported_and_flagged() {
    let env = Env::new(json!({}));
    recorded(&env, "ch03", &[14]);
    let rel = dated(days_ago(1), "ch03/14.00.00-14.59.59[R][0@0][0].dav");
    let copy = env.backup.join(&rel);
    let mut bytes = fs::read(&copy).unwrap();
    bytes[50_000] ^= 0xff;
    fs::write(&copy, &bytes).unwrap();
    let out = env.dir.path().join("evidence");
    let run = export(&env, "ch03", &at(14, 0), &at(15, 0), &out);
    assert_eq!(run.status.code(), Some(3), "{}", show(&run));
    let doc = document(&out);
    assert_eq!(doc["files"][0]["check"], "differs_from_manifest");
    assert_eq!(fs::read(out.join(&rel)).unwrap(), bytes, "exported as found");
    assert!(show(&run).contains("not proven"), "{}", show(&run));
}

fn an_export_refuses_bad_input_with_one_line_and_exit_2() {
    let env = Env::new(json!({}));
    recorded(&env, "ch03", &[14]);
    recorded(&env, "ch07", &[14]);
    let out = env.dir.path().join("evidence");
    let refused = |run: Output, says: &str| {
        assert_eq!(run.status.code(), Some(2), "{}", show(&run));
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains(says), "{says:?} not in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    refused(export(&env, "ch3", &at(14, 0), &at(15, 0), &out), "its cameras: ch03, ch07");
    refused(export(&env, "ch03", &at(15, 0), &at(14, 0), &out), "must come before --to");
    refused(export(&env, "ch03", "yesterday", &at(14, 0), &out), "YYYY-MM-DD HH:MM");
    let inside = env.backup.join("evidence");
    refused(export(&env, "ch03", &at(14, 0), &at(15, 0), &inside), "outside the backup folder");
    assert!(!inside.exists(), "nothing written inside the backup");
    refused(export(&env, "ch03", &at(14, 0), &at(15, 0), &env.source.join("x")), "outside the source folder");
    write_file(&out.join("notes.txt"), b"mine");
    refused(export(&env, "ch03", &at(14, 0), &at(15, 0), &out), "is not empty");
    assert_eq!(files_under(&out), [out.join("notes.txt")], "a folder in use is left alone");
}

fn the_export_page_renders_in_chromium_with_its_files_and_gaps() -> Outcome {
    if chromium().is_none() {
        return missing("chromium: apt-get install chromium");
    }
    let env = Env::new(json!({"site_name": "Cliente <X> & filhos"}));
    recorded(&env, "ch03", &[14, 16]);
    let out = env.dir.path().join("evidence");
    export(&env, "ch03", &at(14, 0), &at(17, 0), &out);
    let html = fs::read_to_string(out.join("export.html")).unwrap();
    for outside in ["http://", "https://", "<script", "<link", "@import"] {
        assert!(!html.contains(outside), "self-contained: found {outside}");
    }
    let profile = env.dir.path().join("chromium");
    let dom = headless(&profile).arg("--dump-dom").arg(out.join("export.html")).output().unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<tr class=\"file\">").count(), 2, "a row per file");
    assert_eq!(dom.matches("<tr class=\"gap\">").count(), 1, "a row per gap");
    assert!(dom.contains("Cliente &lt;X&gt; &amp; filhos"), "the site's name escaped");
    assert!(dom.contains("sha256sum -c SHA256SUMS") && dom.contains("certutil -hashfile"));
    Ok(())
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}
