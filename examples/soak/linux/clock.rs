//! The one fast clock the recorder and the daemon share: libfaketime's, started by the
//! `faketime` wrapper so every process under it counts from the same start, at `speed`
//! simulated seconds per real second. Its offset is read from a spec file (re-read each
//! second), so a jump of the wall clock reaches every process at once.
//!
//! The soak itself reads simulated wall time (`now`) and real monotonic time
//! (`Instant`, not faked here); the daemon's monotonic clock is faked too, so its
//! timers run at the same speed as its wall clock. Sleeps here park on a futex, which
//! libfaketime does not scale.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};

use super::options::Options;

/// Where every run's simulated time begins: a Monday, local midnight.
pub fn sim_start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2027, 2, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// The clock as seen from inside: its spec file and the jump in effect.
#[derive(Debug)]
pub struct Clock {
    spec: PathBuf,
    base: i64,
    speed: u32,
    jump: i64,
}

impl Clock {
    /// The clock of a run whose spec file is `spec`.
    pub fn inside(spec: &Path, speed: u32) -> Clock {
        let text = fs::read_to_string(spec).unwrap_or_default();
        let base = text.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(0);
        Clock {
            spec: spec.to_path_buf(),
            base,
            speed,
            jump: 0,
        }
    }

    /// Simulated local time.
    pub fn now(&self) -> NaiveDateTime {
        Local::now().naive_local()
    }

    /// Moves every process's wall clock by `secs` (ahead when positive).
    pub fn shift(&mut self, secs: i64) {
        self.jump += secs;
        write_spec(&self.spec, self.base + self.jump, self.speed);
    }
}

/// Waits `d` of real time.
pub fn pause(d: Duration) {
    let until = Instant::now() + d;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if left.is_zero() {
            break;
        }
        std::thread::park_timeout(left);
    }
}

/// Runs the soak again under the fast clock: `faketime`, with the spec file read for
/// each jump. Returns the inner run's exit code.
pub fn run_inside(o: &Options) -> Result<i32, String> {
    fs::create_dir_all(&o.out).map_err(|e| format!("cannot create {}: {e}", o.out.display()))?;
    let spec = o.out.join("clock.spec");
    let start = Local
        .from_local_datetime(&sim_start())
        .single()
        .ok_or("the simulated start is not a local time")?
        .timestamp();
    let offset = start - chrono::Utc::now().timestamp();
    write_spec(&spec, offset, o.speed);
    let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let status = Command::new("faketime")
        .args(["-f", &spec_text(offset, o.speed), "env", "-u", "FAKETIME"])
        .arg(me)
        .args(o.to_args())
        .env("FAKETIME_TIMESTAMP_FILE", &spec)
        .env("FAKETIME_CACHE_DURATION", "1")
        .env("NO_FAKE_STAT", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .status()
        .map_err(|e| format!("cannot run faketime (apt install faketime): {e}"))?;
    Ok(status.code().unwrap_or(1))
}

fn spec_text(offset: i64, speed: u32) -> String {
    format!("{offset:+} x{speed}")
}

/// Replaces the spec file in one rename, so no process reads half of it.
fn write_spec(spec: &Path, offset: i64, speed: u32) {
    let tmp = spec.with_extension("tmp");
    fs::write(&tmp, spec_text(offset, speed) + "\n").expect("write the clock spec");
    fs::rename(&tmp, spec).expect("replace the clock spec");
}
