//! Walks one tree once and lists what a pass needs: every recording with its size,
//! modification time and day (finished ones and those under an in-progress name apart),
//! and our own leftover temporaries. Links are never
//! followed (a link in the backup could lead retention out of it; a link loop would never
//! end). A folder or file that cannot be read is noted and skipped, never fatal.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::NaiveDate;

use crate::layout::{self, Kind, Names};

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

/// What a scan found, by path relative to the scanned root.
#[derive(Debug, Default)]
pub struct Listing {
    /// Recordings under their final names.
    pub recordings: BTreeMap<PathBuf, Recording>,
    /// Recordings under an in-progress name, by the final name they will have.
    pub in_progress: BTreeMap<PathBuf, InProgress>,
    /// Our own temporaries (left by a crash or a copy in progress).
    pub temps: Vec<PathBuf>,
    /// Entries that could not be read, with the reason; the pass logs and counts them.
    pub errors: Vec<(PathBuf, String)>,
}

/// Lists `root`. Fails only when `root` itself cannot be listed; problems below it are
/// collected in `Listing::errors`.
pub fn scan(root: &Path, names: &Names) -> io::Result<Listing> {
    let mut listing = Listing::default();
    // Read the root eagerly so a missing or unreadable root is an error, not an empty tree.
    let first = std::fs::read_dir(root)?;
    let mut stack: Vec<(PathBuf, std::fs::ReadDir)> = vec![(PathBuf::new(), first)];
    while let Some((rel_dir, entries)) = stack.pop() {
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    listing.errors.push((rel_dir.clone(), e.to_string()));
                    continue;
                }
            };
            let rel = rel_dir.join(entry.file_name());
            // file_type() does not follow links: a link is neither a dir nor a file here.
            let Ok(kind) = entry.file_type() else {
                listing.errors.push((rel, "cannot read the file type".into()));
                continue;
            };
            if kind.is_dir() {
                match std::fs::read_dir(entry.path()) {
                    Ok(sub) => stack.push((rel, sub)),
                    Err(e) => listing.errors.push((rel, e.to_string())),
                }
            } else if kind.is_file() {
                let Some(what) = names.classify(&entry.file_name()) else {
                    continue;
                };
                if what == Kind::Temp {
                    listing.temps.push(rel);
                    continue;
                }
                let meta = match entry.metadata().and_then(|m| FileMeta::of(&m)) {
                    Ok(meta) => meta,
                    // Vanished between listing and stat: the recorder rotated it.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        listing.errors.push((rel, e.to_string()));
                        continue;
                    }
                };
                let rec = Recording {
                    meta,
                    date: layout::recording_date(&rel, meta.mtime),
                };
                match what {
                    Kind::InProgress { final_name } => {
                        let key = rel.with_file_name(final_name);
                        listing.in_progress.insert(key, InProgress { rel, rec });
                    }
                    _ => {
                        listing.recordings.insert(rel, rec);
                    }
                }
            }
        }
    }
    Ok(listing)
}
