//! `cctv-mirror demo`'s simulated recorder: a site of `.dav` recordings made of valid
//! DHAV frames, with a few planted gaps, to try cctv-mirror without a recorder. What to
//! record is a pure function of `now`; `commands::demo` wires it to the command line.

pub mod frames;
pub mod live;
pub mod recorder;
pub mod schedule;
pub mod site;
pub mod write;

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// Prints one line on stdout; a closed stdout (`demo | head`) is not a reason to stop.
pub fn say(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Prints one line on stderr, as `say` does on stdout.
pub fn say_err(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Why the demo stopped short: one line for the operator, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Bad input (a folder that is not a demo's, an option out of range): exit 2.
    Refused(String),
    /// A file could not be written, renamed or deleted: exit 1.
    Io(String),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Refused(_) => ExitCode::from(crate::engine::exit::BAD_CONFIG),
            Failure::Io(_) => ExitCode::from(crate::engine::exit::CANNOT_RUN),
        }
    }

    /// An I/O error on `path`, as one line.
    pub fn io(what: &str, path: &std::path::Path, e: &std::io::Error) -> Failure {
        Failure::Io(format!("cannot {what} {}: {e}", path.display()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(s) | Failure::Io(s) => f.write_str(s),
        }
    }
}
