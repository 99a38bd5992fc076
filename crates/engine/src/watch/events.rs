//! notify's raw events on `source_dir`, turned into `News` news for the watcher task.
//! What is certain acts at once: a file closed after writing (Linux) or renamed into
//! place is handed over the moment the OS says so. Only what repeats is thinned out
//! (`Coalesce`): a file being written reports every write, and one note per
//! `debounce_ms` is all the watcher needs. The callback never blocks: it hands news
//! over with `try_send`, and when that fails it asks for a full pass instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, Notify};

use super::News;
use config::Config;

/// The running watch; dropping it stops it.
pub(super) type Watcher = RecommendedWatcher;

/// Starts watching `source_dir` (blocking: notify walks the tree to add its watches).
pub(super) fn start(cfg: &Config, tx: mpsc::Sender<News>, pass_now: Arc<Notify>) -> notify::Result<Watcher> {
    if !cfg.source_dir.is_dir() {
        return Err(notify::Error::path_not_found().add_path(cfg.source_dir.clone()));
    }
    let mut coalesce = Coalesce::new(cfg.debounce);
    let handler = move |result: notify::Result<Event>| forward(result, &mut coalesce, &tx, &pass_now);
    let mut w = RecommendedWatcher::new(handler, notify::Config::default())?;
    w.watch(&cfg.source_dir, RecursiveMode::Recursive)?;
    Ok(w)
}

/// Lets a change of one path through at most once per `every`; a file's end (closed,
/// renamed, removed) lets its next change through at once. Pure: `now` is an argument.
#[derive(Debug)]
pub(super) struct Coalesce {
    every: Duration,
    last: HashMap<PathBuf, Instant>,
}

/// Above this many remembered paths, the old ones are forgotten.
const COALESCE_PRUNE: usize = 4096;

impl Coalesce {
    pub(super) fn new(every: Duration) -> Coalesce {
        Coalesce {
            every,
            last: HashMap::new(),
        }
    }

    /// True when a change of `path` at `now` is news worth handing over.
    pub(super) fn admit(&mut self, path: &Path, now: Instant) -> bool {
        if let Some(t) = self.last.get(path) {
            if now.saturating_duration_since(*t) < self.every {
                return false;
            }
        }
        if self.last.len() >= COALESCE_PRUNE {
            let every = self.every;
            self.last.retain(|_, t| now.saturating_duration_since(*t) < every);
        }
        self.last.insert(path.to_path_buf(), now);
        true
    }

    /// `path` ended (closed, renamed, removed): its next change is news again.
    pub(super) fn ended(&mut self, path: &Path) {
        self.last.remove(path);
    }
}

/// What one raw event says, before thinning.
fn news(ev: &Event) -> Vec<News> {
    let each = |f: fn(PathBuf) -> News| ev.paths.iter().cloned().map(f).collect();
    match ev.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => each(|p| News::Finished(p, "closed after writing")),
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => each(|p| News::Finished(p, "renamed into place")),
        // Some back ends report a rename once, with both names.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => ev
            .paths
            .last()
            .map(|p| News::Finished(p.clone(), "renamed into place"))
            .into_iter()
            .collect(),
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => each(News::Removed),
        EventKind::Create(_) | EventKind::Modify(_) => each(News::Changed),
        // Opens and reads (our own copies cause them) say nothing new.
        _ => Vec::new(),
    }
}

/// The notify callback, on notify's thread: classify, thin out, hand over, never wait.
fn forward(result: notify::Result<Event>, coalesce: &mut Coalesce, tx: &mpsc::Sender<News>, pass_now: &Notify) {
    let ev = match result {
        Ok(ev) => ev,
        Err(e) => {
            tracing::warn!("watcher error, running a full pass: {e}");
            pass_now.notify_one();
            return;
        }
    };
    if ev.need_rescan() {
        tracing::info!("the watcher may have missed events; running a full pass");
        pass_now.notify_one();
    }
    let now = Instant::now();
    for seen in news(&ev) {
        match &seen {
            News::Changed(p) if !coalesce.admit(p, now) => continue,
            News::Finished(p, _) | News::Removed(p) => coalesce.ended(p),
            _ => {}
        }
        if let Err(e) = tx.try_send(seen) {
            // Full (a burst) or closed (shutting down): a pass will find what this and
            // the next events were about.
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                tracing::info!("burst of changes: the watcher hands the rest to a full pass");
            }
            pass_now.notify_one();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_goes_through_once_per_interval_and_at_once_after_an_end() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut c = Coalesce::new(Duration::from_millis(1000));
        let a = Path::new("/s/a.dav");
        assert!(c.admit(a, ms(0)));
        assert!(!c.admit(a, ms(10)));
        assert!(!c.admit(a, ms(999)));
        assert!(c.admit(Path::new("/s/b.dav"), ms(500)), "other paths are their own");
        assert!(c.admit(a, ms(1000)));
        c.ended(a);
        assert!(c.admit(a, ms(1001)), "closed and written again: news at once");
        // Many paths: the old ones are forgotten, never the recent ones.
        for i in 0..COALESCE_PRUNE + 10 {
            c.admit(&PathBuf::from(format!("/s/{i}")), ms(5000));
        }
        assert!(c.last.len() <= COALESCE_PRUNE + 10);
        assert!(!c.admit(Path::new("/s/3"), ms(5001)));
    }
}
