//! The watcher's news, decided and carried out: `triage` sorts a batch of what notify
//! and the passes reported into actions (with the file-system checks that needs: file
//! or folder, a new folder's listing), and `act` applies one to the active map and the
//! queue.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Active, News, Watch};
use config::Config;
use rules::listing::FileMeta;
use rules::stage::Stage;
use store::scan;

/// Carries out one piece of news on the active map and the queue; true when it says
/// the source folder itself is gone (the caller drops the watch).
pub(super) async fn act(w: &Watch, action: Action, active: &mut HashMap<PathBuf, Active>) -> bool {
    match action {
        Action::Submit(path, stage, why) => {
            active.remove(&path);
            w.submit(&path, stage, why).await;
        }
        Action::Track(path, meta, touched) => match active.entry(path) {
            Entry::Vacant(v) => {
                let mut a = Active::new(Instant::now(), &w.cfg, v.key());
                a.last = meta;
                v.insert(a);
            }
            // Not still at the next look, whatever its size says; the look itself is
            // not put off, or steady events would put it off forever.
            Entry::Occupied(mut o) => o.get_mut().touched |= touched,
        },
        Action::Forget(path) => {
            active.remove(&path);
        }
        Action::SourceGone => return true,
    }
    false
}

/// What the watcher task does about one piece of news, decided off the async threads.
pub(super) enum Action {
    Submit(PathBuf, Stage, &'static str),
    /// Keep an eye on it. With what it looked like just now (taken after the news, so
    /// a look `settle_secs` later can already tell it is still), and whether the news
    /// was a change.
    Track(PathBuf, Option<FileMeta>, bool),
    Forget(PathBuf),
    SourceGone,
}

/// Sorts a batch of news, with the file-system checks it needs (folder or file; a new
/// folder's listing).
pub(super) fn triage(cfg: &Config, batch: Vec<News>) -> Vec<Action> {
    let mut out = Vec::new();
    let followed = |p: &Path| p.starts_with(&cfg.source_dir) && cfg.names.final_rel(p).is_some();
    for seen in batch {
        let (path, finished, touched) = match seen {
            News::Removed(path) => {
                let gone = path == cfg.source_dir || !cfg.source_dir.exists();
                out.push(if gone { Action::SourceGone } else { Action::Forget(path) });
                continue;
            }
            News::Finished(path, why) => (path, Some(why), false),
            News::Changed(path) => (path, None, true),
            News::Recording(path) => (path, None, false),
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => Some(m),
            // Gone already: a rename reports the new name, a removal its own event.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => None,
        };
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            // A folder appeared (the recorder's midnight rollover, or a camera
            // added): its first files may never be reported, so list it now. They
            // may still be open: a later close event or stillness copies them.
            if let Ok(listing) = scan::scan(&path, &cfg.names) {
                let files = listing.recordings.into_iter().map(|(rel, r)| (rel.to_path_buf(), r));
                let unfinished = listing.in_progress.into_values().map(|p| (p.rel, p.rec));
                for (rel, rec) in files.chain(unfinished) {
                    out.push(Action::Track(path.join(rel), Some(rec.meta), false));
                }
            }
            continue;
        }
        if !followed(&path) {
            continue;
        }
        let meta = meta.and_then(|m| FileMeta::of(&m).ok());
        out.push(match finished {
            Some(why) => Action::Submit(path, Stage::Finished, why),
            None => Action::Track(path, meta, touched),
        });
    }
    out
}
