//! Puts the calling thread in the background, so the uploads, which read the backup
//! disk and use the CPU for TLS, yield to the copies that write it: on Windows, the
//! thread's background mode (lower CPU, I/O and memory priority), or below-normal
//! priority where that mode is refused; on Linux, 10 nice levels lower than the process
//! (at most 19) and the lowest best-effort I/O priority for this thread. Best effort: what the OS refuses is only logged.

/// Lowers this thread's priority; what was done, in words, or why not.
pub fn enter() -> Result<&'static str, String> {
    imp::enter()
}

#[cfg(windows)]
mod imp {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, SetThreadPriority, THREAD_MODE_BACKGROUND_BEGIN, THREAD_PRIORITY_BELOW_NORMAL,
    };

    pub fn enter() -> Result<&'static str, String> {
        // SAFETY: GetCurrentThread returns a pseudo-handle valid in this thread; the
        // calls take no pointers.
        unsafe {
            if SetThreadPriority(GetCurrentThread(), THREAD_MODE_BACKGROUND_BEGIN) != 0 {
                return Ok("background mode");
            }
            if SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL) != 0 {
                return Ok("below normal priority");
            }
        }
        Err(std::io::Error::last_os_error().to_string())
    }
}

#[cfg(unix)]
mod imp {
    /// `ioprio_set`'s "this thread", the best-effort class, its lowest level.
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_BEST_EFFORT_LOWEST: libc::c_long = (2 << 13) | 7;

    pub fn enter() -> Result<&'static str, String> {
        // SAFETY: plain system calls on the calling thread (id 0: itself), no pointers.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            // Relative to what the thread has: a daemon started at nice 15 must not
            // gain priority here.
            let lower = (libc::getpriority(libc::PRIO_PROCESS, tid) + 10).min(19);
            if libc::setpriority(libc::PRIO_PROCESS, tid, lower) != 0 {
                return Err(std::io::Error::last_os_error().to_string());
            }
            #[cfg(target_os = "linux")]
            if libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_BEST_EFFORT_LOWEST) != 0 {
                return Ok("nice +10");
            }
        }
        Ok("nice +10, lowest I/O priority")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_in_the_background_runs_at_a_lower_priority() {
        let before = priority();
        let done = std::thread::spawn(|| {
            let what = enter();
            (what, priority())
        })
        .join()
        .unwrap();
        let (what, theirs) = done;
        assert!(what.is_ok(), "{what:?}");
        assert!(theirs < before, "{what:?}: the thread's priority did not go down");
        assert_eq!(priority(), before, "other threads keep theirs");
    }

    /// The calling thread's priority: higher runs first.
    #[cfg(unix)]
    fn priority() -> i32 {
        // SAFETY: plain system calls on the calling thread.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            -libc::getpriority(libc::PRIO_PROCESS, tid)
        }
    }

    #[cfg(windows)]
    fn priority() -> i32 {
        use windows_sys::Win32::System::Threading::{GetCurrentThread, GetThreadPriority};
        // SAFETY: a pseudo-handle of the calling thread.
        unsafe { GetThreadPriority(GetCurrentThread()) }
    }
}
