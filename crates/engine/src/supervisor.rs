//! The daemon's side of a service manager, as a port: the moments a manager cares about
//! (started, each pass, alerts raised and cleared, proof of life, stopping, stopped, a
//! fatal error), which the daemon loop (`app::run`) reports. `service::systemd` and
//! `service::windows` implement it; `Quiet` says nothing, for a console run.

use std::time::Duration;

use rules::alert::Event;

/// What a service manager hears from the daemon. Every method has a do-nothing default.
pub trait Supervisor: Send + Sync {
    /// The daemon is up: its log is open and the watcher started (or is off); the
    /// first pass begins.
    fn started(&self) {}
    /// A pass ended; `line` sums it up in one line (time, copied, errors, alerts).
    fn pass_finished(&self, _line: &str) {}
    /// The alert life cycle's events of the last pass (raised, cleared, reminder).
    fn alerts_changed(&self, _events: &[Event]) {}
    /// How often the daemon must prove it works (`alive`); None: never asked.
    fn beat_every(&self) -> Option<Duration> {
        None
    }
    /// Called from the daemon's own loop at `beat_every`, only when `healthy` says so:
    /// a loop that hangs, or copies stuck on a hung disk, stop the calls.
    fn alive(&self) {}
    /// A stop was asked for; copies in flight are finishing or being discarded.
    fn stopping(&self) {}
    /// The daemon has stopped; the process is about to exit.
    fn stopped(&self) {}
    /// A problem that stops the daemon.
    fn fatal(&self, _what: &str) {}
}

/// The supervisor of a console run: nothing to tell.
pub struct Quiet;

impl Supervisor for Quiet {}

/// Whether the daemon may prove it is alive at a beat. The caller is the daemon loop
/// itself, so that it runs at all shows the loop answers; besides, copies must not be
/// stuck: either none is queued or in flight (`busy`, which a pass past its first beat
/// counts as too), or bytes moved since the last beat (every 4 MiB chunk moves them).
pub fn healthy(busy: bool, moved: bool) -> bool {
    !busy || moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_copies_stop_the_proof() {
        assert!(healthy(false, false), "idle and answering");
        assert!(healthy(true, true), "copying, bytes moved");
        assert!(!healthy(true, false), "copies queued or running, nothing moved: stuck");
    }
}
