//! `log_dir/scrub.json`: what the verifications found that still stands, and the
//! last night's verification. Each verification (the daemon's nightly slice, or
//! `verify`) replaces the problems of the recordings it read with what it found, so a
//! recording repaired or removed stops being a problem the next time its slice is
//! read. The daemon raises `backup_corrupt` while any problem stands.

use std::path::Path;

use chrono::{DateTime, Local, NaiveDate};
use serde::{Deserialize, Serialize};

use rules::names::date_from_path;
use store::verify::{Found, Scope, Verification};

pub const FILE_NAME: &str = "scrub.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScrubLog {
    /// The day of the last nightly verification.
    pub last_night: Option<NaiveDate>,
    /// The last verification, nightly or by hand.
    pub last: Option<Run>,
    /// The problems that stand, by path.
    pub problems: Vec<Found>,
}

/// One verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub at: DateTime<Local>,
    pub slice: String,
    pub files: u64,
    pub bytes: u64,
    pub secs: f64,
    pub problems: usize,
}

impl ScrubLog {
    /// Takes in a verification of `scope`: its problems replace those of the same scope.
    pub fn merge(&mut self, scope: Scope, outcome: &Verification, at: DateTime<Local>) {
        self.problems.retain(|f| {
            let rel = Path::new(&f.path);
            !scope.contains(rel, date_from_path(rel))
        });
        self.problems.extend(outcome.problems.iter().cloned());
        self.problems.sort_by(|a, b| a.path.cmp(&b.path));
        self.last = Some(Run {
            at,
            slice: scope.slice.to_string(),
            files: outcome.files,
            bytes: outcome.bytes,
            secs: outcome.secs,
            problems: outcome.problems.len(),
        });
    }

    /// The alert's sentence while problems stand.
    pub fn alert(&self) -> Option<String> {
        let first = self.problems.first()?;
        Some(format!(
            "{} problem(s) in the backup's recordings, e.g. {}: {}; run `cctv-mirror verify` for the list",
            self.problems.len(),
            first.path,
            first.problem.describe()
        ))
    }
}

pub fn read(log_dir: &Path) -> ScrubLog {
    crate::json_file::read(&log_dir.join(FILE_NAME)).unwrap_or_default()
}

pub fn write(log_dir: &Path, log: &ScrubLog) -> std::io::Result<()> {
    crate::json_file::replace(log_dir, FILE_NAME, log)
}
