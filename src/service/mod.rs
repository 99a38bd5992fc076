//! Running under a service manager: the OS glue behind the daemon's `Supervisor`
//! (`engine::supervisor`), and installing and driving the service.

use crate::engine::exit;
use crate::engine::supervisor::{Quiet, Supervisor};

#[cfg(windows)]
pub mod eventlog;
#[cfg(unix)]
pub mod linux;
#[cfg(unix)]
pub mod systemd;
pub mod unit;
#[cfg(windows)]
pub mod windows;

/// What a service command did (a line for stdout), or why it failed.
pub type ServiceResult = Result<String, Failed>;

/// Why a service command failed: its documented exit code and one line for stderr
/// (empty when already said, as a configuration's error is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub code: u8,
    pub why: String,
}

impl Failed {
    /// The OS or the service manager refused (`exit::CANNOT_RUN`).
    pub fn cannot_run(why: impl Into<String>) -> Failed {
        Failed {
            code: exit::CANNOT_RUN,
            why: why.into(),
        }
    }

    /// The command or the configuration is wrong, or nothing is installed (`exit::BAD_CONFIG`).
    pub fn bad_usage(why: impl Into<String>) -> Failed {
        Failed {
            code: exit::BAD_CONFIG,
            why: why.into(),
        }
    }

    /// The service is not running (`exit::PROBLEMS`).
    pub fn problems(why: impl Into<String>) -> Failed {
        Failed {
            code: exit::PROBLEMS,
            why: why.into(),
        }
    }
}

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
    if let Some(n) = systemd::Systemd::from_env() {
        return std::sync::Arc::new(n);
    }
    std::sync::Arc::new(Quiet)
}
