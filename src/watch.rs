//! The real-time watcher: notify's debounced events on `source_dir` become copy jobs on
//! the shared queue within seconds. The notify callback never blocks: it hands events
//! over with `try_send`, and when that fails it asks for a full pass instead, which
//! finds whatever the dropped events were about. A recording is copied when the OS says
//! it was closed after writing or renamed into place (Linux); where the OS says neither
//! (Windows), when its size and time have been still for `settle_secs` and it opens for
//! reading. Folders that appear are scanned at once, because inotify never reports a
//! file created right after its folder. Any error, overflow or `Rescan` flag, and the
//! source folder vanishing or coming back, ask for an immediate pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, NoCache};
use tokio::sync::{mpsc, Notify};

use crate::config::Config;
use crate::layout;
use crate::queue::{CopyQueue, Job};
use crate::scan::{self, FileMeta};
use crate::shutdown::Shutdown;

/// What the callback hands over: a path and what the OS said about it.
#[derive(Debug)]
enum Seen {
    /// Closed after writing, or renamed into place: finished.
    Finished(PathBuf, &'static str),
    /// Created or written, with no close event (yet).
    Changed(PathBuf),
    /// Something was removed; the source folder itself may be gone.
    Removed(PathBuf),
}

/// Room for this many events between the callback and the watcher task; past it the
/// callback asks for a pass instead of waiting.
const EVENT_CAPACITY: usize = 8192;

/// How often a missing source folder is looked for again.
const RETRY_WATCH: Duration = Duration::from_secs(2);

type Watcher = Debouncer<RecommendedWatcher, NoCache>;

/// Runs until shutdown. `pass_now` is notified whenever only a full pass can be sure
/// nothing was missed.
pub async fn run(cfg: Arc<Config>, queue: CopyQueue, pass_now: Arc<Notify>, mut shutdown: Shutdown) {
    // Sent to by the notify callback (debouncer thread) with try_send; closes when the
    // debouncer is dropped, i.e. when this function returns.
    let (tx, mut rx) = mpsc::channel::<Seen>(EVENT_CAPACITY);
    let mut watcher: Option<Watcher> = None;
    let mut settling: HashMap<PathBuf, Settling> = HashMap::new();
    let settle = cfg.settle;
    loop {
        if watcher.is_none() {
            match start(&cfg, tx.clone(), pass_now.clone()) {
                Ok(w) => {
                    tracing::info!(path = %cfg.source_dir.display(), "watching the source folder");
                    watcher = Some(w);
                    // Whatever happened while unwatched is found by a pass.
                    pass_now.notify_one();
                }
                Err(e) => tracing::debug!("cannot watch {} yet: {e}", cfg.source_dir.display()),
            }
        }
        let next_settle = settling.values().map(|s| s.due).min();
        let wake = match (&watcher, next_settle) {
            (None, _) => Some(Instant::now() + RETRY_WATCH),
            (Some(_), due) => due,
        };
        tokio::select! {
            seen = rx.recv() => {
                let Some(seen) = seen else { break };
                match seen {
                    Seen::Finished(path, _) | Seen::Changed(path) if path.is_dir() => {
                        for file in scan_new_folder(&cfg, path).await {
                            settling.entry(file).or_insert_with(|| Settling::new(settle));
                        }
                    }
                    Seen::Finished(path, why) => {
                        settling.remove(&path);
                        submit(&cfg, &queue, &path, why).await;
                    }
                    Seen::Changed(path) => {
                        if is_recording(&cfg, &path) {
                            settling.entry(path).or_insert_with(|| Settling::new(settle)).touch(settle);
                        }
                    }
                    Seen::Removed(path) => {
                        settling.remove(&path);
                        if path == cfg.source_dir || !cfg.source_dir.exists() {
                            tracing::warn!(path = %cfg.source_dir.display(), "the source folder is gone; checking at once");
                            watcher = None;
                            pass_now.notify_one();
                        }
                    }
                }
            }
            _ = sleep_until(wake) => {
                let now = Instant::now();
                let due: Vec<PathBuf> = settling.iter().filter(|(_, s)| s.due <= now).map(|(p, _)| p.clone()).collect();
                for path in due {
                    let meta = std::fs::metadata(&path).ok().and_then(|m| Some(FileMeta { size: m.len(), mtime: m.modified().ok()? }));
                    let entry = settling.get_mut(&path).expect("listed above");
                    match meta {
                        None => { settling.remove(&path); }
                        Some(m) if entry.last.is_some_and(|l| l.matches(&m)) && std::fs::File::open(&path).is_ok() => {
                            settling.remove(&path);
                            submit(&cfg, &queue, &path, "unchanged for settle_secs").await;
                        }
                        Some(m) => { entry.last = Some(m); entry.due = now + settle; }
                    }
                }
            }
            _ = shutdown.wait() => break,
        }
    }
}

/// A file that changed with no close event: copied once it holds still.
struct Settling {
    due: Instant,
    last: Option<FileMeta>,
}

impl Settling {
    fn new(settle: Duration) -> Settling {
        Settling {
            due: Instant::now() + settle,
            last: None,
        }
    }
    fn touch(&mut self, settle: Duration) {
        self.due = Instant::now() + settle;
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

fn start(cfg: &Config, tx: mpsc::Sender<Seen>, pass_now: Arc<Notify>) -> notify::Result<Watcher> {
    if !cfg.source_dir.is_dir() {
        return Err(notify::Error::path_not_found().add_path(cfg.source_dir.clone()));
    }
    let handler = move |result: DebounceEventResult| forward(result, &tx, &pass_now);
    // NoCache: the default cache opens every file of the tree when the watch starts,
    // which on a 31-day tree is tens of thousands of opens of files being recorded.
    let mut w = new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
        cfg.debounce,
        None,
        handler,
        NoCache,
        notify::Config::default(),
    )?;
    w.watch(&cfg.source_dir, RecursiveMode::Recursive)?;
    Ok(w)
}

/// The notify callback, on the debouncer's thread: classify and hand over, never wait.
fn forward(result: DebounceEventResult, tx: &mpsc::Sender<Seen>, pass_now: &Notify) {
    let events = match result {
        Ok(events) => events,
        Err(errors) => {
            for e in errors {
                tracing::warn!("watcher error, running a full pass: {e}");
            }
            pass_now.notify_one();
            return;
        }
    };
    for ev in events {
        if ev.need_rescan() {
            tracing::info!("the watcher may have missed events; running a full pass");
            pass_now.notify_one();
        }
        let seen: Vec<Seen> = match ev.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => ev
                .paths
                .iter()
                .map(|p| Seen::Finished(p.clone(), "closed after writing"))
                .collect(),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => ev
                .paths
                .iter()
                .map(|p| Seen::Finished(p.clone(), "renamed into place"))
                .collect(),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => ev
                .paths
                .last()
                .map(|p| Seen::Finished(p.clone(), "renamed into place"))
                .into_iter()
                .collect(),
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                ev.paths.iter().map(|p| Seen::Removed(p.clone())).collect()
            }
            EventKind::Create(_) | EventKind::Modify(_) => ev.paths.iter().map(|p| Seen::Changed(p.clone())).collect(),
            // Opens and reads (our own copies cause them) say nothing new.
            _ => Vec::new(),
        };
        for s in seen {
            if let Err(e) = tx.try_send(s) {
                // Full (a burst) or closed (shutting down): a pass will find the rest of
                // this batch. One line per batch, not per event.
                if matches!(e, mpsc::error::TrySendError::Full(_)) {
                    tracing::info!("burst of changes: the watcher hands the rest to a full pass");
                }
                pass_now.notify_one();
                return;
            }
        }
    }
}

fn is_recording(cfg: &Config, path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| layout::is_recording(n, &cfg.extensions))
}

/// Queues a recording the watcher saw finish, if it is one and inside the window.
async fn submit(cfg: &Config, queue: &CopyQueue, path: &Path, why: &str) {
    if !is_recording(cfg, path) {
        return;
    }
    let Ok(rel) = path.strip_prefix(&cfg.source_dir) else {
        return;
    };
    let Ok(mtime) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        return;
    };
    let date = layout::recording_date(rel, mtime);
    let oldest = chrono::Local::now().date_naive() - chrono::Days::new(cfg.retention_days.into());
    if date < oldest {
        return;
    }
    queue
        .submit(Job {
            rel: rel.to_path_buf(),
            reason: why.to_string(),
            reply: None,
        })
        .await;
}

/// A folder appeared (the recorder's midnight rollover, or a camera added): its first
/// files may never be reported, so list it now. They may still be open, so they go
/// through the settle path: a later close event or stillness copies them.
async fn scan_new_folder(cfg: &Config, dir: PathBuf) -> Vec<PathBuf> {
    let exts = cfg.extensions.clone();
    let d = dir.clone();
    match tokio::task::spawn_blocking(move || scan::scan(&d, &exts)).await {
        Ok(Ok(listing)) => listing.recordings.into_keys().map(|rel| dir.join(rel)).collect(),
        _ => Vec::new(),
    }
}
