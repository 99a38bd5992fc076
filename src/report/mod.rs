//! What cctv-mirror tells people and keeps about itself in `log_dir`. For now it holds
//! the pruning of old pass logs and the atomic JSON file writer; `status`, `runlog` and `activity` move here with the
//! restructuring.

pub mod json_file;
pub mod prune;
