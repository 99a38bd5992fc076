//! The age v1 header: the file key wrapped to each recipient, and the MAC that binds
//! them (<https://age-encryption.org/v1>).

use age::Recipient;
use age_core::format::{FileKey, Stanza};
use age_core::primitives::hkdf;
use age_core::secrecy::ExposeSecret;
use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
use hmac::{Hmac, Mac};

/// Why an object could not be sealed: no randomness, or a recipient refused the key.
#[derive(Debug, thiserror::Error)]
#[error("cannot encrypt for the offsite bucket: {0}")]
pub struct WrapError(String);

impl From<String> for WrapError {
    fn from(s: String) -> Self {
        WrapError(s)
    }
}

const INTRO: &[u8] = b"age-encryption.org/v1\n";

/// The header of a file encrypted with `file_key` to every one of `recipients`.
pub fn header(recipients: &[age::x25519::Recipient], file_key: &FileKey) -> Result<Vec<u8>, WrapError> {
    let mut out = INTRO.to_vec();
    for r in recipients {
        let (stanzas, _labels) = r
            .wrap_file_key(file_key)
            .map_err(|e| WrapError(format!("a recipient refused the file key: {e}")))?;
        for s in &stanzas {
            write_stanza(&mut out, s);
        }
    }
    out.extend_from_slice(b"---");
    let mac = mac(file_key, &out);
    out.push(b' ');
    out.extend_from_slice(BASE64_STANDARD_NO_PAD.encode(mac).as_bytes());
    out.push(b'\n');
    Ok(out)
}

/// `-> TAG ARGS…`, then the body in base64 lines of 64 columns, the last one shorter
/// (empty when needed).
fn write_stanza(out: &mut Vec<u8>, s: &Stanza) {
    out.extend_from_slice(b"-> ");
    out.extend_from_slice(s.tag.as_bytes());
    for a in &s.args {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
    out.push(b'\n');
    let body = BASE64_STANDARD_NO_PAD.encode(&s.body);
    let mut lines = body.as_bytes().chunks(64).peekable();
    let mut last_full = true;
    while let Some(line) = lines.next() {
        out.extend_from_slice(line);
        out.push(b'\n');
        last_full = line.len() == 64 && lines.peek().is_none();
    }
    if body.is_empty() || last_full {
        out.push(b'\n');
    }
}

/// HMAC-SHA256 of the header up to `---`, keyed by HKDF(file key, "header").
fn mac(file_key: &FileKey, header: &[u8]) -> [u8; 32] {
    let key = hkdf(&[], b"header", file_key.expose_secret());
    let mut m = Hmac::<sha2_10::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    m.update(header);
    m.finalize().into_bytes().into()
}
