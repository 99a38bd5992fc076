//! Many new copies made durable together. A first backfill of thousands of small
//! recordings spent its time in two flushes per file; a batch writes each new copy to
//! its temporary, flushes them all at once (`durable::flush_batch`), gives each its final
//! name (never over an existing file), then makes the renames durable at once. A final
//! name still only ever holds a whole, flushed copy. Whatever is not a whole new copy of
//! a finished recording (an in-progress copy, an append, a big recording) is synced one
//! by one, as `Mirror::sync` does.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::rules::{batches, names};
use crate::store::copy::{is_file, settle, CopyError, Mirror, Outcome, Stage};
use crate::store::durable;

/// A new copy written to its temporary (closed; flushed only where the OS cannot flush
/// a batch at once).
struct Written {
    at: usize,
    tmp: PathBuf,
    dst: PathBuf,
    len: u64,
}

impl Mirror {
    /// Syncs each source recording of `jobs` (as `sync` would), the whole new copies of
    /// finished recordings together. One result per job, in order.
    pub fn sync_batch(&self, jobs: &[(PathBuf, Stage)]) -> Vec<Result<Outcome, CopyError>> {
        let mut results: Vec<Option<Result<Outcome, CopyError>>> = vec![None; jobs.len()];
        let mut written = Vec::new();
        for (at, (rel, stage)) in jobs.iter().enumerate() {
            match self.fresh_copy(at, rel, *stage) {
                Some(Ok(w)) => written.push(w),
                Some(Err(e)) => results[at] = Some(Err(e)),
                None => results[at] = Some(self.sync(rel, *stage)),
            }
        }
        commit(&self.backup_dir, written, &mut results);
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(CopyError::Cancelled)))
            .collect()
    }

    /// Writes the temporary of a whole new copy when `rel` is a finished, small recording
    /// of which the backup holds nothing yet; None when it needs the one-by-one sync.
    fn fresh_copy(&self, at: usize, rel: &Path, stage: Stage) -> Option<Result<Written, CopyError>> {
        let src = match self.open_source(rel, stage) {
            Ok(src) => src,
            Err(e) => return Some(Err(e)),
        };
        if src.stage != Stage::Finished || src.len > batches::FILE_MAX {
            return None;
        }
        let dst = self.backup_dir.join(&src.final_rel);
        let partial = self.backup_dir.join(names::partial_of(&src.final_rel));
        if !matches!((is_file(&dst), is_file(&partial)), (Ok(false), Ok(false))) {
            return None;
        }
        let written = self
            .write_temp(&src.file, src.len, src.mtime, &dst)
            .and_then(|(file, tmp)| match durable::flush_written(&file) {
                Ok(()) => Ok(Written {
                    at,
                    tmp,
                    dst,
                    len: src.len,
                }),
                Err(e) => {
                    drop(file);
                    let _ = fs::remove_file(&tmp);
                    Err(CopyError::io("cannot flush the copy to disk", e))
                }
            });
        Some(written)
    }
}

/// Flushes the written temporaries at once, renames each into place, then makes the
/// renames durable at once; fills in each one's result.
fn commit(root: &Path, written: Vec<Written>, results: &mut [Option<Result<Outcome, CopyError>>]) {
    if written.is_empty() {
        return;
    }
    if let Err(e) = durable::flush_batch(root) {
        let err = CopyError::io("cannot flush the copies to disk", e);
        for w in written {
            let _ = fs::remove_file(&w.tmp);
            results[w.at] = Some(Err(err.clone()));
        }
        return;
    }
    let mut folders = BTreeSet::new();
    for w in &written {
        results[w.at] = Some(match settle(&w.tmp, &w.dst) {
            Ok(()) => {
                folders.extend(w.dst.parent());
                Ok(Outcome::Copied { bytes: w.len })
            }
            Err(e) => {
                let _ = fs::remove_file(&w.tmp);
                Err(e)
            }
        });
    }
    durable::flush_folders(root, folders);
}
