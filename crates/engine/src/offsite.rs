//! The offsite tier's place in the daemon: started beside the copy queue (told of
//! every copy that takes its final name, and holding back while the queue has a
//! backlog), swept after each pass with the pass's backup listing, its alerts added
//! to the pass's, its state kept in `status.json` between passes, and in `run --once`
//! waited for until nothing is left to upload.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::pass::Listings;
use crate::queue::CopyQueue;
use crate::status_file::StatusFile;
use config::Config;
use offsite::tier::Tier;
use rules::alert::Raised;

/// Starts the tier when the config has an `offsite` section.
pub fn start(cfg: &Config, queue: &CopyQueue, stop: &CancellationToken) -> Option<Arc<Tier>> {
    let length = queue.length_probe();
    let workers = cfg.copy_workers;
    let local_busy = Box::new(move || length() > workers);
    let tier = Arc::new(Tier::start(cfg, local_busy, stop)?);
    let (t, backup) = (tier.clone(), cfg.backup_dir.clone());
    queue.on_landed(Arc::new(move |rel, entry| {
        let mtime = std::fs::metadata(backup.join(rel)).and_then(|m| m.modified());
        if let Ok(mtime) = mtime {
            t.offer(rel, entry.size, mtime, Some(entry.blake3.clone()));
        }
    }));
    Some(tier)
}

/// After a pass: the sweep (beside the daemon's passes; waited for, with the uploads
/// it queues, under `--once`), then the tier's alerts.
pub async fn after_pass(tier: &Arc<Tier>, listings: Option<&Listings>, raised: &mut Vec<Raised>, daemon: bool) {
    if let Some(l) = listings {
        if daemon {
            tier.sweep_after(&l.backup.recordings);
        } else {
            let (t, local) = (tier.clone(), l.backup.recordings.clone());
            let _ = tokio::task::spawn_blocking(move || t.sweep_now(&local)).await;
            while !tier.settled() {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    raised.extend(tier.raised());
}

/// How often the daemon looks whether the tier's state changed, to rewrite
/// `status.json` between passes (uploads and outages do not go through the copy queue).
const STATUS_LOOK: Duration = Duration::from_secs(2);

/// Rewrites `status.json` when the tier's state changed (not for its lag alone), until
/// shutdown.
pub async fn keep_status(tier: Arc<Tier>, status_file: StatusFile, stop: CancellationToken) {
    let facts = |t: &Tier| {
        let s = t.status();
        (
            s.state,
            s.reason,
            s.pending_files,
            s.uploaded_files,
            s.deleted,
            s.last_listing,
        )
    };
    let mut shown = facts(&tier);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(STATUS_LOOK) => {}
            _ = stop.cancelled() => return,
        }
        let now = facts(&tier);
        if now != shown {
            shown = now;
            status_file.write_with(|_| {}).await;
        }
    }
}

/// Ends the tier's threads, waiting at most `wait`.
pub async fn finish(tier: Option<Arc<Tier>>, wait: Duration) {
    if let Some(t) = tier {
        let _ = tokio::task::spawn_blocking(move || t.finish(wait)).await;
    }
}
