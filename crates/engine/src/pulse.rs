//! The daemon's proof of life to a service manager: a beat every `beat_every`, given
//! only while `supervisor::healthy` holds (no copy waiting, or bytes moved since the
//! last beat), so a pass or copy stuck on a hung disk stops the proof.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::supervisor::{healthy, Supervisor};

/// The timer of the supervisor's proof of life, if it asks for one.
pub fn beat_timer(supervisor: &dyn Supervisor) -> Option<tokio::time::Interval> {
    supervisor.beat_every().map(|every| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    })
}

pub async fn next_beat(beat: &mut Option<tokio::time::Interval>) {
    match beat {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Awaits a pass, proving life at each beat only while copies move bytes (or for the
/// first beat, while it lists the trees): a pass stuck on a hung disk stops the proof,
/// and a service manager's watchdog then restarts the daemon.
pub async fn alive_while<F: Future>(pass: F, pulse: &mut Pulse, supervisor: &dyn Supervisor) -> F::Output {
    let mut beat = beat_timer(supervisor);
    tokio::pin!(pass);
    let mut first = true;
    loop {
        tokio::select! {
            out = &mut pass => return out,
            _ = next_beat(&mut beat) => {
                if pulse.beat(!first) {
                    supervisor.alive();
                }
                first = false;
            }
        }
    }
}

/// What the daemon loop knows at a beat: copies queued or in flight, and the bytes
/// copies have moved (`Mirror::progress`), to tell progress from a hang.
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
