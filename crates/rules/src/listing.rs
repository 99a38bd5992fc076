//! What a scan of a tree found, as the rules take it: each recording's size, time and
//! day, by path; those under an in-progress name apart; temporaries and unreadable
//! entries.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::NaiveDate;

/// Size and modification time, the two facts that decide whether a copy is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub mtime: SystemTime,
}

/// Two modification times closer than this are the same time: FAT keeps 2 s, NTFS
/// 100 ns, ext4 1 ns, and a copy must count as current on all of them.
pub const MTIME_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(2);

/// True when two modification times are the same within `MTIME_TOLERANCE`.
pub fn same_mtime(a: SystemTime, b: SystemTime) -> bool {
    let gap = a.duration_since(b).or_else(|_| b.duration_since(a)).unwrap_or_default();
    gap < MTIME_TOLERANCE
}

impl FileMeta {
    /// The size and time in `m`.
    pub fn of(m: &std::fs::Metadata) -> io::Result<FileMeta> {
        Ok(FileMeta {
            size: m.len(),
            mtime: m.modified()?,
        })
    }

    /// Same size and time: the backup is current, no byte needs reading.
    pub fn matches(&self, other: &FileMeta) -> bool {
        self.size == other.size && same_mtime(self.mtime, other.mtime)
    }
}

/// One recording found by a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    pub meta: FileMeta,
    pub date: NaiveDate,
}

/// A recording still being written, found under its in-progress name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProgress {
    /// Where it is now (`NAME.dav_` in the source, `NAME.dav.partial` in the backup).
    pub rel: PathBuf,
    pub rec: Recording,
}

/// Recordings under their final names, by path relative to the scanned root. A path is
/// shared, not copied, by the listings and the plans that hold it.
pub type Recordings = BTreeMap<Arc<Path>, Recording>;

/// What a scan found, by path relative to the scanned root.
#[derive(Debug, Default)]
pub struct Listing {
    /// Recordings under their final names.
    pub recordings: Recordings,
    /// Recordings under an in-progress name, by the final name they will have.
    pub in_progress: BTreeMap<PathBuf, InProgress>,
    /// Our own temporaries (left by a crash or a copy in progress).
    pub temps: Vec<PathBuf>,
    /// Entries that could not be read, with the reason; the pass logs and counts them.
    pub errors: Vec<(PathBuf, String)>,
}
