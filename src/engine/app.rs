//! Wires the program together: the copy queue and its workers, the watcher, the stop
//! request, the tick that runs a pass at start and then every `reconcile_interval_secs`
//! (or at once when the watcher asks), and `status.json`, written after each pass and,
//! in a daemon, after each batch of copies.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Local;
use tokio::sync::Notify;

use crate::alert::notify::message::Message;
use crate::alert::notify::summary;
use crate::alert::notify::worker::{ChannelState, Notifier};
use crate::alert::{self, lifecycle, Alert, Event};
use crate::config::Config;
use crate::engine::pass::{self, PassResult};
use crate::engine::queue::CopyQueue;
use crate::engine::shutdown::Shutdown;
use crate::report::activity::{Activity, Totals};
use crate::report::prune;
use crate::report::runlog::{self, RunLog};
use crate::report::status::{self, Status};
use crate::store::copy::Mirror;
use crate::supervisor::{healthy, Supervisor};
use crate::{exit, store::volume, watch};

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

/// How often a daemon looks again for a backup volume that was not there, or for room
/// on a backup disk that was full.
const VOLUME_RETRY: Duration = Duration::from_secs(5);

/// After a copy, the status writer waits this long for more before writing, so a burst
/// of copies costs one write a second, not one per file.
const STATUS_BATCH: Duration = Duration::from_secs(1);

/// The daemon or a single pass, with its logging, until done or `stop` resolves; the
/// exit code.
pub fn run_to_end(
    cfg: Config,
    mode: Mode,
    verbose: bool,
    stop: impl Future<Output = ()> + Send + 'static,
    supervisor: Arc<dyn Supervisor>,
) -> u8 {
    let log = runlog::init(verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
            exit::CANNOT_RUN
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
    std::fs::create_dir_all(&cfg.log_dir).map_err(|err| Fatal::LogDir {
        path: cfg.log_dir.display().to_string(),
        err,
    })?;
    let mirror = Arc::new(Mirror::new(
        cfg.source_dir.clone(),
        cfg.backup_dir.clone(),
        cfg.names.clone(),
    ));
    let activity = Activity::new();
    let (queue, workers) = CopyQueue::start(mirror.clone(), cfg.copy_workers, activity.clone());
    let cfg = Arc::new(cfg);
    // Notified by the watcher when only a full pass can be sure nothing was missed
    // (overflow, watcher error, source folder gone or back); the tick loop waits on it.
    let pass_now = Arc::new(Notify::new());

    let (stop_tx, mut shutdown) = Shutdown::new();
    let cancel = mirror.cancel.clone();
    let told = supervisor.clone();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stop requested: finishing up");
        told.stopping();
        // Copies in flight notice this within one chunk and discard their temporaries.
        cancel.store(true, Ordering::Relaxed);
        let _ = stop_tx.send(true);
    });

    let daemon = mode != Mode::Once;
    let notifier = Notifier::start(&cfg.notify, &cfg.log_dir);
    let board = Board::new(
        &cfg,
        mode,
        activity.clone(),
        queue.length_probe(),
        notifier.states_probe(),
    );
    let writer = daemon.then(|| tokio::spawn(board.clone().write_after_copies(shutdown.clone())));
    let mut last_totals = Totals::default();
    let mut pulse = Pulse {
        busy: Box::new(queue.length_probe()),
        progress: mirror.progress.clone(),
        seen: 0,
    };
    let (hints, inbox) = watch::inbox();
    let mut inbox = Some(inbox);
    let watching = matches!(mode, Mode::Daemon { watch: true });
    let mut watcher = None;
    let mut announced = false;
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
        let result = alive_while(pass, &mut pulse, &*supervisor).await;
        let line = result.one_line();
        let volume_back = (!result.backup_available).then_some(volume::marked);
        let room_back = result
            .space_wanted
            .filter(|_| result.backup_available)
            .map(|wanted| move |dir: &std::path::Path| volume::disk_of(dir).is_ok_and(|d| d.free_bytes >= wanted));
        let (events, any_active) = board
            .after_pass(result, if daemon { "running" } else { "finished" })
            .await;
        let totals = activity.snapshot(0).since_start;
        let moved = summary::moved(&totals, &last_totals);
        last_totals = totals;
        announce(&cfg, &notifier, &board, (&events, any_active), moved).await;
        supervisor.alerts_changed(&events);
        supervisor.pass_finished(&line);
        if !daemon || shutdown.is_set() {
            break;
        }
        let wake = Wake {
            volume_back,
            room_back,
            pass_now: &pass_now,
        };
        wait_for_next_pass(&cfg, wake, &mut pulse, &*supervisor, &mut shutdown).await;
        if shutdown.is_set() {
            break;
        }
    }
    if let Some(w) = watcher {
        let _ = w.await;
    }
    drop(queue);
    let _ = workers.await;
    if let Some(w) = writer {
        let _ = w.await;
    }
    // The last word: what is waiting is tried once more, briefly; the rest is kept
    // in log_dir for the next run.
    let wait = if daemon {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(15)
    };
    let _ = tokio::task::spawn_blocking(move || notifier.finish(wait)).await;
    if daemon {
        board.write_with(|s| s.state = "stopped".into()).await;
        tracing::info!("stopped");
        supervisor.stopped();
    } else {
        board.write_with(|_| {}).await;
    }
    Ok(())
}

/// Logs the life cycle's events and hands them to the notifiers; pings the
/// heartbeat (or its fail URL when an alert is active); counts the pass for the daily
/// summary, and sends it when it is due.
async fn announce(
    cfg: &Config,
    notifier: &Notifier,
    board: &Board,
    (events, any_active): (&[Event], bool),
    moved: Totals,
) {
    let host = crate::config::host_name();
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
    if let Some(text) = board.count_for_summary(moved, n.daily_summary_at).await {
        notifier.send(Message::plain("summary", text, &cfg.site_name, &host, Local::now()));
    }
}

/// The daemon's start: says so, then starts the watcher (when `inbox` is given) and
/// waits for its first watch attempt, so nothing created before the first pass is
/// missed. The watcher's task, if any.
async fn start_daemon(
    cfg: &Arc<Config>,
    inbox: Option<watch::Inbox>,
    (queue, pass_now, activity): (CopyQueue, Arc<Notify>, Activity),
    mut shutdown: Shutdown,
) -> Option<tokio::task::JoinHandle<()>> {
    tracing::info!(
        interval_secs = cfg.reconcile_interval.as_secs(),
        watch = inbox.is_some(),
        "cctv-mirror {} started as a daemon",
        env!("CARGO_PKG_VERSION")
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
        _ = shutdown.wait() => {}
    }
    Some(handle)
}

/// What, besides the tick, ends the wait for the next pass.
struct Wake<'a, V, R> {
    /// Set while the backup volume is away: its marker is back.
    volume_back: Option<V>,
    /// Set after a copy that did not fit: there is room for it.
    room_back: Option<R>,
    /// The watcher asks for a pass (overflow, error, source folder gone or back).
    pass_now: &'a Notify,
}

/// Waits for the tick, a wake-up or a stop; at each beat in between, proves life
/// unless watcher copies are stuck. While the backup volume is away its marker is
/// looked for every few seconds (no pass, no log file): what was missed meanwhile is
/// copied as soon as it is back, without a restart; likewise after a copy that did not
/// fit.
async fn wait_for_next_pass<V, R>(
    cfg: &Config,
    wake: Wake<'_, V, R>,
    pulse: &mut Pulse,
    supervisor: &dyn Supervisor,
    shutdown: &mut Shutdown,
) where
    V: Fn(&std::path::Path) -> bool + Clone + Send + 'static,
    R: Fn(&std::path::Path) -> bool + Clone + Send + 'static,
{
    let nap = tokio::time::sleep(cfg.reconcile_interval);
    let volume_back = backup_becomes(cfg, wake.volume_back);
    let room_back = backup_becomes(cfg, wake.room_back);
    let asked = wake.pass_now.notified();
    tokio::pin!(nap, volume_back, room_back, asked);
    let mut beat = beat_timer(supervisor);
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
            _ = next_beat(&mut beat) => {
                if pulse.beat(false) {
                    supervisor.alive();
                }
                continue;
            }
            _ = shutdown.wait() => {}
        }
        return;
    }
}

/// The timer of the supervisor's proof of life, if it asks for one.
fn beat_timer(supervisor: &dyn Supervisor) -> Option<tokio::time::Interval> {
    supervisor.beat_every().map(|every| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    })
}

async fn next_beat(beat: &mut Option<tokio::time::Interval>) {
    match beat {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Awaits a pass, proving life at each beat only while copies move bytes (or for the
/// first beat, while it lists the trees): a pass stuck on a hung disk stops the proof,
/// and a service manager's watchdog then restarts the daemon.
async fn alive_while<F: Future>(pass: F, pulse: &mut Pulse, supervisor: &dyn Supervisor) -> F::Output {
    let mut beat = beat_timer(supervisor);
    tokio::pin!(pass);
    let mut first = true;
    loop {
        tokio::select! {
            out = &mut pass => return out,
            _ = next_beat(&mut beat) => {
                if pulse.beat(!first) {
                    supervisor.alive();
                }
                first = false;
            }
        }
    }
}

/// What the daemon loop knows at a beat: copies queued or in flight, and the bytes
/// copies have moved (`Mirror::progress`), to tell progress from a hang.
struct Pulse {
    busy: Box<dyn Fn() -> usize + Send + Sync>,
    progress: Arc<AtomicU64>,
    seen: u64,
}

impl Pulse {
    /// True when the daemon may prove life now (`supervisor::healthy`); `in_pass`
    /// counts a running pass as busy.
    fn beat(&mut self, in_pass: bool) -> bool {
        let now = self.progress.load(Ordering::Relaxed);
        let moved = now != self.seen;
        self.seen = now;
        healthy(in_pass || (self.busy)() > 0, moved)
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

/// `status.json` as last written, and what refreshes it. Shared by the tick loop (after
/// each pass) and the status writer task (after copies); the lock also keeps their
/// writes from crossing.
#[derive(Clone)]
struct Board {
    status: Arc<Mutex<Status>>,
    log_dir: Arc<std::path::Path>,
    activity: Activity,
    daemon: bool,
    queue_length: Arc<dyn Fn() -> usize + Send + Sync>,
    /// How often a lasting alert is announced again (`notify.remind_hours`).
    remind: Option<Duration>,
    notify_states: Arc<dyn Fn() -> Vec<ChannelState> + Send + Sync>,
}

impl Board {
    fn new(
        cfg: &Config,
        mode: Mode,
        activity: Activity,
        queue_length: impl Fn() -> usize + Send + Sync + 'static,
        notify_states: impl Fn() -> Vec<ChannelState> + Send + Sync + 'static,
    ) -> Board {
        // Alerts carry over from the last run, so `since` survives restarts and an
        // alert is announced once however the program is run.
        let alerts: Vec<Alert> = alert::state::load(&cfg.log_dir);
        let status = Status {
            updated_at: Local::now(),
            mode: if mode == Mode::Once { "once" } else { "daemon" }.into(),
            state: "starting".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            backup_available: false,
            disk: None,
            last_pass: None,
            alerts,
            daemon: None,
            notify: Vec::new(),
        };
        Board {
            status: Arc::new(Mutex::new(status)),
            log_dir: cfg.log_dir.clone().into(),
            activity,
            daemon: mode != Mode::Once,
            queue_length: Arc::new(queue_length),
            remind: cfg.notify.remind,
            notify_states: Arc::new(notify_states),
        }
    }

    /// Records the pass, steps the alert life cycle and keeps its state; returns the
    /// events to announce, and whether any alert is active.
    async fn after_pass(&self, result: PassResult, state: &'static str) -> (Vec<Event>, bool) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (log_dir, remind) = (self.log_dir.clone(), self.remind);
        self.write_with(move |s| {
            let (active, events) = lifecycle::step(&s.alerts, &result.raised, Local::now(), remind);
            if let Err(e) = alert::state::save(&log_dir, &active) {
                tracing::error!(
                    "cannot keep the alerts in {}: {e}",
                    log_dir.join(alert::state::FILE_NAME).display()
                );
            }
            let _ = tx.send((events, !active.is_empty()));
            s.alerts = active;
            s.state = state.into();
            s.backup_available = result.backup_available;
            s.disk = result.disk;
            s.last_pass = Some(result.summary);
        })
        .await;
        rx.await.unwrap_or_default()
    }

    /// Adds the last pass (and the copy jobs since the one before) to the daily
    /// summary's counters; when the summary is due, its text (the counters restart).
    async fn count_for_summary(&self, moved: Totals, at: Option<chrono::NaiveTime>) -> Option<String> {
        at?;
        let board = self.clone();
        let job = move || {
            let s = board.status.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let now = Local::now();
            let mut counts = summary::load(&board.log_dir);
            if let Some(pass) = &s.last_pass {
                counts.add(pass, &moved, now);
            }
            let due = at.filter(|at| summary::due(now, *at, counts.last_sent));
            let text = due.map(|_| summary::text(&counts, s.last_pass.as_ref(), &s.alerts, s.disk.as_ref()));
            if text.is_some() {
                counts = summary::Counts {
                    last_sent: Some(now.date_naive()),
                    ..Default::default()
                };
            }
            if let Err(e) = summary::save(&board.log_dir, &counts) {
                tracing::warn!("cannot keep the daily summary's counts: {e}");
            }
            text
        };
        tokio::task::spawn_blocking(job).await.ok().flatten()
    }

    /// `update` on the blocking pool: the write ends in an fsync.
    async fn write_with(&self, change: impl FnOnce(&mut Status) + Send + 'static) {
        let board = self.clone();
        let _ = tokio::task::spawn_blocking(move || board.update(change)).await;
    }

    /// Applies `change` and replaces the file (small, and fsynced: a moment's blocking).
    fn update(&self, change: impl FnOnce(&mut Status)) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut s);
        s.updated_at = Local::now();
        if self.daemon {
            s.daemon = Some(self.activity.snapshot((self.queue_length)()));
        }
        s.notify = (self.notify_states)();
        // Before the first pass there is nothing worth showing yet.
        if s.last_pass.is_none() {
            return;
        }
        if let Err(e) = status::write(&self.log_dir, &s) {
            tracing::error!("cannot write {}: {e}", self.log_dir.join(status::FILE_NAME).display());
        }
    }

    /// The daemon's status writer: after copies (and watcher state changes), waits a
    /// moment for more, then writes once. Ends at shutdown.
    async fn write_after_copies(self, mut shutdown: Shutdown) {
        loop {
            tokio::select! {
                _ = self.activity.changed() => {}
                _ = shutdown.wait() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(STATUS_BATCH) => {}
                _ = shutdown.wait() => return,
            }
            self.write_with(|_| {}).await;
        }
    }
}
