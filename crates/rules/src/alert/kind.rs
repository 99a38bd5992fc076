//! The alerts an operator may be shown: one kind per condition that needs a human, with
//! the name that appears in the logs (`alert=KIND`) and in `status.json`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The source folder does not exist or cannot be read.
    SourceUnavailable,
    /// The backup folder cannot be reached or created.
    BackupUnavailable,
    /// The source lost most of the recent recordings the backup holds.
    SourceWipe,
    /// A source became shorter than, or different from, its backup copy.
    SourceShrunk,
    /// A recording is dated after today: the clock or the recorder's clock is wrong.
    ClockSuspect,
    /// The backup disk is below `min_free_percent`, or a copy did not fit.
    LowDiskSpace,
    /// Files that could not be read or copied this pass (retried on the next).
    CopyErrors,
    /// Retention would have deleted more than half of the backup at once, and did not.
    RetentionRefused,
    /// A verification found backup recordings damaged, changed or missing.
    BackupCorrupt,
    /// The offsite bucket cannot be used: unreachable, credentials refused, missing,
    /// or failing. Local mirroring goes on; uploads catch up when it is back.
    OffsiteUnavailable,
    /// The oldest recording waiting for the bucket is older than `offsite.max_lag_hours`.
    OffsiteLagging,
    /// The bucket held another version of a recording: kept, the new one beside it.
    OffsiteConflict,
}

impl AlertKind {
    /// Every kind, once.
    pub const ALL: [AlertKind; 12] = [
        AlertKind::SourceUnavailable,
        AlertKind::BackupUnavailable,
        AlertKind::SourceWipe,
        AlertKind::SourceShrunk,
        AlertKind::ClockSuspect,
        AlertKind::LowDiskSpace,
        AlertKind::CopyErrors,
        AlertKind::RetentionRefused,
        AlertKind::BackupCorrupt,
        AlertKind::OffsiteUnavailable,
        AlertKind::OffsiteLagging,
        AlertKind::OffsiteConflict,
    ];

    /// The first thing a person does about it, in a line (the alert table in
    /// docs/operations.md has the whole story).
    pub fn first_step(self) -> &'static str {
        match self {
            AlertKind::SourceUnavailable => "Check the recording disk and the recording software.",
            AlertKind::BackupUnavailable => "Reconnect the backup disk (iSCSI initiator, drive letter).",
            AlertKind::SourceWipe => {
                "The platform probably deleted its recordings: copy the folders back from the backup."
            }
            AlertKind::SourceShrunk => "Look at the recorder; both versions are in the backup.",
            AlertKind::ClockSuspect => "Check this machine's clock and the recorder's.",
            AlertKind::LowDiskSpace => "Add space, or a larger backup disk.",
            AlertKind::CopyErrors => "Usually nothing; the same file at every pass: look at it.",
            AlertKind::RetentionRefused => {
                "Find out why before anything is deleted: the clock, retention_days, a misplaced folder."
            }
            AlertKind::BackupCorrupt => "Run cctv-mirror verify for the list; check the backup disk's health.",
            AlertKind::OffsiteUnavailable => "Run cctv-mirror check: fix the network, the key or the bucket.",
            AlertKind::OffsiteLagging => "If it lasts: a faster link or more upload_workers.",
            AlertKind::OffsiteConflict => "Find what else writes into the bucket's prefix.",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SourceUnavailable => "source_unavailable",
            AlertKind::BackupUnavailable => "backup_unavailable",
            AlertKind::SourceWipe => "source_wipe",
            AlertKind::SourceShrunk => "source_shrunk",
            AlertKind::ClockSuspect => "clock_suspect",
            AlertKind::LowDiskSpace => "low_disk_space",
            AlertKind::CopyErrors => "copy_errors",
            AlertKind::RetentionRefused => "retention_refused",
            AlertKind::BackupCorrupt => "backup_corrupt",
            AlertKind::OffsiteUnavailable => "offsite_unavailable",
            AlertKind::OffsiteLagging => "offsite_lagging",
            AlertKind::OffsiteConflict => "offsite_conflict",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert raised by a pass: what and why, in one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub kind: AlertKind,
    pub message: String,
}

impl Raised {
    pub fn new(kind: AlertKind, message: impl Into<String>) -> Raised {
        Raised {
            kind,
            message: message.into(),
        }
    }
}
