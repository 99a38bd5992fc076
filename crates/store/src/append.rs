//! Growing a backup copy in place: the bytes the backup already holds are checked
//! against the source (its first and last `VERIFY_WINDOW`), then only the new bytes are
//! appended, hashed as they are read, flushed and read back (`readback`): a region that
//! reads back otherwise is cut off again and appended anew. Also the chunked copy of a
//! range of source bytes that every copy uses, which notices a shutdown within a chunk.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::chunks;
use crate::copy::{ensure_space, with_space, CopyError, DestSync, Mirror, ATTEMPTS, VERIFY_WINDOW};
use crate::copy_error::{is_locked, is_no_space};
use crate::running::SourceHash;
use rules::listing;

impl Mirror {
    /// Appends what the source has beyond the backup, once the bytes the backup already
    /// holds are known to match the source.
    pub(super) fn extend(
        &self,
        src: &File,
        len: u64,
        mtime: SystemTime,
        dst_path: &Path,
    ) -> Result<DestSync, CopyError> {
        let ctx = |what: &str| format!("{what} {}", dst_path.display());
        let mut dst = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dst_path)
            .map_err(|e| CopyError::io(ctx("cannot open the backup"), e))?;
        let dmeta = dst.metadata().map_err(|e| CopyError::io(ctx("cannot inspect"), e))?;
        let have = dmeta.len();
        let same_time = dmeta.modified().is_ok_and(|t| listing::same_mtime(t, mtime));
        if have == len && same_time {
            return Ok(DestSync::Current);
        }
        let prefix_ok = same_prefix(src, &dst, len.min(have)).map_err(|e| {
            if is_locked(&e) {
                CopyError::locked(e)
            } else {
                CopyError::io(ctx("cannot compare with"), e)
            }
        })?;
        if !prefix_ok {
            return Ok(DestSync::Incompatible { shorter: false });
        }
        if len < have {
            return Ok(DestSync::Incompatible { shorter: true });
        }
        let mut appended = 0;
        if len > have {
            let dir = dst_path.parent().expect("a backup path has a folder");
            ensure_space(dir, len - have)?;
            appended = self
                .append_checked(src, &mut dst, have, len, dst_path)
                .map_err(|e| with_space(e, dir, len - have))?;
            if have + appended != len {
                // What was appended is source bytes in source order, read back equal:
                // the backup stays a true prefix. Its time is left old so the next
                // pass resumes.
                return Err(CopyError::changed(format!(
                    "read {appended} of {} new bytes",
                    len - have
                )));
            }
        }
        dst.set_modified(mtime)
            .map_err(|e| CopyError::io(ctx("cannot set the time of"), e))?;
        dst.sync_all().map_err(|e| CopyError::io(ctx("cannot flush"), e))?;
        // Nothing appended: it was as long as the source, only its time was not.
        Ok(if appended > 0 {
            DestSync::Appended(appended)
        } else {
            DestSync::Retimed
        })
    }

    /// Appends source bytes [have, len) to `dst` (at `dst_path`, `have` bytes long),
    /// flushes them and reads them back; when they read back otherwise, cuts the backup
    /// back to `have` and tries again, `ATTEMPTS` times in all. Keeps the hash of the
    /// source bytes the backup then holds (`Running`). Returns the bytes appended.
    fn append_checked(
        &self,
        src: &File,
        dst: &mut File,
        have: u64,
        len: u64,
        dst_path: &Path,
    ) -> Result<u64, CopyError> {
        let ctx = |what: &str| format!("{what} {}", dst_path.display());
        let before = self.source_prefix(src, dst_path, have)?;
        for attempt in 1..=ATTEMPTS {
            let (mut region, mut whole) = (blake3::Hasher::new(), before.hasher.clone());
            let written = dst
                .seek(SeekFrom::Start(have))
                .map_err(|e| CopyError::io(ctx("cannot seek"), e))
                .and_then(|_| {
                    self.copy_range(src, have, len, dst, &mut |b| {
                        region.update(b);
                        whole.update(b);
                    })
                })
                .and_then(|n| {
                    dst.sync_all().map_err(|e| CopyError::io(ctx("cannot flush"), e))?;
                    Ok(n)
                });
            let n = match written {
                Ok(n) => n,
                Err(e) => {
                    cut_back(dst, have);
                    return Err(e);
                }
            };
            if self.reads_back(dst_path, have, have + n, &region.finalize())? {
                let hash = SourceHash {
                    hasher: whole,
                    read_back: before.read_back,
                };
                self.running.keep(dst_path, hash);
                return Ok(n);
            }
            tracing::warn!(path = %dst_path.display(), attempt, "appended bytes read back differ from the source's; cut back to {have} bytes");
            cut_back(dst, have);
        }
        Err(CopyError::damaged(format!(
            "the bytes appended to {} read back otherwise {ATTEMPTS} times; it is left at its {have} verified bytes",
            dst_path.display()
        )))
    }

    /// Copies source bytes [from, to) to `out` at its current position through a buffer,
    /// handing each piece to `hash` too. Returns the bytes copied, fewer than asked when
    /// the source ended early.
    pub(super) fn copy_range(
        &self,
        src: &File,
        from: u64,
        to: u64,
        out: &mut File,
        hash: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, CopyError> {
        self.pump(src, from, to, &mut |b| {
            hash(b);
            out.write_all(b).map_err(|e| {
                if is_no_space(&e) {
                    CopyError::no_space(to - from, 0)
                } else {
                    CopyError::io("copy failed", e)
                }
            })
        })
    }

    /// Reads source bytes [from, to) a chunk at a time (`chunks::read`: a second
    /// thread reads ahead), handing each to `take`, so a shutdown is noticed within a
    /// chunk. Returns the bytes read, fewer than asked when the source ended early.
    pub(super) fn pump(
        &self,
        src: &File,
        from: u64,
        to: u64,
        take: &mut dyn FnMut(&[u8]) -> Result<(), CopyError>,
    ) -> Result<u64, CopyError> {
        let mut reader = src;
        reader
            .seek(SeekFrom::Start(from))
            .map_err(|e| CopyError::io("cannot seek in the source", e))?;
        let (mut done, mut stopped) = (0, None);
        let read = chunks::read(&mut reader.take(to - from), to - from, &mut |b| {
            let taken = if self.cancelled() {
                Err(CopyError::Cancelled)
            } else {
                take(b)
            };
            match taken {
                Ok(()) => {
                    done += b.len() as u64;
                    self.progress.fetch_add(b.len() as u64, Ordering::Relaxed);
                    Ok(())
                }
                Err(e) => {
                    stopped = Some(e);
                    Err(io::Error::other("stopped"))
                }
            }
        });
        match (stopped, read) {
            (Some(e), _) => Err(e),
            (None, Err(e)) if is_locked(&e) => Err(CopyError::locked(e)),
            (None, Err(e)) => Err(CopyError::io("cannot read the source", e)),
            (None, Ok(())) => Ok(done),
        }
    }
}

/// Cuts a copy back to the `len` bytes it held before an append (a verified true
/// prefix), flushed; on failure the next sync finds it longer and compares again.
fn cut_back(dst: &File, len: u64) {
    let _ = dst.set_len(len).and_then(|()| dst.sync_all());
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
