//! Making writes to the backup durable, the one place that flushes: a file's bytes
//! before it takes its final name, and a folder after a rename. A batch of new copies
//! is flushed together: on Linux one `syncfs` of the backup's file system writes every
//! file of the batch (and, the second time, every rename) in one journal commit instead
//! of one per file; elsewhere each file is flushed on its own as soon as it is written.

use std::fs::File;
use std::io;
use std::path::Path;

/// True where one call flushes a whole batch (`flush_batch`); elsewhere each written
/// file is flushed at once (`flush_written`).
pub const BATCHED: bool = cfg!(target_os = "linux");

/// Flushes one just-written file of a batch where the OS cannot flush them together;
/// nothing where it can (the batch is flushed by `flush_batch`).
pub fn flush_written(f: &File) -> io::Result<()> {
    if BATCHED {
        return Ok(());
    }
    f.sync_all()
}

/// Makes every write on the file system holding `dir` durable where one call can
/// (`syncfs` on Linux); elsewhere each file was flushed by `flush_written`.
pub fn flush_batch(dir: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    return syncfs(&File::open(dir)?);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Makes the renames into these folders durable: one `syncfs` on Linux (through `root`,
/// a folder of that file system), each folder fsynced on other Unixes, nothing on
/// Windows (see `sync_dir`).
pub fn flush_folders<'a>(root: &Path, dirs: impl IntoIterator<Item = &'a Path>) {
    #[cfg(target_os = "linux")]
    {
        let _ = dirs;
        let _ = flush_batch(root);
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = root;
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
