//! The daemon's live state, shown under `daemon` in `status.json`: the watcher's state,
//! the last copy, and the totals since the process started. The queue records every
//! finished job here and the watcher its state; each change wakes the status writer
//! (`app`), which waits a moment so that a burst of copies costs one write, not one per
//! file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use store::copy::{CopyError, SyncOutcome};
use store::outcome::Wrote;

/// What the real-time watcher is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatcherState {
    /// Not used: `--no-watch`, or not started yet.
    #[default]
    Off,
    /// Watching the source folder.
    Watching,
    /// The source folder is missing; looking for it again every few seconds.
    WaitingForSource,
}

/// The last file the queue wrote into the backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCopy {
    pub at: DateTime<Local>,
    /// Relative to `source_dir`, as the source was named then.
    pub path: PathBuf,
    /// `copied`, `appended`, `following`, `completed` or `kept_beside`.
    pub outcome: Wrote,
    pub bytes: u64,
}

/// Counts since the process started, over every copy job (pass or watcher).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// New finished copies.
    pub copied: u64,
    /// Finished copies that got the new bytes of a grown recording.
    pub updated: u64,
    /// Updates of in-progress copies (`NAME.partial`) of recordings being written.
    pub followed: u64,
    /// In-progress copies completed and given their final name.
    pub completed: u64,
    pub bytes_copied: u64,
    /// Jobs that failed (retried later).
    pub errors: u64,
    /// Backup recordings deleted by retention.
    #[serde(default)]
    pub deleted: u64,
}

/// The `daemon` object of `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Live {
    pub started_at: DateTime<Local>,
    pub watcher: WatcherState,
    /// Recordings queued or being copied now.
    pub queue_length: usize,
    pub last_copy: Option<LastCopy>,
    pub since_start: Totals,
}

/// The shared handle. Cloning is cheap.
#[derive(Clone)]
pub struct Activity {
    live: Arc<Mutex<Live>>,
    /// Notified after every change; awaited by the status writer only.
    changed: Arc<Notify>,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity::new()
    }
}

impl Activity {
    pub fn new() -> Activity {
        Activity {
            live: Arc::new(Mutex::new(Live {
                started_at: Local::now(),
                watcher: WatcherState::Off,
                queue_length: 0,
                last_copy: None,
                since_start: Totals::default(),
            })),
            changed: Arc::new(Notify::new()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Live)) {
        f(&mut self.live.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_one();
    }

    /// Counts one finished copy job.
    pub fn record(&self, rel: &Path, result: &Result<SyncOutcome, CopyError>) {
        let written = match result {
            Ok(o) => o.wrote().map(|what| (what, o.bytes())),
            Err(_) => None,
        };
        let failed = matches!(result, Err(e) if !matches!(e, CopyError::Cancelled));
        if written.is_none() && !failed {
            return;
        }
        self.update(|live| {
            let t = &mut live.since_start;
            match result {
                Ok(SyncOutcome::Copied { .. }) => t.copied += 1,
                Ok(SyncOutcome::Appended { .. }) => t.updated += 1,
                Ok(SyncOutcome::Following { .. }) => t.followed += 1,
                Ok(SyncOutcome::Completed { .. }) => t.completed += 1,
                _ => {}
            }
            if failed {
                t.errors += 1;
            }
            if let Some((outcome, bytes)) = written {
                t.bytes_copied += bytes;
                live.last_copy = Some(LastCopy {
                    at: Local::now(),
                    path: rel.to_path_buf(),
                    outcome,
                    bytes,
                });
            }
        });
    }

    /// Counts recordings a pass deleted by retention.
    pub fn deleted(&self, n: u64) {
        if n > 0 {
            self.update(|live| live.since_start.deleted += n);
        }
    }

    pub fn set_watcher(&self, state: WatcherState) {
        self.update(|live| live.watcher = state);
    }

    /// The state now, with the queue length the caller measured.
    pub fn snapshot(&self, queue_length: usize) -> Live {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner()).clone();
        live.queue_length = queue_length;
        live
    }

    /// Resolves after the next change.
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}
