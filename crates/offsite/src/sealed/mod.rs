//! A recording encrypted to the site's age recipients, as the bucket stores it:
//! made again, byte for byte, for any range, from the file and a few secrets kept
//! for resuming (see `Sealing`).

mod header;
mod payload;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use age_core::format::FileKey;
use age_core::primitives::hkdf;
use age_core::secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

pub use header::WrapError;
use payload::{chunks, payload_size, seal, CHUNK, TAG};

/// What makes one object: its header, its payload nonce and the key derived from its
/// file key. Kept in the upload's resume state, so a part sent again is the same
/// bytes. The payload key opens this object only, whose recording sits in clear
/// beside the state on the same disk.
#[derive(Clone, Serialize, Deserialize)]
pub struct Sealing {
    #[serde(with = "b64")]
    header: Vec<u8>,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
    #[serde(with = "b64")]
    key: Vec<u8>,
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealing { .. }")
    }
}

impl Sealing {
    /// A new object for `recipients`: a fresh file key and nonce.
    pub fn new(recipients: &[age::x25519::Recipient]) -> Result<Sealing, WrapError> {
        let file_key = FileKey::try_init_with_mut(|k| getrandom_02::getrandom(k))
            .map_err(|e| WrapError::from(format!("no randomness: {e}")))?;
        let mut nonce = vec![0u8; 16];
        getrandom_02::getrandom(&mut nonce).map_err(|e| WrapError::from(format!("no randomness: {e}")))?;
        let key = hkdf(&nonce, b"payload", file_key.expose_secret()).to_vec();
        Ok(Sealing {
            header: header::header(recipients, &file_key)?,
            nonce,
            key,
        })
    }

    /// The object's size for a recording of `plain` bytes.
    pub fn len(&self, plain: u64) -> u64 {
        self.start() + payload_size(plain)
    }

    /// Where the payload's chunks begin: after the header and the nonce.
    fn start(&self) -> u64 {
        (self.header.len() + self.nonce.len()) as u64
    }

    /// The object's bytes `[from, from + len)` for `file`, a recording of `plain`
    /// bytes, read one chunk at a time.
    pub fn range(&self, file: File, plain: u64, from: u64, len: u64) -> Range {
        Range {
            intro: [&self.header[..], &self.nonce[..]].concat(),
            key: self.key.clone(),
            file,
            plain,
            at: from,
            end: from.saturating_add(len).min(self.len(plain)),
            chunk: (u64::MAX, Vec::new()),
        }
    }
}

/// A range of a sealed object, made as it is read.
pub struct Range {
    intro: Vec<u8>,
    key: Vec<u8>,
    file: File,
    plain: u64,
    at: u64,
    end: u64,
    /// The chunk sealed last: its index and bytes.
    chunk: (u64, Vec<u8>),
}

impl Range {
    /// The bytes from `self.at` within the sealed chunk that holds them.
    fn sealed_at(&mut self) -> io::Result<&[u8]> {
        let start = self.intro.len() as u64;
        let index = (self.at - start) / (CHUNK + TAG);
        if self.chunk.0 != index {
            let key: [u8; 32] = self
                .key
                .as_slice()
                .try_into()
                .map_err(|_| io::Error::other("bad payload key"))?;
            let plain = plain_chunk(&mut self.file, self.plain, index)?;
            self.chunk = (index, seal(&key, index, chunks(self.plain), &plain));
        }
        let skip = (self.at - start - index * (CHUNK + TAG)) as usize;
        Ok(&self.chunk.1[skip..])
    }
}

impl Read for Range {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.end.saturating_sub(self.at)) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = if self.at < self.intro.len() as u64 {
            let from = &self.intro[self.at as usize..];
            let n = want.min(from.len());
            buf[..n].copy_from_slice(&from[..n]);
            n
        } else {
            let from = self.sealed_at()?;
            let n = want.min(from.len());
            buf[..n].copy_from_slice(&from[..n]);
            n
        };
        self.at += n as u64;
        Ok(n)
    }
}

/// Chunk `index` of the recording's bytes; an error when the file is shorter.
fn plain_chunk(file: &mut File, plain: u64, index: u64) -> io::Result<Vec<u8>> {
    let from = index * CHUNK;
    let len = (plain - from.min(plain)).min(CHUNK) as usize;
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(from))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

mod b64 {
    use base64::prelude::{Engine, BASE64_STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64_STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        BASE64_STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn recording(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        (f, bytes)
    }

    fn read(s: &Sealing, f: &tempfile::NamedTempFile, plain: u64, from: u64, len: u64) -> Vec<u8> {
        let mut out = vec![];
        s.range(f.reopen().unwrap(), plain, from, len)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn open(object: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
        let d = age::Decryptor::new(object).unwrap();
        let mut r = d.decrypt(std::iter::once(identity as &dyn age::Identity)).unwrap();
        let mut out = vec![];
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn the_age_crate_opens_what_is_sealed_whatever_the_ranges_it_is_read_in() {
        let (alice, bob) = (age::x25519::Identity::generate(), age::x25519::Identity::generate());
        let recipients = [alice.to_public(), bob.to_public()];
        for len in [0, 1, CHUNK as usize, CHUNK as usize + 1, 3 * CHUNK as usize + 5] {
            let (f, bytes) = recording(len);
            let s = Sealing::new(&recipients).unwrap();
            let size = s.len(len as u64);
            let whole = read(&s, &f, len as u64, 0, size);
            assert_eq!(whole.len() as u64, size);
            assert_eq!(
                size,
                rules::sealed::sealed_size(len as u64, 2),
                "the listing's rule agrees"
            );
            // In odd-sized parts, as a multipart upload resumed mid-chunk would read it.
            let mut parts = vec![];
            let mut at = 0;
            while at < size {
                parts.extend(read(&s, &f, len as u64, at, 40_001));
                at += 40_001;
            }
            assert_eq!(parts, whole, "{len} bytes");
            assert_eq!(open(&whole, &alice), bytes, "{len} bytes, first recipient");
            assert_eq!(open(&whole, &bob), bytes, "{len} bytes, second recipient");
        }
    }

    #[test]
    fn a_sealing_kept_and_read_back_makes_the_same_bytes() {
        let id = age::x25519::Identity::generate();
        let (f, _) = recording(100_000);
        let s = Sealing::new(&[id.to_public()]).unwrap();
        let kept: Sealing = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(
            read(&kept, &f, 100_000, 0, u64::MAX),
            read(&s, &f, 100_000, 0, u64::MAX)
        );
        assert_eq!(format!("{kept:?}"), "Sealing { .. }", "no secret in a log line");
    }

    #[test]
    fn the_wrong_identity_opens_nothing() {
        let (id, other) = (age::x25519::Identity::generate(), age::x25519::Identity::generate());
        let (f, _) = recording(10);
        let s = Sealing::new(&[id.to_public()]).unwrap();
        let object = read(&s, &f, 10, 0, s.len(10));
        let d = age::Decryptor::new(&object[..]).unwrap();
        assert!(d.decrypt(std::iter::once(&other as &dyn age::Identity)).is_err());
    }
}
