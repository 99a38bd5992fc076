//! Creating a new file in the backup, folders and all, so that nothing is ever created
//! at the path of a backup volume that is gone (invariant 5). On Unix every step goes
//! through a handle on the backup folder, opened while it carries its marker: a volume
//! unmounted meanwhile takes the file with it, never the bare mount point; a plain
//! unmount waits while the handle is open. Elsewhere the marker is checked again just
//! before the folders are made (a Windows volume that goes away takes its path along).

use std::fs::File;
use std::io;
use std::path::Path;

/// Why nothing was created: the backup volume is gone, or the file system said no.
#[derive(Debug)]
pub enum Refused {
    /// `backup_dir` does not carry its marker.
    Gone,
    Io(io::Error),
}

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Refused {
        Refused::Io(e)
    }
}

/// How the file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Created, or emptied when it exists.
    Truncate,
    /// Created, or written at its end when it exists.
    Append,
}

/// Creates (or empties) `backup_dir/rel` for writing, with the folders it needs.
pub fn new_file(backup_dir: &Path, rel: &Path) -> Result<File, Refused> {
    imp::open(backup_dir, rel, Mode::Truncate)
}

/// Opens `backup_dir/rel` to append to it, creating it (and its folders) if missing.
pub fn append_to(backup_dir: &Path, rel: &Path) -> Result<File, Refused> {
    imp::open(backup_dir, rel, Mode::Append)
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Component, Path};

    use super::{Mode, Refused};
    use crate::volume::MARKER;

    pub fn open(backup_dir: &Path, rel: &Path, mode: Mode) -> Result<File, Refused> {
        // The backup folder as configured, a link to it included; inside it, no link is
        // followed.
        let root = open_dir(None, backup_dir.as_os_str().as_bytes(), 0)?;
        if !has_marker(&root) {
            return Err(Refused::Gone);
        }
        let (Some(folders), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file's path").into());
        };
        let mut dir = root;
        for part in folders.components() {
            let Component::Normal(part) = part else {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a plain path inside the backup").into());
            };
            let c = cstr(part.as_bytes())?;
            // SAFETY: a valid folder descriptor and a NUL-terminated name.
            if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o777) } != 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::AlreadyExists {
                    return Err(e.into());
                }
            }
            dir = open_dir(Some(&dir), part.as_bytes(), libc::O_NOFOLLOW)?;
        }
        let c = cstr(name.as_bytes())?;
        let how = match mode {
            Mode::Truncate => libc::O_TRUNC,
            Mode::Append => libc::O_APPEND,
        };
        let flags = libc::O_WRONLY | libc::O_CREAT | how | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: as above; the mode is a plain integer.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags, 0o666 as libc::c_uint) };
        if fd < 0 {
            return Err(io::Error::last_os_error().into());
        }
        // SAFETY: a descriptor just opened, owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Opens a folder, relative to `at` or by its whole path, with `extra` flags.
    fn open_dir(at: Option<&OwnedFd>, name: &[u8], extra: libc::c_int) -> io::Result<OwnedFd> {
        let c = cstr(name)?;
        let base = at.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | extra;
        // SAFETY: a valid descriptor (or AT_FDCWD) and a NUL-terminated name.
        let fd = unsafe { libc::openat(base, c.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor just opened, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    fn has_marker(root: &OwnedFd) -> bool {
        let Ok(c) = cstr(MARKER.as_bytes()) else { return false };
        // SAFETY: a zeroed stat filled by the call; valid descriptor and name.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let found = unsafe { libc::fstatat(root.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        found == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
    }

    fn cstr(bytes: &[u8]) -> io::Result<CString> {
        CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a path"))
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::{self, File, OpenOptions};
    use std::path::Path;

    use super::{Mode, Refused};
    use crate::volume;

    pub fn open(backup_dir: &Path, rel: &Path, mode: Mode) -> Result<File, Refused> {
        if !volume::marked(backup_dir) {
            return Err(Refused::Gone);
        }
        let path = backup_dir.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut o = OpenOptions::new();
        o.write(true).create(true);
        match mode {
            Mode::Truncate => o.truncate(true),
            Mode::Append => o.append(true),
        };
        Ok(o.open(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume;

    #[test]
    fn creates_folders_and_the_file_only_under_a_marked_backup() {
        let t = tempfile::tempdir().unwrap();
        let backup = t.path().join("b");
        std::fs::create_dir(&backup).unwrap();
        let rel = Path::new("2026/12/07/ch01/a.dav.partial");
        assert!(
            matches!(new_file(&backup, rel), Err(Refused::Gone)),
            "no marker: nothing"
        );
        assert!(!backup.join("2026").exists(), "not even a folder");
        volume::mark(&backup, &t.path().join("logs")).unwrap();
        use std::io::Write;
        new_file(&backup, rel).unwrap().write_all(b"DHAV").unwrap();
        assert_eq!(std::fs::read(backup.join(rel)).unwrap(), b"DHAV");
    }
}
