//! What the daemon loop does at each beat, every `min(30 s, reconcile_interval_secs)`
//! (sooner when a service manager asks): it proves it is alive, to the manager and in
//! `status.json`, only while `supervisor::healthy` holds (no copy waiting, or bytes
//! moved since the last beat), so a hang stops the proof; and it sends the daily
//! summary once its minute has come. The beats come from the loop that does the work,
//! so a loop that hangs stops them.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Local;

use crate::status_file::StatusFile;
use crate::supervisor::{healthy, Supervisor};
use alert::notify::message::Message;
use alert::notify::worker::Notifier;
use config::Config;

/// What the loop knows at a beat: copies queued or in flight, and the bytes copies
/// have moved (`Mirror::progress`), to tell progress from a hang.
pub struct Pulse {
    busy: Box<dyn Fn() -> usize + Send + Sync>,
    progress: Arc<AtomicU64>,
    seen: u64,
}

impl Pulse {
    /// `busy` counts copies queued or in flight; `progress` is `Mirror::progress`.
    pub fn new(busy: Box<dyn Fn() -> usize + Send + Sync>, progress: Arc<AtomicU64>) -> Pulse {
        Pulse {
            busy,
            progress,
            seen: 0,
        }
    }

    /// True when the daemon may prove life now (`supervisor::healthy`); `in_pass`
    /// counts a running pass as busy.
    pub fn beat(&mut self, in_pass: bool) -> bool {
        let now = self.progress.load(Ordering::Relaxed);
        let moved = now != self.seen;
        self.seen = now;
        healthy(in_pass || (self.busy)() > 0, moved)
    }
}

/// The beat of a run and who hears it.
pub struct Beat<'a> {
    timer: Option<tokio::time::Interval>,
    pulse: Pulse,
    supervisor: &'a dyn Supervisor,
    /// A daemon's status and notifier; None for a single pass.
    daemon: Option<(&'a StatusFile, &'a Notifier)>,
    cfg: &'a Config,
}

impl<'a> Beat<'a> {
    /// The beat of a daemon (with its status and notifier) or of a single pass.
    pub fn new(
        cfg: &'a Config,
        pulse: Pulse,
        supervisor: &'a dyn Supervisor,
        daemon: Option<(&'a StatusFile, &'a Notifier)>,
    ) -> Beat<'a> {
        let proof = daemon.map(|_| rules::health::proof_every(cfg.reconcile_interval));
        let every = match (proof, supervisor.beat_every()) {
            (Some(p), Some(s)) => Some(p.min(s)),
            (p, s) => p.or(s),
        };
        Beat {
            timer: every.map(interval),
            pulse,
            supervisor,
            daemon,
            cfg,
        }
    }

    /// Resolves at the next beat; never when there is none.
    pub async fn next(&mut self) {
        match &mut self.timer {
            Some(t) => {
                t.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// What a beat does; `in_pass` counts a running pass as busy.
    pub async fn done(&mut self, in_pass: bool) {
        if self.pulse.beat(in_pass) {
            self.supervisor.alive();
            if let Some((status_file, _)) = self.daemon {
                status_file.write_with(|_| {}).await;
            }
        }
        if let (Some((status_file, notifier)), Some(at)) = (self.daemon, self.cfg.notify.daily_summary_at) {
            if let Some(text) = status_file.summary_if_due(at).await {
                send_summary(self.cfg, notifier, text);
            }
        }
    }
}

/// Sends the daily summary's text to every channel.
pub fn send_summary(cfg: &Config, notifier: &Notifier, text: String) {
    let host = config::host_name();
    notifier.send(Message::plain("summary", text, &cfg.site_name, &host, Local::now()));
}

fn interval(every: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

/// Awaits a pass, beating meanwhile: the first beat proves life while the pass lists
/// the trees; later ones only while copies move bytes, so a pass stuck on a hung disk
/// stops the proof (and a service manager's watchdog restarts the daemon).
pub async fn alive_while<F: Future>(pass: F, beat: &mut Beat<'_>) -> F::Output {
    tokio::pin!(pass);
    let mut first = true;
    loop {
        tokio::select! {
            out = &mut pass => return out,
            _ = beat.next() => {
                beat.done(!first).await;
                first = false;
            }
        }
    }
}
