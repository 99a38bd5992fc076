//! Many new copies made durable together. A first backfill of thousands of small
//! recordings spent its time in two flushes per file; a batch writes each new copy to
//! its temporary, flushes them all at once (`durable::flush_batch`), reads each back
//! (`readback`), gives each its final name (never over an existing file), then makes the
//! renames durable at once. A final name still only ever holds a whole, flushed copy
//! that read back as its source's bytes; one that did not is copied again on its own. Whatever is not a whole new copy of
//! a finished recording (an in-progress copy, an append, a big recording) is synced one
//! by one, as `Mirror::sync` does.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::copy::{is_file, settle, CopyError, Mirror, SyncOutcome, Synced};
use crate::durable;
use rules::stage::Stage;
use rules::{batches, names};

/// A new copy written to its temporary (closed; flushed only where the OS cannot flush
/// a batch at once).
struct Temporary {
    at: usize,
    tmp: PathBuf,
    dst: PathBuf,
    len: u64,
    /// Of the source's bytes, as they were read.
    hash: blake3::Hash,
}

/// Each job's result, filled in as it is known.
type Results = Vec<Option<Result<Synced, CopyError>>>;

impl Mirror {
    /// Syncs each source recording of `jobs` (as `sync` would), the whole new copies of
    /// finished recordings together. One result per job, in order.
    pub fn sync_batch(&self, jobs: &[(PathBuf, Stage)]) -> Vec<Result<Synced, CopyError>> {
        let mut results: Results = vec![None; jobs.len()];
        let mut written = Vec::new();
        for (at, (rel, stage)) in jobs.iter().enumerate() {
            match self.fresh_copy(at, rel, *stage) {
                Some(Ok(w)) => written.push(w),
                Some(Err(e)) => results[at] = Some(Err(e)),
                None => results[at] = Some(self.sync(rel, *stage)),
            }
        }
        self.commit(jobs, written, &mut results);
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(CopyError::Cancelled)))
            .collect()
    }

    /// Writes the temporary of a whole new copy when `rel` is a finished, small recording
    /// of which the backup holds nothing yet; None when it needs the one-by-one sync.
    fn fresh_copy(&self, at: usize, rel: &Path, stage: Stage) -> Option<Result<Temporary, CopyError>> {
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
            .and_then(|(file, tmp, hasher)| match durable::flush_written(&file) {
                Ok(()) => Ok(Temporary {
                    at,
                    tmp,
                    dst,
                    len: src.len,
                    hash: hasher.finalize(),
                }),
                Err(e) => {
                    drop(file);
                    let _ = fs::remove_file(&tmp);
                    Err(CopyError::io("cannot flush the copy to disk", e))
                }
            });
        Some(written)
    }

    /// Flushes the written temporaries at once, reads each back and renames it into
    /// place, then makes the renames durable at once; fills in each one's result. A
    /// temporary that reads back otherwise is removed and its job synced on its own.
    fn commit(&self, jobs: &[(PathBuf, Stage)], written: Vec<Temporary>, results: &mut Results) {
        if written.is_empty() {
            return;
        }
        if let Err(e) = durable::flush_batch(&self.backup_dir) {
            let err = CopyError::io("cannot flush the copies to disk", e);
            for w in written {
                let _ = fs::remove_file(&w.tmp);
                results[w.at] = Some(Err(err.clone()));
            }
            return;
        }
        let mut folders = BTreeSet::new();
        for w in &written {
            let result = self.reads_back(&w.tmp, 0, w.len, &w.hash).and_then(|same| {
                if same {
                    settle(&w.tmp, &w.dst)?;
                    folders.extend(w.dst.parent());
                    let verified = self.verified(&w.dst, w.len, &w.hash);
                    return Ok(Some(Synced {
                        outcome: SyncOutcome::Copied { bytes: w.len },
                        verified: Some(verified),
                    }));
                }
                tracing::warn!(path = %w.dst.display(), "the copy read back differs from the source's bytes; copied again on its own");
                Ok(None)
            });
            results[w.at] = match result {
                Ok(Some(synced)) => Some(Ok(synced)),
                Ok(None) => {
                    let _ = fs::remove_file(&w.tmp);
                    let (rel, stage) = &jobs[w.at];
                    Some(self.sync(rel, *stage))
                }
                Err(e) => {
                    let _ = fs::remove_file(&w.tmp);
                    Some(Err(e))
                }
            };
        }
        durable::flush_folders(&self.backup_dir, folders);
    }
}
