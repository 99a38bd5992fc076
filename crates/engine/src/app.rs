//! Wires the program together: the copy queue and its workers, the watcher, the stop
//! request, the tick that runs a pass at start and then every `reconcile_interval_secs`
//! (or at once when the watcher asks), and `status.json`, written after each pass and,
//! in a daemon, after each batch of copies.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::heap;
use crate::http;
use crate::lock;
use crate::mode::Mode;
use crate::offsite;
use crate::pass;
use crate::pulse::{alive_while, send_summary, Beat, Pulse};
use crate::queue::CopyQueue;
use crate::status_file::StatusFile;
use crate::supervisor::Supervisor;
use crate::upkeep::Upkeep;
use crate::{exit, watch};
use ::offsite::tier::Tier;
use alert::notify::message::Message;
use alert::notify::summary;
use alert::notify::worker::Notifier;
use config::Config;
use report::activity::{Activity, Totals};
use report::prune;
use report::runlog::{self, RunLog};
use rules::alert::Event;
use rules::run::RunState;
use store::copy::Mirror;
use store::volume;

/// Problems that stop the program before it can do its job.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error("cannot use the log folder {path}: {err}")]
    LogDir { path: String, err: std::io::Error },
    /// `http_listen` cannot be listened on (a port in use, an address not this
    /// machine's): a configuration to fix.
    #[error("{0}")]
    Listen(String),
}

impl Fatal {
    /// The exit code it ends the run with.
    fn code(&self) -> u8 {
        match self {
            Fatal::LogDir { .. } => exit::CANNOT_RUN,
            Fatal::Listen(_) => exit::BAD_CONFIG,
        }
    }

    fn log_dir(cfg: &Config, err: std::io::Error) -> Fatal {
        Fatal::LogDir {
            path: cfg.log_dir.display().to_string(),
            err,
        }
    }
}

/// How often a daemon looks again for a backup volume that was not there, or for room
/// on a backup disk that was full.
const VOLUME_RETRY: Duration = Duration::from_secs(5);

/// Blocking threads beside the copy workers: the watcher's looks, the passes' walks,
/// retention, the status writes, the nightly verification. A bound, so a burst cannot
/// grow the pool without limit.
const BLOCKING_BESIDE_COPIES: usize = 32;

/// How long an idle blocking thread is kept: long enough that the pool holds steady
/// between a site's bursts instead of starting threads again (tokio's default is 10 s).
const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(60);

/// The daemon or a single pass, with its logging, until done or `stop` resolves; the
/// exit code.
pub fn run_to_end(
    cfg: Config,
    mode: Mode,
    verbose: bool,
    stop: impl Future<Output = ()> + Send + 'static,
    supervisor: Arc<dyn Supervisor>,
) -> u8 {
    heap::tune();
    // Held until the run ends: one run per log folder.
    let _held = match lock::claim(&cfg.log_dir, mode.run_mode(), &*supervisor) {
        Ok(held) => held,
        Err(code) => return code,
    };
    let log = runlog::init(verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(cfg.copy_workers + BLOCKING_BESIDE_COPIES)
        .thread_keep_alive(BLOCKING_KEEP_ALIVE)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            supervisor.fatal(&format!("cannot start: {e}"));
            return exit::CANNOT_RUN;
        }
    };
    match runtime.block_on(run(cfg, mode, log, stop, supervisor.clone())) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            supervisor.fatal(&e.to_string());
            e.code()
        }
    }
}

/// Runs until done (`Once`) or until `stop` resolves (`Daemon`), telling `supervisor`
/// (a service manager, or nobody) how it goes.
pub async fn run(
    cfg: Config,
    mode: Mode,
    log: RunLog,
    stop: impl Future<Output = ()> + Send + 'static,
    supervisor: Arc<dyn Supervisor>,
) -> Result<(), Fatal> {
    std::fs::create_dir_all(&cfg.log_dir).map_err(|err| Fatal::log_dir(&cfg, err))?;
    let mirror = Arc::new(Mirror::new(
        cfg.source_dir.clone(),
        cfg.backup_dir.clone(),
        cfg.names.clone(),
    ));
    let activity = Activity::new();
    let (queue, workers) = CopyQueue::start(mirror.clone(), cfg.copy_workers, activity.clone());
    let tier = offsite::start(&cfg, &queue, &mirror.stop);
    let cfg = Arc::new(cfg);
    // Notified by the watcher when only a full pass can be sure nothing was missed
    // (overflow, watcher error, source folder gone or back); the tick loop waits on it.
    let pass_now = Arc::new(Notify::new());

    let shutdown = forward_stop(stop, supervisor.clone(), mirror.stop.clone());

    let daemon = mode != Mode::Once;
    let notifier = Notifier::start(&cfg.notify, &cfg.log_dir);
    let mut status_file = StatusFile::new(
        &cfg,
        mode,
        activity.clone(),
        queue.length_probe(),
        notifier.states_probe(),
    );
    if let Some(t) = tier.clone() {
        status_file = status_file.with_offsite(move || t.status());
    }
    let writer = daemon.then(|| tokio::spawn(status_file.clone().write_after_copies(shutdown.clone())));
    if let Some(t) = tier.clone().filter(|_| daemon) {
        tokio::spawn(offsite::keep_status(t, status_file.clone(), shutdown.clone()));
    }
    if let Some(addr) = cfg.http_listen.filter(|_| daemon) {
        let listener = http::bind(addr).await.map_err(Fatal::Listen)?;
        let view = http::View {
            status_file: status_file.clone(),
            unprotected: queue.unprotected(),
            log_dir: cfg.log_dir.clone(),
            site: cfg.site_name.clone(),
        };
        tokio::spawn(http::serve(listener, Arc::new(view), shutdown.clone()));
    }
    let mut last_totals = Totals::default();
    let (hints, inbox) = watch::inbox();
    let mut inbox = Some(inbox);
    let watching = matches!(mode, Mode::Daemon { watch: true });
    let mut watcher = None;
    let mut announced = false;
    let upkeep = Upkeep::new(mirror.stop.clone(), daemon);
    let told = PassListeners::new(&cfg, &notifier, &status_file, &activity, &*supervisor).with(upkeep, tier.clone());
    let pulse = Pulse::new(Box::new(queue.length_probe()), mirror.progress.clone());
    let mut beat = Beat::new(&cfg, pulse, &*supervisor, daemon.then_some((&status_file, &notifier)));
    loop {
        let log_file = open_pass_log(&log, &cfg);
        // Started once the first log file is open, so even its first lines are filed.
        if daemon && !announced {
            announced = true;
            let inbox = inbox.take().filter(|_| watching);
            let parts = (queue.clone(), pass_now.clone(), activity.clone());
            watcher = start_daemon(&cfg, inbox, parts, shutdown.clone()).await;
            supervisor.started();
        }
        prune_logs(&cfg).await;
        let hints = watching.then_some(&hints);
        let pass = pass::pass(&cfg, &queue, hints, shutdown.clone(), log_file);
        let result = alive_while(pass, &mut beat).await;
        let line = result.one_line();
        let volume_back = (!result.backup_available).then_some(volume::marked);
        let room_back = result
            .space_wanted
            .filter(|_| result.backup_available)
            .map(|wanted| move |dir: &std::path::Path| volume::disk_of(dir).is_ok_and(|d| d.free_bytes >= wanted));
        told.pass(result, &line, &mut last_totals, daemon).await;
        if !daemon || shutdown.is_cancelled() {
            break;
        }
        let wake = EarlyWake {
            volume_back,
            room_back,
            pass_now: &pass_now,
        };
        wait_for_next_pass(&cfg, wake, &mut beat, &shutdown).await;
        if shutdown.is_cancelled() {
            break;
        }
    }
    drop((beat, told));
    let tasks = Tasks {
        watcher,
        workers,
        writer,
        tier,
    };
    wind_down(tasks, queue, notifier, &status_file, daemon, &*supervisor).await;
    Ok(())
}

/// Who hears of a finished pass.
struct PassListeners<'a> {
    cfg: &'a Arc<Config>,
    /// The coverage report and the nightly verification.
    upkeep: Upkeep,
    /// The offsite tier, when there is one.
    offsite: Option<Arc<Tier>>,
    notifier: &'a Notifier,
    status_file: &'a StatusFile,
    activity: &'a Activity,
    supervisor: &'a dyn Supervisor,
}

impl<'a> PassListeners<'a> {
    fn new(
        cfg: &'a Arc<Config>,
        notifier: &'a Notifier,
        status_file: &'a StatusFile,
        activity: &'a Activity,
        supervisor: &'a dyn Supervisor,
    ) -> PassListeners<'a> {
        PassListeners {
            cfg,
            upkeep: Upkeep::new(CancellationToken::new(), false),
            offsite: None,
            notifier,
            status_file,
            activity,
            supervisor,
        }
    }

    /// The same, with this upkeep and offsite tier after each pass.
    fn with(self, upkeep: Upkeep, offsite: Option<Arc<Tier>>) -> PassListeners<'a> {
        PassListeners {
            upkeep,
            offsite,
            ..self
        }
    }

    /// Records a finished pass: the coverage report, `status.json` and the alert life
    /// cycle, the notifications it calls for (with the copies since the last), and the
    /// supervisor's view of it.
    async fn pass(&self, mut result: pass::PassResult, line: &str, last_totals: &mut Totals, daemon: bool) {
        let listings = result.listings.take();
        if let Some(tier) = &self.offsite {
            offsite::after_pass(tier, listings.as_ref(), &mut result.raised, daemon).await;
        }
        let bucket = self.offsite.as_ref().map(|t| t.bucket());
        self.upkeep
            .after_pass(self.cfg, (listings, bucket), &mut result.raised)
            .await;
        let (events, any_active) = self
            .status_file
            .after_pass(result, if daemon { RunState::Running } else { RunState::Finished })
            .await;
        let totals = self.activity.snapshot(0).since_start;
        let moved = summary::moved(&totals, last_totals);
        *last_totals = totals;
        announce(self.cfg, self.notifier, self.status_file, (&events, any_active), moved).await;
        self.supervisor.alerts_changed(&events);
        // Trimming walks every arena: blocking work, kept off the async workers.
        let _ = tokio::task::spawn_blocking(heap::give_back_freed).await;
        self.supervisor.pass_finished(line);
    }
}

/// Cancels `shutdown`, the stop every task and copy heeds, once `stop` resolves, and
/// tells the supervisor: copies in flight stop within one chunk and discard their
/// temporaries.
fn forward_stop(
    stop: impl Future<Output = ()> + Send + 'static,
    supervisor: Arc<dyn Supervisor>,
    shutdown: CancellationToken,
) -> CancellationToken {
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stop requested: finishing up");
        supervisor.stopping();
        cancel.cancel();
    });
    shutdown
}

/// Opens the log file of a pass starting now; None (and an error line) when it cannot.
fn open_pass_log(log: &RunLog, cfg: &Config) -> Option<std::path::PathBuf> {
    match log.start(&cfg.log_dir, Local::now()) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!("cannot open this pass's log file in {}: {e}", cfg.log_dir.display());
            None
        }
    }
}

/// The tasks a run waits for at its end (the offsite tier's threads for a moment only).
struct Tasks {
    watcher: Option<tokio::task::JoinHandle<()>>,
    workers: tokio::task::JoinHandle<()>,
    writer: Option<tokio::task::JoinHandle<()>>,
    tier: Option<Arc<Tier>>,
}

/// The end of a run: the watcher, then the copies, then the status writer end; what the
/// notifier still holds is tried once more, briefly (the rest is kept in log_dir for
/// the next run); `status.json` says the last word.
async fn wind_down(
    tasks: Tasks,
    queue: CopyQueue,
    notifier: Notifier,
    status_file: &StatusFile,
    daemon: bool,
    supervisor: &dyn Supervisor,
) {
    if let Some(w) = tasks.watcher {
        let _ = w.await;
    }
    drop(queue);
    let _ = tasks.workers.await;
    offsite::finish(tasks.tier, Duration::from_secs(5)).await;
    if let Some(w) = tasks.writer {
        let _ = w.await;
    }
    let wait = if daemon {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(15)
    };
    let _ = tokio::task::spawn_blocking(move || notifier.finish(wait)).await;
    if daemon {
        status_file.write_with(|s| s.state = RunState::Stopped).await;
        tracing::info!("stopped");
        supervisor.stopped();
    } else {
        status_file.write_with(|_| {}).await;
    }
}

/// Logs the life cycle's events and hands them to the notifiers; pings the
/// heartbeat (or its fail URL when an alert is active); counts the pass for the daily
/// summary, and sends it when it is due.
async fn announce(
    cfg: &Config,
    notifier: &Notifier,
    status_file: &StatusFile,
    (events, any_active): (&[Event], bool),
    moved: Totals,
) {
    let host = config::host_name();
    for e in events {
        tracing::info!(alert = %e.alert.kind, since = %e.alert.since.to_rfc3339(), "alert {}", e.change.as_str());
        notifier.send(Message::of_event(e, &cfg.site_name, &host));
    }
    let n = &cfg.notify;
    let url = if any_active {
        &n.heartbeat_fail_url
    } else {
        &n.heartbeat_url
    };
    if let Some(url) = url {
        notifier.ping(url);
    }
    if let Some(at) = n.daily_summary_at {
        status_file.count_for_summary(moved).await;
        if let Some(text) = status_file.summary_if_due(at).await {
            send_summary(cfg, notifier, text);
        }
    }
}

/// The daemon's start: says so, then starts the watcher (when `inbox` is given) and
/// waits for its first watch attempt, so nothing created before the first pass is
/// missed. The watcher's task, if any.
async fn start_daemon(
    cfg: &Arc<Config>,
    inbox: Option<watch::Inbox>,
    (queue, pass_now, activity): (CopyQueue, Arc<Notify>, Activity),
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    tracing::info!(
        interval_secs = cfg.reconcile_interval.as_secs(),
        watch = inbox.is_some(),
        "cctv-mirror {} started as a daemon",
        crate::version::VERSION
    );
    let inbox = inbox?;
    let (first_try, watch_tried) = tokio::sync::oneshot::channel();
    let task = watch::run(
        cfg.clone(),
        queue,
        inbox,
        pass_now,
        activity,
        first_try,
        shutdown.clone(),
    );
    let handle = tokio::spawn(task);
    tokio::select! {
        _ = watch_tried => {}
        _ = shutdown.cancelled() => {}
    }
    Some(handle)
}

/// What, besides the tick, ends the wait for the next pass.
struct EarlyWake<'a, V, R> {
    /// Set while the backup volume is away: its marker is back.
    volume_back: Option<V>,
    /// Set after a copy that did not fit: there is room for it.
    room_back: Option<R>,
    /// The watcher asks for a pass (overflow, error, source folder gone or back).
    pass_now: &'a Notify,
}

/// Waits for the tick, a wake-up or a stop, beating in between (`pulse::Beat`). While the backup volume is away its marker is
/// looked for every few seconds (no pass, no log file): what was missed meanwhile is
/// copied as soon as it is back, without a restart; likewise after a copy that did not
/// fit.
async fn wait_for_next_pass<V, R>(
    cfg: &Config,
    wake: EarlyWake<'_, V, R>,
    beat: &mut Beat<'_>,
    shutdown: &CancellationToken,
) where
    V: Fn(&std::path::Path) -> bool + Clone + Send + 'static,
    R: Fn(&std::path::Path) -> bool + Clone + Send + 'static,
{
    let nap = tokio::time::sleep(cfg.reconcile_interval);
    let volume_back = backup_becomes(cfg, wake.volume_back);
    let room_back = backup_becomes(cfg, wake.room_back);
    let asked = wake.pass_now.notified();
    tokio::pin!(nap, volume_back, room_back, asked);
    loop {
        tokio::select! {
            _ = &mut nap => {}
            _ = &mut volume_back => {
                tracing::info!(path = %cfg.backup_dir.display(), "the backup volume is back");
            }
            _ = &mut room_back => {
                tracing::info!(path = %cfg.backup_dir.display(), "there is room on the backup disk again");
            }
            _ = &mut asked => {}
            _ = beat.next() => {
                beat.done(false).await;
                continue;
            }
            _ = shutdown.cancelled() => {}
        }
        return;
    }
}

/// Deletes pass logs older than `log_retention_days`, at most once a local day, on the
/// blocking pool; logged in the pass's file.
async fn prune_logs(cfg: &Arc<Config>) {
    let (dir, keep) = (cfg.log_dir.clone(), cfg.log_retention_days);
    let today = Local::now().date_naive();
    let done = tokio::task::spawn_blocking(move || prune::once_a_day(&dir, today, keep)).await;
    if let Ok(Some(done)) = done {
        for (rel, why) in &done.errors {
            tracing::warn!(path = %rel.display(), "old pass log not deleted: {why}");
        }
        if done.deleted > 0 {
            tracing::info!(
                deleted = done.deleted,
                folders_removed = done.folders_removed,
                keep_days = keep,
                "pruned old pass logs"
            );
        }
    }
}

/// Resolves once `ready(backup_dir)` holds, looked at every `VOLUME_RETRY` on the
/// blocking pool (no pass, no log file); never when there is nothing to wait for.
async fn backup_becomes<F>(cfg: &Config, ready: Option<F>)
where
    F: Fn(&std::path::Path) -> bool + Clone + Send + 'static,
{
    let Some(ready) = ready else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(VOLUME_RETRY).await;
        let (dir, ready) = (cfg.backup_dir.clone(), ready.clone());
        if tokio::task::spawn_blocking(move || ready(&dir)).await.unwrap_or(false) {
            return;
        }
    }
}
