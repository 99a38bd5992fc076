//! Copying a backup recording out as evidence: to a folder outside the backup, as a
//! temporary that is flushed and then renamed, hashed on the way with BLAKE3 (checked
//! against the manifest) and SHA-256 (what `sha256sum` and `certutil -hashfile` print).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{chunks, durable, rename};

/// What was copied: its size and the two hashes of its bytes, in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub size: u64,
    pub blake3: String,
    pub sha256: String,
}

/// Copies `from` to `to` (its folders made), never over a file already at `to`.
pub fn copy_out(from: &Path, to: &Path) -> io::Result<Copied> {
    let (Some(dir), Some(name)) = (to.parent(), to.file_name()) else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    fs::create_dir_all(dir)?;
    let tmp = dir.join(rules::names::temp_name(name));
    let done = write(from, &tmp).and_then(|c| rename::rename_new(&tmp, to).map(|()| c));
    if done.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    durable::sync_dir(dir);
    done
}

/// The size and both hashes of the file at `path` (one fetched from the bucket).
pub fn hashes_of(path: &Path) -> io::Result<Copied> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    hashed(&mut f, len, &mut |_| Ok(()))
}

/// Writes `from`'s bytes to the new file `tmp`, hashing them, and flushes it.
fn write(from: &Path, tmp: &Path) -> io::Result<Copied> {
    let mut src = File::open(from)?;
    let len = src.metadata()?.len();
    let mut out = File::options().write(true).create_new(true).open(tmp)?;
    let copied = hashed(&mut src, len, &mut |chunk| out.write_all(chunk))?;
    out.sync_all()?;
    Ok(copied)
}

/// Reads `len` bytes of `f`, handing each chunk to `take`, hashed both ways.
fn hashed(f: &mut File, len: u64, take: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<Copied> {
    let (mut b3, mut sha, mut size) = (blake3::Hasher::new(), Sha256::new(), 0u64);
    chunks::read(f, len, &mut |chunk| {
        b3.update(chunk);
        sha.update(chunk);
        size += chunk.len() as u64;
        take(chunk)
    })?;
    Ok(Copied {
        size,
        blake3: b3.finalize().to_hex().to_string(),
        sha256: sha.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_out_is_byte_for_byte_with_both_hashes_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a.dav");
        fs::write(&from, b"abc").unwrap();
        let to = dir.path().join("out/2026/12/02/ch03/a.dav");
        let c = copy_out(&from, &to).unwrap();
        assert_eq!(fs::read(&to).unwrap(), b"abc");
        assert_eq!(c.size, 3);
        // FIPS 180-2's example, and BLAKE3's own hash of the same bytes.
        assert_eq!(
            c.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(c.blake3, blake3::hash(b"abc").to_hex().to_string());
        assert_eq!(
            fs::read_dir(to.parent().unwrap()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn a_copy_out_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a.dav"), dir.path().join("b.dav"));
        fs::write(&from, b"new").unwrap();
        fs::write(&to, b"old").unwrap();
        assert!(copy_out(&from, &to).is_err());
        assert_eq!(fs::read(&to).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary left");
    }
}
