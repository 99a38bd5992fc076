//! Growing a backup copy in place: the bytes the backup already holds are checked
//! against the source (its first and last `VERIFY_WINDOW`), then only the new bytes are
//! appended, flushed and given the source's time. Also the chunked copy of a range of
//! source bytes that every copy uses, which notices a shutdown within a chunk.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::store::copy::{
    ensure_space, is_locked, is_no_space, with_space, CopyError, Mirror, Sync, CHUNK, VERIFY_WINDOW,
};
use crate::store::scan;

impl Mirror {
    /// Appends what the source has beyond the backup, once the bytes the backup already
    /// holds are known to match the source.
    pub(super) fn extend(&self, src: &File, len: u64, mtime: SystemTime, dst_path: &Path) -> Result<Sync, CopyError> {
        let ctx = |what: &str| format!("{what} {}", dst_path.display());
        let mut dst = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dst_path)
            .map_err(|e| CopyError::io(ctx("cannot open the backup"), e))?;
        let dmeta = dst.metadata().map_err(|e| CopyError::io(ctx("cannot inspect"), e))?;
        let have = dmeta.len();
        let same_time = dmeta.modified().is_ok_and(|t| scan::same_mtime(t, mtime));
        if have == len && same_time {
            return Ok(Sync::Current);
        }
        let prefix_ok = same_prefix(src, &dst, len.min(have)).map_err(|e| {
            if is_locked(&e) {
                CopyError::locked(e)
            } else {
                CopyError::io(ctx("cannot compare with"), e)
            }
        })?;
        if !prefix_ok {
            return Ok(Sync::Incompatible { shorter: false });
        }
        if len < have {
            return Ok(Sync::Incompatible { shorter: true });
        }
        let mut appended = 0;
        if len > have {
            let dir = dst_path.parent().expect("a backup path has a folder");
            ensure_space(dir, len - have)?;
            dst.seek(SeekFrom::Start(have))
                .map_err(|e| CopyError::io(ctx("cannot seek"), e))?;
            appended = self
                .copy_range(src, have, len, &mut dst)
                .map_err(|e| with_space(e, dir, len - have))?;
            dst.flush().map_err(|e| CopyError::io(ctx("cannot write"), e))?;
            if have + appended != len {
                // What was appended is still source bytes in source order: the backup
                // stays a true prefix. Its time is left old so the next pass resumes.
                let _ = dst.sync_all();
                return Err(CopyError::changed(format!(
                    "read {appended} of {} new bytes",
                    len - have
                )));
            }
        }
        dst.set_modified(mtime)
            .map_err(|e| CopyError::io(ctx("cannot set the time of"), e))?;
        dst.sync_all().map_err(|e| CopyError::io(ctx("cannot flush"), e))?;
        Ok(if appended > 0 {
            Sync::Appended(appended)
        } else {
            Sync::Current
        })
    }

    /// Copies source bytes [from, to) to `out` at its current position, through the
    /// kernel's copy path where there is one (std uses copy_file_range/sendfile on Linux),
    /// a chunk at a time so shutdown is noticed. Returns the bytes copied, fewer than
    /// asked when the source ended early.
    pub(super) fn copy_range(&self, src: &File, from: u64, to: u64, out: &mut File) -> Result<u64, CopyError> {
        let mut reader = src;
        reader
            .seek(SeekFrom::Start(from))
            .map_err(|e| CopyError::io("cannot seek in the source", e))?;
        let mut done = 0;
        while from + done < to {
            if self.cancelled() {
                return Err(CopyError::Cancelled);
            }
            let want = CHUNK.min(to - from - done);
            let n = io::copy(&mut reader.take(want), out).map_err(|e| {
                if is_no_space(&e) {
                    CopyError::no_space(to - from, 0)
                } else if is_locked(&e) {
                    CopyError::locked(e)
                } else {
                    CopyError::io("copy failed", e)
                }
            })?;
            done += n;
            self.progress.fetch_add(n, Ordering::Relaxed);
            if n < want {
                break;
            }
        }
        Ok(done)
    }
}

/// Compares the head and the tail of the first `len` bytes of both files.
fn same_prefix(a: &File, b: &File, len: u64) -> io::Result<bool> {
    let head = VERIFY_WINDOW.min(len);
    let tail_start = len.saturating_sub(VERIFY_WINDOW).max(head);
    Ok(same_range(a, b, 0, head)? && same_range(a, b, tail_start, len - tail_start)?)
}

fn same_range(a: &File, b: &File, offset: u64, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    match (read_range(a, offset, len)?, read_range(b, offset, len)?) {
        (Some(x), Some(y)) => Ok(x == y),
        _ => Ok(false),
    }
}

/// The bytes [offset, offset+len) of a file, or None when it ends before that.
fn read_range(mut f: &File, offset: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; len as usize];
    f.seek(SeekFrom::Start(offset))?;
    match f.read_exact(&mut buf) {
        Ok(()) => Ok(Some(buf)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}
