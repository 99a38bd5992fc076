//! The soak's Linux side: set up, play, catch up, judge.

mod bucket;
mod check;
mod clock;
mod copies;
mod daemon;
mod disk;
mod fast_waits;
mod faults;
mod ledger;
mod options;
mod proxy;
mod receiver;
mod recorder;
mod report;
mod rig;
mod sampler;
mod switch;

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};

use clock::{pause, Clock};
use daemon::Daemon;
use disk::Disk;
use options::Options;
use proxy::S3;
use receiver::Receiver;
use rig::{Paths, Rig};

const USAGE: &str = "scripts/soak.sh [--quick | --full] [--seed N] [--cameras N] [--days N] [--speed X] \
[--retention-days N] [--faults N] [--out DIR] [--daemon PATH]";

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(fast_waits::PROBE) {
        return fast_waits::probe();
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let o = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    if !o.inner {
        clean(&o);
        return match clock::run_inside(&o) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => fail(&e),
        };
    }
    match run(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => fail(&e),
    }
}

fn fail(e: &str) -> ExitCode {
    eprintln!("soak: {e}");
    ExitCode::from(2)
}

/// Unmounts and deletes what an earlier run left in the output folder.
fn clean(o: &Options) {
    let p = Paths::under(&o.out);
    for m in [&p.backup, &p.disk] {
        let _ = Command::new("umount").arg("-l").arg(m).output();
    }
    let _ = std::fs::remove_dir_all(&o.out);
}

/// One whole run; true when every check passed.
fn run(o: &Options) -> Result<bool, String> {
    let paths = Paths::under(&o.out);
    let clock = Clock::inside(&o.out.join("clock.spec"), o.speed);
    clock_keeps_file_times(&paths)?;
    let waits = fast_waits::env(&fast_waits::build(&o.out)?, o.speed);
    fast_waits::check(&waits)?;
    let disk = Disk::mount(&paths.disk, &paths.backup, disk_size(o))?;
    let s3 = S3::start(&o.out.join("s3"))?;
    let receiver = Receiver::start();
    std::fs::create_dir_all(&paths.source).map_err(|e| e.to_string())?;
    write_config(o, &paths, &s3, &receiver)?;
    adopt(o, &paths)?;
    let ledger = ledger::Shared::default();
    let (orders, order_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let rec = {
        let (source, cams, ledger) = (paths.source.clone(), o.cameras, ledger.clone());
        std::thread::spawn(move || recorder::run(&source, cams, ledger, order_rx, done_tx))
    };
    let give_up = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (backup, ledger, g) = (paths.backup.clone(), ledger.clone(), give_up.clone());
        std::thread::spawn(move || copies::watch(backup, done_rx, ledger, move || g.load(Ordering::SeqCst)))
    };
    let mut daemon = Daemon::new(&o.daemon, &paths.config, &o.out.join("daemon.out"), waits);
    daemon.start();
    let mut rig = Rig::new(clock, disk, s3, receiver, daemon, paths, orders);
    let length = Duration::from_secs_f64((o.sim_secs() + 12 * 3600) as f64 / f64::from(o.speed));
    let plan = faults::plan(o.seed, o.faults, length);
    println!(
        "soak: seed {}, {} cameras, {} days + 12 h at x{} ({:.0} s), {} faults, retention {} days",
        o.seed,
        o.cameras,
        o.days,
        o.speed,
        length.as_secs_f64(),
        plan.len(),
        o.retention_days
    );
    let t0 = Instant::now();
    rig.play(&faults::steps(&plan), t0, length);
    let _ = rig.recorder.send(recorder::Order::Stop);
    rec.join().map_err(|_| "the recorder panicked")?;
    let ended = Instant::now();
    let caught_up = report::catch_up(o, &mut rig, &ledger);
    give_up.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    let stopped = rig.daemon.stop();
    let verify = verify(o, &rig.paths);
    let r = report::Report::gather(o, &rig, &ledger.lock().unwrap(), caught_up, ended, stopped, verify)?;
    r.print();
    r.write(&o.out.join("figures.json"))?;
    Ok(r.passed())
}

/// A file time set to the simulated clock reads back as set: the recorder's times and
/// the daemon's clock agree.
fn clock_keeps_file_times(p: &Paths) -> Result<(), String> {
    let probe = p.out.join("clock-probe");
    let f = std::fs::File::create(&probe).map_err(|e| e.to_string())?;
    let now = SystemTime::now();
    f.set_modified(now).map_err(|e| e.to_string())?;
    let back = std::fs::metadata(&probe)
        .and_then(|m| m.modified())
        .map_err(|e| e.to_string())?;
    let off = back.duration_since(now).unwrap_or_else(|e| e.duration());
    if off > Duration::from_secs(1) {
        return Err(format!(
            "a file time set to the simulated clock reads back {off:?} off: libfaketime changes file times"
        ));
    }
    Ok(())
}

/// The backup disk: twice what the window holds, at about 40 KB a camera-hour.
fn disk_size(o: &Options) -> u64 {
    let hours = u64::from(o.cameras) * 24 * u64::from(o.retention_days + 3);
    (hours * 40_000 * 2).max(64 << 20)
}

fn write_config(o: &Options, p: &Paths, s3: &S3, receiver: &Receiver) -> Result<(), String> {
    let cfg = serde_json::json!({
        "source_dir": p.source, "backup_dir": p.backup, "log_dir": p.logs,
        "retention_days": o.retention_days,
        "reconcile_interval_secs": 1800,
        "settle_secs": 120,
        "live_sync_secs": 300,
        "min_free_percent": 5.0,
        "site_name": "soak",
        "notify": {"webhooks": [{"url": receiver.url, "format": "json"}], "remind_hours": 24},
        "offsite": {
            "endpoint": s3.endpoint, "region": "us-east-1", "bucket": proxy::BUCKET,
            "prefix": bucket::PREFIX, "path_style": true, "access_key_id": "soak",
            "secret_access_key_env": "SOAK_S3_SECRET", "max_lag_hours": 6,
            "upload_workers": o.upload_workers
        }
    });
    std::fs::write(&p.config, serde_json::to_vec_pretty(&cfg).unwrap()).map_err(|e| e.to_string())
}

/// `adopt-backup`: the fresh disk is the backup.
fn adopt(o: &Options, p: &Paths) -> Result<(), String> {
    let out = Command::new(&o.daemon)
        .args(["adopt-backup", "--config"])
        .arg(&p.config)
        .output();
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "adopt-backup failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run {} (build it first): {e}", o.daemon.display())),
    }
}

/// `cctv-mirror verify`'s exit code and last line.
fn verify(o: &Options, p: &Paths) -> (Option<i32>, String) {
    let out = Command::new(&o.daemon)
        .args(["verify", "--config"])
        .arg(&p.config)
        .env_remove("FAKETIME_DONT_FAKE_MONOTONIC")
        .output();
    match out {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            (out.status.code(), text.lines().last().unwrap_or("").to_string())
        }
        Err(e) => (None, e.to_string()),
    }
}

/// Waits up to `d` of real time for `done`, looking every half second.
pub fn wait_for(d: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + d;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        pause(Duration::from_millis(500));
    }
}
