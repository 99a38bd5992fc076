//! Reading back what a copy wrote. The bytes read from the source are hashed (BLAKE3) as
//! they are copied; once flushed, the backup's bytes are read again and must hash the
//! same, or the write is redone. On Linux the flushed pages are dropped from the cache
//! first, so the read-back comes from the disk; elsewhere it may come from the cache,
//! and catches what was damaged on the way there. A copy in progress whose every byte this
//! process read back (`running::SourceHash::read_back`) reads back only its last bytes
//! when it is finished, not the whole recording again.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::chunks;
use crate::copy::{CopyError, Mirror};
use crate::outcome::Verified;
use crate::running::SourceHash;

impl Mirror {
    /// The hash of the source's first `len` bytes, which the copy at `path` holds: kept
    /// from its last append, else read from the source again (and not read back).
    pub(super) fn source_prefix(&self, src: &File, path: &Path, len: u64) -> Result<SourceHash, CopyError> {
        if let Some(h) = self.running.take(path, len) {
            return Ok(h);
        }
        let mut hasher = blake3::Hasher::new();
        let read = self.pump(src, 0, len, &mut |b| {
            hasher.update(b);
            Ok(())
        })?;
        if read != len {
            return Err(CopyError::changed(format!("read {read} of {len} bytes")));
        }
        Ok(SourceHash {
            hasher,
            read_back: false,
        })
    }

    /// Whether the bytes [from, to) of the file at `path`, read back, hash to `want`.
    pub(super) fn reads_back(&self, path: &Path, from: u64, to: u64, want: &blake3::Hash) -> Result<bool, CopyError> {
        #[cfg(any(test, feature = "testing"))]
        self.faults.strike(path, from, to);
        hash_range(path, from, to)
            .map(|found| found.as_ref() == Some(want))
            .map_err(|e| CopyError::io(format!("cannot read back {}", path.display()), e))
    }

    /// The hash of the whole copy at `path`, `len` bytes long, once every byte has been
    /// read back equal to the source's (`source_prefix`): by the appends of this process,
    /// else now, whole; else `FileError::Damaged`.
    pub(super) fn check_whole(&self, src: &File, path: &Path, len: u64) -> Result<blake3::Hash, CopyError> {
        let held = self.source_prefix(src, path, len)?;
        let want = held.hasher.finalize();
        if held.read_back {
            return Ok(want);
        }
        if !self.reads_back(path, 0, len, &want)? {
            return Err(CopyError::damaged(format!(
                "{} differs from the source's {len} bytes when read back; left as it is",
                path.display()
            )));
        }
        Ok(want)
    }

    /// The manifest entry of the copy at `path` (absolute), of `len` bytes hashing `hash`.
    pub(super) fn verified(&self, path: &Path, len: u64, hash: &blake3::Hash) -> Verified {
        Verified {
            rel: path.strip_prefix(&self.backup_dir).unwrap_or(path).to_path_buf(),
            size: len,
            blake3: hash.to_hex().to_string(),
        }
    }
}

/// The hash of the bytes [from, to) of the file at `path`, read from the disk where the
/// OS allows; None when the file is not exactly `to` bytes long.
pub fn hash_range(path: &Path, from: u64, to: u64) -> io::Result<Option<blake3::Hash>> {
    let mut f = File::open(path)?;
    if f.metadata()?.len() != to {
        return Ok(None);
    }
    forget_cached(&f);
    f.seek(SeekFrom::Start(from))?;
    let (mut hasher, mut read) = (blake3::Hasher::new(), 0);
    chunks::read(&mut f.take(to - from), to - from, &mut |b| {
        hasher.update(b);
        read += b.len() as u64;
        Ok(())
    })?;
    Ok((read == to - from).then(|| hasher.finalize()))
}

/// Drops the file's flushed pages from the cache, so that reading it again reads the
/// disk (Linux); a no-op elsewhere.
fn forget_cached(f: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain advice call on an open descriptor; no memory is passed.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;
    use std::path::Path;

    use super::*;
    use crate::copy::{FileError, SyncOutcome, ATTEMPTS};
    use crate::testing::setup;
    use rules::stage::Stage;

    fn hex(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex().to_string()
    }

    /// 3 MiB of varied bytes, so a flipped byte anywhere is a different file.
    fn footage(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != crate::volume::MARKER)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_copy_damaged_before_its_read_back_is_written_again_and_hashed_from_the_source() {
        let (_t, m) = setup();
        let data = footage(3 << 20, 1);
        fs::write(m.source_dir.join("a.dav"), &data).unwrap();
        m.faults.arm(1);
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Copied { bytes: 3 << 20 });
        let v = synced.verified.expect("a final copy has its entry");
        assert_eq!((v.rel.as_path(), v.size), (Path::new("a.dav"), 3 << 20));
        assert_eq!(v.blake3, hex(&data), "the source's hash, not the damaged backup's");
        assert_eq!(fs::read(m.backup_dir.join("a.dav")).unwrap(), data);
        assert_eq!(leftovers(&m.backup_dir), ["a.dav"], "no temporary left");
    }

    #[test]
    fn a_copy_that_stays_damaged_is_this_files_error_and_never_takes_its_name() {
        let (_t, m) = setup();
        fs::write(m.source_dir.join("a.dav"), footage(1 << 20, 2)).unwrap();
        m.faults.arm(ATTEMPTS);
        let out = m.sync(Path::new("a.dav"), Stage::Finished);
        assert!(matches!(out, Err(CopyError::File(FileError::Damaged(_)))), "{out:?}");
        assert!(leftovers(&m.backup_dir).is_empty(), "{:?}", leftovers(&m.backup_dir));
        // The next sync, undamaged, copies it.
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Copied { bytes: 1 << 20 });
    }

    /// A copy of 2 MiB of `a.dav` made at `stage`, then its source grown to 3 MiB and
    /// synced again with the next `faults` read-backs damaged: the source's bytes and
    /// that second sync's result.
    fn grown(m: &Mirror, stage: Stage, faults: u32) -> (Vec<u8>, Result<crate::copy::Synced, CopyError>) {
        let src = m.source_dir.join("a.dav");
        let data = footage(3 << 20, faults as u8);
        fs::write(&src, &data[..2 << 20]).unwrap();
        m.sync(Path::new("a.dav"), stage).unwrap();
        fs::write(&src, &data).unwrap();
        m.faults.arm(faults);
        let out = m.sync(Path::new("a.dav"), stage);
        (data, out)
    }

    #[test]
    fn a_damaged_append_is_cut_back_and_appended_again() {
        let (_t, m) = setup();
        let (data, out) = grown(&m, Stage::Finished, 1);
        let synced = out.unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Appended { bytes: 1 << 20 });
        assert_eq!(synced.verified.unwrap().blake3, hex(&data));
        assert_eq!(fs::read(m.backup_dir.join("a.dav")).unwrap(), data);
    }

    #[test]
    fn an_append_that_stays_damaged_leaves_the_backup_at_its_old_length() {
        let (_t, m) = setup();
        let (data, out) = grown(&m, Stage::Recording, ATTEMPTS);
        assert!(matches!(out, Err(CopyError::File(FileError::Damaged(_)))), "{out:?}");
        let partial = m.backup_dir.join("a.dav.partial");
        assert_eq!(fs::read(&partial).unwrap(), &data[..2 << 20]);
        // Undamaged, it follows and completes with the source's hash.
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Completed { bytes: 1 << 20 });
        assert_eq!(synced.verified.unwrap().blake3, hex(&data));
    }

    #[test]
    fn finishing_an_in_progress_copy_reads_back_only_its_last_bytes() {
        let (_t, m) = setup();
        let src = m.source_dir.join("a.dav");
        let data = footage(4 << 20, 7);
        fs::write(&src, &data[..2 << 20]).unwrap();
        m.sync(Path::new("a.dav"), Stage::Recording).unwrap();
        fs::write(&src, &data[..3 << 20]).unwrap();
        m.sync(Path::new("a.dav"), Stage::Recording).unwrap();
        assert_eq!(m.faults.read_back(), [(0, 2 << 20), (2 << 20, 3 << 20)]);
        fs::write(&src, &data).unwrap();
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Completed { bytes: 1 << 20 });
        assert_eq!(synced.verified.unwrap().blake3, hex(&data));
        assert_eq!(m.faults.read_back(), [(3 << 20, 4 << 20)], "each byte read back once");
        assert_eq!(fs::read(m.backup_dir.join("a.dav")).unwrap(), data);
    }

    #[test]
    fn an_in_progress_copy_damaged_on_disk_before_a_restart_never_takes_its_final_name() {
        let (_t, m) = setup();
        let src = m.source_dir.join("a.dav");
        let data = footage(4 << 20, 5);
        fs::write(&src, &data[..3 << 20]).unwrap();
        m.sync(Path::new("a.dav"), Stage::Recording).unwrap();
        // Rot in the middle, where the head and tail comparison does not look, and a
        // restart: what the last process read back proves nothing now.
        let partial = m.backup_dir.join("a.dav.partial");
        let mut f = OpenOptions::new().write(true).open(&partial).unwrap();
        f.seek(SeekFrom::Start(3 << 19)).unwrap();
        f.write_all(b"rot").unwrap();
        drop(f);
        let m = Mirror::new(m.source_dir.clone(), m.backup_dir.clone(), m.names.clone());
        fs::write(&src, &data).unwrap();
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert_eq!(synced.outcome, SyncOutcome::Completed { bytes: 4 << 20 });
        assert_eq!(synced.verified.unwrap().blake3, hex(&data));
        assert_eq!(fs::read(m.backup_dir.join("a.dav")).unwrap(), data);
        assert_eq!(leftovers(&m.backup_dir), ["a.dav"], "the damaged copy is gone");
    }

    #[test]
    fn a_version_kept_beside_and_a_long_name_have_entries_under_their_own_paths() {
        let (_t, m) = setup();
        fs::write(m.source_dir.join("a.dav"), b"first version").unwrap();
        m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        fs::write(m.source_dir.join("a.dav"), b"other version, longer").unwrap();
        let synced = m.sync(Path::new("a.dav"), Stage::Finished).unwrap();
        assert!(matches!(synced.outcome, SyncOutcome::Kept { .. }), "{synced:?}");
        let v = synced.verified.expect("the kept version has its entry");
        assert_eq!(v.rel, Path::new("a.changed-1.dav"));
        assert_eq!(v.blake3, hex(b"other version, longer"));

        // Longer than fit::LONGEST_BASE: its key is a short stand-in.
        let long = format!("{}.dav", &"NVR_ch1_main_20261126100000_".repeat(9)[..246]);
        assert_ne!(m.names.key(Path::new(&long)).unwrap(), Path::new(&long));
        let data = footage(100_000, 6);
        fs::write(m.source_dir.join(&long), &data).unwrap();
        for stage in [Stage::Recording, Stage::Finished] {
            let synced = m.sync(Path::new(&long), stage).unwrap();
            if stage == Stage::Finished {
                let v = synced.verified.expect("a long name has its entry");
                assert_eq!(v.rel, Path::new(&long), "the file's own name, not its short key");
                assert_eq!(v.blake3, hex(&data));
            }
        }
        assert_eq!(fs::read(m.backup_dir.join(&long)).unwrap(), data);
    }

    #[test]
    fn a_batch_copy_damaged_before_its_read_back_is_copied_again() {
        let (_t, m) = setup();
        let jobs: Vec<_> = (0..3u8)
            .map(|i| {
                let rel = std::path::PathBuf::from(format!("{i}.dav"));
                fs::write(m.source_dir.join(&rel), footage(50_000, i)).unwrap();
                (rel, Stage::Finished)
            })
            .collect();
        m.faults.arm(1);
        let results = m.sync_batch(&jobs);
        for ((rel, _), r) in jobs.iter().zip(results) {
            let synced = r.unwrap();
            let data = fs::read(m.source_dir.join(rel)).unwrap();
            assert_eq!(synced.verified.unwrap().blake3, hex(&data));
            assert_eq!(fs::read(m.backup_dir.join(rel)).unwrap(), data);
        }
        assert_eq!(leftovers(&m.backup_dir), ["0.dav", "1.dav", "2.dav"]);
    }
}
