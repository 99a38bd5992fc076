//! One run per `log_dir`: a run holds `log_dir/run.lock` locked for its life and names
//! itself in `run.json` beside it. The OS lets the lock go when the process ends,
//! however it ends (kill -9, a crash, the machine off), so a free lock means nothing
//! runs, at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use rules::run::{beside, Beside, RunMode};

use crate::exit;
use crate::supervisor::Supervisor;

/// The locked file (empty: on Windows a locked range cannot be read by others).
pub const LOCK_FILE: &str = "run.lock";
/// Who holds the lock.
pub const HOLDER_FILE: &str = "run.json";

/// The run holding the lock, as it named itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub mode: RunMode,
    pub since: DateTime<Local>,
}

impl Holder {
    /// "the daemon (pid 42, since 2027-02-01 10:00:00)".
    pub fn describe(&self) -> String {
        let what = match self.mode {
            RunMode::Daemon => "the daemon",
            RunMode::Once => "a single pass",
        };
        format!(
            "{what} (pid {}, since {})",
            self.pid,
            self.since.format("%Y-%m-%d %H:%M:%S")
        )
    }
}

/// The lock, held until dropped.
#[derive(Debug)]
pub struct Held {
    _file: File,
    holder: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.holder);
    }
}

/// Whether a run holds the lock of a `log_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Nothing runs.
    Free,
    /// A run holds it; who, when `run.json` says.
    Held(Option<Holder>),
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum NotTaken {
    /// Another run holds it; who, when `run.json` says.
    Busy(Option<Holder>),
    /// The lock file cannot be made or locked.
    Failed(io::Error),
}

/// Takes the lock for a run in `mode`, trying for up to `patience` (a `status` looking
/// at the lock holds it for a moment).
pub fn take(log_dir: &Path, mode: RunMode, patience: Duration) -> Result<Held, NotTaken> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(log_dir.join(LOCK_FILE))
        .map_err(NotTaken::Failed)?;
    let until = std::time::Instant::now() + patience;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => return Err(NotTaken::Busy(holder(log_dir))),
            Err(TryLockError::Error(e)) => return Err(NotTaken::Failed(e)),
        }
    }
    let me = Holder {
        pid: std::process::id(),
        mode,
        since: Local::now(),
    };
    report::json_file::replace(log_dir, HOLDER_FILE, &me).map_err(NotTaken::Failed)?;
    Ok(Held {
        _file: file,
        holder: log_dir.join(HOLDER_FILE),
    })
}

/// Looks whether a run holds the lock, without keeping it.
pub fn probe(log_dir: &Path) -> Probe {
    let Ok(file) = File::open(log_dir.join(LOCK_FILE)) else {
        return Probe::Free;
    };
    match file.try_lock_shared() {
        Ok(()) => Probe::Free,
        Err(_) => Probe::Held(holder(log_dir)),
    }
}

fn holder(log_dir: &Path) -> Option<Holder> {
    report::json_file::read(&log_dir.join(HOLDER_FILE))
}

/// The lock for a run of `mode` on `log_dir`, or the exit code of a run that must not
/// go on: 0 for a single pass beside another run (the site is protected already), 2
/// for a second daemon, 1 when the lock cannot be made. A daemon beside a single pass
/// waits for it to end. Each outcome is one line.
pub fn claim(log_dir: &Path, mode: RunMode, supervisor: &dyn Supervisor) -> Result<Held, u8> {
    let fail = |line: String| {
        eprintln!("error: {line}");
        supervisor.fatal(&line);
        exit::CANNOT_RUN
    };
    std::fs::create_dir_all(log_dir)
        .map_err(|e| fail(format!("cannot use the log folder {}: {e}", log_dir.display())))?;
    let cannot = |e: io::Error| fail(format!("cannot lock {}: {e}", log_dir.join(LOCK_FILE).display()));
    let mut waiting = false;
    loop {
        let holder = match take(log_dir, mode, Duration::from_secs(2)) {
            Ok(held) => return Ok(held),
            Err(NotTaken::Failed(e)) => return Err(cannot(e)),
            Err(NotTaken::Busy(holder)) => holder,
        };
        let who = holder.as_ref().map_or_else(
            || format!("another run (it holds {})", log_dir.join(LOCK_FILE).display()),
            Holder::describe,
        );
        match beside(mode, holder.as_ref().map(|h| h.mode)) {
            Beside::Skip => {
                println!("{who} already protects this site: no pass now (stop it first to run one by hand)");
                return Err(exit::OK);
            }
            Beside::Wait => {
                if !std::mem::replace(&mut waiting, true) {
                    eprintln!("{who} is running: the daemon starts when it ends");
                }
            }
            Beside::Refuse => {
                let line = format!("{who} already runs with this log folder: one daemon per configuration");
                eprintln!("error: {line}");
                supervisor.fatal(&line);
                return Err(exit::BAD_CONFIG);
            }
        }
    }
}
