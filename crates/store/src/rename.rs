//! The one rename that gives a backup file its final name, and refuses to replace one
//! that is there: `renameat2(RENAME_NOREPLACE)` on Linux, `MoveFileExW` without
//! `MOVEFILE_REPLACE_EXISTING` on Windows. Where the file system cannot refuse in the
//! rename itself (Linux file systems without `RENAME_NOREPLACE`, other Unixes), a hard
//! link, which never replaces, then the old name's removal; where links are not
//! supported either (FAT, some network shares), a look before a plain rename, the only
//! guard left.

use std::io;
use std::path::Path;

/// Renames `from` to `to` unless something is at `to`: then `AlreadyExists`, and both
/// are left as they were.
pub fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    match refusing_rename(from, to) {
        Err(e) if unsupported(&e) => linked(from, to),
        other => other,
    }
}

#[cfg(target_os = "linux")]
fn refusing_rename(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them as `open` does.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(windows)]
fn refusing_rename(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::{MoveFileExW, MOVEFILE_WRITE_THROUGH};
    let wide = |p: &Path| p.as_os_str().encode_wide().chain(Some(0)).collect::<Vec<u16>>();
    let (from, to) = (wide(from), wide(to));
    // SAFETY: both are valid NUL-terminated UTF-16 paths that outlive the call.
    // Without MOVEFILE_REPLACE_EXISTING the call fails when `to` exists.
    if unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), MOVEFILE_WRITE_THROUGH) } != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
fn refusing_rename(_from: &Path, _to: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// The file system has no refusing rename (EINVAL or ENOSYS from `renameat2`).
fn unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported || (cfg!(unix) && matches!(e.raw_os_error(), Some(22 | 38)))
}

/// A link, which never replaces, then the old name's removal; where the file system
/// has no links, a look before a plain rename.
fn linked(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => std::fs::remove_file(from),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(from, to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_final_name_that_is_taken_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, fin) = (dir.path().join(".a.dav.tmp"), dir.path().join("a.dav"));
        std::fs::write(&tmp, b"new").unwrap();
        std::fs::write(&fin, b"kept").unwrap();
        let e = rename_new(&tmp, &fin).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read(&fin).unwrap(), b"kept");
        assert_eq!(
            std::fs::read(&tmp).unwrap(),
            b"new",
            "the temporary is left for the caller"
        );
        std::fs::remove_file(&fin).unwrap();
        rename_new(&tmp, &fin).unwrap();
        assert_eq!(std::fs::read(&fin).unwrap(), b"new");
        assert!(!tmp.exists());
    }

    #[test]
    fn the_fallback_never_replaces_either() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, fin) = (dir.path().join("t"), dir.path().join("f"));
        std::fs::write(&tmp, b"new").unwrap();
        std::fs::write(&fin, b"kept").unwrap();
        assert_eq!(linked(&tmp, &fin).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&fin).unwrap(), b"kept");
        std::fs::remove_file(&fin).unwrap();
        linked(&tmp, &fin).unwrap();
        assert_eq!(std::fs::read(&fin).unwrap(), b"new");
        assert!(!tmp.exists());
    }
}
