//! What is not protected yet: each finished recording handed to the copy queue, with
//! when it ended (its modification time), until its copy is whole in the backup. The
//! queue notes each finished job and each success; a pass then keeps only what it
//! planned or what still waits, so a recording wiped before its copy stops counting.
//! Its figures are `/metrics`' protection lag and the newest recording's age.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use report::metrics::Protection;

#[derive(Debug, Default)]
struct Seen {
    /// Finished recordings not yet whole in the backup, by their key's hash (a first
    /// backfill holds 100,000: 16 bytes each, not a path), with when they ended.
    waiting: HashMap<u64, SystemTime>,
    /// When the newest finished recording seen ended.
    newest: Option<SystemTime>,
    /// In-progress copies kept, at the last pass.
    in_progress: usize,
}

#[derive(Debug, Default)]
pub struct Unprotected {
    seen: Mutex<Seen>,
}

impl Unprotected {
    fn with<T>(&self, f: impl FnOnce(&mut Seen) -> T) -> T {
        f(&mut self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A finished recording that ended at `ended` was queued.
    pub fn queued(&self, key: &Path, ended: SystemTime) {
        self.with(|s| {
            s.waiting.entry(hash(key)).or_insert(ended);
            s.newest = s.newest.max(Some(ended));
        });
    }

    /// Its copy is whole in the backup.
    pub fn protected(&self, key: &Path) {
        self.with(|s| s.waiting.remove(&hash(key)));
    }

    /// After a pass: only the keys in `missing` (finished recordings of the window the
    /// backup still lacks whole, or waiting in the queue) stay; the rest were wiped or
    /// left the window. `newest`: the newest finished recording the pass saw;
    /// `in_progress`: the in-progress copies kept.
    pub fn after_pass<'a>(
        &self,
        missing: impl Iterator<Item = &'a Path>,
        newest: Option<SystemTime>,
        in_progress: usize,
    ) {
        let keep: std::collections::HashSet<u64> = missing.map(hash).collect();
        self.with(|s| {
            s.waiting.retain(|k, _| keep.contains(k));
            s.newest = s.newest.max(newest);
            s.in_progress = in_progress;
        });
    }

    /// The figures at `now`.
    pub fn figures(&self, now: SystemTime) -> Protection {
        let age = |t: SystemTime| now.duration_since(t).map_or(0.0, |d| d.as_secs_f64());
        self.with(|s| Protection {
            lag_secs: s.waiting.values().min().map_or(0.0, |t| age(*t)),
            newest_age_secs: s.newest.map(age),
            in_progress: s.in_progress,
        })
    }
}

fn hash(key: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_lag_is_the_oldest_waiting_and_a_pass_forgets_what_it_no_longer_plans() {
        let u = Unprotected::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let now = t0 + Duration::from_secs(100);
        assert_eq!(u.figures(now).lag_secs, 0.0, "nothing waits");
        u.queued(Path::new("a"), t0);
        u.queued(Path::new("b"), t0 + Duration::from_secs(60));
        assert_eq!(u.figures(now).lag_secs, 100.0);
        assert_eq!(u.figures(now).newest_age_secs, Some(40.0));
        u.protected(Path::new("a"));
        assert_eq!(u.figures(now).lag_secs, 40.0);
        u.after_pass([Path::new("c")].into_iter(), None, 3);
        let f = u.figures(now);
        assert_eq!(
            (f.lag_secs, f.in_progress),
            (0.0, 3),
            "b was wiped: not planned, not waiting"
        );
    }
}
