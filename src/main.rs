//! The `cctv-mirror` command: parse the command line and hand it to the library,
//! which returns the exit code (README.md lists them).

use clap::Parser;

fn main() -> std::process::ExitCode {
    cctv_mirror::commands::dispatch(cctv_mirror::cli::Opts::parse())
}
