//! What cctv-mirror tells people and keeps about itself in `log_dir`.

pub mod activity;
pub mod coverage;
pub mod dashboard;
pub mod export;
pub mod json_file;
pub mod metrics;
pub mod prune;
pub mod runlog;
pub mod scrub;
pub mod status;
