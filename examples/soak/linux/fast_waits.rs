//! The preload that gives the daemon what a real machine has and libfaketime's fast
//! clock lacks (`fast_waits.c`): a monotonic clock that a wall-clock jump leaves alone
//! (finding 13), and timed waits that end on time, so idle threads end (finding 12).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

const SOURCE: &str = include_str!("fast_waits.c");

/// Builds the preload in `dir` with the system's C compiler; its path.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    let src = dir.join("fast_waits.c");
    let lib = dir.join("fast_waits.so");
    fs::write(&src, SOURCE).map_err(|e| format!("cannot write {}: {e}", src.display()))?;
    let out = Command::new("cc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .output()
        .map_err(|e| format!("cannot run cc (apt install gcc): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cc could not build {}: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(lib)
}

/// The environment that loads `lib` before libfaketime (its monotonic clock wins), for
/// a clock `speed` times fast.
pub fn env(lib: &Path, speed: u32) -> [(&'static str, OsString); 2] {
    let mut preload = OsString::from(lib);
    if let Some(faketime) = std::env::var_os("LD_PRELOAD").filter(|p| !p.is_empty()) {
        preload.push(":");
        preload.push(faketime);
    }
    [("LD_PRELOAD", preload), ("SOAK_SPEED", speed.to_string().into())]
}

/// The argument that makes the soak binary run `probe` and exit.
pub const PROBE: &str = "--probe-timed-wait";

/// A timed wait of `SOAK_SPEED` simulated seconds, one real second, that nobody ends
/// early. Run by `check` under the daemon's clock and preload.
pub fn probe() -> ExitCode {
    let speed = std::env::var("SOAK_SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (lock, nobody) = (Mutex::new(()), Condvar::new());
    let held = lock.lock().unwrap();
    let _ = nobody.wait_timeout(held, Duration::from_secs(speed)).unwrap();
    ExitCode::SUCCESS
}

/// Runs `probe` as the daemon runs: under `env`, its monotonic clock faked. An error
/// unless its wait of one real second ends within 30.
pub fn check(env: &[(&'static str, OsString)]) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut child = Command::new(me)
        .arg(PROBE)
        .env_remove("FAKETIME_DONT_FAKE_MONOTONIC")
        .envs(env.iter().cloned())
        .spawn()
        .map_err(|e| format!("cannot run the timed-wait probe: {e}"))?;
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(
        "a timed wait of one real second did not end in 30 under the fast clock: the fast_waits preload does not work"
            .into(),
    )
}
