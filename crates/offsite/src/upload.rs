//! Uploading one finished backup recording to the bucket: never over another object,
//! multipart and resumable when large, counted once the bucket shows its size, hash and
//! ETag (docs/offsite.md, "What it promises"). With recipients, the object is the
//! recording encrypted to them (`NAME.dav.age`, `crate::sealed`).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::client::{Client, Head, Part, RequestBody, S3Error};
use crate::digest::md5_of;
use crate::retention::Retention;
use crate::sealed::{Sealing, WrapError};
use crate::turns::{Cut, Paced, Turns};
use crate::view::{plain_len, Known};
use rules::fit::fnv1a;
use rules::offsite::{
    after_failed_resume, beside, grown_key, multipart_etag, same_part, single_etag, stored, versions, AfterResume,
    PartsAnswer, Stored, MAX_GROWN,
};
use rules::sealed::{plain_key, SUFFIX};

/// What is known of the recording to upload.
#[derive(Debug, Clone)]
pub struct ToUpload<'a> {
    /// The file in the backup.
    pub path: &'a Path,
    pub size: u64,
    /// Its modification time, RFC 3339.
    pub time: &'a str,
    /// Its BLAKE3 hash, from the manifest.
    pub blake3: &'a str,
    /// Under object lock, how long the bucket keeps it.
    pub lock: Option<Retention>,
    /// Whom it is encrypted to; none: it goes in clear.
    pub recipients: &'a [age::x25519::Recipient],
    /// The recording sizes encrypted objects hold, learned as they are read.
    pub known: &'a Known,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The bucket already had it, same size and hash.
    AlreadyThere,
    /// Uploaded to `key`; `bytes` sent this time (less than the size when resumed).
    Uploaded { key: String, bytes: u64 },
    /// The recording grew since its upload: uploaded as its newer version at `key`
    /// (`NAME.grown-N.dav`); each older version still there, in `older`, was deleted
    /// once this one was confirmed (or is left to a later sweep, under object lock).
    Newer {
        key: String,
        bytes: u64,
        older: Vec<String>,
    },
}

/// Where a recording goes, decided from a listing of its keys.
enum Destination {
    /// The bucket already holds it.
    There,
    /// Its own key, which is free.
    Own(String),
    /// The next newer version of a recording that grew; the older ones go after.
    Newer { key: String, older: Vec<String> },
    /// Beside another version of other content: a conflict.
    Beside(String),
}

/// Why an upload did not finish.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    Server(#[from] S3Error),
    #[error("cannot read the recording or the upload state: {0}")]
    Local(#[from] io::Error),
    #[error("stopped before the end (resumed next time)")]
    Stopped,
    #[error("the bucket does not show what was sent: {0}")]
    NotVerified(String),
    #[error("cannot encrypt it: {0}")]
    Seal(#[from] WrapError),
}

/// The upload state kept between tries, one file per object.
#[derive(Debug, Serialize, Deserialize)]
struct ResumeState {
    key: String,
    upload_id: String,
    size: u64,
    blake3: String,
    part_size: u64,
    /// The recipients it is encrypted to, and what makes its bytes again.
    #[serde(default)]
    recipients: Vec<String>,
    #[serde(default)]
    sealing: Option<Sealing>,
}

/// The bytes an upload sends: the recording as it is, or sealed for its recipients.
struct Body<'a> {
    rec: &'a ToUpload<'a>,
    sealing: Option<Sealing>,
}

impl<'a> Body<'a> {
    /// The object for `rec`: sealed afresh when it has recipients.
    fn new(rec: &'a ToUpload<'a>) -> Result<Body<'a>, WrapError> {
        let sealing = match rec.recipients {
            [] => None,
            r => Some(Sealing::new(r)?),
        };
        Ok(Body { rec, sealing })
    }

    /// The object's length.
    fn len(&self) -> u64 {
        self.sealing.as_ref().map_or(self.rec.size, |s| s.len(self.rec.size))
    }

    /// The object's bytes `[at, at + len)`, read from the recording as they go.
    fn range(&self, at: u64, len: u64) -> io::Result<Box<dyn Read + 'a>> {
        let mut f = File::open(self.rec.path)?;
        Ok(match &self.sealing {
            Some(s) => Box::new(s.range(f, self.rec.size, at, len)),
            None => {
                f.seek(SeekFrom::Start(at))?;
                Box::new(f.take(len))
            }
        })
    }
}

/// The recipients as kept in the resume state.
fn named(recipients: &[age::x25519::Recipient]) -> Vec<String> {
    recipients.iter().map(ToString::to_string).collect()
}

/// How many times a write refused because another writer took its key is tried again
/// (each time beside, at the next free key).
const TAKEN_TRIES: usize = 3;

/// Uploads `rec` to `key` (or beside it); `state` is the folder for resumable uploads;
/// `turns` is asked before each request and as its bytes go (`Turns`), and ends the
/// upload there when it answers false. Every write is conditional: when another writer
/// puts the key meanwhile, theirs is kept and this one goes beside it.
pub fn upload(
    client: &Client,
    rec: &ToUpload,
    key: &str,
    part_size: u64,
    state: &Path,
    turns: &dyn Turns,
) -> Result<Sent, UploadError> {
    let mut tries = 0;
    loop {
        let (at, older) = match place(client, key, rec)? {
            Destination::There => return Ok(Sent::AlreadyThere),
            Destination::Own(at) | Destination::Beside(at) => (at, None),
            Destination::Newer { key, older } => (key, Some(older)),
        };
        match send(client, rec, &at, (part_size, state), turns) {
            Err(UploadError::Server(S3Error::Taken(why))) if tries < TAKEN_TRIES => {
                tracing::warn!(key = at, "another writer put this key meanwhile ({why}): theirs kept");
                tries += 1;
            }
            sent => {
                let sent = sent.and_then(|(sent, etag)| verified(client, rec, sent, &etag))?;
                return Ok(match (sent, older) {
                    (Sent::Uploaded { key, bytes }, Some(older)) => {
                        delete_older(client, &key, &older);
                        Sent::Newer { key, bytes, older }
                    }
                    (sent, _) => sent,
                });
            }
        }
    }
}

/// Where the recording goes, from one listing of the keys its name starts (`NAME.`):
/// nowhere when one of them holds it; its own key when neither it nor a grown version
/// is there; the next grown version when the current one is this recording's start;
/// else beside it, the first free `NAME.offsite-N.dav`. Keys are compared as
/// recordings (`NAME.dav` for `NAME.dav.age`); the destination is the object's key.
fn place(client: &Client, key: &str, rec: &ToUpload) -> Result<Destination, UploadError> {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    let listed = recordings(client, &format!("{stem}."), rec.known)?;
    for (_, size, real) in &listed {
        if *size == rec.size && client.head(real)?.is_some_and(|h| holds(real, &h, rec)) {
            return Ok(Destination::There);
        }
    }
    let plain: Vec<(String, u64)> = listed.iter().map(|(k, size, _)| (k.clone(), *size)).collect();
    let reals = |k: &str| -> Vec<String> { listed.iter().filter(|l| l.0 == k).map(|l| l.2.clone()).collect() };
    let v = versions(key, &plain);
    let Some((current, size, n)) = v.current else {
        return Ok(Destination::Own(object_key(key, rec)));
    };
    let current_real = reals(&current).pop().unwrap_or_else(|| current.clone());
    if size < rec.size && n < MAX_GROWN && starts_with(client, &current_real, size, rec)? {
        let older = v.older.iter().chain([&current]).flat_map(|k| reals(k)).collect();
        return Ok(Destination::Newer {
            key: object_key(&grown_key(key, n + 1), rec),
            older,
        });
    }
    let free = beside(key, |k| plain.iter().any(|(p, _)| p == k));
    Ok(Destination::Beside(object_key(&free, rec)))
}

/// The objects under `prefix` as recordings: (key, size, object key). An encrypted
/// one's size is read from its metadata, and remembered in `known`.
fn recordings(client: &Client, prefix: &str, known: &Known) -> Result<Vec<(String, u64, String)>, S3Error> {
    let mut out = Vec::new();
    for l in client.list(prefix)? {
        let Some(plain) = plain_key(&l.key) else {
            out.push((l.key.clone(), l.size, l.key));
            continue;
        };
        // Without its metadata, it holds no recording this one could match.
        let size = client.head(&l.key)?.as_ref().and_then(|h| plain_len(&l.key, h));
        if let Some(size) = size {
            known.learn(&l.key, l.size, size);
        }
        out.push((plain.to_string(), size.unwrap_or(u64::MAX), l.key));
    }
    Ok(out)
}

/// The object key of the recording key `key`: itself in clear, `KEY.age` encrypted.
fn object_key(key: &str, rec: &ToUpload) -> String {
    match rec.recipients {
        [] => key.to_string(),
        _ => format!("{key}{SUFFIX}"),
    }
}

/// Whether the object at `key`, of `size` bytes, is the start of this recording: the
/// hash it carries is that of the recording's first `size` bytes.
fn starts_with(client: &Client, key: &str, size: u64, rec: &ToUpload) -> Result<bool, UploadError> {
    let Some(theirs) = client.head(key)?.and_then(|h| h.meta.get("blake3").cloned()) else {
        return Ok(false);
    };
    let mut hasher = blake3::Hasher::new();
    let read = io::copy(&mut io::Read::take(File::open(rec.path)?, size), &mut hasher)?;
    Ok(read == size && hasher.finalize().to_hex().as_str() == theirs)
}

/// Deletes the versions `key` superseded, now that it is confirmed; one that cannot go
/// (object lock) is left for a later sweep.
fn delete_older(client: &Client, key: &str, older: &[String]) {
    for old in older {
        match client.delete(old) {
            Ok(()) => tracing::info!(
                key = old,
                newer = key,
                "deleted from the offsite bucket: superseded by the newer version of its recording"
            ),
            Err(e) => tracing::warn!(
                key = old,
                newer = key,
                "superseded, not deleted yet (a later sweep tries again): {e}"
            ),
        }
    }
}

/// Sends the recording to `key`, whole or in parts; with the ETag it should get.
fn send(
    client: &Client,
    rec: &ToUpload,
    key: &str,
    (part_size, state): (u64, &Path),
    turns: &dyn Turns,
) -> Result<(Sent, String), UploadError> {
    let meta = vec![
        ("size".to_string(), rec.size.to_string()),
        ("mtime".to_string(), rec.time.to_string()),
        ("blake3".to_string(), rec.blake3.to_string()),
    ];
    if object_len(key, rec) > part_size {
        return multipart(client, rec, key, &meta, (part_size, state), turns);
    }
    let body = Body::new(rec)?;
    let md5 = md5_of(body.range(0, body.len())?, body.len())?;
    send_range(&body, (0, body.len(), md5), turns, |b| {
        client.put_from(key, b, &meta, rec.lock.as_ref())
    })?;
    let sent = Sent::Uploaded {
        bytes: rec.size,
        key: key.to_string(),
    };
    Ok((sent, single_etag(&md5)))
}

/// The upload, once the bucket shows the object with the recording's size and hash,
/// and the ETag the bytes sent give (`rules::offsite::stored`: the server's own view).
fn verified(client: &Client, rec: &ToUpload, sent: Sent, etag: &str) -> Result<Sent, UploadError> {
    let (Sent::Uploaded { key, .. } | Sent::Newer { key, .. }) = &sent else {
        return Ok(sent);
    };
    let head = client.head(key)?;
    match head.as_ref().map(|h| (h, stored(etag, h.etag.as_deref(), h.encrypted))) {
        Some((h, Stored::Differs)) => Err(UploadError::NotVerified(format!(
            "after the upload, {key} has ETag {} instead of {etag}: the server stored other bytes",
            h.etag.as_deref().unwrap_or("-")
        ))),
        Some((h, Stored::Same | Stored::Unknown)) if holds(key, h, rec) && h.size == object_len(key, rec) => Ok(sent),
        _ => Err(UploadError::NotVerified(format!(
            "after the upload, {key} is {} instead of {} bytes with hash {}",
            head.map_or("missing".into(), |h| format!(
                "{} bytes with hash {}",
                h.size,
                h.meta.get("blake3").map_or("-", String::as_str)
            )),
            rec.size,
            rec.blake3
        ))),
    }
}

/// Whether the object at `key` is this very recording: same size, same hash (the
/// metadata), in clear or encrypted.
fn holds(key: &str, h: &Head, rec: &ToUpload) -> bool {
    plain_len(key, h) == Some(rec.size) && h.meta.get("blake3").map(String::as_str) == Some(rec.blake3)
}

/// The length of the object sent to `key` for `rec`.
fn object_len(key: &str, rec: &ToUpload) -> u64 {
    match plain_key(key) {
        None => rec.size,
        Some(_) => rules::sealed::sealed_size(rec.size, rec.recipients.len()),
    }
}

fn multipart(
    client: &Client,
    rec: &ToUpload,
    key: &str,
    meta: &[(String, String)],
    (part_size, state): (u64, &Path),
    turns: &dyn Turns,
) -> Result<(Sent, String), UploadError> {
    let file = state.join(format!("{:016x}.json", fnv1a(key.as_bytes())));
    let (upload_id, there, body) = match resume(client, &file, key, rec, part_size)? {
        Some((upload_id, there, sealing)) => (upload_id, there, Body { rec, sealing }),
        None => {
            let body = Body::new(rec)?;
            let upload_id = client.create_multipart(key, meta, rec.lock.as_ref())?;
            let pending = ResumeState {
                key: key.to_string(),
                upload_id: upload_id.clone(),
                size: rec.size,
                blake3: rec.blake3.to_string(),
                part_size,
                recipients: named(rec.recipients),
                sealing: body.sealing.clone(),
            };
            write_state(&file, &pending)?;
            (upload_id, Vec::new(), body)
        }
    };
    let total = body.len();
    let count = total.div_ceil(part_size);
    let (mut sent, mut parts, mut md5s) = (0, Vec::new(), Vec::new());
    for n in 1..=count {
        let (at, len) = ((n - 1) * part_size, part_size.min(total - (n - 1) * part_size));
        let md5 = md5_of(body.range(at, len)?, len)?;
        md5s.push(md5);
        // A part the server has counts only with the file's bytes there.
        if let Some(p) = there
            .iter()
            .find(|p| u64::from(p.number) == n && same_part(&p.etag, &md5))
        {
            parts.push(p.clone());
            continue;
        }
        let etag = send_range(&body, (at, len, md5), turns, |b| {
            client.upload_part_from(key, &upload_id, n as u16, b)
        })?;
        parts.push(Part {
            number: n as u16,
            etag,
            size: len,
        });
        sent += len;
    }
    let completed = client.complete(key, &upload_id, &parts);
    if let Err(S3Error::Taken(_)) = &completed {
        // Their object stays under the key; these parts can never join it.
        client.abort(key, &upload_id)?;
        let _ = std::fs::remove_file(&file);
    }
    completed?;
    let _ = std::fs::remove_file(&file);
    let sent = Sent::Uploaded {
        key: key.to_string(),
        bytes: sent,
    };
    Ok((sent, multipart_etag(&md5s)))
}

/// Sends `len` bytes of the object from `at` through `send`, read as they go, after
/// asking `turns`; `md5` is theirs, read before. A stop or a local read failure is
/// told apart from the server's.
fn send_range<T>(
    body: &Body,
    (at, len, md5): (u64, u64, [u8; 16]),
    turns: &dyn Turns,
    send: impl FnOnce(RequestBody) -> Result<T, S3Error>,
) -> Result<T, UploadError> {
    if !turns.part(len) {
        return Err(UploadError::Stopped);
    }
    let mut reader = Paced::new(body.range(at, len)?, len, turns);
    let sent = send(RequestBody::of(&mut reader, len, md5));
    match (sent, reader.cut()) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(Cut::Stopped)) => Err(UploadError::Stopped),
        (Err(_), Some(Cut::Local(e))) => Err(UploadError::Local(e)),
        (Err(e), None) => Err(e.into()),
    }
}

/// An upload to go on with: its id, the whole parts the server has, what seals it.
type Resumed = (String, Vec<Part>, Option<Sealing>);

/// The upload to go on with, if the state file names one for this very recording,
/// for the same recipients, and the server still has it: its id, the whole parts
/// already there and what seals it. None: start afresh (an old upload the server may
/// still hold is aborted first). Err: the bucket is away; the state file stays.
fn resume(client: &Client, file: &Path, key: &str, rec: &ToUpload, part_size: u64) -> Result<Option<Resumed>, S3Error> {
    let Some(pending) = std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<ResumeState>(&b).ok())
    else {
        return Ok(None);
    };
    let same = pending.key == key && pending.size == rec.size && pending.blake3 == rec.blake3;
    let sealed_alike =
        pending.recipients == named(rec.recipients) && pending.sealing.is_some() != rec.recipients.is_empty();
    if !same || !sealed_alike || pending.part_size != part_size {
        let _ = client.abort(&pending.key, &pending.upload_id);
        return Ok(None);
    }
    let parts = match client.list_parts(key, &pending.upload_id) {
        Ok(parts) => parts,
        Err(e) => return after_failure(client, &pending, e).map(|()| None),
    };
    let total = Body {
        rec,
        sealing: pending.sealing.clone(),
    }
    .len();
    let whole = |p: &Part| {
        let n = u64::from(p.number);
        n >= 1 && p.size == part_size.min(total.saturating_sub((n - 1) * part_size))
    };
    let parts = parts.into_iter().filter(whole).collect();
    Ok(Some((pending.upload_id, parts, pending.sealing)))
}

/// After `ListParts` failed with `e` for the recorded upload: Ok to start afresh (the
/// old upload aborted when the server may still hold it), Err to wait. Logged.
fn after_failure(client: &Client, pending: &ResumeState, e: S3Error) -> Result<(), S3Error> {
    let answer = match &e {
        S3Error::NoUpload(_) => PartsAnswer::Gone,
        e if e.is_outage() => PartsAnswer::Outage,
        _ => PartsAnswer::Refused,
    };
    let (plan, why) = after_failed_resume(answer);
    let (key, upload_id) = (pending.key.as_str(), pending.upload_id.as_str());
    match plan {
        AfterResume::Wait => {
            tracing::warn!(key, upload_id, "cannot resume the upload: {why} ({e})");
            return Err(e);
        }
        AfterResume::Afresh => tracing::info!(key, upload_id, "cannot resume the upload: {why} ({e})"),
        AfterResume::AbortThenAfresh => match client.abort(key, upload_id) {
            Ok(()) | Err(S3Error::NoUpload(_)) => {
                tracing::warn!(key, upload_id, "cannot resume the upload: {why} ({e})")
            }
            Err(a) if a.is_outage() => {
                tracing::warn!(key, upload_id, "cannot resume the upload ({e}) nor abort it ({a}): resumed at the next try");
                return Err(a);
            }
            Err(a) => tracing::warn!(
                key,
                upload_id,
                "cannot resume the upload ({e}) nor abort it ({a}): started afresh; the old parts stay until the bucket's lifecycle removes them"
            ),
        },
    }
    Ok(())
}

fn write_state(file: &Path, pending: &ResumeState) -> io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("state.json");
    report::json_file::replace(file.parent().unwrap_or(Path::new(".")), name, pending)
}
