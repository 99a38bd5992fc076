//! `cctv-mirror demo`: a simulated recorder's site to try cctv-mirror without a recorder.

use std::path::PathBuf;
use std::process::ExitCode;

/// What `demo` was asked for (see `cli::Command::Demo`).
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub cameras: u32,
    pub days: u32,
    pub live: bool,
    pub wipe_after: Option<u64>,
    pub segment_secs: u64,
}

pub fn run(_opts: &Options) -> ExitCode {
    eprintln!("error: demo is not written yet");
    ExitCode::from(crate::exit::CANNOT_RUN)
}
