//! The offsite tier as the daemon sees it: started with the config, it runs
//! `upload_workers` upload threads and one sweep thread (each pass hands it the
//! backup's listing; one listing waits while a sweep runs, and the passes' listings
//! meanwhile are dropped). It takes the copies that just took their final name, tells
//! `status.json` its state and the passes its alerts, and at the end stops its threads
//! within a bounded wait: an upload cut short resumes at the next start.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use rules::run::OffsiteState;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

use crate::background;
use crate::backlog::Item;
use crate::gate::Gate;
use crate::probe;
use crate::site::PrefixClaim;
use crate::state::OffsiteStatus;
use crate::sweep::{sweep, Rules};
use crate::worker::Shared;
use config::Config;
use report::coverage::Bucket;
use rules::alert::Raised;
use rules::listing::Recordings;
use rules::offsite::{alerts, Standing};
use rules::paths::slashed;

/// The backup's finished recordings after a pass, as its listing has them.
type Finished = Recordings;

pub struct Tier {
    /// None when no client could be made (the secret unreadable): the reason.
    shared: Result<Arc<Shared>, String>,
    sweeps: Option<SyncSender<Finished>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    max_lag: Duration,
    rules: Arc<Rules>,
}

impl Tier {
    /// Starts the tier for `cfg.offsite` (None without one). `local_busy` says when
    /// local copies have a backlog; `stop` is the daemon's stop.
    pub fn start(
        cfg: &Config,
        local_busy: Box<dyn Fn() -> bool + Send + Sync>,
        stop: &CancellationToken,
    ) -> Option<Tier> {
        let o = cfg.offsite.as_ref()?;
        let rules = Rules {
            retention_days: o.retention_days,
            allow_mass_delete: cfg.allow_mass_delete,
            site: PrefixClaim::new(cfg.site_name.clone()),
        };
        let client = match probe::client(o) {
            Ok(c) => c,
            Err(why) => {
                tracing::error!(alert = "offsite_unavailable", "the offsite tier cannot start: {why}");
                return Some(Tier {
                    shared: Err(why),
                    sweeps: None,
                    threads: Mutex::default(),
                    max_lag: o.max_lag,
                    rules: Arc::new(rules),
                });
            }
        };
        let gate = Gate::new(stop, o.max_mbps, local_busy);
        let uploads_dir = cfg.log_dir.join("offsite-uploads");
        let parts = (
            o.prefix.clone(),
            o.part_size,
            o.object_lock.map(|m| (m, o.retention_days)),
        );
        let mut shared = Shared::new(client, gate, cfg.backup_dir.clone(), parts, uploads_dir);
        shared.recipients = o.recipients.clone();
        let shared = Arc::new(shared);
        let mut threads = Vec::new();
        for n in 0..o.upload_workers {
            let s = shared.clone();
            threads.extend(spawn(&format!("upload-{n}"), move || s.work()));
        }
        let (tx, rx) = sync_channel::<Finished>(1);
        let rules = Arc::new(rules);
        let (s, r) = (shared.clone(), rules.clone());
        threads.extend(spawn("offsite-sweep", move || sweeps(&s, &r, rx)));
        tracing::info!(
            place = %probe::place(o),
            workers = o.upload_workers,
            max_mbps = o.max_mbps.unwrap_or(0.0),
            encrypted_to = o.recipients.len(),
            "offsite tier started"
        );
        Some(Tier {
            shared: Ok(shared),
            sweeps: Some(tx),
            threads: Mutex::new(threads),
            max_lag: o.max_lag,
            rules,
        })
    }

    /// A copy took its final name in the backup: offered for upload at once.
    pub fn offer(&self, rel: &Path, size: u64, mtime: SystemTime, blake3: Option<String>) {
        if let Ok(s) = &self.shared {
            if !s.backlog.offer(slashed(rel), Item { size, mtime, blake3 }) {
                tracing::debug!(path = %rel.display(), "offsite backlog full: left to the next sweep");
            }
        }
    }

    /// After a pass: a sweep with its backup listing, unless one already waits.
    pub fn sweep_after(&self, backup: &Finished) {
        let Some(tx) = &self.sweeps else { return };
        match tx.try_send(backup.clone()) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => tracing::debug!("an offsite sweep is still waiting: this pass adds none"),
        }
    }

    /// A sweep now, on this thread (`run --once`).
    pub fn sweep_now(&self, backup: &Finished) {
        if let Ok(s) = &self.shared {
            sweep(s, &self.rules, backup);
        }
    }

    /// The `offsite` object of `status.json`.
    pub fn status(&self) -> OffsiteStatus {
        match &self.shared {
            Ok(s) => s.state.status(&s.backlog.snapshot(), SystemTime::now()),
            Err(why) => OffsiteStatus {
                state: OffsiteState::Unavailable,
                reason: Some(why.clone()),
                ..OffsiteStatus::default()
            },
        }
    }

    /// The alerts for this pass.
    pub fn raised(&self) -> Vec<Raised> {
        let status = self.status();
        let (conflicts, refused) = match &self.shared {
            Ok(s) => s.state.take_news(),
            Err(_) => Default::default(),
        };
        let standing = Standing {
            unavailable: status.reason.as_deref(),
            pending_files: status.pending_files,
            lag: Duration::from_secs(status.lag_secs),
            conflicts: &conflicts,
            refused: refused.as_deref(),
        };
        alerts(&standing, self.max_lag)
    }

    /// The prefix and the objects the bucket holds under it as far as known, with
    /// their sizes (for the coverage report).
    pub fn bucket(&self) -> Bucket {
        let (prefix, objects) = match &self.shared {
            Ok(s) => (s.prefix.clone(), s.state.known()),
            Err(_) => Default::default(),
        };
        Bucket { prefix, objects }
    }

    /// True when nothing waits (or the bucket cannot be used, or the tier stopped):
    /// what `run --once` waits for.
    pub fn settled(&self) -> bool {
        match &self.shared {
            Ok(s) => s.backlog.snapshot().files == 0 || s.state.reason().is_some() || s.gate.stopped(),
            Err(_) => true,
        }
    }

    /// Ends the threads, waiting at most `wait`; those still busy are left to end with the
    /// process, their uploads resumed at the next start.
    pub fn finish(&self, wait: Duration) {
        if let Ok(s) = &self.shared {
            s.gate.end();
        }
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = Instant::now() + wait;
        while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for t in threads.drain(..).filter(|t| t.is_finished()) {
            let _ = t.join();
        }
    }
}

/// Starts a thread of the tier, in the background (`offsite::background`).
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Option<JoinHandle<()>> {
    let named = name.to_string();
    let run = move || {
        match background::enter() {
            Ok(how) => tracing::debug!(thread = named, "offsite thread in the background: {how}"),
            Err(why) => tracing::info!(thread = named, "offsite thread at normal priority: {why}"),
        }
        f()
    };
    match std::thread::Builder::new().name(name.into()).spawn(run) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::error!("cannot start the offsite thread {name}: {e}");
            None
        }
    }
}

/// The sweep thread: one sweep per listing received, until the channel closes or the
/// tier stops.
fn sweeps(shared: &Shared, rules: &Rules, rx: Receiver<Finished>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(local) => sweep(shared, rules, &local),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !shared.gate.stopped() => {}
            Err(_) => return,
        }
    }
}
