//! The alert life cycle's memory: `log_dir/alerts.json`, the alerts active after the
//! last pass of any run, replaced atomically (temporary, fsync, rename). A restart or
//! the next `--once` run reads it, so an alert is announced once however the program
//! is run. Before it exists (an upgrade), the alerts in `status.json` are taken.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use rules::alert::Alert;

pub const FILE_NAME: &str = "alerts.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    active: Vec<Alert>,
}

/// The alerts active after the last pass; none when nothing was kept.
pub fn load(log_dir: &Path) -> Vec<Alert> {
    match report::json_file::read::<Saved>(&log_dir.join(FILE_NAME)) {
        Some(saved) => saved.active,
        None => report::status::read(log_dir).map(|s| s.alerts).unwrap_or_default(),
    }
}

pub fn save(log_dir: &Path, active: &[Alert]) -> io::Result<()> {
    report::json_file::replace(
        log_dir,
        FILE_NAME,
        &Saved {
            active: active.to_vec(),
        },
    )
}
