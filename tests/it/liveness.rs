//! Whether a daemon runs, as `status` tells it, and one run per log folder: a daemon
//! that hangs is reported within three missed proofs of life, one that is gone at
//! once (its lock is free); a second daemon is refused, a `--once` beside a daemon
//! does nothing and succeeds, and a daemon waits for a `--once` to end.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

tests![
    a_hung_daemon_is_reported_after_three_missed_proofs,
    a_hung_daemon_with_the_default_interval_is_reported_within_100_s,
    a_killed_daemon_is_reported_at_once,
    a_second_daemon_is_refused_with_one_line_naming_the_first,
    a_single_pass_beside_a_daemon_does_nothing_and_succeeds,
    a_daemon_waits_for_a_single_pass_to_end,
];

/// `status`'s exit code and text.
fn status(env: &Env) -> (Option<i32>, String) {
    let out = env.command(&["status"]).output().expect("run status");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits up to `secs` for `status` to exit `code`; the seconds it took and its text.
fn status_turns(env: &Env, code: i32, secs: u64) -> (f64, String) {
    let started = Instant::now();
    loop {
        let (got, text) = status(env);
        if got == Some(code) {
            return (started.elapsed().as_secs_f64(), text);
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "status did not exit {code} within {secs} s: {got:?}\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `run`, its standard error kept for `told`.
fn run_telling(env: &Env) -> Daemon {
    Daemon(
        env.command(&["run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// What an ended `run_telling` wrote to standard error.
fn told(daemon: &mut Daemon) -> String {
    let mut err = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut err).unwrap();
    err
}

/// A daemon `status` calls healthy; the host's own free space plays no part (a
/// build machine's disk may be under 10 % free).
fn healthy_daemon(mut extra: Value) -> (Env, Daemon) {
    extra["min_free_percent"] = json!(0);
    let env = Env::new(extra);
    env.record(&dated(today(), "a.dav"), b"recording");
    let daemon = env.watching();
    status_turns(&env, 0, 60);
    (env, daemon)
}

fn a_hung_daemon_is_reported_after_three_missed_proofs() {
    let (env, daemon) = healthy_daemon(json!({"reconcile_interval_secs": 3}));
    // Idle for longer than three proofs: the proofs keep it healthy.
    std::thread::sleep(Duration::from_secs(12));
    let (code, text) = status(&env);
    assert_eq!(code, Some(0), "an idle daemon proves it is alive: {text}");
    signal(&daemon, "STOP");
    std::thread::sleep(Duration::from_secs(11));
    let (code, text) = status(&env);
    signal(&daemon, "CONT");
    assert_eq!(code, Some(3), "stopped for 11 s with a 3 s interval: {text}");
    assert!(text.contains("has not proved it is alive"), "{text}");
    let (took, _) = status_turns(&env, 0, 30);
    println!("healthy again {took:.1} s after SIGCONT");
    stop(daemon);
}

fn a_hung_daemon_with_the_default_interval_is_reported_within_100_s() {
    let (env, daemon) = healthy_daemon(json!({}));
    // Idle past three beats, with no pass (600 s apart): its proofs keep it healthy.
    std::thread::sleep(Duration::from_secs(100));
    let (code, text) = status(&env);
    assert_eq!(code, Some(0), "idle 100 s between passes 600 s apart: {text}");
    signal(&daemon, "STOP");
    let (took, text) = status_turns(&env, 3, 100);
    signal(&daemon, "CONT");
    println!("status turned {took:.1} s after SIGSTOP (interval 600 s)");
    assert!(text.contains("has not proved it is alive"), "{text}");
    stop(daemon);
}

fn a_killed_daemon_is_reported_at_once() {
    let (env, mut daemon) = healthy_daemon(json!({}));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let (took, text) = status_turns(&env, 3, 5);
    println!("status turned {took:.1} s after kill -9");
    assert!(text.contains("ended without stopping"), "{text}");
}

fn a_second_daemon_is_refused_with_one_line_naming_the_first() {
    let (env, first) = healthy_daemon(json!({}));
    let mut second = run_telling(&env);
    let code = exit_code(&mut second, 30);
    let err = told(&mut second);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("the daemon (pid ") && err.contains("one daemon per configuration"),
        "{err}"
    );
    let (code, _) = status(&env);
    assert_eq!(code, Some(0), "the first one still runs and is healthy");
    stop(first);
}

fn a_single_pass_beside_a_daemon_does_nothing_and_succeeds() {
    let (env, daemon) = healthy_daemon(json!({"reconcile_interval_secs": 3600}));
    let logs_before = env.log_files().len();
    let passes_before = env.status()["last_pass"]["started_at"].clone();
    let out = env.command(&["run", "--once"]).output().expect("run --once");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("already protects this site"), "{said}");
    assert_eq!(env.log_files().len(), logs_before, "no pass, no pass log");
    assert_eq!(env.status()["last_pass"]["started_at"], passes_before);
    stop(daemon);
    // With the daemon gone, a pass runs again.
    let out = env.pass();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("already protects"));
}

/// The lock held by this test process as a `--once` would hold it (a Linux lock that
/// Wine's processes do not see: native only).
fn a_daemon_waits_for_a_single_pass_to_end() -> Outcome {
    native_only("holds the lock the Linux way")?;
    let env = Env::new(json!({}));
    std::fs::create_dir_all(&env.logs).unwrap();
    let lock = std::fs::File::create(env.logs.join("run.lock")).unwrap();
    lock.try_lock().expect("the lock is free");
    let since = chrono::Local::now().to_rfc3339();
    std::fs::write(env.logs.join("run.json"), json!({"pid": 1, "mode": "once", "since": since}).to_string()).unwrap();
    let mut daemon = run_telling(&env);
    std::thread::sleep(Duration::from_secs(5));
    assert!(daemon.try_wait().unwrap().is_none(), "it waits, it does not give up");
    assert!(!env.logs.join("status.json").exists(), "nothing runs while the pass holds the lock");
    drop(lock);
    wait_until(60, "the daemon to start once the pass ended", || {
        env.logs.join("status.json").exists() && env.status()["state"] == "running"
    });
    signal(&daemon, stop_signal());
    assert_eq!(exit_code(&mut daemon, 60), Some(0));
    let err = told(&mut daemon);
    assert!(err.contains("a single pass (pid 1, since") && err.contains("the daemon starts when it ends"), "{err}");
    Ok(())
}
