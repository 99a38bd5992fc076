//! The test environment: real temporary folders, a config file, and the built binary
//! run as a process. Helpers wait on conditions with generous deadlines.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Days, Local, NaiveDate};
use serde_json::{json, Value};

pub use crate::harness::{missing, not_applicable, Outcome, Skip};

pub const BIN: &str = env!("CARGO_BIN_EXE_cctv-mirror");

/// The file that marks the backup folder as the backup (`volume::MARKER`).
pub const MARKER: &str = ".cctv-mirror-backup";

/// The backup's manifest of content hashes (`store::manifest::FILE`).
pub const MANIFEST: &str = ".cctv-mirror-manifest.jsonl";

/// The program under test: this build's binary, or, when `CCTV_MIRROR_TEST_EXE` names
/// the Windows build, that `.exe` run through `CCTV_MIRROR_TEST_RUNNER` (Wine); see
/// `scripts/wine-tests.sh`. Only the watcher, in-progress and daemon tests are meant
/// for the Windows build.
pub fn program() -> Command {
    match std::env::var_os("CCTV_MIRROR_TEST_EXE") {
        Some(exe) => {
            let mut c = Command::new(std::env::var_os("CCTV_MIRROR_TEST_RUNNER").unwrap_or("wine".into()));
            c.arg(exe);
            c
        }
        None => Command::new(BIN),
    }
}

/// True when the tests drive the Windows build (under Wine).
pub fn windows_build() -> bool {
    std::env::var_os("CCTV_MIRROR_TEST_EXE").is_some()
}

/// The stop signal the program under test understands: Wine turns SIGINT into the
/// console's Ctrl-C; natively SIGTERM is what a service manager sends.
pub fn stop_signal() -> &'static str {
    if windows_build() {
        "INT"
    } else {
        "TERM"
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub source: PathBuf,
    pub backup: PathBuf,
    pub logs: PathBuf,
    pub config: PathBuf,
}

impl Env {
    /// Folders `source/` (created), `backup/` and `logs/` (left to the program), and a
    /// config using them; `extra` overrides or adds keys.
    pub fn new(extra: Value) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let env = Env {
            source: root.join("source"),
            backup: root.join("backup"),
            logs: root.join("logs"),
            config: root.join("config.json"),
            dir,
        };
        fs::create_dir_all(&env.source).unwrap();
        env.write_config(extra);
        env
    }

    pub fn write_config(&self, extra: Value) {
        let mut cfg = json!({"source_dir": "source", "backup_dir": "backup", "log_dir": "logs"});
        for (k, v) in extra.as_object().expect("an object").iter() {
            cfg[k] = v.clone();
        }
        fs::write(&self.config, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    }

    /// Writes a finished recording into the source (folders created) and returns its
    /// path. Its time is set a minute back, as a recorder's closed file would be: a file
    /// changed within `settle_secs` counts as still being recorded.
    pub fn record(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = write_file(&self.source.join(rel), bytes);
        set_mtime(&path, SystemTime::now() - Duration::from_secs(60));
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = program();
        c.args(args).arg("--config").arg(&self.config);
        c
    }

    /// `adopt-backup`: what an operator runs on a new, empty backup disk.
    pub fn adopt_backup(&self) {
        let out = self.command(&["adopt-backup"]).output().expect("run the binary");
        assert!(out.status.success(), "adopt-backup failed: {}", show(&out));
    }

    /// One `run --once` pass; panics with its output if it did not exit 0.
    pub fn pass(&self) -> Output {
        let out = self.command(&["run", "--once"]).output().expect("run the binary");
        assert!(out.status.success(), "pass failed: {}", show(&out));
        out
    }

    pub fn status(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(self.logs.join("status.json")).expect("status.json")).unwrap()
    }

    pub fn last_pass(&self, key: &str) -> u64 {
        self.status()["last_pass"][key]
            .as_u64()
            .unwrap_or_else(|| panic!("last_pass.{key} in {}", self.status()))
    }

    pub fn alert_kinds(&self) -> Vec<String> {
        self.status()["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect()
    }

    /// As root, hands the whole test tree to `nobody` and returns a command that runs
    /// the binary as `nobody` (root reads files whatever their mode, so permission tests
    /// must drop privileges); otherwise the plain command.
    pub fn command_unprivileged(&self, args: &[&str]) -> Command {
        use std::os::unix::fs::PermissionsExt;
        if !is_root() {
            return self.command(args);
        }
        let st = Command::new("chown")
            .arg("-R")
            .arg("65534:65534")
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(st.success());
        fs::set_permissions(self.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c.args(args).arg("--config").arg(&self.config);
        c
    }

    /// Starts `run` with `args` as a long-running process.
    pub fn daemon(&self, args: &[&str]) -> Daemon {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        // Not piped: nobody reads a daemon's output here, and a full pipe would stall it.
        Daemon(
            self.command(&all)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    /// Starts the daemon with its watcher and waits until the watch is up and the first
    /// pass is done, so what the test writes next is the watcher's to find.
    pub fn watching(&self) -> Daemon {
        let started = chrono::Local::now() - chrono::TimeDelta::seconds(1);
        // A daemon killed just before left its status and its log lines: this one's
        // differ in start time and add a line.
        let started_at = |s: &Value| s["daemon"]["started_at"].as_str().map(str::to_string);
        let status = || -> Value {
            fs::read_to_string(self.logs.join("status.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default()
        };
        let before = started_at(&status());
        let watching = || self.logs_text().matches("watching the source folder").count();
        let lines_before = watching();
        let child = self.daemon(&[]);
        // status.json is written from the start: its first pass is done once it says
        // `running` for this daemon.
        let this_one_runs = || {
            let s = status();
            let since = started_at(&s);
            let recent = since
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t >= started);
            s["state"] == "running" && recent && since != before
        };
        wait_until(60, "the watcher to start", || {
            this_one_runs() && watching() > lines_before
        });
        child
    }

    /// Every per-pass log file, oldest first.
    pub fn log_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(&self.logs, &mut files);
        files.retain(|p| p.extension().is_some_and(|e| e == "log"));
        files.sort();
        files
    }

    /// All the pass logs' text, concatenated.
    pub fn logs_text(&self) -> String {
        self.log_files()
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Every file under the backup, relative, sorted; not the backup's marker.
    pub fn backup_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        walk(&self.backup, &mut files);
        files.retain(|f| f != &self.backup.join(MARKER) && f != &self.backup.join(MANIFEST));
        let mut rel: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(&self.backup).unwrap().to_string_lossy().into_owned())
            .collect();
        rel.sort();
        rel
    }
}

pub fn write_file(path: &Path, bytes: &[u8]) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

pub fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// `YYYY/MM/DD/NAME`, the recorder's layout.
pub fn dated(d: NaiveDate, name: &str) -> String {
    format!("{}/{name}", d.format("%Y/%m/%d"))
}

pub fn set_mtime(path: &Path, t: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

pub fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

/// Polls `cond` until it holds; fails the test after `secs` seconds, naming `what`.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {secs} s waiting for: {what}");
}

/// A recording's bytes: `len` bytes of whole DHAV frames (of up to 64 KiB, each
/// opening `DHAV` with its length and closing `dhav` with it again), so `verify` finds
/// an unbroken chain, and different for each `seed`. Under 32 bytes, just bytes.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut at = 0;
    while len - at >= 32 {
        let mut n = (len - at).min(64 * 1024);
        if len - at - n < 32 {
            n = len - at;
        }
        let frame = &mut v[at..at + n];
        frame[..4].copy_from_slice(b"DHAV");
        frame[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        frame[n - 8..n - 4].copy_from_slice(b"dhav");
        frame[n - 4..].copy_from_slice(&(n as u32).to_le_bytes());
        at += n;
    }
    v
}

pub fn is_root() -> bool {
    // Root reads files whatever their mode, so permission tests must drop privileges.
    fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Waits for the exit and returns its code.
pub fn exit_code(child: &mut Child, secs: u64) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon did not exit within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A daemon started by a test. Killed when the test ends, also when it fails: a daemon
/// left running would load the machine for every test after it.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Stops a daemon with its stop signal and checks it exits 0.
pub fn stop(mut child: Daemon) {
    signal(&child, stop_signal());
    assert_eq!(exit_code(&mut child, 60), Some(0));
}

/// Faketime, to shift the binary's clock; a test that needs it starts with
/// `need_faketime()?`.
pub fn need_faketime() -> Outcome {
    let ok = Command::new("faketime")
        .args(["-f", "+1d", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return missing("faketime: apt-get install faketime");
    }
    Ok(())
}

/// Root, for a test that mounts or runs the binary as another user.
pub fn need_root() -> Outcome {
    if !is_root() {
        return missing("root, to mount or to run the program as another user");
    }
    Ok(())
}

/// The native build: faketime, mounts and `setpriv` act on this Linux binary, not on
/// the Windows build under Wine.
pub fn native_only(why: &str) -> Outcome {
    if windows_build() {
        return not_applicable(format!("native build only: {why}"));
    }
    Ok(())
}

/// One pass with the clock shifted by `offset` (faketime syntax: "+400d", "-30d").
pub fn pass_at(env: &Env, offset: &str) {
    let out = Command::new("faketime")
        .args(["-f", offset, BIN, "run", "--once", "--config"])
        .arg(&env.config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
}
