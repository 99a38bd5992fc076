//! The daemon's one owner of `status.json`: what it shows as last written, and the two
//! things that refresh it, the tick loop after each pass (stepping the alert life cycle
//! and the daily summary's counts) and the status writer after each batch of copies.
//! Its lock keeps their writes from crossing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Local;
use tokio_util::sync::CancellationToken;

use crate::mode::Mode;
use crate::pass::PassResult;
use alert::notify::summary;
use config::Config;
use report::activity::{Activity, Totals};
use report::status::ChannelState;
use report::status::{self, OffsiteStatus, Status};
use rules::alert::{lifecycle, Alert, Event};
use rules::run::RunState;

/// After a copy, the status writer waits this long for more before writing, so a burst
/// of copies costs one write a second, not one per file.
const STATUS_BATCH: Duration = Duration::from_secs(1);

/// `status.json` as last written, and what refreshes it. Shared by the tick loop (after
/// each pass) and the status writer task (after copies); the lock also keeps their
/// writes from crossing.
#[derive(Clone)]
pub struct StatusFile {
    status: Arc<Mutex<Status>>,
    log_dir: Arc<std::path::Path>,
    activity: Activity,
    daemon: bool,
    queue_length: Arc<dyn Fn() -> usize + Send + Sync>,
    /// How often a lasting alert is announced again (`notify.remind_hours`).
    remind: Option<Duration>,
    notify_states: Arc<dyn Fn() -> Vec<ChannelState> + Send + Sync>,
    /// The offsite tier's state, when there is one.
    offsite: Option<Arc<dyn Fn() -> OffsiteStatus + Send + Sync>>,
}

impl StatusFile {
    pub fn new(
        cfg: &Config,
        mode: Mode,
        activity: Activity,
        queue_length: impl Fn() -> usize + Send + Sync + 'static,
        notify_states: impl Fn() -> Vec<ChannelState> + Send + Sync + 'static,
    ) -> StatusFile {
        // Alerts carry over from the last run, so `since` survives restarts and an
        // alert is announced once however the program is run.
        let alerts: Vec<Alert> = alert::state::load(&cfg.log_dir);
        // The last pass stays the last until this run's first ends.
        let before = status::read(&cfg.log_dir);
        let status = Status {
            updated_at: Local::now(),
            mode: mode.run_mode(),
            state: RunState::Starting,
            version: crate::version::VERSION.into(),
            pid: std::process::id(),
            backup_available: before.as_ref().is_some_and(|b| b.backup_available),
            disk: before.as_ref().and_then(|b| b.disk),
            last_pass: before.and_then(|b| b.last_pass),
            alerts,
            daemon: None,
            notify: Vec::new(),
            offsite: None,
        };
        StatusFile {
            status: Arc::new(Mutex::new(status)),
            log_dir: cfg.log_dir.clone().into(),
            activity,
            daemon: mode != Mode::Once,
            queue_length: Arc::new(queue_length),
            remind: cfg.notify.remind,
            notify_states: Arc::new(notify_states),
            offsite: None,
        }
    }

    /// The same, showing the offsite tier's state too.
    pub fn with_offsite(self, state: impl Fn() -> OffsiteStatus + Send + Sync + 'static) -> StatusFile {
        StatusFile {
            offsite: Some(Arc::new(state)),
            ..self
        }
    }

    /// Records the pass, steps the alert life cycle and keeps its state; returns the
    /// events to announce, and whether any alert is active.
    pub async fn after_pass(&self, result: PassResult, state: RunState) -> (Vec<Event>, bool) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (log_dir, remind) = (self.log_dir.clone(), self.remind);
        self.activity.deleted(result.summary.deleted as u64);
        self.write_with(move |s| {
            let (active, events) = lifecycle::step(&s.alerts, &result.raised, Local::now(), remind);
            if let Err(e) = alert::state::save(&log_dir, &active) {
                tracing::error!(
                    "cannot keep the alerts in {}: {e}",
                    log_dir.join(alert::state::FILE_NAME).display()
                );
            }
            let _ = tx.send((events, !active.is_empty()));
            s.alerts = active;
            s.state = state;
            s.backup_available = result.backup_available;
            s.disk = result.disk;
            s.last_pass = Some(result.summary);
        })
        .await;
        rx.await.unwrap_or_default()
    }

    /// Adds the last pass (and the copy jobs since the one before) to the daily
    /// summary's counters, kept in `log_dir` so they add up across `--once` runs.
    pub async fn count_for_summary(&self, moved: Totals) {
        let status_file = self.clone();
        let job = move || {
            let last_pass = status_file.lock().last_pass.clone();
            let mut counts = summary::load(&status_file.log_dir);
            if let Some(pass) = &last_pass {
                counts.add(pass, &moved, Local::now());
            }
            status_file.keep_counts(&counts);
        };
        let _ = tokio::task::spawn_blocking(job).await;
    }

    /// The daily summary's text when it is due now (its counters then restart).
    pub async fn summary_if_due(&self, at: chrono::NaiveTime) -> Option<String> {
        let status_file = self.clone();
        let job = move || {
            let now = Local::now();
            let counts = summary::load(&status_file.log_dir);
            if !summary::due(now, at, counts.last_sent) {
                return None;
            }
            let s = status_file.lock().clone();
            let mut text = summary::text(&counts, s.last_pass.as_ref(), &s.alerts, s.disk.as_ref());
            text.extend(s.offsite.as_ref().map(summary::offsite));
            status_file.keep_counts(&summary::Counts {
                last_sent: Some(now.date_naive()),
                ..Default::default()
            });
            Some(text)
        };
        tokio::task::spawn_blocking(job).await.ok().flatten()
    }

    fn keep_counts(&self, counts: &summary::Counts) {
        if let Err(e) = summary::save(&self.log_dir, counts) {
            tracing::warn!("cannot keep the daily summary's counts: {e}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `update` on the blocking pool: the write ends in an fsync.
    pub async fn write_with(&self, change: impl FnOnce(&mut Status) + Send + 'static) {
        let status_file = self.clone();
        let _ = tokio::task::spawn_blocking(move || status_file.update(change)).await;
    }

    /// The status as it would be written now (for `/metrics` and the page).
    pub fn current(&self) -> Status {
        let mut s = self.lock().clone();
        self.refresh(&mut s);
        s
    }

    /// The live parts: the daemon's activity, the channels, the offsite tier.
    fn refresh(&self, s: &mut Status) {
        if self.daemon {
            s.daemon = Some(self.activity.snapshot((self.queue_length)()));
        }
        s.notify = (self.notify_states)();
        s.offsite = self.offsite.as_ref().map(|state| state());
    }

    /// Applies `change` and replaces the file (small, and fsynced: a moment's blocking).
    pub fn update(&self, change: impl FnOnce(&mut Status)) {
        let mut s = self.lock();
        change(&mut s);
        s.updated_at = Local::now();
        self.refresh(&mut s);
        // A daemon proves it is alive from its start; a single pass has nothing worth
        // showing before it ends.
        if s.last_pass.is_none() && !self.daemon {
            return;
        }
        if let Err(e) = status::write(&self.log_dir, &s) {
            tracing::error!("cannot write {}: {e}", self.log_dir.join(status::FILE_NAME).display());
        }
    }

    /// The daemon's status writer: after copies (and watcher state changes), waits a
    /// moment for more, then writes once. Ends at shutdown.
    pub async fn write_after_copies(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = self.activity.changed() => {}
                _ = stop.cancelled() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(STATUS_BATCH) => {}
                _ = stop.cancelled() => return,
            }
            self.write_with(|_| {}).await;
        }
    }
}
