//! `cctv-mirror verify`.
use crate::config::Config;
use std::process::ExitCode;
pub fn run(_cfg: &Config, _days: Option<u32>, _slice: Option<&str>, _json: bool) -> ExitCode {
    ExitCode::from(crate::exit::CANNOT_RUN)
}
