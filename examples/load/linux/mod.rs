//! The load benchmark's phases: `cp`'s CPU per GB, the recorder alone, then the
//! recorder with the daemon; figures printed and written to `load.json`.

mod camera;
mod follow;
mod options;
mod stats;

use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::shared::percentile;
use camera::Site;
use options::Options;
use stats::cpu_secs;

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(o: &Options) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(&o.out);
    std::fs::create_dir_all(&o.out).map_err(|e| e.to_string())?;
    let cp = cp_cpu_per_gb(&o.out)?;
    println!("load: cp: {cp:.3} CPU s per GB");
    let alone = phase(o, false)?;
    println!("load: the recorder alone: {}", alone["write_latency_us"]);
    let with = phase(o, true)?;
    let ratio = |k: &str| {
        with["write_latency_us"][k].as_f64().unwrap_or(0.0)
            / alone["write_latency_us"][k].as_f64().unwrap_or(1.0).max(1.0)
    };
    let figures = json!({
        "cameras": o.cameras, "mbps_each": o.mbps, "secs": o.secs, "segment_secs": o.segment_secs,
        "live_sync_secs": o.live_sync_secs, "daemon": o.daemon,
        "cp_cpu_s_per_gb": cp, "alone": alone, "with_cctv_mirror": with,
        "write_latency_p99_ratio": ratio("p99"),
    });
    println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    std::fs::write(o.out.join("load.json"), serde_json::to_vec_pretty(&figures).unwrap()).map_err(|e| e.to_string())
}

/// `cp` of a 2 GiB file in the page cache: its user + system CPU seconds per GB.
fn cp_cpu_per_gb(out: &Path) -> Result<f64, String> {
    let (from, to) = (out.join("cp-from"), out.join("cp-to"));
    let chunk = vec![0x5au8; 1 << 20];
    let mut f = std::fs::File::create(&from).map_err(|e| e.to_string())?;
    for _ in 0..2048 {
        std::io::Write::write_all(&mut f, &chunk).map_err(|e| e.to_string())?;
    }
    drop(f);
    let before = stats::children_cpu();
    let st = Command::new("cp")
        .arg(&from)
        .arg(&to)
        .status()
        .map_err(|e| e.to_string())?;
    let spent = stats::children_cpu() - before;
    let _ = (std::fs::remove_file(&from), std::fs::remove_file(&to));
    if !st.success() {
        return Err("cp failed".into());
    }
    Ok(spent / 2.147_483_648)
}

/// One phase: the site records for `o.secs` (the baseline: at most 3 minutes), with
/// the daemon when `daemon` is true.
fn phase(o: &Options, daemon: bool) -> Result<serde_json::Value, String> {
    let name = if daemon { "with" } else { "alone" };
    let dir = o.out.join(name);
    let (source, backup, logs) = (dir.join("source"), dir.join("backup"), dir.join("logs"));
    // The backup folder is left to the daemon, which makes and marks it.
    for d in [&source, &logs] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let config = dir.join("config.json");
    write_config(o, &config, &source, &backup, &logs)?;
    let mut child = if daemon {
        Some(start_daemon(o, &config, &dir)?)
    } else {
        None
    };
    let secs = if daemon { o.secs } else { o.secs.min(180) };
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel();
    let site = Site::start(o, &source, done_tx, stop.clone());
    let follower = {
        let (site, backup, source, stop) = (site.clone(), backup.clone(), source.clone(), stop.clone());
        let watching = daemon;
        std::thread::spawn(move || follow::run(&site, &source, &backup, done_rx, watching, &stop))
    };
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::SeqCst);
    let recorded = site.join();
    let followed = follower.join().map_err(|_| "the follower panicked")?;
    let cpu = child.as_ref().and_then(|c| cpu_secs(c.id() as i32));
    if let Some(c) = child.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let gb = recorded.bytes as f64 / 1e9;
    let lat = recorded.latencies_us;
    Ok(json!({
        "secs": started.elapsed().as_secs_f64(), "recorded_gb": gb,
        "write_latency_us": {"p50": percentile(&lat, 50.0), "p99": percentile(&lat, 99.0),
                             "p999": percentile(&lat, 99.9), "max": lat.last(), "writes": lat.len()},
        "finished": followed.finished, "whole_in_backup": followed.lags_ms.len(),
        "lag_ms": {"p50": percentile(&followed.lags_ms, 50.0), "p99": percentile(&followed.lags_ms, 99.0),
                   "max": followed.lags_ms.last()},
        "in_progress_behind_ms": {"p99": percentile(&followed.behind_ms, 99.0), "max": followed.behind_ms.last(),
                                  "samples": followed.behind_ms.len(),
                                  "worst_at_run_secs": followed.worst.run_secs,
                                  "worst_at_segment_secs": followed.worst.segment_secs},
        "cpu_s": cpu, "cpu_s_per_gb": cpu.map(|c| c / gb),
    }))
}

fn write_config(o: &Options, config: &Path, source: &Path, backup: &Path, logs: &Path) -> Result<(), String> {
    let path = |p: &Path| {
        if o.wine.is_some() {
            format!("Z:{}", p.display()).replace('/', "\\")
        } else {
            p.display().to_string()
        }
    };
    let cfg = json!({
        "source_dir": path(source), "backup_dir": path(backup), "log_dir": path(logs),
        "live_sync_secs": o.live_sync_secs, "min_free_percent": 1.0,
    });
    std::fs::write(config, serde_json::to_vec_pretty(&cfg).unwrap()).map_err(|e| e.to_string())
}

fn start_daemon(o: &Options, config: &Path, dir: &Path) -> Result<Child, String> {
    let log = std::fs::File::create(dir.join("daemon.out")).map_err(|e| e.to_string())?;
    let mut cmd = match &o.wine {
        Some(wine) => {
            let mut c = Command::new(wine);
            c.arg(&o.daemon);
            c
        }
        None => Command::new(&o.daemon),
    };
    let config = if o.wine.is_some() {
        format!("Z:{}", config.display()).replace('/', "\\")
    } else {
        config.display().to_string()
    };
    let child = cmd
        .args(["run", "--config", &config])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", o.daemon.display()))?;
    std::thread::sleep(Duration::from_secs(if o.wine.is_some() { 10 } else { 2 }));
    Ok(child)
}
