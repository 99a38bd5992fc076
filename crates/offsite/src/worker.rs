//! The upload workers' side of the tier: what they share (the client, the backlog,
//! the gate, the state, the pause after an outage) and the loop each runs on its own
//! thread: take the next waiting recording, read its facts from the backup, upload
//! it (`upload`), and record how it went. A failure of the bucket as a whole marks the
//! tier unavailable, puts the recording back and pauses every worker (5 s, doubling to
//! a minute); a failure of one recording is logged and left to the next sweep.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Local;

use crate::backlog::{Backlog, Item};
use crate::client::{Client, S3Error};
use crate::gate::Gate;
use crate::retention::Retention;
use crate::state::State;
use crate::upload::{upload, Sent, ToUpload, UploadError};
use crate::view::{recording_key, Known};
use config::offsite::LockMode;
use rules::names;
use store::manifest;

const FIRST_PAUSE: Duration = Duration::from_secs(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// What the workers and the sweep share.
pub struct Shared {
    pub client: Client,
    pub backlog: Backlog,
    pub state: State,
    pub gate: Gate,
    pub backup_dir: PathBuf,
    pub prefix: String,
    pub part_size: u64,
    /// Under object lock: its mode, and the days offsite retention keeps a recording.
    pub lock: Option<(LockMode, u32)>,
    /// Where resumable uploads keep their ids (`log_dir/offsite-uploads`).
    pub uploads_dir: PathBuf,
    /// Whom each object is encrypted to; none: objects go in clear.
    pub recipients: Vec<age::x25519::Recipient>,
    /// The recording sizes of encrypted objects, as read from their metadata.
    pub known: Known,
    /// After an outage: when to try again, and the pause after the next one.
    pause: Mutex<(Option<Instant>, Duration)>,
}

/// What became of a recording taken from the backlog.
enum Next {
    Done,
    Again,
}

impl Shared {
    pub fn new(
        client: Client,
        gate: Gate,
        backup_dir: PathBuf,
        (prefix, part_size, lock): (String, u64, Option<(LockMode, u32)>),
        uploads_dir: PathBuf,
    ) -> Shared {
        Shared {
            client,
            backlog: Backlog::default(),
            state: State::default(),
            gate,
            backup_dir,
            prefix,
            part_size,
            lock,
            uploads_dir,
            recipients: Vec::new(),
            known: Known::default(),
            pause: Mutex::new((None, FIRST_PAUSE)),
        }
    }

    /// The bucket failed as a whole: say so once, and pause the uploads.
    pub fn outage(&self, e: &S3Error) {
        if self.state.unavailable(e.to_string()) {
            tracing::warn!(alert = "offsite_unavailable", "the offsite bucket cannot be used: {e}");
        }
        let mut p = self.pause.lock().unwrap_or_else(|p| p.into_inner());
        p.0 = Some(Instant::now() + p.1);
        p.1 = (p.1 * 2).min(LONGEST_PAUSE);
    }

    /// The bucket answered: say so if it had not, and end any pause.
    pub fn reachable(&self) {
        if self.state.available() {
            tracing::info!("the offsite bucket answers again: uploads go on");
        }
        *self.pause.lock().unwrap_or_else(|p| p.into_inner()) = (None, FIRST_PAUSE);
    }

    /// Waits out a pause; false when stopped.
    fn wait_out_pause(&self) -> bool {
        let until = self.pause.lock().unwrap_or_else(|p| p.into_inner()).0;
        until.map_or(!self.gate.stopped(), |at| self.gate.sleep_until(at))
    }

    /// One worker's loop, until stopped.
    pub fn work(&self) {
        while self.wait_out_pause() {
            let Some((rel, item)) = self.backlog.take(Duration::from_millis(500)) else {
                continue;
            };
            match self.upload_one(&rel, &item) {
                Next::Done => self.backlog.done(&rel),
                Next::Again => self.backlog.put_back(rel, item),
            }
        }
    }

    fn upload_one(&self, rel: &str, item: &Item) -> Next {
        let path = self.backup_dir.join(rel);
        let (size, mtime) = match std::fs::metadata(&path).and_then(|m| Ok((m.len(), m.modified()?))) {
            Ok(found) => found,
            Err(e) => {
                tracing::info!(path = rel, "not uploaded: no longer readable in the backup ({e})");
                return Next::Done;
            }
        };
        let blake3 = match &item.blake3 {
            Some(h) if item.size == size => h.clone(),
            _ => match manifest::hash_file(&path, |_| {}) {
                Ok((_, h)) => h,
                Err(e) => {
                    tracing::warn!(
                        path = rel,
                        "not uploaded, tried again at the next pass: cannot read it: {e}"
                    );
                    return Next::Done;
                }
            },
        };
        let time = names::local_time(mtime).map_or_else(|| "unknown".into(), |t| t.to_rfc3339());
        let rec = ToUpload {
            path: &path,
            size,
            time: &time,
            blake3: &blake3,
            lock: self.lock.map(|(mode, days)| {
                let date = names::recording_date(Path::new(rel), mtime).unwrap_or_else(|| Local::now().date_naive());
                Retention::of(mode, date, days)
            }),
            recipients: &self.recipients,
            known: &self.known,
        };
        let key = format!("{}{rel}", self.prefix);
        let started = Instant::now();
        let result = upload(&self.client, &rec, &key, self.part_size, &self.uploads_dir, &self.gate);
        self.settle(rel, (&key, size), result, started)
    }

    /// Records and logs how an upload went.
    fn settle(&self, rel: &str, (key, size): (&str, u64), result: Result<Sent, UploadError>, started: Instant) -> Next {
        match result {
            Ok(Sent::AlreadyThere) => {
                self.reachable();
                self.state.present(key, size);
                tracing::debug!(path = rel, key, "already in the offsite bucket");
                Next::Done
            }
            Ok(Sent::Newer { key: at, bytes, older }) => {
                self.reachable();
                self.state.uploaded(recording_key(&at), size, bytes);
                for old in &older {
                    self.state.deleted(recording_key(old));
                }
                tracing::info!(path = rel, key = %at, bytes, ?older, "uploaded to the offsite bucket as the newer version of a recording that grew");
                Next::Done
            }
            Ok(Sent::Uploaded { key: at, bytes }) => {
                self.reachable();
                self.state.uploaded(recording_key(&at), size, bytes);
                let secs = started.elapsed().as_secs_f64();
                let mb_s = (bytes as f64 / 1e6 / secs.max(1e-3) * 10.0).round() / 10.0;
                tracing::info!(path = rel, key = %at, bytes, mb_s, "uploaded to the offsite bucket");
                if recording_key(&at) != key {
                    let detail = format!(
                        "the offsite bucket holds another version of {rel} under {key}: kept as it is, this one uploaded beside it as {at}"
                    );
                    tracing::warn!(alert = "offsite_conflict", path = rel, "{detail}");
                    self.state.conflict(detail);
                }
                Next::Done
            }
            Err(UploadError::Stopped) => Next::Again,
            Err(UploadError::Server(e)) if e.is_outage() => {
                self.outage(&e);
                Next::Again
            }
            Err(e) => {
                tracing::warn!(path = rel, "not uploaded, tried again at the next pass: {e}");
                Next::Done
            }
        }
    }
}
