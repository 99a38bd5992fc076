//! `cctv-mirrorw`: the same program without a console window on Windows, for Task
//! Scheduler (`cctv-mirrorw.exe run --once`): nothing flashes on the screen every 10
//! minutes. Its output goes to the pass logs; elsewhere it is `cctv-mirror` itself.

#![cfg_attr(windows, windows_subsystem = "windows")]

use clap::Parser;

fn main() -> std::process::ExitCode {
    cctv_mirror::commands::dispatch(cctv_mirror::cli::Opts::parse())
}
