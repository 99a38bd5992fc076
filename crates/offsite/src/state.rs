//! The offsite tier's one record of what happened: whether the bucket answers (and
//! why not), what was uploaded and deleted, the versions that went beside, and the
//! objects the bucket is known to hold. The workers and the sweep write it; the
//! status writer, the alerts and the coverage report read it. `OffsiteStatus` is its
//! face in `status.json`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{DateTime, Local};

use crate::backlog::Snapshot;
pub use report::status::OffsiteStatus;
use rules::run::OffsiteState;

#[derive(Debug, Default)]
struct Facts {
    listed: bool,
    unavailable: Option<String>,
    uploaded_files: u64,
    uploaded_bytes: u64,
    last_upload: Option<DateTime<Local>>,
    deleted: u64,
    last_listing: Option<DateTime<Local>>,
    /// Keys of the prefix and their sizes: the last listing, with the uploads since.
    known: HashMap<String, u64>,
    /// Recordings that went beside another version since the last pass.
    conflicts: Vec<String>,
    /// Why offsite retention refused to run, at the last sweep.
    refused: Option<String>,
}

#[derive(Default)]
pub struct State {
    facts: Mutex<Facts>,
}

impl State {
    fn with<T>(&self, f: impl FnOnce(&mut Facts) -> T) -> T {
        f(&mut self.facts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The bucket failed: true when it was usable until now.
    pub fn unavailable(&self, reason: String) -> bool {
        self.with(|f| f.unavailable.replace(reason).is_none())
    }

    /// The bucket answered: true when it had been unavailable.
    pub fn available(&self) -> bool {
        self.with(|f| f.unavailable.take().is_some())
    }

    pub fn reason(&self) -> Option<String> {
        self.with(|f| f.unavailable.clone())
    }

    pub fn uploaded(&self, key: &str, size: u64, sent: u64) {
        self.with(|f| {
            f.uploaded_files += 1;
            f.uploaded_bytes += sent;
            f.last_upload = Some(Local::now());
            f.known.insert(key.to_string(), size);
        });
    }

    pub fn present(&self, key: &str, size: u64) {
        self.with(|f| f.known.insert(key.to_string(), size));
    }

    pub fn conflict(&self, detail: String) {
        self.with(|f| f.conflicts.push(detail));
    }

    pub fn listed(&self, known: HashMap<String, u64>) {
        self.with(|f| {
            f.listed = true;
            f.last_listing = Some(Local::now());
            f.known = known;
        });
    }

    pub fn deleted(&self, key: &str) {
        self.with(|f| {
            f.deleted += 1;
            f.known.remove(key);
        });
    }

    pub fn refused(&self, why: Option<String>) {
        self.with(|f| f.refused = why);
    }

    /// The keys the bucket holds, as far as known, with their sizes.
    pub fn known(&self) -> HashMap<String, u64> {
        self.with(|f| f.known.clone())
    }

    /// The conflicts since the last call, and the standing refusal.
    pub fn take_news(&self) -> (Vec<String>, Option<String>) {
        self.with(|f| (std::mem::take(&mut f.conflicts), f.refused.clone()))
    }

    /// The status, with the backlog's `pending` at `now`.
    pub fn status(&self, pending: &Snapshot, now: SystemTime) -> OffsiteStatus {
        self.with(|f| OffsiteStatus {
            state: match (&f.unavailable, f.listed, pending.files) {
                (Some(_), _, _) => OffsiteState::Unavailable,
                (None, false, 0) => OffsiteState::Starting,
                (None, _, 0) => OffsiteState::Ok,
                _ => OffsiteState::Uploading,
            },
            reason: f.unavailable.clone(),
            pending_files: pending.files,
            pending_bytes: pending.bytes,
            uploaded_files: f.uploaded_files,
            uploaded_bytes: f.uploaded_bytes,
            last_upload: f.last_upload,
            lag_secs: pending
                .oldest
                .and_then(|o| now.duration_since(o).ok())
                .map_or(0, |d| d.as_secs()),
            deleted: f.deleted,
            last_listing: f.last_listing,
            objects: f.listed.then_some(f.known.len()),
        })
    }
}
