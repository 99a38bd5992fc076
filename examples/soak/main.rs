//! The soak: weeks of recording in minutes, with faults injected at random, checked
//! at the end against the recorder's own record of every recording. `scripts/soak.sh`
//! builds and runs it; docs/reliability.md says what it does and what it found.
//!
//! It needs Linux as root: libfaketime for the shared fast clock, tmpfs and bind
//! mounts for the backup disk, signals for the daemon.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
#[path = "../shared/mod.rs"]
mod shared;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("the soak runs on Linux only: it needs libfaketime, mounts and signals");
    std::process::ExitCode::from(2)
}
