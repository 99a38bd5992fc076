//! Brings one backup file up to date with its source; the only code that writes
//! recordings into the backup. A new copy goes through a flushed, read-back temporary
//! and a rename; an in-progress one follows its source as `NAME.partial`; a grown one
//! gets its new bytes after the old are checked; a shorter or different source never
//! touches the copy (`names::kept_beside`).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::SystemTime;

use crate::copy_error::is_locked;
pub use crate::copy_error::{CopyError, FileError};
use crate::durable::sync_dir;
pub use crate::outcome::{SyncOutcome, Synced, Verified};
use crate::running::{Running, SourceHash};
use crate::volume;
use rules::names::{self, Names};
use rules::stage::Stage;
use tokio_util::sync::CancellationToken;

/// Bytes compared at the start and at the end of what the backup already holds before
/// new bytes are appended. A replaced recording differs in its first frames (DHAV
/// headers carry timestamps); a rewritten tail differs at the end. Comparing everything
/// would re-read gigabytes on every update of a recording in progress.
pub const VERIFY_WINDOW: u64 = 1 << 20;

/// Where copies come from and go to, and the flag that asks copies in progress to stop.
#[derive(Debug)]
pub struct Mirror {
    pub source_dir: PathBuf,
    pub backup_dir: PathBuf,
    pub names: Names,
    pub stop: CancellationToken,
    /// Bytes moved by all copies since start: a copy that makes progress moves it at
    /// least every chunk (the daemon's proof of life to a service manager).
    pub progress: Arc<AtomicU64>,
    /// The source-derived hash of each copy being grown, between its appends.
    pub(super) running: Running,
    /// Damage injected before read-backs (tests only).
    #[cfg(any(test, feature = "testing"))]
    pub faults: crate::faults::Faults,
}

/// Tries at writing a copy (or an append) before its damage is this file's error.
pub const ATTEMPTS: u32 = 3;

/// A source opened for a sync.
pub(super) struct Source {
    pub file: File,
    /// The name of its recording once finished (`NAME.dav` for `NAME.dav_`).
    pub final_rel: PathBuf,
    /// `Recording` whatever was asked when its name says it is still being recorded.
    pub stage: Stage,
    pub len: u64,
    pub mtime: SystemTime,
}

/// How one existing destination was synced with its source.
pub(super) enum DestSync {
    Appended(u64),
    Current,
    /// It already held every byte of the source, but not its time: a write stopped
    /// after its last byte (a kill, a power cut) and before its time and manifest entry.
    Retimed,
    /// The destination cannot take this source: it is longer (`shorter`: the source is a
    /// prefix of it) or its bytes differ.
    Incompatible {
        shorter: bool,
    },
}

/// What one destination (the original name, or a version beside it) received.
enum Done {
    Copied(u64),
    Appended(u64),
    Following(u64, bool),
    Completed(u64),
    Current,
}

impl Mirror {
    pub fn new(source_dir: PathBuf, backup_dir: PathBuf, names: Names) -> Mirror {
        Mirror {
            source_dir,
            backup_dir,
            names,
            stop: CancellationToken::new(),
            progress: Arc::new(AtomicU64::new(0)),
            running: Running::default(),
            #[cfg(any(test, feature = "testing"))]
            faults: Default::default(),
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Brings the backup of the source recording `rel` (relative to the source folder;
    /// a recorder's in-progress name like `NAME.dav_` is always `Recording`) up to date.
    /// A final copy it wrote comes with its manifest entry.
    pub fn sync(&self, rel: &Path, stage: Stage) -> Result<Synced, CopyError> {
        let Source {
            file: src,
            final_rel,
            stage,
            len,
            mtime,
        } = self.open_source(rel, stage)?;

        // The original name first; when the backup holds other content there, the
        // versions beside it, the first that can take this source.
        for n in 0..=names::MAX_KEPT_BESIDE {
            let name = if n == 0 {
                final_rel.clone()
            } else {
                names::kept_beside(&final_rel, n)
            };
            let (done, verified) = match self.sync_one(&src, len, mtime, &name, stage)? {
                Err(DestSync::Incompatible { shorter: true }) if n == 0 => {
                    return Ok(Synced::only(SyncOutcome::Kept {
                        differs: false,
                        beside: None,
                        bytes: 0,
                        detail: format!("the source is shorter ({len} bytes) but matches the start of the backup"),
                    }))
                }
                Err(_) => continue,
                Ok(done) => done,
            };
            if n == 0 {
                let outcome = match done {
                    Done::Copied(bytes) => SyncOutcome::Copied { bytes },
                    Done::Appended(bytes) => SyncOutcome::Appended { bytes },
                    Done::Following(bytes, started) => SyncOutcome::Following { bytes, started },
                    Done::Completed(bytes) => SyncOutcome::Completed { bytes },
                    Done::Current => SyncOutcome::Current,
                };
                return Ok(Synced { outcome, verified });
            }
            // The source holds content the backup does not: it is kept too, beside.
            let (beside, bytes) = match done {
                Done::Following(b, _) => (names::partial_of(&name), b),
                Done::Copied(b) | Done::Appended(b) | Done::Completed(b) => (name, b),
                Done::Current => (name, 0),
            };
            let outcome = SyncOutcome::Kept {
                differs: true,
                beside: Some(beside),
                bytes,
                detail: format!("the source ({len} bytes) differs from the backup"),
            };
            return Ok(Synced { outcome, verified });
        }
        Ok(Synced::only(SyncOutcome::Kept {
            differs: true,
            beside: None,
            bytes: 0,
            detail: format!(
                "the source ({len} bytes) differs from the backup and from the {} versions already kept beside it; not stored again",
                names::MAX_KEPT_BESIDE
            ),
        }))
    }

    /// The backup folder lost its marker: the volume is not there.
    fn gone(&self) -> CopyError {
        CopyError::BackupGone(format!(
            "{} has no {} marker",
            self.backup_dir.display(),
            volume::MARKER
        ))
    }

    /// Opens the source `rel` for a sync, once the backup is known to be there.
    pub(super) fn open_source(&self, rel: &Path, stage: Stage) -> Result<Source, CopyError> {
        if self.cancelled() {
            return Err(CopyError::Cancelled);
        }
        // Checked before every job: an unmounted volume leaves a bare mount point, and
        // nothing may be written there.
        if !volume::marked(&self.backup_dir) {
            return Err(self.gone());
        }
        let Some((final_rel, named_in_progress)) = self.names.final_rel(rel) else {
            return Err(CopyError::io(
                "not a recording",
                io::Error::other(format!("{} has no recording name", rel.display())),
            ));
        };
        let stage = if named_in_progress { Stage::Recording } else { stage };
        let src_path = self.source_dir.join(rel);
        let src = File::open(&src_path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CopyError::vanished(),
            _ if is_locked(&e) => CopyError::locked(e),
            _ => CopyError::io("cannot open the source", e),
        })?;
        let meta = src
            .metadata()
            .map_err(|e| CopyError::io("cannot read the source's size", e))?;
        Ok(Source {
            file: src,
            final_rel,
            stage,
            len: meta.len(),
            mtime: meta.modified().map_err(|e| CopyError::io("source mtime", e))?,
        })
    }

    /// Brings the backup named `name` (finished, or in progress as `name.partial`) up to
    /// date, with the manifest entry of the final copy it wrote;
    /// `Err(DestSync::Incompatible)` when what it holds cannot take this source.
    fn sync_one(
        &self,
        src: &File,
        len: u64,
        mtime: SystemTime,
        name: &Path,
        stage: Stage,
    ) -> Result<Result<(Done, Option<Verified>), DestSync>, CopyError> {
        let finished = self.backup_dir.join(name);
        let partial = self.backup_dir.join(names::partial_of(name));
        // A finished copy whose source grows again (the recorder reopened it, or a pass
        // took a pause for the end) grows in place: it is a true prefix throughout.
        if is_file(&finished)? {
            return Ok(match self.extend(src, len, mtime, &finished)? {
                // A finished copy's entry is written again whenever its bytes or time
                // change, so a kill between the two never leaves an entry behind.
                DestSync::Appended(b) => {
                    let hash = self.check_whole(src, &finished, len)?;
                    Ok((Done::Appended(b), Some(self.verified(&finished, len, &hash))))
                }
                DestSync::Retimed => {
                    let hash = self.check_whole(src, &finished, len)?;
                    Ok((Done::Appended(0), Some(self.verified(&finished, len, &hash))))
                }
                DestSync::Current => Ok((Done::Current, None)),
                other => Err(other),
            });
        }
        if is_file(&partial)? {
            let bytes = match self.extend(src, len, mtime, &partial)? {
                DestSync::Appended(b) => b,
                DestSync::Current | DestSync::Retimed => 0,
                other => return Ok(Err(other)),
            };
            if stage == Stage::Recording {
                return Ok(Ok((Done::Following(bytes, false), None)));
            }
            return self.complete(src, len, mtime, &partial, &finished, bytes).map(Ok);
        }
        Ok(Ok(match stage {
            Stage::Finished => (Done::Copied(len), Some(self.copy_new(src, len, mtime, &finished)?.0)),
            Stage::Recording => {
                let (_, hasher) = self.copy_new(src, len, mtime, &partial)?;
                // copy_new read every byte back.
                self.running.keep(
                    &partial,
                    SourceHash {
                        hasher,
                        read_back: true,
                    },
                );
                (Done::Following(len, true), None)
            }
        }))
    }

    /// Gives a whole, fsynced in-progress copy its final name once it reads back as the
    /// source's bytes. One that reads back otherwise never takes that name: the
    /// recording is copied afresh under it, and the damaged copy removed.
    fn complete(
        &self,
        src: &File,
        len: u64,
        mtime: SystemTime,
        partial: &Path,
        finished: &Path,
        bytes: u64,
    ) -> Result<(Done, Option<Verified>), CopyError> {
        let hash = match self.check_whole(src, partial, len) {
            Ok(hash) => hash,
            Err(CopyError::File(FileError::Damaged(why))) => {
                tracing::warn!(path = %partial.display(), "in-progress copy not given its final name: {why}; copying the recording afresh");
                let (verified, _) = self.copy_new(src, len, mtime, finished)?;
                if let Err(e) = fs::remove_file(partial) {
                    tracing::warn!(path = %partial.display(), "damaged in-progress copy not removed: {e}");
                }
                return Ok((Done::Completed(len), Some(verified)));
            }
            Err(e) => return Err(e),
        };
        settle_as(partial, finished, "cannot give the in-progress copy its final name")?;
        sync_dir(finished.parent().expect("a backup path has a folder"));
        Ok((Done::Completed(bytes), Some(self.verified(finished, len, &hash))))
    }

    /// A whole new copy: temporary, fsync, read back, rename, folder fsync; with its
    /// manifest entry and the hash of its source's bytes, to grow it from. A temporary
    /// that reads back otherwise than the source's bytes is removed and written again,
    /// `ATTEMPTS` times in all; it never takes the final name.
    fn copy_new(
        &self,
        src: &File,
        len: u64,
        mtime: SystemTime,
        dst_path: &Path,
    ) -> Result<(Verified, blake3::Hasher), CopyError> {
        for attempt in 1..=ATTEMPTS {
            let (out, tmp, hasher) = self.write_temp(src, len, mtime, dst_path)?;
            let hash = hasher.finalize();
            let checked = out
                .sync_all()
                .map_err(|e| CopyError::io("cannot flush the copy to disk", e))
                .and_then(|()| {
                    drop(out);
                    self.reads_back(&tmp, 0, len, &hash)
                });
            match checked {
                Ok(true) => {
                    settle(&tmp, dst_path).inspect_err(|_| {
                        let _ = fs::remove_file(&tmp);
                    })?;
                    sync_dir(dst_path.parent().expect("a backup path has a folder"));
                    return Ok((self.verified(dst_path, len, &hash), hasher));
                }
                Ok(false) => {
                    let _ = fs::remove_file(&tmp);
                    tracing::warn!(path = %dst_path.display(), attempt, "the copy read back differs from the source's bytes; written again");
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(e);
                }
            }
        }
        Err(CopyError::damaged(format!(
            "the copy of {} read back otherwise {ATTEMPTS} times; no copy made",
            dst_path.display()
        )))
    }

    /// Writes a whole new copy of `src` to the temporary of `dst_path`, with the source's
    /// time and checked for size, not yet flushed; removed again on failure. With the
    /// hash of the source's bytes as they were read.
    pub(super) fn write_temp(
        &self,
        src: &File,
        len: u64,
        mtime: SystemTime,
        dst_path: &Path,
    ) -> Result<(File, PathBuf, blake3::Hasher), CopyError> {
        let dir = dst_path.parent().expect("a backup path has a folder");
        let tmp = dir.join(names::temp_name(
            dst_path.file_name().expect("a backup path has a name"),
        ));
        let rel = tmp
            .strip_prefix(&self.backup_dir)
            .expect("a backup path is inside the backup");
        #[cfg(any(test, feature = "testing"))]
        self.faults.creating();
        let mut out = crate::create::new_file(&self.backup_dir, rel).map_err(|e| match e {
            crate::create::Refused::Gone => self.gone(),
            crate::create::Refused::Io(e) => CopyError::io("cannot create the temporary", e),
        })?;
        let result = (|| {
            ensure_space(dir, len)?;
            let mut hasher = blake3::Hasher::new();
            let copied = self.copy_range(src, 0, len, &mut out, &mut |b| {
                hasher.update(b);
            })?;
            if copied != len {
                return Err(CopyError::changed(format!("read {copied} of {len} bytes")));
            }
            out.set_modified(mtime)
                .map_err(|e| CopyError::io("cannot set the copy's time", e))?;
            let written = out
                .metadata()
                .map_err(|e| CopyError::io("cannot check the copy", e))?
                .len();
            if written != len {
                return Err(CopyError::io(
                    "size check",
                    io::Error::other(format!("copy has {written} bytes, expected {len}")),
                ));
            }
            Ok((out, hasher))
        })();
        match result {
            Ok((out, hasher)) => Ok((out, tmp, hasher)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(with_space(e, dir, len))
            }
        }
    }
}

/// Gives a whole, flushed temporary its final name, never over an existing file:
/// another copy reaching this name first wins and is kept.
pub(super) fn settle(tmp: &Path, dst_path: &Path) -> Result<(), CopyError> {
    settle_as(tmp, dst_path, "cannot rename the temporary into place")
}

/// Renames `from` to `to` with a rename that refuses to replace (`store::rename`).
fn settle_as(from: &Path, to: &Path, what: &str) -> Result<(), CopyError> {
    crate::rename::rename_new(from, to).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CopyError::changed("the backup file appeared meanwhile"),
        _ => CopyError::io(what, e),
    })
}

/// True when `path` is a regular file, false when nothing is there; an error when a
/// link or a folder is in the way (never written through) or it cannot be inspected.
pub(super) fn is_file(path: &Path) -> Result<bool, CopyError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(CopyError::io(
            format!("{} is in the way", path.display()),
            io::Error::other("the backup path is a link or a folder, not a file; left alone"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CopyError::io(
            format!("cannot inspect the backup {}", path.display()),
            e,
        )),
    }
}

/// Refuses before writing when the backup disk cannot hold `needed` more bytes.
pub(super) fn ensure_space(dir: &Path, needed: u64) -> Result<(), CopyError> {
    match fs4::available_space(dir) {
        Ok(available) if available < needed => Err(CopyError::no_space(needed, available)),
        _ => Ok(()),
    }
}

/// Fills in the figures of a NoSpace raised by a failed write.
pub(super) fn with_space(e: CopyError, dir: &Path, needed: u64) -> CopyError {
    match e {
        CopyError::File(FileError::NoSpace { .. }) => {
            CopyError::no_space(needed, fs4::available_space(dir).unwrap_or(0))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::setup;
    use std::fs::OpenOptions;
    use std::io::Write;

    #[test]
    fn copies_then_appends_then_is_current() {
        let (_t, m) = setup();
        let rel = Path::new("a.dav");
        fs::write(m.source_dir.join(rel), vec![7u8; 3 << 20]).unwrap();
        assert_eq!(
            m.sync(rel, Stage::Finished).unwrap().outcome,
            SyncOutcome::Copied { bytes: 3 << 20 }
        );
        let mut f = OpenOptions::new().append(true).open(m.source_dir.join(rel)).unwrap();
        f.write_all(&[9u8; 1000]).unwrap();
        drop(f);
        assert_eq!(
            m.sync(rel, Stage::Finished).unwrap().outcome,
            SyncOutcome::Appended { bytes: 1000 }
        );
        assert_eq!(m.sync(rel, Stage::Finished).unwrap().outcome, SyncOutcome::Current);
        assert_eq!(
            fs::read(m.source_dir.join(rel)).unwrap(),
            fs::read(m.backup_dir.join(rel)).unwrap()
        );
    }

    #[test]
    fn shorter_source_keeps_backup() {
        let (_t, m) = setup();
        let rel = Path::new("a.dav");
        fs::write(m.source_dir.join(rel), b"0123456789").unwrap();
        m.sync(rel, Stage::Finished).unwrap();
        fs::write(m.source_dir.join(rel), b"01234").unwrap();
        let out = m.sync(rel, Stage::Finished).unwrap().outcome;
        assert!(
            matches!(
                out,
                SyncOutcome::Kept {
                    differs: false,
                    beside: None,
                    ..
                }
            ),
            "{out:?}"
        );
        assert_eq!(fs::read(m.backup_dir.join(rel)).unwrap(), b"0123456789");
    }

    #[test]
    fn different_source_is_kept_beside() {
        let (_t, m) = setup();
        let rel = Path::new("a.dav");
        fs::write(m.source_dir.join(rel), b"first version").unwrap();
        m.sync(rel, Stage::Finished).unwrap();
        fs::write(m.source_dir.join(rel), b"other version, longer").unwrap();
        let out = m.sync(rel, Stage::Finished).unwrap().outcome;
        assert_eq!(
            out,
            SyncOutcome::Kept {
                differs: true,
                beside: Some(PathBuf::from("a.changed-1.dav")),
                bytes: 21,
                detail: "the source (21 bytes) differs from the backup".into()
            }
        );
        assert_eq!(fs::read(m.backup_dir.join(rel)).unwrap(), b"first version");
        assert_eq!(
            fs::read(m.backup_dir.join("a.changed-1.dav")).unwrap(),
            b"other version, longer"
        );
        // The kept version is then current, not stored a second time.
        assert!(matches!(
            m.sync(rel, Stage::Finished).unwrap().outcome,
            SyncOutcome::Kept {
                beside: Some(_),
                bytes: 0,
                ..
            }
        ));
        assert!(!m.backup_dir.join("a.changed-2.dav").exists());
    }

    #[test]
    fn a_recording_in_progress_grows_as_partial_then_takes_its_name() {
        let (_t, m) = setup();
        let rel = Path::new("a.dav");
        let (src, fin, part) = (
            m.source_dir.join(rel),
            m.backup_dir.join(rel),
            m.backup_dir.join("a.dav.partial"),
        );
        fs::write(&src, vec![1u8; 5000]).unwrap();
        let out = m.sync(rel, Stage::Recording).unwrap().outcome;
        assert_eq!(
            out,
            SyncOutcome::Following {
                bytes: 5000,
                started: true
            }
        );
        assert!(part.exists() && !fin.exists());
        let mut f = OpenOptions::new().append(true).open(&src).unwrap();
        f.write_all(&[2u8; 300]).unwrap();
        assert_eq!(
            m.sync(rel, Stage::Recording).unwrap().outcome,
            SyncOutcome::Following {
                bytes: 300,
                started: false
            }
        );
        f.write_all(&[3u8; 7]).unwrap();
        drop(f);
        assert_eq!(
            m.sync(rel, Stage::Finished).unwrap().outcome,
            SyncOutcome::Completed { bytes: 7 }
        );
        assert!(!part.exists(), "the in-progress copy is gone once finished");
        assert_eq!(fs::read(&fin).unwrap(), fs::read(&src).unwrap());
        assert_eq!(m.sync(rel, Stage::Recording).unwrap().outcome, SyncOutcome::Current);
    }

    #[test]
    fn a_recorder_in_progress_name_is_never_finished() {
        let (_t, m) = setup();
        fs::write(m.source_dir.join("a.dav_"), b"abc").unwrap();
        let out = m.sync(Path::new("a.dav_"), Stage::Finished).unwrap().outcome;
        assert!(matches!(out, SyncOutcome::Following { bytes: 3, .. }), "{out:?}");
        assert_eq!(fs::read(m.backup_dir.join("a.dav.partial")).unwrap(), b"abc");
        fs::rename(m.source_dir.join("a.dav_"), m.source_dir.join("a.dav")).unwrap();
        assert_eq!(
            m.sync(Path::new("a.dav"), Stage::Finished).unwrap().outcome,
            SyncOutcome::Completed { bytes: 0 }
        );
        assert_eq!(fs::read(m.backup_dir.join("a.dav")).unwrap(), b"abc");
    }

    #[test]
    fn an_in_progress_copy_of_other_content_is_kept_and_the_new_one_goes_beside() {
        let (_t, m) = setup();
        // Left by a recording the platform wiped; a new one reuses the name.
        fs::write(m.backup_dir.join("a.dav.partial"), b"old footage").unwrap();
        fs::write(m.source_dir.join("a.dav"), b"new footage, longer").unwrap();
        let out = m.sync(Path::new("a.dav"), Stage::Recording).unwrap().outcome;
        assert!(
            matches!(&out, SyncOutcome::Kept { differs: true, beside: Some(b), .. } if b == Path::new("a.changed-1.dav.partial")),
            "{out:?}"
        );
        assert_eq!(fs::read(m.backup_dir.join("a.dav.partial")).unwrap(), b"old footage");
        m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(
            fs::read(m.backup_dir.join("a.changed-1.dav")).unwrap(),
            b"new footage, longer"
        );
        assert_eq!(fs::read(m.backup_dir.join("a.dav.partial")).unwrap(), b"old footage");
    }

    #[test]
    fn nothing_is_written_into_a_backup_folder_without_its_marker() {
        let (_t, m) = setup();
        fs::write(m.source_dir.join("a.dav"), b"data").unwrap();
        fs::remove_file(m.backup_dir.join(volume::MARKER)).unwrap();
        let out = m.sync(Path::new("a.dav"), Stage::Finished);
        assert!(matches!(out, Err(CopyError::BackupGone(_))), "{out:?}");
        assert_eq!(fs::read_dir(&m.backup_dir).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn device_errors_mean_the_backup_volume_is_unavailable() {
        for code in [5, 107, 116] {
            let e = CopyError::io("write", io::Error::from_raw_os_error(code));
            assert!(matches!(e, CopyError::BackupGone(_)), "{code}: {e:?}");
        }
        let e = CopyError::io("open", io::Error::from_raw_os_error(2));
        assert!(
            matches!(e, CopyError::File(FileError::Io { .. })),
            "ENOENT is one file's problem"
        );
    }

    #[test]
    fn cancelled_copy_leaves_nothing() {
        let (_t, m) = setup();
        fs::write(m.source_dir.join("a.dav"), b"data").unwrap();
        m.stop.cancel();
        assert!(matches!(
            m.sync(Path::new("a.dav"), Stage::Finished),
            Err(CopyError::Cancelled)
        ));
        assert_eq!(fs::read_dir(&m.backup_dir).unwrap().count(), 1, "only the marker");
    }
}
