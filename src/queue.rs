//! The one queue of copy jobs, shared by the reconciliation pass and (later) the
//! watcher, served by `copy_workers` blocking workers. A path already queued or being
//! copied is not queued twice. Each finished job is logged here, once, whoever asked
//! for it, and reported back to the asker when it wants the result.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::alert::AlertKind;
use crate::copy::{CopyError, Mirror, Outcome};

/// One finished job.
#[derive(Debug)]
pub struct Report {
    pub rel: PathBuf,
    pub result: Result<Outcome, CopyError>,
}

/// A path to sync, why, and where to send the report.
#[derive(Debug)]
pub struct Job {
    pub rel: PathBuf,
    pub reason: String,
    /// Sent once, when the job is done (or dropped unsent if the worker died).
    pub reply: Option<mpsc::UnboundedSender<Report>>,
}

/// Room for this many waiting jobs; the pass waits when it is full, the watcher will
/// drop the event and rely on a rescan.
pub const CAPACITY: usize = 4096;

/// The handle to submit jobs. Cloning it is cheap; the workers stop once every clone is
/// dropped and the jobs already queued are done.
#[derive(Clone)]
pub struct CopyQueue {
    /// Sent to by `submit`; closes when the last `CopyQueue` clone is dropped.
    tx: mpsc::Sender<Job>,
    /// Paths queued or in flight; a path leaves it when its worker finishes.
    pending: Arc<Mutex<HashSet<PathBuf>>>,
}

impl CopyQueue {
    /// Starts the dispatcher. The returned task ends after the queue is closed and the
    /// jobs in flight have finished.
    pub fn start(mirror: Arc<Mirror>, workers: usize) -> (CopyQueue, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let pending = Arc::new(Mutex::new(HashSet::new()));
        let task = tokio::spawn(dispatch(rx, mirror, workers, pending.clone()));
        (CopyQueue { tx, pending }, task)
    }

    /// Queues a job, waiting for room. False when the path is already queued or in
    /// flight (the running job will see the newest state of the source anyway), or the
    /// queue has shut down.
    pub async fn submit(&self, job: Job) -> bool {
        if !self.pending.lock().expect("pending set").insert(job.rel.clone()) {
            return false;
        }
        let rel = job.rel.clone();
        if self.tx.send(job).await.is_err() {
            self.pending.lock().expect("pending set").remove(&rel);
            return false;
        }
        true
    }

    /// True while `rel` is queued or being copied: its temporary is not stale.
    pub fn is_pending(&self, rel: &std::path::Path) -> bool {
        self.pending.lock().expect("pending set").contains(rel)
    }
}

async fn dispatch(
    mut rx: mpsc::Receiver<Job>,
    mirror: Arc<Mirror>,
    workers: usize,
    pending: Arc<Mutex<HashSet<PathBuf>>>,
) {
    let slots = Arc::new(Semaphore::new(workers));
    while let Some(job) = rx.recv().await {
        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
        let (mirror, pending) = (mirror.clone(), pending.clone());
        // Copies are blocking file I/O: they run on tokio's blocking pool, never on the
        // async workers that serve signals and timers.
        tokio::task::spawn_blocking(move || {
            let result = mirror.sync(&job.rel);
            log_result(&job, &result);
            pending.lock().expect("pending set").remove(&job.rel);
            if let Some(reply) = job.reply {
                let _ = reply.send(Report { rel: job.rel, result });
            }
            drop(permit);
        });
    }
    // Queue closed: wait for the copies in flight.
    let _ = slots.acquire_many(workers as u32).await;
}

fn log_result(job: &Job, result: &Result<Outcome, CopyError>) {
    let path = job.rel.display();
    let reason = &job.reason;
    match result {
        Ok(Outcome::Copied { bytes }) => tracing::info!(%path, bytes, ?reason, "copied"),
        Ok(Outcome::Appended { bytes }) => {
            tracing::info!(%path, bytes, ?reason, "updated: appended new bytes")
        }
        Ok(Outcome::Current) => tracing::debug!(%path, "already current"),
        Ok(Outcome::Kept {
            beside, bytes, detail, ..
        }) => {
            let beside = beside
                .as_ref()
                .map(|b| b.display().to_string())
                .unwrap_or_else(|| "-".into());
            tracing::warn!(alert = %AlertKind::SourceShrunk, %path, %beside, bytes, "backup kept as it was: {detail}")
        }
        Err(CopyError::Cancelled) => {
            tracing::info!(%path, "copy stopped by shutdown; will resume at next start")
        }
        Err(CopyError::NoSpace { .. }) => {
            tracing::warn!(alert = %AlertKind::LowDiskSpace, %path, "not copied: {}", result.as_ref().unwrap_err())
        }
        Err(e) => tracing::warn!(%path, "not copied, retried next pass: {e}"),
    }
}
