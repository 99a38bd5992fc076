//! A full-size site's load: N cameras recording at a fixed bit rate through the live
//! path, with cctv-mirror following them; measures the protection lag, how far the
//! in-progress copies fall behind, cctv-mirror's CPU per GB beside `cp`'s, and the
//! recorder's write latency with and without it. `scripts/bench-load.sh` runs it;
//! docs/benchmarks.md has its figures. Linux only: it reads /proc.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
#[path = "../shared/mod.rs"]
mod shared;

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    return linux::main();
    #[cfg(not(target_os = "linux"))]
    {
        eprintln!("the load benchmark runs on Linux only (it reads /proc)");
        std::process::ExitCode::from(2)
    }
}
