//! Whether a writer still holds a file open, where the OS can tell. Windows reports no
//! close, but it refuses an open that does not share writing while another handle
//! writes: such an open, closed again at once, says the recorder is done with a file
//! long before `settle_secs` of stillness would. The handle is held only for the check
//! and asks for reading alone, so the recorder's own handle is never disturbed. Elsewhere
//! the answer is "cannot tell", and stillness decides.

use std::path::Path;

/// True where `writer_holds` can answer.
pub const CAN_TELL: bool = cfg!(windows);

/// Some(true) while another handle holds `path` open for writing, Some(false) when none
/// does, None when this OS cannot tell or the check failed for another reason.
#[cfg(windows)]
pub fn writer_holds(path: &Path) -> Option<bool> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_DELETE, FILE_SHARE_READ};
    const ERROR_SHARING_VIOLATION: i32 = 32;
    match std::fs::OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_DELETE)
        .open(path)
    {
        Ok(_) => Some(false),
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => Some(true),
        Err(_) => None,
    }
}

/// Some(true) while another handle holds `path` open for writing, Some(false) when none
/// does, None when this OS cannot tell (here: always).
#[cfg(not(windows))]
pub fn writer_holds(path: &Path) -> Option<bool> {
    let _ = path;
    None
}
