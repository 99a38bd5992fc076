//! The work after a pass: refreshing `log_dir/coverage.json` and `coverage.html` from
//! the pass's listings (no second walk), and once a night starting the verification
//! of one slice of the backup (`rules::scrub`), which runs beside the passes and
//! leaves its findings in `scrub.json`; while problems stand, each pass raises
//! `backup_corrupt`. Runs off the async threads; a failure is a log line, never the
//! pass's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Local;
use tokio_util::sync::CancellationToken;

use crate::pass::Listings;
use config::Config;
use report::coverage::Bucket;
use report::{coverage, scrub};
use rules::alert::{AlertKind, Raised};
use rules::scrub::due;
use rules::slice::Slice;
use store::spans::SpanCache;
use store::verify::{self, Scope};

/// What upkeep keeps between passes.
pub struct Upkeep {
    /// Spans read from frames.
    spans: Arc<Mutex<SpanCache>>,
    /// A verification is running.
    scrubbing: Arc<AtomicBool>,
    /// The daemon's stop: a running verification stops after its file.
    stop: CancellationToken,
    /// A daemon verifies beside its passes; `run --once` waits for it before exiting.
    beside: bool,
}

impl Upkeep {
    pub fn new(stop: CancellationToken, daemon: bool) -> Upkeep {
        Upkeep {
            spans: Arc::default(),
            scrubbing: Arc::default(),
            stop,
            beside: daemon,
        }
    }

    /// After a pass: the coverage files (with the offsite column when `bucket`, its
    /// prefix and known objects, is given), the night's verification when due, and
    /// `backup_corrupt` while a verification's problems stand.
    pub async fn after_pass(
        &self,
        cfg: &Arc<Config>,
        (listings, bucket): (Option<Listings>, Option<Bucket>),
        raised: &mut Vec<Raised>,
    ) {
        let backup_seen = listings.is_some();
        if let Some(l) = listings {
            self.coverage(cfg, l, bucket).await;
        }
        if backup_seen {
            let last_night = read_log(cfg).await.last_night;
            if let Some(scrub) = self.scrub_if_due(cfg, last_night).filter(|_| !self.beside) {
                let _ = scrub.await;
            }
        }
        // Read again: a verification that just ended may have changed it.
        if let Some(message) = read_log(cfg).await.alert() {
            raised.push(Raised::new(AlertKind::BackupCorrupt, message));
        }
    }

    async fn coverage(&self, cfg: &Arc<Config>, l: Listings, bucket: Option<Bucket>) {
        let (cfg, spans) = (cfg.clone(), self.spans.clone());
        let done = tokio::task::spawn_blocking(move || {
            let mut cache = spans.lock().unwrap_or_else(|p| p.into_inner());
            let started = std::time::Instant::now();
            let doc = coverage::build(
                &cfg,
                (&l.backup, Some(&l.source)),
                &mut cache,
                Local::now(),
                (cfg.retention_days, bucket.as_ref()),
            );
            coverage::write_files(&cfg.log_dir, &doc).map(|()| (doc, started.elapsed()))
        })
        .await;
        match done {
            Ok(Ok((doc, took))) => tracing::info!(
                complete = doc.verdict.counts.complete,
                gaps = doc.verdict.counts.gaps,
                missing_secs = doc.verdict.counts.missing_secs,
                duration_ms = took.as_millis() as u64,
                "coverage: {}",
                doc.verdict.sentence
            ),
            Ok(Err(e)) => tracing::warn!("cannot write the coverage report in the log folder: {e}"),
            Err(e) => tracing::warn!("the coverage report failed: {e}"),
        }
    }

    /// Starts the night's verification when one is due and none runs.
    fn scrub_if_due(
        &self,
        cfg: &Arc<Config>,
        last_night: Option<chrono::NaiveDate>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let now = Local::now();
        let slice = due(now.naive_local(), last_night, cfg.scrub_days)?;
        if self.scrubbing.swap(true, Ordering::SeqCst) {
            return None;
        }
        let (cfg, running, stop) = (cfg.clone(), self.scrubbing.clone(), self.stop.clone());
        Some(tokio::task::spawn_blocking(move || {
            scrub_slice(&cfg, slice, &stop);
            running.store(false, Ordering::SeqCst);
            // It ends between passes: what it freed goes back now, not after the next.
            crate::heap::give_back_freed();
        }))
    }
}

/// `scrub.json`, read off the async threads.
async fn read_log(cfg: &Arc<Config>) -> scrub::ScrubLog {
    let cfg = cfg.clone();
    tokio::task::spawn_blocking(move || scrub::read(&cfg.log_dir))
        .await
        .unwrap_or_default()
}

/// Verifies one slice and files what it found in `scrub.json`.
fn scrub_slice(cfg: &Config, slice: Slice, stop: &CancellationToken) {
    tracing::info!(slice = %slice, "nightly verification started");
    let scope = Scope { since: None, slice };
    let go_on = &mut |_: u64, _: u64| !stop.is_cancelled();
    let outcome = match verify::verify(&cfg.backup_dir, &cfg.names, scope, go_on) {
        Ok(o) => o,
        Err(why) => {
            tracing::warn!(slice = %slice, "nightly verification not finished: {why}");
            return;
        }
    };
    if let Some(why) = &outcome.manifest_not_updated {
        tracing::warn!("{why}");
    }
    for f in &outcome.problems {
        tracing::warn!(path = %f.path, alert = %AlertKind::BackupCorrupt, "{}", f.problem.describe());
    }
    tracing::info!(
        slice = %slice,
        files = outcome.files,
        bytes = outcome.bytes,
        secs = outcome.secs,
        adopted = outcome.adopted,
        adopted_unverified = outcome.adopted_unverified.len(),
        problems = outcome.problems.len(),
        "nightly verification finished"
    );
    let now = Local::now();
    let mut log = scrub::read(&cfg.log_dir);
    log.merge(scope, &outcome, now);
    log.last_night = Some(now.date_naive());
    if let Err(e) = scrub::write(&cfg.log_dir, &log) {
        tracing::warn!("cannot write {}: {e}", scrub::FILE_NAME);
    }
}
