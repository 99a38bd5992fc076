//! The size of a recording encrypted in the age v1 format to X25519 recipients, and
//! back: what a bucket's listing of encrypted objects says of the recordings they hold.

/// The key suffix of an encrypted object: `NAME.dav.age`.
pub const SUFFIX: &str = ".age";

/// The key an encrypted object's recording would have in clear: `NAME.dav` of
/// `NAME.dav.age`; None for an object in clear.
pub fn plain_key(key: &str) -> Option<&str> {
    key.strip_suffix(SUFFIX)
}

/// Plaintext bytes per payload chunk.
pub const CHUNK: u64 = 64 * 1024;
/// The authentication tag each sealed chunk adds.
pub const TAG: u64 = 16;
/// `age-encryption.org/v1\n` (22) and `--- MAC\n` (48).
const HEADER: u64 = 22 + 48;
/// `-> X25519 ARG\nBODY\n`: 10 + 43 + 1 + 43 + 1.
const PER_RECIPIENT: u64 = 98;
/// The payload's nonce.
const NONCE: u64 = 16;

/// The object's size for a recording of `plain` bytes sealed to `recipients`.
pub fn sealed_size(plain: u64, recipients: usize) -> u64 {
    overhead(recipients) + payload_size(plain)
}

/// How many chunks `plain` bytes take: at least one (an empty file has one empty chunk).
pub fn chunks(plain: u64) -> u64 {
    plain.div_ceil(CHUNK).max(1)
}

/// The sealed payload's size: the bytes and a tag per chunk.
pub fn payload_size(plain: u64) -> u64 {
    plain + TAG * chunks(plain)
}

/// The recording's size an object of `size` bytes sealed to `recipients` holds; None
/// when no recording seals to that size.
pub fn plain_size(size: u64, recipients: usize) -> Option<u64> {
    let payload = size.checked_sub(overhead(recipients))?;
    let chunks = payload.div_ceil(CHUNK + TAG).max(1);
    let plain = payload.checked_sub(TAG * chunks)?;
    (sealed_size(plain, recipients) == size).then_some(plain)
}

fn overhead(recipients: usize) -> u64 {
    HEADER + PER_RECIPIENT * recipients as u64 + NONCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_and_its_sealed_size_map_both_ways() {
        // 5 chunks and 123 bytes to three recipients: checked against the age CLI.
        assert_eq!(sealed_size(5 * CHUNK + 123, 3), 328_279);
        for plain in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 7 * CHUNK, 6 << 30] {
            for r in 1..4 {
                assert_eq!(plain_size(sealed_size(plain, r), r), Some(plain), "{plain} to {r}");
            }
        }
    }

    #[test]
    fn a_size_no_recording_seals_to_is_none() {
        let empty = sealed_size(0, 1);
        assert_eq!(plain_size(empty - 1, 1), None, "shorter than an empty payload");
        // A last chunk of a tag and no byte exists only in an empty payload.
        assert_eq!(plain_size(sealed_size(CHUNK, 1) + TAG, 1), None);
        assert_eq!(plain_size(0, 1), None);
    }

    #[test]
    fn sizes_count_a_tag_per_chunk_and_one_chunk_at_least() {
        assert_eq!(payload_size(0), 16);
        assert_eq!(payload_size(1), 17);
        assert_eq!(payload_size(CHUNK), CHUNK + 16);
        assert_eq!(payload_size(CHUNK + 1), CHUNK + 1 + 32);
        assert_eq!(chunks(3 * CHUNK), 3);
    }
}
