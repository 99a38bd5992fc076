//! One reconciliation pass: check both folders, scan each tree once, remove stale
//! temporaries and expired recordings, queue every copy the plan asks for and wait for
//! them, check the disk, and sum it all up. The decisions come from `rules` (`plan`,
//! `retention`, `window`); this module carries them out and logs each step with its reason.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use chrono::Local;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::queue::{self, CopyQueue, Job, Report};
use crate::watch;
use config::Config;
use report::status::PassSummary;
use rules::alert::{AlertKind, Raised};
use rules::listing::{InProgress, Listing};
use rules::retention;
use rules::window::Window;
use rules::{batches, plan};
use store::copy::{CopyError, FileError, SyncOutcome};
use store::scan;
use store::volume::{self, Disk};
use store::{delete, manifest};

/// What a pass found and did.
#[derive(Debug, Default)]
pub struct PassResult {
    pub summary: PassSummary,
    pub raised: Vec<Raised>,
    pub disk: Option<Disk>,
    pub backup_available: bool,
    /// The smallest copy that did not fit: when the disk has that much free again, a
    /// daemon runs a pass at once instead of waiting for the tick.
    pub space_wanted: Option<u64>,
    /// Both trees as the pass leaves them (the backup listing brought up to date with
    /// its copies and deletions), for the coverage report; None when a tree could not
    /// be listed.
    pub listings: Option<Listings>,
    /// Recordings whose copy is now whole in the backup (copied, completed, appended
    /// or found current).
    landed: Vec<PathBuf>,
    /// Recordings whose in-progress copy (`NAME.dav.partial`) this pass started or
    /// brought up to date.
    followed: Vec<PathBuf>,
}

/// The source and backup listings after a pass.
#[derive(Debug, Default)]
pub struct Listings {
    pub source: Listing,
    pub backup: Listing,
}

impl PassResult {
    /// The pass in one line, for a service manager's status (systemd `STATUS=`).
    pub fn one_line(&self) -> String {
        let s = &self.summary;
        let when = s
            .finished_at
            .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        let mut kinds: Vec<&str> = self.raised.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        let alerts = if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(",")
        };
        format!(
            "last pass {when}: {} copied, {} updated, {} deleted, {} errors; alerts: {alerts}",
            s.copied + s.completed,
            s.updated + s.following,
            s.deleted,
            s.errors
        )
    }
}

fn raise(out: &mut PassResult, kind: AlertKind, message: String) {
    tracing::warn!(alert = %kind, "{message}");
    out.raised.push(Raised::new(kind, message));
}

/// Runs one pass. Never fails: every problem becomes a log line, a count or an alert.
/// `hints`, when the watcher runs, learns of every recording the pass finds still being
/// recorded, so the watcher follows it even if it never reports a change.
pub async fn pass(
    cfg: &Config,
    queue: &CopyQueue,
    hints: Option<&watch::Hints>,
    stop: CancellationToken,
    log_file: Option<PathBuf>,
) -> PassResult {
    let clock = Instant::now();
    let started = Local::now();
    let mut out = PassResult::default();
    out.summary.started_at = Some(started);
    out.summary.log_file = log_file;
    tracing::info!(source = %cfg.source_dir.display(), backup = %cfg.backup_dir.display(), "pass started");

    let (source, backup) = scan_both(cfg).await;
    out.backup_available = backup.is_ok();
    match (source, backup) {
        (Err(why), backup) => {
            raise(
                &mut out,
                AlertKind::SourceUnavailable,
                format!("{why}; nothing copied or deleted this pass"),
            );
            match backup {
                Err(why) => raise(&mut out, AlertKind::BackupUnavailable, why),
                // A source folder that is gone while the backup holds its recent
                // recordings is what a platform wipe looks like (it may delete the folder).
                Ok(backup) => {
                    let window = Window::of(Local::now().date_naive(), cfg.retention_days, &[&backup]);
                    if let Some(alert) = plan::wipe_alert(&Listing::default(), &backup, &window) {
                        raise(&mut out, alert.kind, alert.message);
                    }
                }
            }
        }
        (Ok(_), Err(why)) => {
            raise(
                &mut out,
                AlertKind::BackupUnavailable,
                format!("{why}; nothing copied or deleted this pass"),
            );
        }
        (Ok(source), Ok(backup)) => {
            let backup = reconcile(cfg, queue, hints, &stop, &source, backup, &mut out).await;
            out.listings = Some(Listings { source, backup });
        }
    }

    if out.backup_available {
        check_disk(cfg, &mut out);
    }
    let s = &out.summary;
    let free = out.disk.map_or("unknown".into(), |d| {
        format!("{} ({:.2}%)", volume::human(d.free_bytes), d.free_percent)
    });
    tracing::info!(
        scanned = s.scanned,
        copied = s.copied,
        updated = s.updated,
        following = s.following,
        completed = s.completed,
        bytes_copied = s.bytes_copied,
        up_to_date = s.up_to_date,
        deleted = s.deleted,
        errors = s.errors,
        alerts = out.raised.len(),
        duration_ms = clock.elapsed().as_millis() as u64,
        free = %free,
        "pass finished"
    );
    out.summary.finished_at = Some(Local::now());
    out
}

/// Lists the backup (only once its guard lets it be used), then the source, whose
/// recordings share their paths with the backup's: one copy of each path, not two
/// (about 6 MB at 100,000 recordings). Each an error line when it cannot be listed.
async fn scan_both(cfg: &Config) -> (Result<Listing, String>, Result<Listing, String>) {
    let (source_dir, backup_dir, log_dir) = (cfg.source_dir.clone(), cfg.backup_dir.clone(), cfg.log_dir.clone());
    let names = cfg.names.clone();
    let scans = tokio::task::spawn_blocking(move || {
        let backup = volume::ensure_backup_dir(&backup_dir, &log_dir).and_then(|ready| {
            if let volume::Ready::Marked { why } = ready {
                tracing::info!(path = %backup_dir.display(), "{why}");
            }
            scan::scan(&backup_dir, &names).map_err(|e| format!("cannot list {}: {e}", backup_dir.display()))
        });
        let none = Listing::default();
        let source = if source_dir.is_dir() {
            scan::scan_beside(&source_dir, &names, backup.as_ref().unwrap_or(&none))
                .map_err(|e| format!("cannot list {}: {e}", source_dir.display()))
        } else {
            Err(format!(
                "{} is missing or not a folder (is the recording disk mounted?)",
                source_dir.display()
            ))
        };
        (source, backup)
    })
    .await;
    match scans {
        Ok(pair) => pair,
        Err(e) => (Err(format!("scan failed: {e}")), Err(format!("scan failed: {e}"))),
    }
}

/// Reads the backup disk's free space; below `min_free_percent`, `low_disk_space`.
fn check_disk(cfg: &Config, out: &mut PassResult) {
    match volume::disk_of(&cfg.backup_dir) {
        Ok(disk) => {
            if disk.free_percent < cfg.min_free_percent {
                raise(
                    out,
                    AlertKind::LowDiskSpace,
                    format!(
                        "backup disk has {:.2}% free ({} of {}), below min_free_percent {}",
                        disk.free_percent,
                        volume::human(disk.free_bytes),
                        volume::human(disk.total_bytes),
                        cfg.min_free_percent
                    ),
                );
            }
            out.disk = Some(disk);
        }
        Err(e) => tracing::warn!("cannot read the backup disk's free space: {e}"),
    }
}

/// The part of a pass that needs both trees; returns the backup's listing as the pass
/// leaves it.
async fn reconcile(
    cfg: &Config,
    queue: &CopyQueue,
    hints: Option<&watch::Hints>,
    stop: &CancellationToken,
    source: &Listing,
    mut backup: Listing,
    out: &mut PassResult,
) -> Listing {
    for (rel, why) in source.errors.iter().chain(&backup.errors) {
        tracing::warn!(path = %rel.display(), "cannot read, skipped this pass: {why}");
        out.summary.errors += 1;
    }
    let today = Local::now().date_naive();
    let window = Window::of(today, cfg.retention_days, &[source, &backup]);
    let copies = plan::plan_copies(source, &backup, &window, SystemTime::now(), cfg.settle);
    out.summary.scanned = copies.in_window;
    out.summary.up_to_date = copies.up_to_date;
    tracing::info!(
        source_recordings = source.recordings.len(),
        in_window = copies.in_window,
        older = copies.too_old,
        backup_recordings = backup.recordings.len(),
        cutoff = %window.cutoff,
        to_copy = copies.jobs.len(),
        recording = copies.recording.len(),
        "scanned"
    );
    if let Some(hints) = hints {
        hints.newest(window.newest);
        for rel in &copies.recording {
            hints.recording(cfg.source_dir.join(rel));
        }
    }
    for alert in copies.alerts {
        raise(out, alert.kind, alert.message);
    }

    // Deletions first: they may free the room the copies need.
    for gone in prune(cfg, queue, &backup, &window, out).await {
        backup.recordings.remove(gone.as_path());
    }
    copy(queue, stop, copies.jobs, out).await;
    for rel in out.landed.drain(..) {
        if let Some((key, rec)) = source.recordings.get_key_value(rel.as_path()) {
            backup.in_progress.remove(&rel);
            backup.recordings.insert(key.clone(), *rec);
        }
    }
    for rel in out.followed.drain(..) {
        let rec = source
            .recordings
            .get(rel.as_path())
            .or(source.in_progress.get(&rel).map(|p| &p.rec));
        if let Some(rec) = rec {
            let partial = InProgress {
                rel: rules::names::partial_of(&rel),
                rec: *rec,
            };
            backup.in_progress.insert(rel, partial);
        }
    }
    let newest = source.recordings.values().map(|r| r.meta.mtime).max();
    let missing = source
        .recordings
        .iter()
        .filter(|(rel, r)| window.contains(r.date) && (!backup.recordings.contains_key(*rel) || queue.is_pending(rel)))
        .map(|(rel, _)| -> &Path { rel });
    queue
        .unprotected()
        .after_pass(missing, newest, backup.in_progress.len());
    if out.summary.errors > 0 {
        let msg = format!(
            "{} file(s) could not be read, copied or deleted this pass; see the pass log; they are retried next pass",
            out.summary.errors
        );
        raise(out, AlertKind::CopyErrors, msg);
    }
    backup
}

/// Removes stale temporaries and the recordings retention plans, unless that would
/// be more than half the backup at once and the operator has not allowed it; returns
/// the recordings deleted.
async fn prune(
    cfg: &Config,
    queue: &CopyQueue,
    backup: &Listing,
    window: &Window,
    out: &mut PassResult,
) -> Vec<PathBuf> {
    let stale = retention::stale_temps(backup, |t| {
        cfg.names.origin(t).is_some_and(|origin| queue.is_pending(&origin))
    });
    for (d, _) in delete(cfg, stale, out).await {
        tracing::info!(path = %d.rel.display(), reason = ?d.reason, "removed temporary");
    }
    let mut expired = retention::plan(backup, window, cfg.retention_days);
    let listed = backup
        .recordings
        .values()
        .chain(backup.in_progress.values().map(|p| &p.rec));
    let held = retention::Amount::of(listed.map(|r| r.meta.size));
    let planned = retention::Amount::of(expired.iter().map(|d| d.bytes));
    if let Some(why) = retention::mass_delete(planned, held, "the backup") {
        if cfg.allow_mass_delete {
            tracing::warn!(
                deletions = expired.len(),
                held = held.files,
                "--allow-mass-delete: deleting more than half of the backup as asked"
            );
        } else {
            if let (Some(first), Some(last)) = (expired.first(), expired.last()) {
                tracing::warn!(first = %first.rel.display(), last = %last.rel.display(), "would have deleted");
            }
            raise(out, AlertKind::RetentionRefused, why);
            expired.clear();
        }
    }
    let mut gone = Vec::new();
    for (d, bytes) in delete(cfg, expired, out).await {
        tracing::info!(path = %d.rel.display(), bytes, reason = ?d.reason, "deleted");
        out.summary.deleted += 1;
        gone.push(d.rel);
    }
    forget(cfg, &gone).await;
    gone
}

/// Takes the recordings retention deleted out of the manifest, and compacts it when
/// most of its lines are stale.
async fn forget(cfg: &Config, gone: &[PathBuf]) {
    if gone.is_empty() {
        return;
    }
    let (root, gone) = (cfg.backup_dir.clone(), gone.to_vec());
    let done = tokio::task::spawn_blocking(move || {
        let rels: Vec<&std::path::Path> = gone.iter().map(PathBuf::as_path).collect();
        manifest::forget(&root, &rels).and_then(|()| manifest::compact(&root))
    })
    .await;
    match done {
        Ok(Ok(true)) => tracing::info!("manifest compacted"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!("cannot update the manifest after retention: {e}"),
        Err(e) => tracing::warn!("cannot update the manifest after retention: {e}"),
    }
}

/// Queues every planned copy (small new ones in batches) and counts each report.
async fn copy(queue: &CopyQueue, stop: &CancellationToken, jobs: Vec<plan::CopyJob>, out: &mut PassResult) {
    let (reply, mut reports) = mpsc::unbounded_channel();
    let mut waiting = 0usize;
    for batch in batches::batches(jobs) {
        // At most `queue::CAPACITY` of the pass's jobs wait or run at once: a first
        // backfill of 100,000 recordings does not hold them all in memory.
        while waiting >= queue::CAPACITY {
            let Some(report) = next_report(&mut reports, stop).await else {
                return;
            };
            waiting -= 1;
            tally(out, report);
        }
        let batch = batch
            .into_iter()
            .map(|job| Job {
                rel: job.rel,
                stage: job.stage,
                reason: job.reason,
                ended: Some(job.ended),
                reply: vec![reply.clone()],
            })
            .collect();
        tokio::select! {
            queued = queue.submit_batch(batch) => waiting += queued,
            _ = stop.cancelled() => return,
        }
    }
    drop(reply);
    while waiting > 0 {
        let Some(report) = next_report(&mut reports, stop).await else {
            return;
        };
        waiting -= 1;
        tally(out, report);
    }
}

/// The next report of the pass's jobs; None at shutdown, or if every sender is gone.
async fn next_report(reports: &mut mpsc::UnboundedReceiver<Report>, stop: &CancellationToken) -> Option<Report> {
    tokio::select! {
        r = reports.recv() => r,
        _ = stop.cancelled() => None,
    }
}

/// What one finished copy adds to the pass's counts and alerts.
fn tally(out: &mut PassResult, report: Report) {
    let s = &mut out.summary;
    if let Ok(outcome) = &report.result {
        s.bytes_copied += outcome.bytes();
        if outcome.wrote_final() || *outcome == SyncOutcome::Current {
            out.landed.push(report.rel.clone());
        } else if matches!(outcome, SyncOutcome::Following { .. }) {
            out.followed.push(report.rel.clone());
        }
    }
    match report.result {
        Ok(SyncOutcome::Copied { .. }) => s.copied += 1,
        Ok(SyncOutcome::Appended { .. }) => s.updated += 1,
        Ok(SyncOutcome::Following { .. }) => s.following += 1,
        Ok(SyncOutcome::Completed { .. }) => s.completed += 1,
        Ok(SyncOutcome::Current) => s.up_to_date += 1,
        Ok(SyncOutcome::Kept {
            differs,
            beside,
            detail,
            ..
        }) => {
            let mut msg = format!("{}: backup kept as it was: {detail}", report.rel.display());
            if let (true, Some(b)) = (differs, beside) {
                msg.push_str(&format!("; the source's version is kept beside it as {}", b.display()));
            }
            out.raised.push(Raised::new(AlertKind::SourceShrunk, msg));
        }
        Err(CopyError::File(FileError::NoSpace { needed, available })) => {
            s.errors += 1;
            out.space_wanted = Some(out.space_wanted.map_or(needed, |w| w.min(needed)));
            let msg = format!(
                "{} did not fit on the backup disk ({} needed, {} free); retried as soon as there is room",
                report.rel.display(),
                volume::human(needed),
                volume::human(available)
            );
            out.raised.push(Raised::new(AlertKind::LowDiskSpace, msg));
        }
        Err(CopyError::Cancelled) => {}
        // The volume went away during the pass: one alert, not an error per file.
        Err(CopyError::BackupGone(why)) => {
            if out.backup_available {
                out.backup_available = false;
                let msg =
                    format!("the backup volume went away during the pass ({why}); copies stopped until it is back");
                out.raised.push(Raised::new(AlertKind::BackupUnavailable, msg));
            }
        }
        Err(_) => s.errors += 1,
    }
}

/// Carries out deletions off the async threads; failures are logged and counted.
async fn delete(cfg: &Config, list: Vec<retention::Deletion>, out: &mut PassResult) -> Vec<(retention::Deletion, u64)> {
    if list.is_empty() {
        return Vec::new();
    }
    let root = cfg.backup_dir.clone();
    let applied = tokio::task::spawn_blocking(move || delete::apply(&root, list))
        .await
        .unwrap_or_default();
    for (rel, why) in &applied.errors {
        tracing::warn!(path = %rel.display(), "not deleted: {why}");
        out.summary.errors += 1;
    }
    if applied.folders_removed > 0 {
        tracing::info!(count = applied.folders_removed, "removed emptied folders");
    }
    applied.deleted
}
