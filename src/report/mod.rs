//! What cctv-mirror tells people and keeps about itself in `log_dir`: the console and
//! per-pass logs, `status.json`, the daemon's live activity, the pruning of old pass
//! logs, the atomic JSON file writer they share, and the coverage report.

pub mod activity;
pub mod coverage;
pub mod json_file;
pub mod prune;
pub mod runlog;
pub mod status;
