//! Whether the bucket honours conditional writes, for `check`: a probe object is put
//! twice under the prefix with `If-None-Match: *`, and the second put must be refused.
//! The probe is deleted after (under object lock, its version stays until the lock
//! ends). Without them, two writers of one key could overwrite each other.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::client::{Client, S3Error};
use config::offsite::Offsite;

/// What the bucket does with a write over an object already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// Refused: a key another writer took is never replaced.
    Honoured,
    /// Replaced.
    NotHonoured,
}

/// Puts a probe under `prefix` twice, deletes it, and says what the second put did.
pub fn conditional_writes(client: &Client, prefix: &str) -> Result<Conditional, S3Error> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let key = format!("{prefix}.cctv-mirror-probe-{}-{nanos}", std::process::id());
    client.put(&key, b"probe", &[])?;
    let second = client.put(&key, b"probe", &[]);
    let deleted = client.delete(&key);
    let found = match second {
        Err(S3Error::Taken(_)) => Conditional::Honoured,
        Ok(()) => Conditional::NotHonoured,
        Err(e) => return Err(e),
    };
    deleted.map(|()| found)
}

/// `check`'s line for it.
pub fn line(o: &Offsite) -> String {
    let found = crate::probe::client(o).and_then(|c| conditional_writes(&c, &o.prefix).map_err(|e| e.to_string()));
    match found {
        Ok(Conditional::Honoured) => "conditional writes: honoured".into(),
        Ok(Conditional::NotHonoured) => {
            "conditional writes: not honoured: two writers could overwrite each other".into()
        }
        Err(why) => format!("conditional writes: unknown ({why})"),
    }
}
