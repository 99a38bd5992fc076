//! The preload that makes the daemon's timed waits keep pace with the fast clock
//! (`fast_waits.c`): without it an idle thread's 60 s wait would last 1,440 times
//! longer, and threads that should end never do (docs/reliability.md, finding 12).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The environment that loads `lib` after libfaketime, for a clock `speed` times fast.
pub fn env(lib: &Path, speed: u32) -> [(&'static str, OsString); 2] {
    let mut preload = std::env::var_os("LD_PRELOAD").unwrap_or_default();
    if !preload.is_empty() {
        preload.push(":");
    }
    preload.push(lib);
    [("LD_PRELOAD", preload), ("SOAK_SPEED", speed.to_string().into())]
}
