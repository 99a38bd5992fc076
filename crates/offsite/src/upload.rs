//! Uploading one finished backup recording to the bucket: never over another object,
//! multipart and resumable when large, counted once the bucket shows its size, hash and
//! ETag (docs/offsite.md, "What it promises").

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::client::{Client, Head, Part, RequestBody, S3Error};
use crate::digest::md5_of;
use crate::retention::Retention;
use crate::turns::{Cut, Paced, Turns};
use rules::fit::fnv1a;
use rules::offsite::{
    after_failed_resume, beside, grown_key, multipart_etag, same_part, single_etag, stored, versions, AfterResume,
    PartsAnswer, Stored, MAX_GROWN,
};

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
}

/// The upload state kept between tries, one file per object.
#[derive(Debug, Serialize, Deserialize)]
struct ResumeState {
    key: String,
    upload_id: String,
    size: u64,
    blake3: String,
    part_size: u64,
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
/// else beside it, the first free `NAME.offsite-N.dav`.
fn place(client: &Client, key: &str, rec: &ToUpload) -> Result<Destination, UploadError> {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    let listed: Vec<(String, u64)> = client
        .list(&format!("{stem}."))?
        .into_iter()
        .map(|l| (l.key, l.size))
        .collect();
    for (k, size) in &listed {
        if *size == rec.size && client.head(k)?.is_some_and(|h| holds(&h, rec)) {
            return Ok(Destination::There);
        }
    }
    let v = versions(key, &listed);
    let Some((current, size, n)) = v.current else {
        return Ok(Destination::Own(key.to_string()));
    };
    if size < rec.size && n < MAX_GROWN && starts_with(client, &current, size, rec)? {
        let mut older = v.older;
        older.push(current);
        return Ok(Destination::Newer {
            key: grown_key(key, n + 1),
            older,
        });
    }
    Ok(Destination::Beside(free_key_beside(client, key, rec)?))
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
    if rec.size > part_size {
        return multipart(client, rec, key, &meta, (part_size, state), turns);
    }
    let md5 = md5_of(rec.path, (0, rec.size))?;
    send_range(rec.path, (0, rec.size, md5), turns, |body| {
        client.put_from(key, body, &meta, rec.lock.as_ref())
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
        Some((h, Stored::Same | Stored::Unknown)) if holds(h, rec) => Ok(sent),
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

/// Whether an object is this very recording: same size, same hash (the metadata).
fn holds(h: &Head, rec: &ToUpload) -> bool {
    h.size == rec.size && h.meta.get("blake3").map(String::as_str) == Some(rec.blake3)
}

/// The first key beside `key` that is free, or that already holds this very recording.
fn free_key_beside(client: &Client, key: &str, rec: &ToUpload) -> Result<String, S3Error> {
    let mut err = None;
    let found = beside(key, |k| match client.head(k) {
        Ok(None) => false,
        Ok(Some(h)) => !holds(&h, rec),
        Err(e) => {
            err = Some(e);
            false
        }
    });
    err.map_or(Ok(found), Err)
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
    let (upload_id, there) = match resume(client, &file, key, rec, part_size)? {
        Some(found) => found,
        None => {
            let upload_id = client.create_multipart(key, meta, rec.lock.as_ref())?;
            let pending = ResumeState {
                key: key.to_string(),
                upload_id: upload_id.clone(),
                size: rec.size,
                blake3: rec.blake3.to_string(),
                part_size,
            };
            write_state(&file, &pending)?;
            (upload_id, Vec::new())
        }
    };
    let count = rec.size.div_ceil(part_size);
    let (mut sent, mut parts, mut md5s) = (0, Vec::new(), Vec::new());
    for n in 1..=count {
        let (at, len) = ((n - 1) * part_size, part_size.min(rec.size - (n - 1) * part_size));
        let md5 = md5_of(rec.path, (at, len))?;
        md5s.push(md5);
        // A part the server has counts only with the file's bytes there.
        if let Some(p) = there
            .iter()
            .find(|p| u64::from(p.number) == n && same_part(&p.etag, &md5))
        {
            parts.push(p.clone());
            continue;
        }
        let etag = send_range(rec.path, (at, len, md5), turns, |body| {
            client.upload_part_from(key, &upload_id, n as u16, body)
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

/// Sends `len` bytes of the file from `at` through `send`, read as they go, after
/// asking `turns`; `md5` is theirs, read before. A stop or a local read failure is
/// told apart from the server's.
fn send_range<T>(
    path: &Path,
    (at, len, md5): (u64, u64, [u8; 16]),
    turns: &dyn Turns,
    send: impl FnOnce(RequestBody) -> Result<T, S3Error>,
) -> Result<T, UploadError> {
    if !turns.part(len) {
        return Err(UploadError::Stopped);
    }
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(at))?;
    let mut reader = Paced::new(f, len, turns);
    let sent = send(RequestBody::of(&mut reader, len, md5));
    match (sent, reader.cut()) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(Cut::Stopped)) => Err(UploadError::Stopped),
        (Err(_), Some(Cut::Local(e))) => Err(UploadError::Local(e)),
        (Err(e), None) => Err(e.into()),
    }
}

/// The upload to go on with, if the state file names one for this very recording and
/// the server still has it: its id and the whole parts already there. None: start
/// afresh (an old upload the server may still hold is aborted first). Err: the bucket
/// is away; the state file stays for the next try.
fn resume(
    client: &Client,
    file: &Path,
    key: &str,
    rec: &ToUpload,
    part_size: u64,
) -> Result<Option<(String, Vec<Part>)>, S3Error> {
    let Some(pending) = std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<ResumeState>(&b).ok())
    else {
        return Ok(None);
    };
    let same = pending.key == key && pending.size == rec.size && pending.blake3 == rec.blake3;
    if !same || pending.part_size != part_size {
        let _ = client.abort(&pending.key, &pending.upload_id);
        return Ok(None);
    }
    let parts = match client.list_parts(key, &pending.upload_id) {
        Ok(parts) => parts,
        Err(e) => return after_failure(client, &pending, e).map(|()| None),
    };
    let whole = |p: &Part| {
        let n = u64::from(p.number);
        n >= 1 && p.size == part_size.min(rec.size.saturating_sub((n - 1) * part_size))
    };
    Ok(Some((pending.upload_id, parts.into_iter().filter(whole).collect())))
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
