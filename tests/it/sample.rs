//! The committed sample behaves like a real site: the README's first run over it copies
//! every recording, raises no alert, `verify` finds every copy sound and `report` calls
//! its history complete. Run on a copy of `config.json` and `sample/source`, dated as a
//! fresh clone dates them (by their file times, a few minutes old).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::{program, set_mtime, show};

tests![
    the_first_run_over_the_sample_copies_everything_with_no_alert_and_a_complete_history,
    the_pass_that_starts_in_progress_copies_counts_them_in_its_coverage,
];

fn copy_tree(from: &Path, to: &Path, files: &mut Vec<PathBuf>) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target, files);
        } else {
            fs::copy(e.path(), &target).unwrap();
            files.push(target);
        }
    }
}

/// The repository's `config.json` and `sample/source` in a temporary folder, the
/// recordings dated `age` ago; the config and the recordings' paths.
fn sample(tmp: &Path, age: Duration) -> (PathBuf, Vec<PathBuf>) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = tmp.join("config.json");
    fs::copy(repo.join("config.json"), &config).unwrap();
    let mut files = Vec::new();
    copy_tree(&repo.join("sample/source"), &tmp.join("sample/source"), &mut files);
    for f in &files {
        set_mtime(f, SystemTime::now() - age);
    }
    assert!(files.len() >= 4, "the sample has recordings");
    (config, files)
}

fn the_first_run_over_the_sample_copies_everything_with_no_alert_and_a_complete_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, files) = sample(tmp.path(), Duration::from_secs(600));
    let run = |args: &[&str]| program().args(args).arg("--config").arg(&config).output().unwrap();

    let out = run(&["run", "--once"]);
    assert!(out.status.success(), "{}", show(&out));
    let backup = tmp.path().join("sample/backup");
    for f in &files {
        let rel = f.strip_prefix(tmp.path().join("sample/source")).unwrap();
        let copy = fs::read(backup.join(rel)).unwrap_or_else(|e| panic!("{} not in the backup: {e}", rel.display()));
        assert_eq!(copy, fs::read(f).unwrap(), "{}", rel.display());
    }
    let status: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("sample/logs/status.json")).unwrap()).unwrap();
    assert_eq!(status["alerts"], serde_json::json!([]), "{}", show(&out));

    let out = run(&["verify", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["result"]["files"], files.len(), "{v}");
    assert_eq!(
        v["result"]["not_dhav"], 0,
        "the sample's recordings are DHAV frames: {v}"
    );

    let out = run(&["report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"]["complete"], true, "{}", doc["verdict"]);
    assert_eq!(doc["verdict"]["gaps"], 0);
}

/// Recordings a pass finds still being written are copied as `NAME.dav.partial`, and
/// the coverage that pass writes counts them: in progress, not gaps.
fn the_pass_that_starts_in_progress_copies_counts_them_in_its_coverage() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, files) = sample(tmp.path(), Duration::ZERO);
    let out = program()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let doc = fs::read(tmp.path().join("sample/logs/coverage.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(doc["verdict"]["complete"], true, "{}\n{}", doc["verdict"], show(&out));
    let in_progress: u64 = doc["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["days"].as_array().unwrap())
        .map(|d| d["in_progress"].as_u64().unwrap())
        .sum();
    assert_eq!(in_progress, files.len() as u64, "{}", show(&out));
}
