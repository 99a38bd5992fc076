//! The recordings waiting for the bucket: a bounded, de-duplicated line of backup
//! paths (files, never their bytes), fed by the copy workers when a copy takes its
//! final name and by each pass's sweep, and served oldest-offer-first to the upload
//! workers. Full, it drops the newest offer (counted): the next sweep offers it again.
//! Its snapshot gives the pending files, bytes and the oldest pending recording's
//! time, for `status.json` and `offsite_lagging`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, SystemTime};

/// What is known of a waiting recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub size: u64,
    pub mtime: SystemTime,
    /// Its BLAKE3 hash when the manifest had it for this size.
    pub blake3: Option<String>,
}

/// How many recordings wait at most: a month of 64 cameras is under 50,000.
pub const CAPACITY: usize = 100_000;

#[derive(Default)]
struct Line {
    /// Waiting, by path relative to the backup (`/`-separated).
    waiting: HashMap<String, Item>,
    /// The order they are served in; may hold paths no longer waiting.
    order: VecDeque<String>,
    /// Being uploaded now.
    busy: HashMap<String, Item>,
    /// Offers refused because the line was full.
    dropped: u64,
}

/// What the line holds, for the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub files: usize,
    pub bytes: u64,
    /// The modification time of the oldest recording waiting or in flight.
    pub oldest: Option<SystemTime>,
    pub dropped: u64,
}

pub struct Backlog {
    line: Mutex<Line>,
    ready: Condvar,
    capacity: usize,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog::with_capacity(CAPACITY)
    }
}

impl Backlog {
    pub fn with_capacity(capacity: usize) -> Backlog {
        Backlog {
            line: Mutex::default(),
            ready: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Line> {
        self.line.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers a recording; a newer offer of one already waiting replaces its facts.
    /// False when the line is full.
    pub fn offer(&self, rel: String, item: Item) -> bool {
        let mut line = self.lock();
        if let Some(w) = line.waiting.get_mut(&rel) {
            *w = item;
            return true;
        }
        if line.waiting.len() + line.busy.len() >= self.capacity {
            line.dropped += 1;
            return false;
        }
        line.order.push_back(rel.clone());
        line.waiting.insert(rel, item);
        drop(line);
        self.ready.notify_one();
        true
    }

    /// True when the recording waits or is being uploaded.
    pub fn holds(&self, rel: &str) -> bool {
        let line = self.lock();
        line.waiting.contains_key(rel) || line.busy.contains_key(rel)
    }

    /// The next recording to upload (marked busy), waiting up to `wait` for one.
    pub fn take(&self, wait: Duration) -> Option<(String, Item)> {
        let mut line = self.lock();
        if let Some(next) = Self::pop(&mut line) {
            return Some(next);
        }
        line = self.ready.wait_timeout(line, wait).unwrap_or_else(|p| p.into_inner()).0;
        Self::pop(&mut line)
    }

    fn pop(line: &mut Line) -> Option<(String, Item)> {
        let turns = line.order.len();
        for _ in 0..turns {
            let rel = line.order.pop_front()?;
            if line.busy.contains_key(&rel) {
                // Offered again while in flight: its turn comes after.
                if line.waiting.contains_key(&rel) {
                    line.order.push_back(rel);
                }
                continue;
            }
            if let Some(item) = line.waiting.remove(&rel) {
                line.busy.insert(rel.clone(), item.clone());
                return Some((rel, item));
            }
        }
        None
    }

    /// The upload of `rel` ended (done, or given up until the next sweep).
    pub fn done(&self, rel: &str) {
        self.lock().busy.remove(rel);
    }

    /// The upload of `rel` did not happen: it waits again, first in line.
    pub fn put_back(&self, rel: String, item: Item) {
        let mut line = self.lock();
        line.busy.remove(&rel);
        if !line.waiting.contains_key(&rel) {
            line.order.push_front(rel.clone());
            line.waiting.insert(rel, item);
        }
        drop(line);
        self.ready.notify_one();
    }

    pub fn snapshot(&self) -> Snapshot {
        let line = self.lock();
        let all = line.waiting.values().chain(line.busy.values());
        let mut s = Snapshot {
            dropped: line.dropped,
            ..Snapshot::default()
        };
        for item in all {
            s.files += 1;
            s.bytes += item.size;
            s.oldest = Some(s.oldest.map_or(item.mtime, |o| o.min(item.mtime)));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(size: u64, secs: u64) -> Item {
        Item {
            size,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            blake3: None,
        }
    }

    const NOW: Duration = Duration::ZERO;

    #[test]
    fn served_in_offer_order_once_each() {
        let b = Backlog::default();
        assert!(b.offer("a".into(), item(1, 10)));
        assert!(b.offer("b".into(), item(2, 5)));
        assert!(b.offer("a".into(), item(3, 10)), "a repeat offer updates the facts");
        let s = b.snapshot();
        assert_eq!((s.files, s.bytes), (2, 5));
        assert_eq!(s.oldest, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(5)));
        let (first, it) = b.take(NOW).unwrap();
        assert_eq!((first.as_str(), it.size), ("a", 3));
        assert_eq!(b.snapshot().files, 2, "in flight still counts as pending");
        b.done("a");
        assert_eq!(b.take(NOW).unwrap().0, "b");
        b.done("b");
        assert_eq!(b.take(NOW), None);
        assert_eq!(b.snapshot(), Snapshot::default());
    }

    #[test]
    fn full_it_refuses_and_counts() {
        let b = Backlog::with_capacity(2);
        assert!(b.offer("a".into(), item(1, 1)));
        assert!(b.offer("b".into(), item(1, 1)));
        assert!(!b.offer("c".into(), item(1, 1)));
        assert!(b.offer("a".into(), item(1, 1)), "one already waiting is not new");
        assert_eq!(b.snapshot().dropped, 1);
    }

    #[test]
    fn put_back_comes_first_and_a_busy_one_is_not_served_twice() {
        let b = Backlog::default();
        b.offer("a".into(), item(1, 1));
        b.offer("b".into(), item(1, 1));
        let (a, it) = b.take(NOW).unwrap();
        b.offer("a".into(), item(2, 1));
        assert_eq!(
            b.take(NOW).unwrap().0,
            "b",
            "a is in flight: not served again meanwhile"
        );
        assert_eq!(b.take(NOW), None);
        b.put_back(a, it);
        assert!(b.holds("a"));
        let (again, it) = b.take(NOW).unwrap();
        assert_eq!((again.as_str(), it.size), ("a", 2), "the newer offer's facts");
    }
}
