//! The process exit codes, documented in README.md. Alerts never change the code: a
//! pass that raised `low_disk_space` still did its job and exits 0.

/// Done: the pass ran (`--once`, or no pass was needed: a daemon protects the site),
/// the daemon stopped on request, or `check` found everything ready.
pub const OK: u8 = 0;
/// Could not run: the log folder cannot be created or written, or the runtime failed.
pub const CANNOT_RUN: u8 = 1;
/// Bad usage or bad configuration (one line on stderr says which key and why); for
/// `check`, also a folder that is not ready; for a daemon, another daemon already
/// running with the same log folder.
pub const BAD_CONFIG: u8 = 2;
/// Something needs attention: `notify-test` could not deliver to every channel;
/// `service status`: the service is not running.
pub const PROBLEMS: u8 = 3;
