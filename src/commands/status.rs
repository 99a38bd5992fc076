//! `cctv-mirror status`.
use crate::config::Config;
use std::process::ExitCode;
pub fn run(_cfg: &Config, _json: bool) -> ExitCode {
    ExitCode::from(crate::exit::CANNOT_RUN)
}
