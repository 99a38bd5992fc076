//! The backup disk: a tmpfs (its size can be cut to what it holds, and grown back),
//! whose folder `cctv` is bind-mounted at the backup path. Unmounting the bind leaves
//! the bare mount point, as a disconnected iSCSI disk does; the tmpfs keeps the data.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The disk and its mount at the backup path.
pub struct Disk {
    tmpfs: PathBuf,
    at: PathBuf,
    size: u64,
    mounted: bool,
}

impl Disk {
    /// Mounts a tmpfs of `size` bytes at `tmpfs`, and its `cctv` folder at `at`.
    pub fn mount(tmpfs: &Path, at: &Path, size: u64) -> Result<Disk, String> {
        std::fs::create_dir_all(tmpfs).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "soak-disk"])
            .arg(tmpfs))?;
        std::fs::create_dir_all(tmpfs.join("cctv")).map_err(|e| e.to_string())?;
        let mut d = Disk {
            tmpfs: tmpfs.into(),
            at: at.into(),
            size,
            mounted: false,
        };
        d.attach()?;
        Ok(d)
    }

    /// Bind-mounts the disk's folder at the backup path.
    pub fn attach(&mut self) -> Result<(), String> {
        if !self.mounted {
            run(Command::new("mount")
                .arg("--bind")
                .arg(self.tmpfs.join("cctv"))
                .arg(&self.at))?;
            self.mounted = true;
        }
        Ok(())
    }

    /// Unmounts it lazily: copies in flight keep their files on the detached volume.
    pub fn detach(&mut self) -> Result<(), String> {
        if self.mounted {
            run(Command::new("umount").arg("-l").arg(&self.at))?;
            self.mounted = false;
        }
        Ok(())
    }

    /// Cuts the disk to what it holds now (plus a page): every new write fails. The
    /// daemon writes meanwhile, so a size below what it holds by then is tried again,
    /// with twice the room each time (at most 2 MiB: full again within moments).
    pub fn fill(&self) -> Result<(), String> {
        let mut last = Ok(());
        for attempt in 0..10 {
            last = self.resize(used_bytes(&self.tmpfs)? + (4096 << attempt));
            if last.is_ok() {
                break;
            }
        }
        last
    }

    /// Gives it back its whole size.
    pub fn grow(&self) -> Result<(), String> {
        self.resize(self.size)
    }

    fn resize(&self, bytes: u64) -> Result<(), String> {
        run(Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(&self.tmpfs))
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = self.detach();
        let _ = run(Command::new("umount").arg("-l").arg(&self.tmpfs));
    }
}

fn used_bytes(p: &Path) -> Result<u64, String> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Err(format!("statvfs {}: {}", p.display(), std::io::Error::last_os_error()));
    }
    Ok((s.f_blocks - s.f_bfree) * s.f_frsize)
}

/// Runs a system command outside the fast clock; its failure is an error line.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .env_remove("LD_PRELOAD")
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}
