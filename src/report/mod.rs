//! What cctv-mirror tells people and keeps about itself in `log_dir`. For now it holds
//! the pruning of old pass logs; `status`, `runlog` and `activity` move here with the
//! restructuring.

pub mod prune;
