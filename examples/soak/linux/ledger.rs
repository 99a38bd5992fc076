//! The oracle's record, kept by the recorder alone and never read from cctv-mirror:
//! every finished recording (path, size, BLAKE3 of the bytes written, when it
//! finished), every wipe, and when the soak first saw each recording's whole copy in
//! the backup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;

/// A recording the recorder finished (renamed to `.dav`, or closed).
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its path under the source, with `/`.
    pub rel: String,
    pub date: NaiveDate,
    pub size: u64,
    pub blake3: blake3::Hash,
    /// Real time of its rename or close.
    pub at: Instant,
}

impl crate::shared::Awaited for Finished {
    fn rel(&self) -> &str {
        &self.rel
    }
    fn size(&self) -> u64 {
        self.size
    }
}

/// A recording the platform deleted while it was being written: what it held after
/// each frame (size and BLAKE3), any of which a copy may have caught.
#[derive(Debug, Clone)]
pub struct Cut {
    pub rel: String,
    pub prefixes: Vec<(u64, blake3::Hash)>,
}

/// Everything the oracle knows.
#[derive(Debug, Default)]
pub struct Ledger {
    pub finished: Vec<Finished>,
    pub wipes: Vec<Instant>,
    /// Recordings cut short by a wipe.
    pub cut: Vec<Cut>,
    /// Size and hash after each frame of the finished recordings whose whole copy has
    /// not been seen yet, per `rel`: what a copy that a wipe cut short may hold.
    pub unsaved: HashMap<String, Vec<(u64, blake3::Hash)>>,
    /// Real time the whole copy was first seen in the backup, per `rel`.
    pub seen: HashMap<String, Instant>,
    /// Recordings the recorder started.
    pub started: u64,
    /// Real time the recorder stopped.
    pub stopped: Option<Instant>,
}

pub type Shared = Arc<Mutex<Ledger>>;
