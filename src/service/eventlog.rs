//! The Windows Event Log: the service's source in the Application log (registered at
//! install, removed at uninstall), and the entries it writes: started and stopped
//! (information), each alert raised and cleared (warning), fatal errors (error). The
//! message file is this program itself, which carries a message table whose entries
//! are just "%1" (see build.rs), so Event Viewer shows the text as written.

use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, RegisterEventSourceW, ReportEventW, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE,
    EVENTLOG_WARNING_TYPE,
};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegCreateKeyExW, RegDeleteKeyW, RegGetValueW, RegSetValueExW, HKEY, HKEY_LOCAL_MACHINE, KEY_WRITE,
    REG_DWORD, REG_EXPAND_SZ, RRF_RT_ANY,
};

const SOURCES: &str = r"SYSTEM\CurrentControlSet\Services\EventLog\Application\";

#[derive(Debug, Clone, Copy)]
pub enum Level {
    Info,
    Warning,
    Error,
}

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

fn check(code: u32, what: &str) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        let e = io::Error::from_raw_os_error(code as i32);
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// Registers `name` as a source of the Application log, with `exe` as its message file.
pub fn register(name: &str, exe: &Path) -> io::Result<()> {
    let sub = wide(OsStr::new(&format!("{SOURCES}{name}")));
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated strings and out-pointers; the key is closed below.
    unsafe {
        let r = RegCreateKeyExW(
            HKEY_LOCAL_MACHINE,
            sub.as_ptr(),
            0,
            std::ptr::null(),
            0,
            KEY_WRITE,
            std::ptr::null(),
            &mut key,
            std::ptr::null_mut(),
        );
        check(r, "cannot register the Event Log source")?;
        let file = wide(exe.as_os_str());
        let r1 = RegSetValueExW(
            key,
            wide(OsStr::new("EventMessageFile")).as_ptr(),
            0,
            REG_EXPAND_SZ,
            file.as_ptr().cast(),
            (file.len() * 2) as u32,
        );
        let types: u32 = 7;
        let r2 = RegSetValueExW(
            key,
            wide(OsStr::new("TypesSupported")).as_ptr(),
            0,
            REG_DWORD,
            (&types as *const u32).cast(),
            4,
        );
        RegCloseKey(key);
        check(r1, "cannot set EventMessageFile")?;
        check(r2, "cannot set TypesSupported")
    }
}

/// Whether `name` is a source of the Application log with a message file.
pub fn is_registered(name: &str) -> bool {
    let sub = wide(OsStr::new(&format!("{SOURCES}{name}")));
    let value = wide(OsStr::new("EventMessageFile"));
    let mut len = 0u32;
    // SAFETY: valid NUL-terminated strings; no data buffer, only its size asked for.
    let r = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            sub.as_ptr(),
            value.as_ptr(),
            RRF_RT_ANY,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut len,
        )
    };
    r == 0 && len > 2
}

/// Removes the source; a source that is not there is no error.
pub fn deregister(name: &str) -> io::Result<()> {
    let sub = wide(OsStr::new(&format!("{SOURCES}{name}")));
    // SAFETY: a valid NUL-terminated string.
    let r = unsafe { RegDeleteKeyW(HKEY_LOCAL_MACHINE, sub.as_ptr()) };
    if r == 2 {
        return Ok(()); // ERROR_FILE_NOT_FOUND
    }
    check(r, "cannot remove the Event Log source")
}

/// An open handle to write entries of one source.
pub struct EventLog(HANDLE);

// SAFETY: an event source handle may be used from any thread (ReportEventW is thread-safe).
unsafe impl Send for EventLog {}
unsafe impl Sync for EventLog {}

impl EventLog {
    pub fn open(name: &str) -> Option<EventLog> {
        // SAFETY: a valid NUL-terminated string; a null server means this computer.
        let h = unsafe { RegisterEventSourceW(std::ptr::null(), wide(OsStr::new(name)).as_ptr()) };
        (!h.is_null()).then_some(EventLog(h))
    }

    /// Writes one entry; a failure is only logged (the pass logs have everything).
    pub fn report(&self, level: Level, text: &str) {
        let (kind, id) = match level {
            Level::Info => (EVENTLOG_INFORMATION_TYPE, 1),
            Level::Warning => (EVENTLOG_WARNING_TYPE, 2),
            Level::Error => (EVENTLOG_ERROR_TYPE, 3),
        };
        // An entry holds at most 31,839 characters.
        let text: String = text.chars().take(31_000).collect();
        let msg = wide(OsStr::new(&text));
        let strings = [msg.as_ptr()];
        // SAFETY: the handle is open; one valid string; no raw data.
        let ok = unsafe {
            ReportEventW(
                self.0,
                kind,
                0,
                id,
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            )
        };
        if ok == 0 {
            tracing::debug!("cannot write to the Event Log: {}", io::Error::last_os_error());
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegisterEventSourceW and is closed once.
        unsafe { DeregisterEventSource(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use windows_sys::Win32::System::Diagnostics::Debug::{
        FormatMessageW, FORMAT_MESSAGE_ARGUMENT_ARRAY, FORMAT_MESSAGE_FROM_HMODULE,
    };
    use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;

    use super::*;

    /// The message table is in the program: each event id formats to its one string,
    /// as Event Viewer will show it.
    #[test]
    fn event_ids_format_to_the_text_itself() {
        for id in 1..=3u32 {
            let text = wide(OsStr::new("backup_unavailable: D:\\cctv is gone"));
            let args = [text.as_ptr() as usize];
            let mut buf = vec![0u16; 256];
            // SAFETY: this module's handle; an argument array of one string; the buffer's size.
            let n = unsafe {
                FormatMessageW(
                    FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                    GetModuleHandleW(std::ptr::null()) as *const _,
                    id,
                    0,
                    buf.as_mut_ptr(),
                    buf.len() as u32,
                    args.as_ptr() as *const _,
                )
            };
            assert!(n > 0, "event id {id}: {}", io::Error::last_os_error());
            assert_eq!(
                String::from_utf16_lossy(&buf[..n as usize]),
                "backup_unavailable: D:\\cctv is gone\r\n"
            );
        }
    }
}
