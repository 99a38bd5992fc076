//! Which copies a pass hands to one worker together (`store::batch` flushes their new
//! copies at once): finished recordings up to `FILE_MAX` each, in plan order, up to
//! `MAX_FILES` files or `MAX_BYTES` bytes a batch. Every other copy goes alone. Pure.

use crate::plan::CopyJob;
use crate::stage::Stage;

/// Recordings bigger than this are copied alone: for them a flush is noise, and a batch
/// would hold back the small ones behind them.
pub const FILE_MAX: u64 = 8 << 20;
/// At most this many files in one batch: a flush costs the same for 10 files or 2,000
/// (tens of milliseconds on a disk that honours it), and a batch cut short by a stop
/// or a crash is redone by the next pass.
pub const MAX_FILES: usize = 2048;
/// At most this many bytes in one batch.
pub const MAX_BYTES: u64 = 256 << 20;

/// The jobs, grouped; the order of the plan is kept within and across groups' starts.
pub fn batches(jobs: Vec<CopyJob>) -> Vec<Vec<CopyJob>> {
    let mut out = Vec::new();
    let mut open: Vec<CopyJob> = Vec::new();
    let mut bytes = 0;
    for job in jobs {
        if job.stage != Stage::Finished || job.bytes > FILE_MAX {
            out.push(vec![job]);
            continue;
        }
        if open.len() == MAX_FILES || bytes + job.bytes > MAX_BYTES {
            out.push(std::mem::take(&mut open));
            bytes = 0;
        }
        bytes += job.bytes;
        open.push(job);
    }
    if !open.is_empty() {
        out.push(open);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn job(n: usize, bytes: u64, stage: Stage) -> CopyJob {
        CopyJob {
            rel: PathBuf::from(format!("d/{n}.dav")),
            stage,
            reason: "missing from the backup".into(),
            bytes,
            ended: std::time::SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn small_finished_copies_go_together_big_and_recording_ones_alone() {
        let mut jobs: Vec<CopyJob> = (0..4500).map(|n| job(n, 1000, Stage::Finished)).collect();
        jobs.push(job(4500, FILE_MAX + 1, Stage::Finished));
        jobs.push(job(4501, 10, Stage::Recording));
        let sizes: Vec<usize> = batches(jobs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2048, 2048, 1, 1, 404]);
        // Bytes bound a batch too.
        let jobs: Vec<CopyJob> = (0..80).map(|n| job(n, FILE_MAX, Stage::Finished)).collect();
        let sizes: Vec<usize> = batches(jobs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [32, 32, 16]);
        assert!(batches(Vec::new()).is_empty());
    }
}
