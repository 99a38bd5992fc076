//! What cctv-mirror tells people and keeps about itself in `log_dir`: the console and
//! per-pass logs, `status.json`, the daemon's live activity, the pruning of old pass
//! logs, and the atomic JSON file writer they share.

pub mod activity;
pub mod json_file;
pub mod prune;
pub mod runlog;
pub mod status;
