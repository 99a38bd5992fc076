//! Bringing one recording back from the bucket. Its object streams into a temporary
//! beside the final name, hashed with BLAKE3 on the way, is flushed, and must match the
//! size and hash its metadata recorded at upload. It then takes the recording's time
//! and is renamed, never over a file. A temporary left by a stop resumes from its
//! length with a ranged GET, its bytes hashed first. An encrypted object
//! (`NAME.dav.age`) is decrypted as it streams, with the identities given; its
//! temporary starts over after a stop.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use crate::client::{Client, S3Error};
use crate::identity::Identities;
use crate::view::plain_len;
use rules::names::temp_name;
use rules::restore::Held;
use store::{durable, readback, rename};

/// What the bucket recorded of a recording at upload: its size, hash and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub size: u64,
    pub blake3: String,
    pub mtime: Option<SystemTime>,
}

/// Why a recording was not restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the bucket: {0}")]
    Bucket(#[from] S3Error),
    #[error("the object is gone from the bucket")]
    Gone,
    #[error("the object has no recorded hash (x-amz-meta-blake3): it cannot be checked")]
    NoHash,
    #[error("{0}")]
    Mismatch(String),
    #[error("{0}: {1}")]
    Io(String, io::Error),
    #[error("the object is encrypted: {}", crate::identity::WANTED)]
    NoIdentity,
    #[error("cannot decrypt the object: {0}")]
    Decrypt(String),
}

/// What the bucket recorded of the object at `key`.
pub fn recorded(client: &Client, key: &str) -> Result<Recorded, RestoreError> {
    let head = client.head(key)?.ok_or(RestoreError::Gone)?;
    let blake3 = head.meta.get("blake3").cloned().ok_or(RestoreError::NoHash)?;
    let size = plain_len(key, &head).ok_or(RestoreError::NoHash)?;
    let mtime = head
        .meta
        .get("mtime")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(SystemTime::from);
    Ok(Recorded { size, blake3, mtime })
}

/// What the file at `path` holds against the recording `want`.
pub fn held(path: &Path, want: &Recorded) -> io::Result<Held> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Held::Nothing),
        Err(e) => return Err(e),
        Ok(m) if !m.is_file() || m.len() != want.size => return Ok(Held::Other),
        Ok(_) => {}
    }
    Ok(match readback::hash_range(path, 0, want.size)? {
        Some(h) if h.to_hex().as_str() == want.blake3 => Held::Same,
        _ => Held::Other,
    })
}

/// Fetches the object at `key` (recorded as `want`) to the new file `dest`; returns
/// the bytes received now (fewer than its size when a temporary was resumed).
/// `progress` hears each piece's length; `ids` open an encrypted object.
pub fn fetch(
    client: &Client,
    (key, ids): (&str, Option<&Identities>),
    want: &Recorded,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, RestoreError> {
    let sealed = rules::sealed::plain_key(key).is_some();
    if sealed && ids.is_none() {
        return Err(RestoreError::NoIdentity);
    }
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Err(RestoreError::Io(
            format!("{} is not a file path", dest.display()),
            io::ErrorKind::InvalidInput.into(),
        ));
    };
    fs::create_dir_all(dir).map_err(io_err("cannot create", dir))?;
    let tmp = dir.join(temp_name(name));
    // An encrypted object can only be read from its start.
    let resumable = if sealed { 0 } else { want.size };
    let (mut file, mut hasher, have) = resume(&tmp, resumable).map_err(io_err("cannot resume", &tmp))?;
    progress(have);
    let mut received = 0;
    if have < want.size {
        let mut out = Hashing {
            file: &mut file,
            hasher: &mut hasher,
            progress,
        };
        received = receive(client, (key, ids.filter(|_| sealed)), have, &mut out)?;
    }
    let got = hasher.finalize().to_hex().to_string();
    if have + received != want.size || got != want.blake3 {
        drop(file);
        let _ = fs::remove_file(&tmp);
        return Err(RestoreError::Mismatch(format!(
            "the object's {} bytes (BLAKE3 {got}) are not the recording recorded at upload ({} bytes, {})",
            have + received,
            want.size,
            want.blake3
        )));
    }
    finish(file, &tmp, dest, want.mtime)?;
    Ok(received)
}

/// Gives the checked temporary its time, flushes it and renames it to `dest`.
fn finish(file: File, tmp: &Path, dest: &Path, mtime: Option<SystemTime>) -> Result<(), RestoreError> {
    if let Some(t) = mtime {
        file.set_modified(t).map_err(io_err("cannot set the time of", tmp))?;
    }
    file.sync_all().map_err(io_err("cannot flush", tmp))?;
    drop(file);
    rename::rename_new(tmp, dest).map_err(io_err("cannot give its name to", tmp))?;
    if let Some(dir) = dest.parent() {
        durable::sync_dir(dir);
    }
    Ok(())
}

fn io_err(what: &str, path: &Path) -> impl FnOnce(io::Error) -> RestoreError {
    let what = format!("{what} {}", path.display());
    move |e| RestoreError::Io(what, e)
}

/// Streams the object at `key` from byte `from` into `out`, through `ids` when it is
/// encrypted (then from its start); the bytes received.
fn receive(
    client: &Client,
    (key, ids): (&str, Option<&Identities>),
    from: u64,
    out: &mut dyn Write,
) -> Result<u64, RestoreError> {
    match ids {
        Some(ids) => decrypted(client, key, ids, out),
        None => Ok(client.get_from(key, from, out)?),
    }
}

/// Streams the object at `key` through `ids` into `out`; the recording's length.
fn decrypted(client: &Client, key: &str, ids: &Identities, out: &mut dyn Write) -> Result<u64, RestoreError> {
    let mut refused = None;
    let got = client.get_read(key, |body| {
        let mut plain = ids.open(body).inspect_err(|e| refused = Some(e.to_string()))?;
        io::copy(&mut plain, out)
    });
    match (got, refused) {
        (Ok(n), _) => Ok(n),
        (Err(_), Some(why)) => Err(RestoreError::Decrypt(why)),
        (Err(e), None) => Err(e.into()),
    }
}

/// The temporary at `tmp` opened to append, with the hash of what it holds and its
/// length; a new one when there is none, or one longer than the recording.
fn resume(tmp: &Path, size: u64) -> io::Result<(File, blake3::Hasher, u64)> {
    let mut hasher = blake3::Hasher::new();
    match File::open(tmp) {
        Ok(mut f) if f.metadata()?.len() <= size => {
            let have = io::copy(&mut f, &mut hasher)?;
            let file = File::options().append(true).open(tmp)?;
            Ok((file, hasher, have))
        }
        Ok(_) => {
            fs::remove_file(tmp)?;
            Ok((File::create_new(tmp)?, hasher, 0))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((File::create_new(tmp)?, hasher, 0)),
        Err(e) => Err(e),
    }
}

/// Writes to the temporary, hashing what it writes and telling `progress`.
struct Hashing<'a> {
    file: &'a mut File,
    hasher: &'a mut blake3::Hasher,
    progress: &'a mut dyn FnMut(u64),
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        (self.progress)(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
