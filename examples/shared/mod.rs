//! What the soak and the load benchmark share: when an awaited recording is whole in
//! the backup, and percentiles.

use std::path::Path;

/// A finished recording awaited in the backup: its path under both trees and its size.
pub trait Awaited {
    fn rel(&self) -> &str;
    fn size(&self) -> u64;
}

/// Takes out of `waiting` each recording now whole in `backup` (same path, same size),
/// handing it to `whole` first.
pub fn take_whole<T: Awaited>(backup: &Path, waiting: &mut Vec<T>, mut whole: impl FnMut(&T)) {
    waiting.retain(|r| {
        let done = std::fs::metadata(backup.join(r.rel())).is_ok_and(|m| m.len() == r.size());
        if done {
            whole(r);
        }
        !done
    });
}

/// The value at `p` (0–100) of sorted `v`.
pub fn percentile(v: &[u64], p: f64) -> Option<u64> {
    let i = ((v.len() as f64 - 1.0) * p / 100.0).round() as usize;
    v.get(i).copied()
}
