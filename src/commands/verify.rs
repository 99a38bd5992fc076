//! `cctv-mirror verify`: re-reads the backup's recordings (`store::verify`) and says
//! each problem with its path and reason. A progress bar with bytes/s on a terminal,
//! a plain line every 10 s otherwise. Exit 0 clean, 3 problems found, 1 the backup
//! cannot be read, 2 bad usage.

use std::io::IsTerminal;
use std::process::ExitCode;

use chrono::{Days, Local};

use super::progress::Shown;
use crate::config::Config;
use crate::engine::exit;
use crate::report::scrub;
use crate::rules::slice::Slice;
use crate::store::verify::{self, Scope, Verification};
use crate::store::volume::human;

pub fn run(cfg: &Config, days: Option<u32>, slice: Option<&str>, as_json: bool) -> ExitCode {
    let slice = match slice.map(Slice::parse).transpose() {
        Ok(s) => s.unwrap_or(Slice::ALL),
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(exit::BAD_CONFIG);
        }
    };
    match super::backup_readable(cfg) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!(
                "error: {} does not exist yet (the first pass creates it)",
                cfg.backup_dir.display()
            );
            return ExitCode::from(exit::CANNOT_RUN);
        }
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    }
    let today = Local::now().date_naive();
    let since = days.and_then(|n| today.checked_sub_days(Days::new(u64::from(n.max(1) - 1))));
    let scope = Scope { since, slice };
    let mut shown = Shown::new("verify", "read", !as_json && std::io::stderr().is_terminal());
    let result = verify::verify(&cfg.backup_dir, &cfg.names, scope, &mut |done, total| {
        shown.tick(done, total)
    });
    shown.done();
    match result {
        Ok(outcome) => {
            print(&outcome, scope, as_json);
            file_findings(cfg, scope, &outcome);
            ExitCode::from(if outcome.problems.is_empty() {
                exit::OK
            } else {
                exit::PROBLEMS
            })
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(exit::CANNOT_RUN)
        }
    }
}

/// Files what was found in `scrub.json`, where the daemon's `backup_corrupt` alert
/// reads it: problems found raise it, problems gone clear it.
fn file_findings(cfg: &Config, scope: Scope, outcome: &Verification) {
    let mut log = scrub::read(&cfg.log_dir);
    log.merge(scope, outcome, Local::now());
    if let Err(e) = std::fs::create_dir_all(&cfg.log_dir).and_then(|()| scrub::write(&cfg.log_dir, &log)) {
        eprintln!(
            "warning: cannot write {} in {}: {e}",
            scrub::FILE_NAME,
            cfg.log_dir.display()
        );
    }
}

fn print(o: &Verification, scope: Scope, as_json: bool) {
    if as_json {
        let value = serde_json::json!({ "clean": o.problems.is_empty(), "slice": scope.slice.to_string(), "since": scope.since, "result": o });
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        return;
    }
    for f in &o.problems {
        println!("PROBLEM {}: {}", f.path, f.problem.describe());
    }
    for path in &o.adopted_unverified {
        println!("ADOPTED {path}: hashed from the backup itself, never verified against its source");
    }
    if let Some(why) = &o.manifest_not_updated {
        println!("note: {why}");
    }
    let rate = o.bytes as f64 / o.secs.max(1e-6);
    println!(
        "{} recording(s), {} read in {:.1} s ({}/s), slice {}; {} problem(s); {} new in the manifest; {} adopted, never verified against the source; {} not DHAV (frames not checked)",
        o.files,
        human(o.bytes),
        o.secs,
        human(rate as u64),
        scope.slice,
        o.problems.len(),
        o.adopted,
        o.adopted_unverified.len(),
        o.not_dhav
    );
}
