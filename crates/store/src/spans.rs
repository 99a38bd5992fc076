//! The coverage pieces of the listings a scan already made: each recording's camera,
//! type and time span, from its name, else from the DHAV frames of its head and tail
//! (64 KiB each, never the whole file). What was read from frames is remembered by
//! path, size and time, so the daemon reads a file's frames once, not every pass.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rules::coverage::{Held, Piece};
use rules::listing::{FileMeta, Listing, Recording};
use rules::span::{self, Span, PROBE_BYTES};

/// Spans read from frames, by path; kept across passes by the daemon.
#[derive(Debug, Default)]
pub struct SpanCache {
    known: HashMap<PathBuf, (FileMeta, Option<Span>)>,
}

impl SpanCache {
    /// The span of the recording at `root/rel` (`name`: its final name's last part).
    fn span(&mut self, root: &Path, name: Option<&str>, rel: &Path, rec: &Recording) -> Option<Span> {
        if let Some(s) = name.and_then(|n| span::from_name_in(n, rec.date)) {
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
        self.known.retain(|rel, _| {
            backup.recordings.contains_key(rel.as_path()) || backup.in_progress.values().any(|p| &p.rel == rel)
        });
    }
}

/// Hands `out`, with each one's path, the pieces of the backup (final and being
/// copied) and of the source recordings the backup has not got yet, one at a time.
/// Frames are read in the backup only. Both listings are in path order: a folder's camera is worked out once, and the source is matched to
/// the backup side by side.
pub fn pieces(
    backup_root: &Path,
    listings: (&Listing, Option<&Listing>),
    cache: &mut SpanCache,
    out: &mut dyn FnMut(&Path, Piece),
) {
    let (backup, source) = listings;
    let mut cameras = Cameras::default();
    for (rel, rec) in &backup.recordings {
        let name = name_of(rel);
        let span = cache.span(backup_root, name, rel, rec);
        out(rel, piece(cameras.of(rel), name, rec, Held::Backup, span));
    }
    for (key, p) in &backup.in_progress {
        let name = name_of(key);
        let span = cache.span(backup_root, name, &p.rel, &p.rec);
        out(key, piece(cameras.of(key), name, &p.rec, Held::Copying, span));
    }
    if let Some(source) = source {
        let mut held = backup.recordings.keys().peekable();
        for (rel, rec) in &source.recordings {
            // Mostly the same path on both sides: bytes first, the order only if not.
            let same = |b: &&Arc<Path>| b.as_os_str() == rel.as_os_str();
            while held.next_if(|b| !same(b) && **b < *rel).is_some() {}
            if held.next_if(|b| same(b) || *b == rel).is_some() || backup.in_progress.contains_key(&**rel) {
                continue;
            }
            let name = name_of(rel);
            let span = name.and_then(|n| span::from_name_in(n, rec.date));
            out(rel, piece(cameras.of(rel), name, rec, Held::SourceOnly, span));
        }
        for (rel, p) in &source.in_progress {
            if !backup.recordings.contains_key(rel.as_path()) && !backup.in_progress.contains_key(rel) {
                let name = name_of(rel);
                let span = name.and_then(|n| span::from_name_in(n, p.rec.date));
                out(rel, piece(cameras.of(rel), name, &p.rec, Held::SourceOnly, span));
            }
        }
    }
    cache.keep_only(backup);
}

/// The camera of recordings whose path names none (all in the day folders).
pub const NO_CAMERA: &str = "(no camera folder)";

/// Cameras by folder: the last folder's, since listings come in path order.
#[derive(Default)]
struct Cameras {
    folder: Option<(PathBuf, Option<Arc<str>>)>,
}

impl Cameras {
    /// The camera of the recording at `rel`: its folders', else its name's.
    fn of(&mut self, rel: &Path) -> Arc<str> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        let by_folder = match &self.folder {
            Some((p, cam)) if p.as_os_str() == parent.as_os_str() => cam.clone(),
            _ => {
                // A file name that names no camera, to read the folders' alone.
                let cam: Option<Arc<str>> = span::camera(&parent.join("_")).map(Arc::from);
                self.folder = Some((parent.to_path_buf(), cam.clone()));
                cam
            }
        };
        by_folder.unwrap_or_else(|| span::camera(rel).map_or_else(|| Arc::from(NO_CAMERA), Arc::from))
    }
}

/// One recording as a piece.
fn piece(camera: Arc<str>, name: Option<&str>, rec: &Recording, held: Held, span: Option<Span>) -> Piece {
    Piece {
        camera,
        span,
        date: rec.date,
        bytes: rec.meta.size,
        kind: name.and_then(span::kind_of_name),
        held,
        offsite: None,
    }
}

fn name_of(rel: &Path) -> Option<&str> {
    rel.file_name().and_then(std::ffi::OsStr::to_str)
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
    (&mut f).take(PROBE_BYTES as u64).read_to_end(&mut tail)?;
    // A last frame longer than the tail: its header, read where its trailer says.
    let header_at = |at: u64| {
        let mut h = vec![0; span::HEADER_BYTES];
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.read_exact(&mut h))
            .ok()
            .map(|_| h)
    };
    Ok(span::from_frames_reading(&head, (&tail, from), header_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeDelta};
    use rules::span::blank_frame as frame;

    /// Recordings whose last frame is a 4K key frame (100 KiB to 5 MiB) keep their
    /// span: the header is read where the trailer says, the file never read whole.
    #[test]
    fn a_last_frame_longer_than_the_tail_still_gives_the_span() {
        let at = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let (t0, t1) = (at("2026-11-26 08:00:00"), at("2026-11-26 08:59:59"));
        let dir = tempfile::tempdir().unwrap();
        for big in [100 << 10, 200 << 10, 5 << 20] {
            let mut bytes = frame(t0, 60 << 10);
            bytes.extend(frame(t1, big));
            let path = dir.path().join(format!("{big}.dav"));
            std::fs::write(&path, &bytes).unwrap();
            let span = read_frames(&path).unwrap().expect("a span");
            assert_eq!(
                (span.start, span.end),
                (t0, t1 + TimeDelta::seconds(1)),
                "last frame of {big} bytes"
            );
        }
    }
}
