//! The MD5 of a range of a recording, read before it is sent: the `Content-MD5` the
//! server checks each body against, and the parts of the ETag it should show after.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use md5::{Digest as _, Md5};

/// The MD5 of the `len` bytes of the file from `at`; an error if it is shorter.
pub fn md5_of(path: &Path, (at, len): (u64, u64)) -> io::Result<[u8; 16]> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(at))?;
    let mut range = f.take(len);
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
    fn a_range_is_hashed_and_a_short_file_is_an_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"xxabyy").unwrap();
        let path = file.path();
        assert_eq!(md5_of(path, (2, 2)).unwrap(), <[u8; 16]>::from(Md5::digest(b"ab")));
        assert!(md5_of(path, (4, 5)).is_err());
    }
}
