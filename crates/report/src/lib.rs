//! What cctv-mirror tells people and keeps about itself in `log_dir`: the console and
//! per-pass logs, `status.json`, the daemon's live activity, the pruning of old pass
//! logs, the atomic JSON file writer they share, the coverage report, and what
//! verifications found (`scrub`).

pub mod activity;
pub mod coverage;
pub mod json_file;
pub mod prune;
pub mod runlog;
pub mod scrub;
pub mod status;
