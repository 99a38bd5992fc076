//! The age v1 payload: the plaintext in 64 KiB chunks, each sealed with
//! ChaCha20-Poly1305 under a nonce of its index and a last-chunk flag (the STREAM
//! construction). A chunk depends on nothing but the key, its index and its bytes, so
//! any range of the object can be made again from the file alone.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
pub use rules::sealed::{chunks, payload_size, CHUNK, TAG};

/// Chunk `index` of a payload of `count` chunks, sealed under `key`.
pub fn seal(key: &[u8; 32], index: u64, count: u64, plain: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(index + 1 == count);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .encrypt(Nonce::from_slice(&nonce), plain)
        .expect("a chunk of 64 KiB is far under ChaCha20-Poly1305's limit")
}
