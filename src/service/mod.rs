//! Running under a service manager: the OS glue. The daemon loop tells a `Supervisor`
//! (`crate::supervisor`) what a manager cares about; here `systemd` speaks the sd_notify
//! protocol and `windows` the service control manager and the Event Log. `unit` writes
//! the systemd unit, `linux` and `windows` install and drive the service.

use crate::supervisor::{Quiet, Supervisor};

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

/// Who the service runs as, when not the default (LocalSystem, root).
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub name: Option<String>,
    /// Windows only: the password, read from the variable `--password-env` names.
    pub password: Option<String>,
}

/// The default service name (Windows service, systemd unit, Event Log source).
pub const DEFAULT_NAME: &str = "cctv-mirror";

/// The supervisor of `run`: systemd's notifications when systemd started it (it set
/// `NOTIFY_SOCKET`), else nobody.
pub fn of_run() -> std::sync::Arc<dyn Supervisor> {
    #[cfg(unix)]
    if let Some(n) = systemd::Notifier::from_env() {
        return std::sync::Arc::new(n);
    }
    std::sync::Arc::new(Quiet)
}
