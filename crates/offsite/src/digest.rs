//! The MD5 of a range of an object, read before it is sent: the `Content-MD5` the
//! server checks each body against, and the parts of the ETag it should show after.

use std::io::{self, Read};

use md5::{Digest as _, Md5};

/// The MD5 of the `len` bytes `range` reads; an error if it reads fewer.
pub fn md5_of(range: impl Read, len: u64) -> io::Result<[u8; 16]> {
    let mut range = range.take(len);
    let (mut hasher, mut buf, mut copied) = (Md5::new(), vec![0; 256 * 1024], 0);
    loop {
        match range.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                copied += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{copied} bytes where {len} were expected: the file shrank"),
        ));
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_hashed_and_a_short_one_is_an_error() {
        assert_eq!(md5_of(&b"abyy"[..], 2).unwrap(), <[u8; 16]>::from(Md5::digest(b"ab")));
        assert!(md5_of(&b"yy"[..], 5).is_err());
    }
}
