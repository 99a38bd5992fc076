//! What a sync did to the backup, and the one reading of it that the pass's summary,
//! the live activity and `status.json` share: what it wrote, and how many bytes. With
//! it, the manifest entry of a copy it gave its final name or grew (`Verified`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A sync's outcome, and the manifest entry of the final copy it wrote, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub outcome: SyncOutcome,
    pub verified: Option<Verified>,
}

/// A final copy whose bytes, read back, hash as the bytes read from its source did:
/// its manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Relative to the backup folder: the copy's own path (a version kept beside, a
    /// long name), not its recording's key.
    pub rel: PathBuf,
    pub size: u64,
    /// BLAKE3 of the source's bytes, hex.
    pub blake3: String,
}

impl Synced {
    /// An outcome that wrote no final copy.
    pub fn only(outcome: SyncOutcome) -> Synced {
        Synced {
            outcome,
            verified: None,
        }
    }
}

/// What a sync did to the backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A new finished copy of `bytes` bytes.
    Copied { bytes: u64 },
    /// `bytes` new bytes appended to a finished copy the source had outgrown.
    Appended { bytes: u64 },
    /// The in-progress copy followed its growing source by `bytes` bytes (`started`:
    /// it was created now).
    Following { bytes: u64, started: bool },
    /// The in-progress copy got its last `bytes` bytes and its final name.
    Completed { bytes: u64 },
    /// Already current (at most its modification time was refreshed).
    Current,
    /// The source is shorter than or different from the backup, which was left as it
    /// was. When the source holds content the backup lacks, that content is now kept
    /// beside it at `beside` (relative path), having written `bytes` there.
    Kept {
        differs: bool,
        beside: Option<PathBuf>,
        bytes: u64,
        detail: String,
    },
}

impl SyncOutcome {
    /// The bytes it wrote into the backup.
    pub fn bytes(&self) -> u64 {
        match self {
            SyncOutcome::Copied { bytes }
            | SyncOutcome::Appended { bytes }
            | SyncOutcome::Following { bytes, .. }
            | SyncOutcome::Completed { bytes }
            | SyncOutcome::Kept { bytes, .. } => *bytes,
            SyncOutcome::Current => 0,
        }
    }

    /// True when a copy under its final name was written now (new, grown or
    /// completed).
    pub fn wrote_final(&self) -> bool {
        matches!(
            self,
            SyncOutcome::Copied { .. } | SyncOutcome::Appended { .. } | SyncOutcome::Completed { .. }
        )
    }

    /// What it did to the backup (`status.json`'s `last_copy.outcome`); None when it
    /// wrote nothing there.
    pub fn wrote(&self) -> Option<Wrote> {
        match self {
            SyncOutcome::Copied { .. } => Some(Wrote::Copied),
            SyncOutcome::Appended { .. } => Some(Wrote::Appended),
            SyncOutcome::Completed { .. } => Some(Wrote::Completed),
            SyncOutcome::Following { bytes, .. } if *bytes > 0 => Some(Wrote::Following),
            SyncOutcome::Kept { bytes, .. } if *bytes > 0 => Some(Wrote::KeptBeside),
            _ => None,
        }
    }
}

/// What a copy job wrote into the backup, as `status.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrote {
    /// A new finished copy.
    Copied,
    /// The new bytes of a grown recording.
    Appended,
    /// An in-progress copy given its final name.
    Completed,
    /// An in-progress copy brought up to date.
    Following,
    /// A different source kept beside the backup copy.
    KeptBeside,
}
