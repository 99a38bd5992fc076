//! Where a path really is, as the OS resolves it: symlinks, junctions, mount points
//! and `subst` drives followed. `real_form` is for folders that may not exist yet (the
//! config's three folders); `Opened` is a file opened without following a final link,
//! whose location is asked of the OS through its handle (`/proc/self/fd` on Linux,
//! `GetFinalPathNameByHandleW` on Windows), so the deleter checks the very file it
//! then removes: through its handle on Windows, and on Unix by its name in the folder
//! it was opened from (`unlinkat` on that folder's handle), so a folder swapped for a
//! link after the check changes nothing.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rules::paths::{PathKey, Style};

/// The device a folder lives on (Unix `st_dev`), to compare with `Opened::device`.
pub fn device_of(p: &Path) -> io::Result<Option<u64>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(Some(std::fs::metadata(p)?.dev()))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(p).map(|_| None)
    }
}

/// `p` with links resolved as far as it exists: the deepest existing folder is resolved
/// by the OS and the parts that do not exist yet are appended as written.
pub fn real_form(p: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut cur = p;
    loop {
        if let Ok(real) = std::fs::canonicalize(cur) {
            return missing.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                cur = parent;
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// True when `inner` is `outer` or lies inside it once links are resolved, compared
/// under the native rules (case-insensitive on Windows).
pub fn really_within(inner: &Path, outer: &Path) -> bool {
    key(&real_form(inner)).within(&key(&real_form(outer)))
}

/// Two real paths name the same place under the native rules (case-insensitive on
/// Windows, `\\?\` prefixes ignored).
pub fn same_place(a: &Path, b: &Path) -> bool {
    key(a) == key(b)
}

fn key(p: &Path) -> PathKey {
    PathKey::of(&p.to_string_lossy(), Style::native())
}

/// A file opened for deletion without following a link in its last part.
pub struct Opened {
    file: File,
    place: os::Place,
}

impl Opened {
    pub fn open(path: &Path) -> io::Result<Opened> {
        let (file, place) = os::open_no_follow(path)?;
        Ok(Opened { file, place })
    }

    /// Where the OS says the opened file is.
    pub fn real_path(&self) -> io::Result<PathBuf> {
        os::final_path(&self.file)
    }

    /// The device the file lives on (Unix `st_dev`); None where the OS does not say
    /// cheaply (Windows: its mount points are reparse points, and its final path shows
    /// the volume).
    pub fn device(&self) -> io::Result<Option<u64>> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Some(self.file.metadata()?.dev()))
        }
        #[cfg(not(unix))]
        Ok(None)
    }

    pub fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Deletes the opened file: through its handle on Windows (exactly the file that
    /// was checked); on Unix by its name in the folder it was opened from, once that
    /// name is seen to be still this file.
    pub fn delete(self) -> io::Result<()> {
        os::delete(self.file, self.place)
    }
}

#[cfg(unix)]
mod os {
    use std::ffi::CString;
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    use std::path::{Path, PathBuf};

    /// The folder a file was opened from, held open, and its name there.
    pub struct Place {
        dir: OwnedFd,
        name: CString,
    }

    /// Opens the folder, then the file by its name in that folder, following no link
    /// in the file's name.
    pub fn open_no_follow(path: &Path) -> io::Result<(File, Place)> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
        let name = CString::new(name.as_bytes()).map_err(io::Error::other)?;
        let dir: OwnedFd = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(parent)?
            .into();
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: `dir` is an open folder and `name` a NUL-terminated string.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        Ok((file, Place { dir, name }))
    }

    pub fn final_path(file: &File) -> io::Result<PathBuf> {
        let fd = file.as_raw_fd();
        match std::fs::read_link(format!("/proc/self/fd/{fd}")) {
            Ok(p) => Ok(p),
            // Without /proc (not Linux): the OS cannot tell, so nothing is deleted.
            Err(e) => Err(io::Error::new(e.kind(), format!("cannot ask where the file is: {e}"))),
        }
    }

    /// Removes the name from the folder it was opened in, once that name is seen to
    /// be still the opened file (same device and inode).
    pub fn delete(file: File, place: Place) -> io::Result<()> {
        let opened = file.metadata()?;
        // SAFETY: a zeroed `stat` is a valid buffer for fstatat to fill.
        let mut now: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `place.dir` is open, `name` NUL-terminated, `now` a valid buffer.
        let rc = unsafe {
            libc::fstatat(
                place.dir.as_raw_fd(),
                place.name.as_ptr(),
                &mut now,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        if now.st_dev as u64 != opened.dev() || now.st_ino as u64 != opened.ino() {
            return Err(io::Error::other("the file was replaced after it was checked"));
        }
        drop(file);
        // SAFETY: as above; flag 0 removes a file, never a folder.
        if unsafe { libc::unlinkat(place.dir.as_raw_fd(), place.name.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(windows)]
mod os {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::windows::ffi::OsStringExt;
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use std::path::{Path, PathBuf};

    use windows_sys::Win32::Storage::FileSystem::{
        FileDispositionInfo, GetFinalPathNameByHandleW, SetFileInformationByHandle, DELETE, FILE_DISPOSITION_INFO,
        FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_NAME_NORMALIZED, FILE_READ_ATTRIBUTES,
        FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, VOLUME_NAME_DOS,
    };

    /// Nothing more than the handle: the file is deleted through it.
    pub struct Place;

    pub fn open_no_follow(path: &Path) -> io::Result<(File, Place)> {
        let file = OpenOptions::new()
            .access_mode(DELETE | FILE_READ_ATTRIBUTES)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?;
        Ok((file, Place))
    }

    pub fn final_path(file: &File) -> io::Result<PathBuf> {
        let handle = file.as_raw_handle();
        let mut buf = vec![0u16; 512];
        loop {
            // SAFETY: the handle is open for the life of `file`; the buffer's length is passed.
            let n = unsafe {
                GetFinalPathNameByHandleW(
                    handle,
                    buf.as_mut_ptr(),
                    buf.len() as u32,
                    FILE_NAME_NORMALIZED | VOLUME_NAME_DOS,
                )
            } as usize;
            if n == 0 {
                return Err(io::Error::last_os_error());
            }
            if n < buf.len() {
                return Ok(PathBuf::from(std::ffi::OsString::from_wide(&buf[..n])));
            }
            buf.resize(n + 1, 0);
        }
    }

    pub fn delete(file: File, _place: Place) -> io::Result<()> {
        let info = FILE_DISPOSITION_INFO { DeleteFile: true };
        // SAFETY: the handle was opened with DELETE access; `info` outlives the call.
        let ok = unsafe {
            SetFileInformationByHandle(
                file.as_raw_handle(),
                FileDispositionInfo,
                (&info as *const FILE_DISPOSITION_INFO).cast(),
                std::mem::size_of::<FILE_DISPOSITION_INFO>() as u32,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        // The file goes when the handle closes.
        drop(file);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_form_resolves_what_exists_and_keeps_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir(t.path().join("a")).unwrap();
        assert_eq!(real_form(&t.path().join("a/not/yet")), real.join("a/not/yet"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(t.path().join("a"), t.path().join("link")).unwrap();
            assert_eq!(real_form(&t.path().join("link/b")), real.join("a/b"));
            assert!(really_within(&t.path().join("link/b"), &t.path().join("a")));
        }
    }

    #[test]
    fn an_opened_file_knows_where_it_is() {
        let t = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(t.path().join("in")).unwrap();
        std::fs::write(t.path().join("in/a.dav"), b"abc").unwrap();
        let o = Opened::open(&t.path().join("in/a.dav")).unwrap();
        assert!(same_place(&o.real_path().unwrap(), &real.join("in/a.dav")));
        assert_eq!(o.size().unwrap(), 3);
        o.delete().unwrap();
        assert!(!t.path().join("in/a.dav").exists());
        #[cfg(unix)]
        {
            std::fs::create_dir_all(t.path().join("out")).unwrap();
            std::fs::write(t.path().join("out/b.dav"), b"x").unwrap();
            std::os::unix::fs::symlink(t.path().join("out"), t.path().join("in/l")).unwrap();
            let o = Opened::open(&t.path().join("in/l/b.dav")).unwrap();
            assert!(
                !same_place(&o.real_path().unwrap(), &real.join("in/l/b.dav")),
                "through a folder link"
            );
            std::os::unix::fs::symlink(t.path().join("out/b.dav"), t.path().join("in/c.dav")).unwrap();
            assert!(
                Opened::open(&t.path().join("in/c.dav")).is_err(),
                "a file link is not opened"
            );
        }
    }

    /// The race a path-based unlink leaves open: the file is checked, then its folder
    /// is swapped for a link to elsewhere before the deletion. The deletion still
    /// removes the checked file, in the folder it was opened from, never the file the
    /// link now leads to.
    #[cfg(unix)]
    #[test]
    fn a_folder_swapped_for_a_link_after_the_check_changes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let p = |rel: &str| t.path().join(rel);
        std::fs::create_dir_all(p("backup/day")).unwrap();
        std::fs::create_dir_all(p("elsewhere")).unwrap();
        std::fs::write(p("backup/day/a.dav"), b"old").unwrap();
        std::fs::write(p("elsewhere/a.dav"), b"not ours").unwrap();
        let o = Opened::open(&p("backup/day/a.dav")).unwrap();
        std::fs::rename(p("backup/day"), p("backup/moved")).unwrap();
        std::os::unix::fs::symlink(p("elsewhere"), p("backup/day")).unwrap();
        o.delete().unwrap();
        assert_eq!(std::fs::read(p("elsewhere/a.dav")).unwrap(), b"not ours");
        assert!(!p("backup/moved/a.dav").exists(), "the checked file is the one removed");
        // A name that now holds another file is refused.
        std::fs::write(p("backup/moved/b.dav"), b"x").unwrap();
        let o = Opened::open(&p("backup/moved/b.dav")).unwrap();
        std::fs::rename(p("backup/moved/b.dav"), p("backup/moved/c.dav")).unwrap();
        std::fs::write(p("backup/moved/b.dav"), b"another").unwrap();
        assert!(o.delete().is_err());
        assert_eq!(std::fs::read(p("backup/moved/b.dav")).unwrap(), b"another");
    }
}
