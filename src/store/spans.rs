//! The coverage pieces of the listings a scan already made: each recording's camera,
//! type and time span, from its name, else from the DHAV frames of its head and tail
//! (64 KiB each, never the whole file). What was read from frames is remembered by
//! path, size and time, so the daemon reads a file's frames once, not every pass.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::rules::coverage::{Held, Piece};
use crate::rules::span::{self, Span, PROBE_BYTES};
use crate::store::scan::{FileMeta, Listing, Recording};

/// Spans read from frames, by path; kept across passes by the daemon.
#[derive(Debug, Default)]
pub struct SpanCache {
    known: HashMap<PathBuf, (FileMeta, Option<Span>)>,
}

impl SpanCache {
    /// The span of the recording at `root/rel` (`key`: its final name).
    fn span(&mut self, root: &Path, key: &Path, rel: &Path, rec: &Recording) -> Option<Span> {
        if let Some(s) = span::from_name_on(key, Some(rec.date)) {
            return Some(s);
        }
        if let Some((meta, s)) = self.known.get(rel) {
            if meta.matches(&rec.meta) {
                return *s;
            }
        }
        let s = read_frames(&root.join(rel)).ok().flatten();
        self.known.insert(rel.to_path_buf(), (rec.meta, s));
        s
    }

    /// Forgets files no longer listed, so the cache never outgrows the backup.
    fn keep_only(&mut self, backup: &Listing) {
        self.known
            .retain(|rel, _| backup.recordings.contains_key(rel) || backup.in_progress.values().any(|p| &p.rel == rel));
    }
}

/// The pieces of the backup (final and being copied) and of the source recordings
/// the backup has not got yet. Frames are read in the backup only.
pub fn pieces(backup_root: &Path, backup: &Listing, source: Option<&Listing>, cache: &mut SpanCache) -> Vec<Piece> {
    let mut out = Vec::with_capacity(backup.recordings.len());
    for (rel, rec) in &backup.recordings {
        out.push(piece(rel, rec, Held::Backup, || cache.span(backup_root, rel, rel, rec)));
    }
    for (key, p) in &backup.in_progress {
        out.push(piece(key, &p.rec, Held::Copying, || {
            cache.span(backup_root, key, &p.rel, &p.rec)
        }));
    }
    if let Some(source) = source {
        let waiting = |rel: &Path| !backup.recordings.contains_key(rel) && !backup.in_progress.contains_key(rel);
        let finished = source.recordings.iter();
        let growing = source.in_progress.iter().map(|(rel, p)| (rel, &p.rec));
        for (rel, rec) in finished.chain(growing).filter(|(rel, _)| waiting(rel)) {
            out.push(piece(rel, rec, Held::SourceOnly, || {
                span::from_name_on(rel, Some(rec.date))
            }));
        }
    }
    cache.keep_only(backup);
    out
}

/// The camera of recordings whose path names none (all in the day folders).
pub const NO_CAMERA: &str = "(no camera folder)";

/// One recording as a piece.
fn piece(rel: &Path, rec: &Recording, held: Held, span: impl FnOnce() -> Option<Span>) -> Piece {
    Piece {
        camera: span::camera(rel).unwrap_or_else(|| NO_CAMERA.into()),
        span: span(),
        date: rec.date,
        bytes: rec.meta.size,
        kind: span::kind(rel),
        held,
    }
}

/// The span a file's frames give: its first and last `PROBE_BYTES`.
pub fn read_frames(path: &Path) -> io::Result<Option<Span>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut head = Vec::with_capacity(PROBE_BYTES);
    (&mut f).take(PROBE_BYTES as u64).read_to_end(&mut head)?;
    let from = len.saturating_sub(PROBE_BYTES as u64);
    f.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::with_capacity(PROBE_BYTES);
    f.take(PROBE_BYTES as u64).read_to_end(&mut tail)?;
    Ok(span::from_frames(&head, &tail))
}
