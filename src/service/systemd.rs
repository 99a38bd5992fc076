//! systemd's side of a `Type=notify` service, spoken only when systemd set
//! `NOTIFY_SOCKET`: `READY=1` once the first pass has finished (the watcher is up
//! before it), `STATUS=` one line after each pass, `WATCHDOG=1` at half of
//! `WATCHDOG_USEC` from the daemon loop while it proves it works (and, before it is
//! ready, `EXTEND_TIMEOUT_USEC` so a long first backfill is not taken for a hung
//! start), `STOPPING=1` when it begins to stop.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::engine::supervisor::Supervisor;

/// A datagram socket to systemd's notification address.
pub struct Systemd {
    sock: UnixDatagram,
    addr: std::os::unix::net::SocketAddr,
    watchdog: Option<Duration>,
    ready: AtomicBool,
}

impl Systemd {
    /// From the environment systemd gives a service; None outside one. The watchdog
    /// applies when `WATCHDOG_USEC` is set and `WATCHDOG_PID`, if set, is this process.
    pub fn from_env() -> Option<Systemd> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let addr = socket_addr(path.to_str()?)?;
        let sock = UnixDatagram::unbound().ok()?;
        let pid_ok = std::env::var("WATCHDOG_PID").map_or(true, |p| p.trim() == std::process::id().to_string());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && pid_ok)
            .map(|u| Duration::from_micros(u / 2));
        Some(Systemd {
            sock,
            addr,
            watchdog,
            ready: AtomicBool::new(false),
        })
    }

    /// Sends one message; a failure is logged at debug level only (systemd may be
    /// restarting; the daemon's work matters more).
    pub fn send(&self, msg: &str) {
        if let Err(e) = self.sock.send_to_addr(msg.as_bytes(), &self.addr) {
            tracing::debug!("cannot notify systemd: {e}");
        }
    }
}

/// A path, or an abstract address written `@name` (Linux).
fn socket_addr(s: &str) -> Option<std::os::unix::net::SocketAddr> {
    if let Some(name) = s.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            return std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).ok();
        }
        #[cfg(not(target_os = "linux"))]
        return None;
    }
    std::os::unix::net::SocketAddr::from_pathname(s).ok()
}

impl Supervisor for Systemd {
    fn pass_finished(&self, line: &str) {
        let status = format!("STATUS={}", line.replace('\n', " "));
        if self.ready.swap(true, Ordering::SeqCst) {
            self.send(&status);
        } else {
            self.send(&format!("READY=1\n{status}"));
        }
    }

    fn beat_every(&self) -> Option<Duration> {
        self.watchdog
    }

    fn alive(&self) {
        match (self.ready.load(Ordering::SeqCst), self.watchdog) {
            (true, _) => self.send("WATCHDOG=1"),
            // Still in the first pass, and making progress: more time to start.
            (false, Some(beat)) => self.send(&format!("EXTEND_TIMEOUT_USEC={}", (beat * 4).as_micros())),
            (false, None) => {}
        }
    }

    fn stopping(&self) {
        self.send("STOPPING=1");
    }
}
