//! The one queue of copy jobs, shared by the reconciliation pass and the watcher, served
//! by `copy_workers` blocking workers. Jobs are keyed by the recording they serve (its
//! final name), so one recording is never copied by two workers at once, whatever name
//! the source has now (`NAME.dav_`, then `NAME.dav`). A job for a recording already
//! queued or in flight is not dropped: it waits in that recording's follow-up slot and
//! runs right after, merged with any other waiting there (the stronger stage wins), so a
//! close event that arrives during a copy is never lost. Each finished job is logged
//! here, once, whoever asked for it, counted in `Activity`, and reported back to the
//! asker when it wants the result.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::protection::Unprotected;
use report::activity::Activity;
use rules::alert::AlertKind;
use rules::stage::Stage;
use store::copy::{CopyError, FileError, Mirror, SyncOutcome, Synced, Verified};
use store::manifest;

/// One finished job.
#[derive(Debug, Clone)]
pub struct Report {
    /// The source as the job named it.
    pub rel: PathBuf,
    pub stage: Stage,
    pub result: Result<SyncOutcome, CopyError>,
}

/// A source file to sync, whether it is believed finished, why, and where to send the
/// report.
#[derive(Debug)]
pub struct Job {
    pub rel: PathBuf,
    pub stage: Stage,
    pub reason: String,
    /// When a finished recording ended (its modification time), for the protection lag.
    pub ended: Option<SystemTime>,
    /// Each sent the report once, when the job is done (or dropped unsent if the worker
    /// died). Several when jobs of several askers were merged.
    pub reply: Vec<mpsc::UnboundedSender<Report>>,
}

impl Job {
    /// One job doing what both ask: the newer name and reason, the stronger stage, and
    /// a report for each asker.
    fn merge(mut self, newer: Job) -> Job {
        self.reply.extend(newer.reply);
        Job {
            rel: newer.rel,
            stage: self.stage.max(newer.stage),
            reason: newer.reason,
            ended: newer.ended.or(self.ended),
            reply: self.reply,
        }
    }
}

/// Room for this many waiting jobs; the pass waits when it is full.
pub const CAPACITY: usize = 4096;

/// Told of each copy that took its final name, with its manifest entry (the offsite
/// tier's way in).
pub type Landed = Arc<dyn Fn(&Path, &manifest::Entry) + Send + Sync>;

/// Recordings queued or in flight, by key (`Names::key`), each with the job to run
/// after it.
type InFlight = Arc<Mutex<HashMap<PathBuf, Option<Job>>>>;

/// The handle to submit jobs. Cloning it is cheap; the workers stop once every clone is
/// dropped and the jobs already queued are done.
#[derive(Clone)]
pub struct CopyQueue {
    /// Sent to by `submit` (a batch of one) and `submit_batch`; closes when the last
    /// `CopyQueue` clone is dropped.
    tx: mpsc::Sender<Vec<Job>>,
    pending: InFlight,
    mirror: Arc<Mirror>,
    landed: Arc<OnceLock<Landed>>,
    unprotected: Arc<Unprotected>,
}

impl CopyQueue {
    /// Starts the dispatcher. The returned task ends after the queue is closed and the
    /// jobs in flight have finished.
    pub fn start(mirror: Arc<Mirror>, workers: usize, activity: Activity) -> (CopyQueue, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let pending: InFlight = Arc::default();
        let landed: Arc<OnceLock<Landed>> = Arc::default();
        let unprotected: Arc<Unprotected> = Arc::default();
        let worker = Worker {
            mirror: mirror.clone(),
            pending: pending.clone(),
            activity,
            landed: landed.clone(),
            unprotected: unprotected.clone(),
        };
        let task = tokio::spawn(dispatch(rx, worker, workers));
        let queue = CopyQueue {
            tx,
            pending,
            mirror,
            landed,
            unprotected,
        };
        (queue, task)
    }

    /// Has `landed` told of every copy that takes its final name from now on (set once).
    pub fn on_landed(&self, landed: Landed) {
        let _ = self.landed.set(landed);
    }

    /// Queues a job, waiting for room. When its recording is already queued or in
    /// flight, the job waits in the follow-up slot instead (returns true too: it will
    /// run and report). False for a path that is no recording, or once the queue has
    /// shut down.
    pub async fn submit(&self, job: Job) -> bool {
        self.submit_batch(vec![job]).await == 1
    }

    /// Queues jobs to be run together by one worker (`Mirror::sync_batch`: their whole
    /// new copies are flushed at once), each as `submit` would; returns how many will
    /// run and report.
    pub async fn submit_batch(&self, jobs: Vec<Job>) -> usize {
        let mut fresh = Vec::with_capacity(jobs.len());
        let mut queued = 0;
        {
            let mut pending = self.pending.lock().expect("pending map");
            for job in jobs {
                let Some(key) = self.mirror.names.key(&job.rel) else {
                    continue;
                };
                queued += 1;
                if let (Stage::Finished, Some(ended)) = (job.stage, job.ended) {
                    self.unprotected.queued(&key, ended);
                }
                if let Some(slot) = pending.get_mut(&key) {
                    *slot = Some(match slot.take() {
                        Some(waiting) => waiting.merge(job),
                        None => job,
                    });
                    continue;
                }
                pending.insert(key.clone(), None);
                fresh.push((key, job));
            }
        }
        if fresh.is_empty() {
            return queued;
        }
        let keys: Vec<PathBuf> = fresh.iter().map(|(k, _)| k.clone()).collect();
        let batch = fresh.into_iter().map(|(_, j)| j).collect();
        if self.tx.send(batch).await.is_err() {
            let mut pending = self.pending.lock().expect("pending map");
            for k in &keys {
                pending.remove(k);
            }
            return queued - keys.len();
        }
        queued
    }

    /// True while the recording `origin` (its key, `Names::origin`) is queued or being copied: its
    /// temporaries are not stale.
    pub fn is_pending(&self, origin: &Path) -> bool {
        self.pending.lock().expect("pending map").contains_key(origin)
    }

    /// What is not protected yet (finished recordings queued, in flight or failed).
    pub fn unprotected(&self) -> Arc<Unprotected> {
        self.unprotected.clone()
    }

    /// A probe of how many recordings are queued or in flight, which does not keep the
    /// queue open.
    pub fn length_probe(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let pending = self.pending.clone();
        move || pending.lock().map(|p| p.len()).unwrap_or(0)
    }
}

async fn dispatch(mut rx: mpsc::Receiver<Vec<Job>>, worker: Worker, workers: usize) {
    let worker = Arc::new(worker);
    let slots = Arc::new(Semaphore::new(workers));
    while let Some(batch) = rx.recv().await {
        let permit = slots.clone().acquire_owned().await.expect("semaphore is never closed");
        let worker = worker.clone();
        // Copies are blocking file I/O: they run on tokio's blocking pool, never on the
        // async workers that serve signals and timers.
        tokio::task::spawn_blocking(move || {
            worker.run(batch);
            drop(permit);
        });
    }
    // Queue closed: wait for the copies in flight.
    let _ = slots.acquire_many(workers as u32).await;
}

/// What one blocking worker needs to run a batch and its follow-ups.
struct Worker {
    mirror: Arc<Mirror>,
    pending: InFlight,
    activity: Activity,
    landed: Arc<OnceLock<Landed>>,
    unprotected: Arc<Unprotected>,
}

impl Worker {
    /// Runs a batch, then each follow-up job that arrived for one of its recordings
    /// meanwhile, until none is waiting.
    fn run(&self, batch: Vec<Job>) {
        let mut next: Vec<Job> = if batch.len() == 1 {
            batch
        } else {
            let asked: Vec<(PathBuf, Stage)> = batch.iter().map(|j| (j.rel.clone(), j.stage)).collect();
            let results = self.mirror.sync_batch(&asked);
            batch
                .into_iter()
                .zip(results)
                .filter_map(|(job, result)| self.finish(job, result))
                .collect()
        };
        while let Some(job) = next.pop() {
            let result = self.mirror.sync(&job.rel, job.stage);
            next.extend(self.finish(job, result));
        }
    }

    /// Logs, counts and reports one finished job, and records the final copy it wrote
    /// in the manifest; returns the job that waited for its recording, if any.
    fn finish(&self, job: Job, result: Result<Synced, CopyError>) -> Option<Job> {
        let key = self.mirror.names.key(&job.rel).unwrap_or_else(|| job.rel.clone());
        let result = result.map(|synced| {
            if let Some(verified) = synced.verified {
                self.record(verified);
            }
            synced.outcome
        });
        log_result(&job, &result);
        self.activity.record(&job.rel, &result);
        if job.stage == Stage::Finished && result.is_ok() {
            self.unprotected.protected(&key);
        }
        // Taken under the same lock that submit uses, so a job submitted from now on
        // finds the key gone and is queued afresh.
        let next = {
            let mut pending = self.pending.lock().expect("pending map");
            let next = pending.get_mut(&key).and_then(Option::take);
            if next.is_none() {
                pending.remove(&key);
            }
            next
        };
        let report = Report {
            rel: job.rel,
            stage: job.stage,
            result,
        };
        for reply in job.reply {
            let _ = reply.send(report.clone());
        }
        next
    }
}

impl Worker {
    /// Appends a verified copy's entry to the manifest, and tells `landed` of it.
    fn record(&self, v: Verified) {
        let entry = manifest::Entry::new(&v.rel, v.size, v.blake3);
        match manifest::append(&self.mirror.backup_dir, std::slice::from_ref(&entry)) {
            Ok(()) => {
                if let Some(landed) = self.landed.get() {
                    landed(&v.rel, &entry);
                }
            }
            Err(e) => tracing::warn!(path = %v.rel.display(), "not recorded in the manifest: {e}"),
        }
    }
}

fn log_result(job: &Job, result: &Result<SyncOutcome, CopyError>) {
    let path = job.rel.display();
    let reason = &job.reason;
    match result {
        Ok(SyncOutcome::Copied { bytes }) => tracing::info!(%path, bytes, ?reason, "copied"),
        Ok(SyncOutcome::Appended { bytes: 0 }) => tracing::info!(
            %path,
            bytes = 0,
            ?reason,
            "updated: the backup already held every byte (an update stopped before its end); its time and manifest entry now match"
        ),
        Ok(SyncOutcome::Appended { bytes }) => {
            tracing::info!(%path, bytes, ?reason, "updated: appended new bytes")
        }
        Ok(SyncOutcome::Following { bytes, started: true }) => {
            tracing::info!(%path, bytes, ?reason, "recording in progress: in-progress copy started")
        }
        Ok(SyncOutcome::Following { bytes, started: false }) if *bytes > 0 => {
            tracing::info!(%path, bytes, ?reason, "recording in progress: in-progress copy followed")
        }
        Ok(SyncOutcome::Completed { bytes }) => {
            tracing::info!(%path, bytes, ?reason, "finished: in-progress copy completed and renamed")
        }
        Ok(SyncOutcome::Current | SyncOutcome::Following { .. }) => tracing::debug!(%path, "already current"),
        Ok(SyncOutcome::Kept {
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
        Err(CopyError::BackupGone(_)) => {
            tracing::warn!(alert = %AlertKind::BackupUnavailable, %path, "not copied: {}", result.as_ref().unwrap_err())
        }
        Err(CopyError::File(FileError::NoSpace { .. })) => {
            tracing::warn!(alert = %AlertKind::LowDiskSpace, %path, "not copied: {}", result.as_ref().unwrap_err())
        }
        Err(e) => tracing::warn!(%path, "not copied, tried again later: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::copy::ATTEMPTS;

    /// The manifest entry of a copy damaged once before its read-back holds the
    /// source's hash; a copy damaged at every try is an error and has none.
    #[test]
    fn the_manifest_holds_the_sources_hash_and_nothing_for_a_damaged_copy() {
        let (_t, m) = store::testing::setup();
        let a = vec![7u8; 300_000];
        std::fs::write(m.source_dir.join("a.dav"), &a).unwrap();
        std::fs::write(m.source_dir.join("b.dav"), b"never whole").unwrap();
        let mirror = Arc::new(m);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let results = runtime.block_on(async {
            let (queue, task) = CopyQueue::start(mirror.clone(), 1, Activity::new());
            let (reply, mut reports) = mpsc::unbounded_channel();
            let mut results = Vec::new();
            for (name, faults) in [("a.dav", 1), ("b.dav", ATTEMPTS)] {
                mirror.faults.arm(faults);
                let job = Job {
                    rel: PathBuf::from(name),
                    stage: Stage::Finished,
                    reason: "test".into(),
                    ended: None,
                    reply: vec![reply.clone()],
                };
                assert!(queue.submit(job).await);
                results.push(reports.recv().await.unwrap().result);
            }
            drop(queue);
            task.await.unwrap();
            results
        });
        assert!(
            matches!(results[0], Ok(SyncOutcome::Copied { bytes: 300_000 })),
            "{:?}",
            results[0]
        );
        assert!(
            matches!(results[1], Err(CopyError::File(FileError::Damaged(_)))),
            "{:?}",
            results[1]
        );
        let (live, _) = manifest::load(&mirror.backup_dir).unwrap();
        assert_eq!(live["a.dav"].blake3, blake3::hash(&a).to_hex().to_string());
        assert!(!live.contains_key("b.dav"));
    }

    #[test]
    fn a_merged_job_does_what_both_asked_and_reports_to_both() {
        let (pass, mut pass_reports) = mpsc::unbounded_channel();
        let (watcher, mut watcher_reports) = mpsc::unbounded_channel();
        let waiting = Job {
            rel: PathBuf::from("d/a.dav_"),
            stage: Stage::Finished,
            reason: "missing from the backup".into(),
            ended: None,
            reply: vec![pass],
        };
        let newer = Job {
            rel: PathBuf::from("d/a.dav"),
            stage: Stage::Recording,
            reason: "recording: following it".into(),
            ended: None,
            reply: vec![watcher],
        };
        let merged = waiting.merge(newer);
        assert_eq!(merged.rel, PathBuf::from("d/a.dav"), "the newest name");
        assert_eq!(merged.stage, Stage::Finished, "the stronger stage");
        assert_eq!(merged.reply.len(), 2);
        let report = Report {
            rel: merged.rel.clone(),
            stage: merged.stage,
            result: Ok(SyncOutcome::Current),
        };
        for r in &merged.reply {
            r.send(report.clone()).unwrap();
        }
        assert!(pass_reports.try_recv().is_ok(), "the pass still gets its report");
        assert!(watcher_reports.try_recv().is_ok());
    }
}
