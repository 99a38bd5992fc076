//! The real-time watcher: notify's events on `source_dir` become copy jobs on the shared
//! queue; when it cannot hand news over, or the OS loses events, it asks for a full pass.
//! When a recording counts as finished, per OS: docs/operations.md, "How it copies".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::queue::{CopyQueue, Job, Report};
use config::Config;
use events::{start, Watcher};
use report::activity::{Activity, WatcherState};
use rules::listing::FileMeta;
use rules::names;
use rules::stage::Stage;
use rules::window::Window;
use store::copy::{CopyError, FileError};
use store::probe;

mod events;
mod news;

use news::{act, triage};

/// What reaches the watcher task: a path and what is known about it.
#[derive(Debug)]
enum News {
    /// Closed after writing, or renamed into place: finished.
    Finished(PathBuf, &'static str),
    /// Created or written, with no close event (yet).
    Changed(PathBuf),
    /// A pass found it still being recorded.
    Recording(PathBuf),
    /// Something was removed; the source folder itself may be gone.
    Removed(PathBuf),
}

/// Room for this many events between the callback and the watcher task; past it the
/// callback asks for a pass instead of waiting.
const EVENT_CAPACITY: usize = 8192;

/// How often a missing source folder is looked for again.
const RETRY_WATCH: Duration = Duration::from_secs(2);

/// A finished recording still locked after this many tries is left to the next pass.
const MAX_LOCKED_TRIES: u32 = 8;

/// How often an active file is asked whether a writer still holds it (Windows).
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// A recorder's in-progress name quiet this long is no longer looked at.
const FORGET_QUIET: Duration = Duration::from_secs(60);

/// The longest pause between two tries of a locked file.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The passes' way to tell the watcher about recordings in progress and about the
/// newest recording they found (see `pass::pass`). Never waits: when the watcher
/// is busy, a hint is dropped and the next pass gives it again.
#[derive(Clone)]
pub struct Hints {
    /// Into the watcher's inbox, beside notify's events.
    recordings: mpsc::Sender<News>,
    newest: Newest,
}

/// The newest recording's day the last pass saw, which anchors the watcher's window
/// as it anchors the pass's (`rules::window`).
type Newest = Arc<std::sync::Mutex<Option<chrono::NaiveDate>>>;

impl Hints {
    pub fn recording(&self, path: PathBuf) {
        let _ = self.recordings.try_send(News::Recording(path));
    }

    pub fn newest(&self, day: Option<chrono::NaiveDate>) {
        *self.newest.lock().unwrap_or_else(|e| e.into_inner()) = day;
    }
}

/// The watcher's end of the channel that the notify callback and `Hints` send to.
pub struct Inbox {
    /// Cloned into each notify callback (and into `Hints`); the channel never closes
    /// while the watcher task holds this.
    tx: mpsc::Sender<News>,
    rx: mpsc::Receiver<News>,
    newest: Newest,
}

/// The channel into the watcher task.
pub fn inbox() -> (Hints, Inbox) {
    let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
    let newest = Newest::default();
    let hints = Hints {
        recordings: tx.clone(),
        newest: newest.clone(),
    };
    (hints, Inbox { tx, rx, newest })
}

/// A recording that changed and is not known to be finished.
#[derive(Debug)]
struct Active {
    /// When to look at it next.
    due: Instant,
    /// What it looked like last time (None: not looked at yet).
    last: Option<FileMeta>,
    /// When its in-progress copy is next brought up to date (None: following is off).
    follow_due: Option<Instant>,
    /// The size its in-progress copy was last asked to reach.
    followed_size: Option<u64>,
    /// Tries in a row that found it locked.
    locked: u32,
    /// Since when it has not changed (only kept for in-progress names).
    quiet_since: Option<Instant>,
    /// It changed between the last two looks.
    growing: bool,
    /// An event reported a change since the last look.
    touched: bool,
    /// When to ask next whether a writer still holds it (where the OS can tell).
    probe_due: Option<Instant>,
}

impl Active {
    fn new(now: Instant, cfg: &Config, path: &Path) -> Active {
        Active {
            due: now + cfg.settle,
            last: None,
            follow_due: cfg.live_sync.map(|every| now + first_follow(every, path)),
            followed_size: None,
            locked: 0,
            quiet_since: None,
            growing: false,
            touched: false,
            probe_due: probe::CAN_TELL.then(|| now + PROBE_EVERY),
        }
    }
}

/// Runs until shutdown. `pass_now` is notified whenever only a full pass can be sure
/// nothing was missed. `first_try` is sent once the first attempt to watch is over
/// (watching or not): the daemon's first pass waits for it, so that pass covers
/// everything before the watch, and no second pass is needed for it.
pub async fn run(
    cfg: Arc<Config>,
    queue: CopyQueue,
    inbox: Inbox,
    pass_now: Arc<Notify>,
    activity: Activity,
    first_try: oneshot::Sender<()>,
    stop: CancellationToken,
) {
    let mut first_try = Some(first_try);
    let Inbox { tx, mut rx, newest } = inbox;
    // Sent to by the queue when a job the watcher submitted is done; the watcher holds
    // a sender, so it never closes while this runs.
    let (reply, mut reports) = mpsc::unbounded_channel::<Report>();
    let mut w = Watch {
        cfg: cfg.clone(),
        queue,
        reply,
        pass_now: pass_now.clone(),
        volume_away: false,
        newest,
    };
    let mut watcher: Option<Watcher> = None;
    let mut active: HashMap<PathBuf, Active> = HashMap::new();
    loop {
        if watcher.is_none() {
            // Whatever happened while unwatched is found by a pass (at start, by the
            // first pass, which waits for this).
            watcher = try_watch(&cfg, &tx, &pass_now, &activity, first_try.is_none()).await;
            if let Some(tx) = first_try.take() {
                let _ = tx.send(());
            }
        }
        let next_look = active
            .values()
            .flat_map(|a| std::iter::once(a.due).chain(a.follow_due).chain(a.probe_due))
            .min();
        let wake = match (&watcher, next_look) {
            (None, _) => Some(Instant::now() + RETRY_WATCH),
            (Some(_), due) => due,
        };
        tokio::select! {
            seen = rx.recv() => {
                let Some(first) = seen else { break };
                let mut batch = vec![first];
                while batch.len() < 1024 {
                    match rx.try_recv() {
                        Ok(s) => batch.push(s),
                        Err(_) => break,
                    }
                }
                let cfg2 = cfg.clone();
                let Ok(actions) = tokio::task::spawn_blocking(move || triage(&cfg2, batch)).await else { continue };
                for action in actions {
                    if act(&w, action, &mut active).await {
                        tracing::warn!(path = %cfg.source_dir.display(), "the source folder is gone; checking at once");
                        watcher = None;
                        active.clear();
                        activity.set_watcher(WatcherState::WaitingForSource);
                        pass_now.notify_one();
                    }
                }
            }
            Some(report) = reports.recv() => {
                w.after_copy(report, &mut active);
            }
            _ = sleep_until(wake) => {
                w.look(&mut active).await;
            }
            _ = stop.cancelled() => break,
        }
    }
    activity.set_watcher(WatcherState::Off);
}

/// Tries to put the watch on the source folder (blocking work: notify walks the tree);
/// once it is on, asks for a pass when `pass_after` (the first pass covers the start).
async fn try_watch(
    cfg: &Arc<Config>,
    tx: &mpsc::Sender<News>,
    pass_now: &Arc<Notify>,
    activity: &Activity,
    pass_after: bool,
) -> Option<Watcher> {
    let (cfg2, tx2, pass2) = (cfg.clone(), tx.clone(), pass_now.clone());
    match tokio::task::spawn_blocking(move || start(&cfg2, tx2, pass2)).await {
        Ok(Ok(started)) => {
            tracing::info!(path = %cfg.source_dir.display(), "watching the source folder");
            activity.set_watcher(WatcherState::Watching);
            if pass_after {
                pass_now.notify_one();
            }
            Some(started)
        }
        Ok(Err(e)) => {
            activity.set_watcher(WatcherState::WaitingForSource);
            tracing::debug!("cannot watch {} yet: {e}", cfg.source_dir.display());
            None
        }
        Err(e) => {
            tracing::error!("the watcher could not start: {e}");
            None
        }
    }
}

/// What the watcher task needs to hand out jobs.
struct Watch {
    cfg: Arc<Config>,
    queue: CopyQueue,
    /// Given to every job the watcher submits; see `run`.
    reply: mpsc::UnboundedSender<Report>,
    pass_now: Arc<Notify>,
    /// A job of ours found the backup volume gone and no job has succeeded since.
    volume_away: bool,
    /// The newest recording's day the last pass saw (its window's anchor).
    newest: Newest,
}

/// What a look at an active file found.
enum Look {
    Gone,
    /// `written`: whether a writer holds it, where the OS can tell.
    Present {
        meta: FileMeta,
        readable: bool,
        written: Option<bool>,
    },
}

/// When a new file's in-progress copy is first brought up to date: between half of
/// `every` and all of it, by the file's path. A site's cameras start their segments at
/// the same instant; spread like this, their follows keep apart ever after, instead of
/// queueing together every `every` (64 cameras made the last wait a second more).
fn first_follow(every: Duration, path: &Path) -> Duration {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
    let fraction = (hash >> 11) as f64 / (1u64 << 53) as f64;
    every.mul_f64(0.5 + fraction / 2.0)
}

impl Watch {
    /// Looks at the active files that are due: finished ones are queued, growing ones
    /// get their in-progress copy brought up to date when it is time.
    async fn look(&self, active: &mut HashMap<PathBuf, Active>) {
        let now = Instant::now();
        let due: Vec<PathBuf> = active
            .iter()
            .filter(|(_, a)| {
                a.due <= now || a.follow_due.is_some_and(|f| f <= now) || a.probe_due.is_some_and(|p| p <= now)
            })
            .map(|(p, _)| p.clone())
            .collect();
        let looks = tokio::task::spawn_blocking(move || {
            due.into_iter()
                .map(|p| {
                    let look = match std::fs::metadata(&p).and_then(|m| FileMeta::of(&m)) {
                        Ok(meta) => Look::Present {
                            meta,
                            readable: std::fs::File::open(&p).is_ok(),
                            written: probe::writer_holds(&p),
                        },
                        Err(_) => Look::Gone,
                    };
                    (p, look)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let cfg = &self.cfg;
        for (path, look) in looks {
            let Some(a) = active.get_mut(&path) else { continue };
            // Renamed or deleted: a rename reports the new name, a pass finds the rest.
            let Look::Present {
                meta,
                readable,
                written,
            } = look
            else {
                active.remove(&path);
                continue;
            };
            let named_in_progress = cfg.names.final_rel(&path).is_some_and(|(_, p)| p);
            if a.probe_due.is_some_and(|p| p <= now) {
                // No writer holds it any more: the recorder closed it.
                if written == Some(false) && readable && !named_in_progress {
                    active.remove(&path);
                    self.submit(&path, Stage::Finished, "closed by its writer").await;
                    continue;
                }
                a.probe_due = Some(now + PROBE_EVERY);
            }
            if a.due <= now && self.settle_look(&path, a, meta, readable, named_in_progress, now).await {
                active.remove(&path);
                continue;
            }
            if let (Some(follow_due), Some(every)) = (a.follow_due, cfg.live_sync) {
                if follow_due <= now {
                    a.follow_due = Some(now + every);
                    if (a.growing || named_in_progress) && a.followed_size != Some(meta.size) {
                        a.followed_size = Some(meta.size);
                        self.submit(&path, Stage::Recording, "recording: following it").await;
                    }
                }
            }
        }
    }

    /// The look `settle_secs` after the last: a file unchanged since is finished (or,
    /// locked, tried again later); a recorder's in-progress name quiet for long is let
    /// go. True when the file leaves the active map.
    async fn settle_look(
        &self,
        path: &Path,
        a: &mut Active,
        meta: FileMeta,
        readable: bool,
        named_in_progress: bool,
        now: Instant,
    ) -> bool {
        let cfg = &self.cfg;
        // News to change between two looks: only then is it followed, so a
        // file written once (a burst, a copy-in) is never given a .partial.
        a.growing = a.last.is_some_and(|l| l != meta);
        let still = a.last == Some(meta) && !a.touched;
        a.last = Some(meta);
        a.touched = false;
        a.due = now + cfg.settle;
        if still && !named_in_progress {
            if readable {
                self.submit(path, Stage::Finished, "unchanged for settle_secs").await;
                return true;
            }
            return match self.locked_again(path, a, Stage::Finished) {
                Some(wait) => {
                    a.due = now + wait;
                    false
                }
                None => true,
            };
        }
        if !still {
            a.quiet_since = None;
        } else if named_in_progress {
            // A recorder's in-progress name that stopped growing (a paused or
            // crashed recorder): once its copy has caught up, stop looking; a
            // rename is reported, and a pass hints it again if it grows.
            let quiet_since = *a.quiet_since.get_or_insert(now);
            let caught_up = cfg.live_sync.is_none() || a.followed_size == Some(meta.size);
            if caught_up && now.duration_since(quiet_since) >= FORGET_QUIET {
                return true;
            }
        }
        false
    }

    /// Counts a locked try of `path`; the pause before the next, or None when a
    /// finished recording has been tried enough and is left to the next pass.
    fn locked_again(&self, path: &Path, a: &mut Active, stage: Stage) -> Option<Duration> {
        a.locked += 1;
        let wait = (self.cfg.settle * 2u32.saturating_pow(a.locked - 1)).min(MAX_BACKOFF);
        let rel = path
            .strip_prefix(&self.cfg.source_dir)
            .unwrap_or(path)
            .display()
            .to_string();
        if stage == Stage::Finished && a.locked >= MAX_LOCKED_TRIES {
            tracing::warn!(path = %rel, tries = a.locked, "still locked by another program; left to the next pass");
            return None;
        }
        // A recording being written may stay locked for its whole hour: say so once,
        // then only in the debug log.
        if a.locked == 1 {
            tracing::info!(path = %rel, retry_in_secs = wait.as_secs(), "locked by another program (the recorder?); trying again with growing pauses");
        } else {
            tracing::debug!(path = %rel, tries = a.locked, retry_in_secs = wait.as_secs(), "still locked");
        }
        Some(wait)
    }

    /// What a finished job of ours means for the next try.
    fn after_copy(&mut self, report: Report, active: &mut HashMap<PathBuf, Active>) {
        let path = self.cfg.source_dir.join(&report.rel);
        let now = Instant::now();
        match report.result {
            // The volume went away between passes: a pass now raises the alert and
            // then watches for its return. Once per outage, not once per job.
            Err(CopyError::BackupGone(_)) => {
                if !std::mem::replace(&mut self.volume_away, true) {
                    self.pass_now.notify_one();
                }
            }
            Err(CopyError::File(FileError::SourceLocked(_))) => {
                let a = active
                    .entry(path.clone())
                    .or_insert_with(|| Active::new(now, &self.cfg, &path));
                match self.locked_again(&path, a, report.stage) {
                    Some(wait) => {
                        a.due = now + wait;
                        if report.stage == Stage::Recording {
                            a.follow_due = Some(now + wait);
                            a.followed_size = None;
                        }
                    }
                    None => {
                        active.remove(&path);
                    }
                }
            }
            // It moved under the copy: look again once it holds still.
            Err(CopyError::File(FileError::SourceChanged(_))) => {
                active
                    .entry(path.clone())
                    .or_insert_with(|| Active::new(now, &self.cfg, &path));
            }
            Ok(_) => {
                self.volume_away = false;
                if let Some(a) = active.get_mut(&path) {
                    if a.locked > 0 {
                        let rel = report.rel.display().to_string();
                        tracing::info!(path = %rel, tries = a.locked, "readable again");
                    }
                    a.locked = 0;
                }
            }
            // Other errors are logged by the queue and retried by the next pass.
            Err(_) => {}
        }
    }

    /// Queues a recording the watcher has news of, if it is inside the window.
    async fn submit(&self, path: &Path, stage: Stage, why: &str) {
        let cfg = &self.cfg;
        let Ok(rel) = path.strip_prefix(&cfg.source_dir) else {
            return;
        };
        // Most layouts date recordings by folder; only the others need a stat.
        let date = match names::date_from_path(rel) {
            Some(d) => d,
            None => match std::fs::metadata(path).and_then(|m| m.modified()) {
                Ok(mtime) => names::recording_date(rel, mtime).unwrap_or_else(|| store::scan::unknown_time(rel)),
                Err(_) => return,
            },
        };
        // The pass's window, anchored the same way: on the newest recording (this one
        // included) when the clock is ahead of it.
        let known = *self.newest.lock().unwrap_or_else(|e| e.into_inner());
        let newest = known.map_or(date, |n| n.max(date));
        let window = Window::new(chrono::Local::now().date_naive(), cfg.retention_days, Some(newest));
        if !window.contains(date) {
            return;
        }
        // A finished recording's end, for the protection lag.
        let ended = (stage == Stage::Finished)
            .then(|| std::fs::metadata(path).and_then(|m| m.modified()).ok())
            .flatten();
        self.queue
            .submit(Job {
                rel: rel.to_path_buf(),
                stage,
                reason: why.to_string(),
                ended,
                reply: vec![self.reply.clone()],
            })
            .await;
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_follows_of_cameras_that_start_together_are_spread_over_half_the_interval() {
        let every = Duration::from_secs(5);
        let firsts: Vec<Duration> = (1..=64)
            .map(|ch| {
                first_follow(
                    every,
                    Path::new(&format!("/rec/2027/02/01/NVR_ch{ch}_main_20270201100000.dav_")),
                )
            })
            .collect();
        assert!(firsts.iter().all(|d| *d >= every / 2 && *d < every), "{firsts:?}");
        // Each of the ten slices of [2.5 s, 5 s) has some of them.
        let mut slices = [0; 10];
        for d in &firsts {
            slices[((d.as_secs_f64() - 2.5) / 0.25) as usize] += 1;
        }
        assert!(slices.iter().all(|n| *n > 0), "{slices:?}");
        let again = first_follow(every, Path::new("/rec/2027/02/01/NVR_ch1_main_20270201100000.dav_"));
        assert_eq!(again, firsts[0], "the same path, the same moment");
    }
}
