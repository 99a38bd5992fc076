//! Wires the program together: the copy queue and its workers, the stop request, and
//! the tick that runs a pass at start and then every `reconcile_interval_secs`; after
//! each pass the alerts are merged and `status.json` is replaced.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::Local;

use crate::config::Config;
use crate::copy::Mirror;
use crate::queue::CopyQueue;
use crate::reconcile::{self, PassResult};
use crate::runlog::RunLog;
use crate::shutdown::Shutdown;
use crate::status::{self, Alert, Status};
use crate::watch;
use tokio::sync::Notify;

/// How the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One pass, then exit (for a scheduler).
    Once,
    /// Passes on a tick until stopped; with `watch`, the real-time watcher too.
    Daemon { watch: bool },
}

/// Problems that stop the program before it can do its job.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error("cannot use the log folder {path}: {err}")]
    LogDir { path: String, err: std::io::Error },
}

/// Runs until done (`Once`) or until `stop` resolves (`Daemon`).
pub async fn run(
    cfg: Config,
    mode: Mode,
    log: RunLog,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Fatal> {
    std::fs::create_dir_all(&cfg.log_dir).map_err(|err| Fatal::LogDir {
        path: cfg.log_dir.display().to_string(),
        err,
    })?;
    let mirror = Arc::new(Mirror::new(cfg.source_dir.clone(), cfg.backup_dir.clone()));
    let (queue, workers) = CopyQueue::start(mirror.clone(), cfg.copy_workers);
    let cfg = Arc::new(cfg);
    // Notified by the watcher when only a full pass can be sure nothing was missed
    // (overflow, watcher error, source folder gone or back); the tick loop waits on it.
    let pass_now = Arc::new(Notify::new());

    let (stop_tx, mut shutdown) = Shutdown::new();
    let cancel = mirror.cancel.clone();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stop requested: finishing up");
        // Copies in flight notice this within one chunk and discard their temporaries.
        cancel.store(true, Ordering::Relaxed);
        let _ = stop_tx.send(true);
    });

    let mode_name = match mode {
        Mode::Once => "once",
        Mode::Daemon { .. } => "daemon",
    };
    let mut watcher = None;
    let mut announced = false;
    let mut alerts: Vec<Alert> = status::read(&cfg.log_dir).map(|s| s.alerts).unwrap_or_default();
    let mut last: Option<PassResult>;
    loop {
        let started = Local::now();
        let log_file = match log.start(&cfg.log_dir, started) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!("cannot open this pass's log file in {}: {e}", cfg.log_dir.display());
                None
            }
        };
        // Started once the first log file is open, so even its first lines are filed.
        if let (Mode::Daemon { watch }, false) = (mode, announced) {
            announced = true;
            tracing::info!(
                interval_secs = cfg.reconcile_interval.as_secs(),
                watch,
                "cctv-mirror {} started as a daemon",
                env!("CARGO_PKG_VERSION")
            );
            if watch {
                let task = watch::run(cfg.clone(), queue.clone(), pass_now.clone(), shutdown.clone());
                watcher = Some(tokio::spawn(task));
            }
        }
        let result = reconcile::pass(&cfg, &queue, shutdown.clone(), log_file).await;
        alerts = status::merge(&alerts, &result.raised, Local::now());
        let state = if mode == Mode::Once { "finished" } else { "running" };
        write_status(&cfg, mode_name, state, &result, &alerts);
        last = Some(result);
        if mode == Mode::Once || shutdown.is_set() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.reconcile_interval) => {}
            _ = pass_now.notified() => {}
            _ = shutdown.wait() => break,
        }
    }
    if let Some(w) = watcher {
        let _ = w.await;
    }
    drop(queue);
    let _ = workers.await;
    if mode != Mode::Once {
        if let Some(result) = &last {
            write_status(&cfg, mode_name, "stopped", result, &alerts);
        }
        tracing::info!("stopped");
    }
    Ok(())
}

fn write_status(cfg: &Config, mode: &str, state: &str, result: &PassResult, alerts: &[Alert]) {
    let status = Status {
        updated_at: Local::now(),
        mode: mode.into(),
        state: state.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        pid: std::process::id(),
        backup_available: result.backup_available,
        disk: result.disk,
        last_pass: Some(result.summary.clone()),
        alerts: alerts.to_vec(),
    };
    if let Err(e) = status::write(&cfg.log_dir, &status) {
        tracing::error!("cannot write {}: {e}", cfg.log_dir.join(status::FILE_NAME).display());
    }
}
