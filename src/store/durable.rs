//! Making writes to the backup durable, the one place that flushes: a file's bytes
//! before it takes its final name, and a folder after a rename. A batch of new copies
//! is flushed together: on Linux one `syncfs` of the backup's file system writes every
//! file of the batch (and, the second time, every rename) in one journal commit instead
//! of one per file; elsewhere each file is flushed on its own.

use std::fs::File;
use std::io;
use std::path::Path;

/// Flushes every file of a batch to disk. All of them are on one file system (the
/// backup's); `files` is never empty when asked.
pub fn flush_files(files: &[&File]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(first) = files.first() {
        return syncfs(first);
    }
    for f in files {
        f.sync_all()?;
    }
    Ok(())
}

/// Makes the renames into these folders durable: one `syncfs` on Linux (through
/// `any`, a file of that file system), each folder fsynced on other Unixes, nothing on
/// Windows (see `sync_dir`).
pub fn flush_folders<'a>(any: &File, dirs: impl IntoIterator<Item = &'a Path>) {
    #[cfg(target_os = "linux")]
    {
        let _ = dirs;
        let _ = syncfs(any);
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = any;
        for d in dirs {
            sync_dir(d);
        }
    }
}

/// Makes a rename durable: on Linux the new directory entry is only safe on disk once
/// the folder itself is fsynced. Windows has no portable way to open a folder for this;
/// NTFS journals the rename itself.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes out all dirty data and metadata of the file system holding `f` (Linux 5.8 and
/// later report write-back errors through it).
#[cfg(target_os = "linux")]
fn syncfs(f: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on a descriptor `f` keeps open for the call.
    if unsafe { libc::syncfs(f.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
