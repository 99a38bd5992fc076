//! Running under a service manager: what the daemon tells it, and the OS glue. The
//! daemon loop (`app::run`) calls a `Supervisor` at the moments a manager cares about
//! (started, each pass, alerts raised and cleared, proof of life, stopping, stopped);
//! `systemd` speaks the sd_notify protocol, `windows` the service control manager and
//! the Event Log; `Quiet` says nothing, for a console run. `unit` writes the systemd
//! unit, `linux` and `windows` install and drive the service.

use std::time::Duration;

use crate::status::Alert;

#[cfg(windows)]
pub mod eventlog;
#[cfg(unix)]
pub mod linux;
#[cfg(unix)]
pub mod systemd;
pub mod unit;
#[cfg(windows)]
pub mod windows;

/// What a service command did (a line for stdout), or its exit code and one line for
/// stderr.
pub type Outcome = Result<String, (u8, String)>;

/// The default service name (Windows service, systemd unit, Event Log source).
pub const DEFAULT_NAME: &str = "cctv-mirror";

/// What a service manager hears from the daemon. Every method has a do-nothing default.
pub trait Supervisor: Send + Sync {
    /// The daemon is up: its log is open and the watcher started (or is off); the
    /// first pass begins.
    fn started(&self) {}
    /// A pass ended; `line` sums it up in one line (time, copied, errors, alerts).
    fn pass_finished(&self, _line: &str) {}
    /// Alerts that appeared, and that went away, with the last pass.
    fn alerts_changed(&self, _raised: &[Alert], _cleared: &[Alert]) {}
    /// How often the daemon must prove it works (`alive`); None: never asked.
    fn beat_every(&self) -> Option<Duration> {
        None
    }
    /// Called from the daemon's own loop at `beat_every`, only while it is waiting
    /// (responsive) or its pass is making progress: a hang stops the calls.
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

/// The supervisor of `run`: systemd's notifications when systemd started it (it set
/// `NOTIFY_SOCKET`), else nobody.
pub fn of_run() -> std::sync::Arc<dyn Supervisor> {
    #[cfg(unix)]
    if let Some(n) = systemd::Notifier::from_env() {
        return std::sync::Arc::new(n);
    }
    std::sync::Arc::new(Quiet)
}
