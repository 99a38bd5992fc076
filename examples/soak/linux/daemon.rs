//! The daemon under test, kept running as a service manager would: started with
//! `run --config`, started again after a kill, and any exit nobody asked for counted.
//! It runs on the fast clock with its monotonic clock faked too, so its timers keep
//! pace with its wall clock, and so do its threads' timed waits (`fast_waits`).

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::clock::pause;

pub struct Daemon {
    exe: PathBuf,
    config: PathBuf,
    output: PathBuf,
    /// `LD_PRELOAD` and `SOAK_SPEED` for `fast_waits`.
    env: [(&'static str, OsString); 2],
    child: Option<Child>,
    /// Exits nobody asked for: their status.
    pub crashes: Vec<String>,
    pub starts: u32,
}

impl Daemon {
    pub fn new(exe: &Path, config: &Path, output: &Path, env: [(&'static str, OsString); 2]) -> Daemon {
        Daemon {
            exe: exe.into(),
            config: config.into(),
            output: output.into(),
            env,
            child: None,
            crashes: vec![],
            starts: 0,
        }
    }

    pub fn start(&mut self) {
        if self.child.is_some() {
            return;
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.output)
            .expect("daemon output file");
        let child = Command::new(&self.exe)
            .args(["run", "--config"])
            .arg(&self.config)
            .env_remove("FAKETIME_DONT_FAKE_MONOTONIC")
            .env("SOAK_S3_SECRET", "soak-secret")
            .envs(self.env.clone())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        self.child = Some(child);
        self.starts += 1;
    }

    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Notes an exit nobody asked for, and starts it again.
    pub fn watch(&mut self) {
        let Some(c) = self.child.as_mut() else { return };
        if let Ok(Some(status)) = c.try_wait() {
            self.crashes.push(status.to_string());
            self.child = None;
            self.start();
        }
    }

    /// SIGCONT then SIGTERM, and waits up to a minute for it to stop; true if it did.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        self.signal_pid(c.id() as i32, libc::SIGCONT);
        self.signal_pid(c.id() as i32, libc::SIGTERM);
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok(Some(status)) = c.try_wait() {
                if !status.success() {
                    self.crashes.push(format!("at the final stop: {status}"));
                }
                return true;
            }
            pause(Duration::from_millis(100));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    fn signal_pid(&self, pid: i32, sig: i32) {
        unsafe { libc::kill(pid, sig) };
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
