//! `log_dir/status.json`: the daemon's state for monitoring tools, replaced atomically
//! (write a temporary, fsync, rename) so a reader never sees half a file. Also carries
//! alerts across runs, so `since` tells when a condition first appeared even under
//! `--once`.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use crate::activity::Live;
use rules::alert::Alert;
use rules::run::{OffsiteState, RunMode, RunState};
use store::volume::Disk;

pub const FILE_NAME: &str = "status.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub updated_at: DateTime<Local>,
    pub mode: RunMode,
    pub state: RunState,
    pub version: String,
    pub pid: u32,
    pub backup_available: bool,
    pub disk: Option<Disk>,
    pub last_pass: Option<PassSummary>,
    /// The alerts active after the last pass.
    pub alerts: Vec<Alert>,
    /// The daemon's live state; null for `--once`.
    #[serde(default)]
    pub daemon: Option<Live>,
    /// Each notification channel: last success, last error, messages waiting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<ChannelState>,
    /// The offsite tier: its state, what waits and what went; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsite: Option<OffsiteStatus>,
}

/// A channel's record, shown in `status.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelState {
    pub channel: String,
    pub last_success: Option<DateTime<Local>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Local>>,
    /// Messages waiting for this channel.
    pub pending: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PassSummary {
    pub started_at: Option<DateTime<Local>>,
    pub finished_at: Option<DateTime<Local>>,
    pub log_file: Option<PathBuf>,
    /// Source recordings inside the retention window.
    pub scanned: usize,
    /// New finished copies.
    pub copied: usize,
    /// Finished copies that got the new bytes of a grown recording.
    pub updated: usize,
    /// In-progress copies started or brought up to date (recordings being written).
    #[serde(default)]
    pub following: usize,
    /// In-progress copies completed and given their final name.
    #[serde(default)]
    pub completed: usize,
    pub bytes_copied: u64,
    pub up_to_date: usize,
    pub deleted: usize,
    pub errors: usize,
}

impl PassSummary {
    /// What it did, as `status` and the daemon's page say it.
    pub fn counts(&self) -> String {
        format!(
            "{} copied, {} updated, {} deleted, {} errors, {} recordings in the window",
            self.copied + self.completed,
            self.updated + self.following,
            self.deleted,
            self.errors,
            self.scanned
        )
    }
}

pub fn read(log_dir: &Path) -> Option<Status> {
    crate::json_file::read(&log_dir.join(FILE_NAME))
}

pub fn write(log_dir: &Path, status: &Status) -> io::Result<()> {
    crate::json_file::replace(log_dir, FILE_NAME, status)
}

/// The `offsite` object of `status.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OffsiteStatus {
    pub state: OffsiteState,
    /// Why it is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub pending_files: usize,
    pub pending_bytes: u64,
    /// Since the daemon started.
    pub uploaded_files: u64,
    pub uploaded_bytes: u64,
    pub last_upload: Option<DateTime<Local>>,
    /// Age in seconds of the oldest recording still waiting (0 when none waits).
    pub lag_secs: u64,
    /// Objects deleted by offsite retention since the daemon started.
    pub deleted: u64,
    /// When the bucket was last listed, and how many objects its prefix held.
    pub last_listing: Option<DateTime<Local>>,
    pub objects: Option<usize>,
}
