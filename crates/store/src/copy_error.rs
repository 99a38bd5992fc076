//! Why a sync did not finish, in three kinds a caller treats apart: this file only
//! (`FileError`: logged, counted, retried by the next pass), the backup volume gone
//! (one alert for the pass, not one per file), and a stop (not an error at all).

use std::io;

use crate::volume;

/// Why a sync did not finish.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CopyError {
    /// This file only: logged, counted, retried by the next pass.
    #[error(transparent)]
    File(#[from] FileError),
    /// The backup volume is not available, or went away; nothing was written.
    #[error("the backup volume is not available ({0}); nothing was written")]
    BackupGone(String),
    /// Stopped by shutdown; nothing partial was left.
    #[error("stopped by shutdown; nothing partial was left")]
    Cancelled,
}

/// What went wrong with one file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("source vanished before it could be copied")]
    SourceVanished,
    #[error("source is locked or not readable now ({0})")]
    SourceLocked(io::Error),
    #[error("source changed while it was copied ({0})")]
    SourceChanged(String),
    #[error("not enough space on the backup disk: {needed} bytes needed, {available} available")]
    NoSpace { needed: u64, available: u64 },
    #[error("{context}: {err}")]
    Io { context: String, err: io::Error },
    /// The backup's bytes, read back, differ from those read from the source.
    #[error("damaged on the way to the backup: {0}")]
    Damaged(String),
}

/// For reports to several askers. An I/O error keeps its kind, OS code and message.
impl Clone for FileError {
    fn clone(&self) -> FileError {
        let copy = |e: &io::Error| match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        match self {
            FileError::SourceVanished => FileError::SourceVanished,
            FileError::SourceLocked(e) => FileError::SourceLocked(copy(e)),
            FileError::SourceChanged(s) => FileError::SourceChanged(s.clone()),
            FileError::NoSpace { needed, available } => FileError::NoSpace {
                needed: *needed,
                available: *available,
            },
            FileError::Io { context, err } => FileError::Io {
                context: context.clone(),
                err: copy(err),
            },
            FileError::Damaged(s) => FileError::Damaged(s.clone()),
        }
    }
}

impl CopyError {
    /// An I/O error in its kind: no space, the volume gone, or this file's problem.
    pub fn io(context: impl Into<String>, err: io::Error) -> CopyError {
        if is_no_space(&err) {
            return CopyError::no_space(0, 0);
        }
        if volume::is_volume_error(&err) {
            return CopyError::BackupGone(format!("{}: {err}", context.into()));
        }
        FileError::Io {
            context: context.into(),
            err,
        }
        .into()
    }

    pub fn vanished() -> CopyError {
        FileError::SourceVanished.into()
    }

    pub fn locked(e: io::Error) -> CopyError {
        FileError::SourceLocked(e).into()
    }

    pub fn changed(why: impl Into<String>) -> CopyError {
        FileError::SourceChanged(why.into()).into()
    }

    pub fn damaged(why: impl Into<String>) -> CopyError {
        FileError::Damaged(why.into()).into()
    }

    pub fn no_space(needed: u64, available: u64) -> CopyError {
        FileError::NoSpace { needed, available }.into()
    }
}

/// No room left on the disk, or the quota spent.
pub(super) fn is_no_space(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.kind() == io::ErrorKind::QuotaExceeded
}

/// Errors that mean "someone else has this file open in a way that excludes us": the
/// Windows sharing and lock violations (32, 33), EACCES, EBUSY.
pub(super) fn is_locked(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::PermissionDenied | io::ErrorKind::ResourceBusy)
        || (cfg!(windows) && matches!(e.raw_os_error(), Some(32) | Some(33)))
}
