//! The age identities that open encrypted objects, read from the file `restore` and
//! `export` are given (`--identity FILE`, as `age-keygen` writes it). They never sit
//! on the server, and no error repeats a line of the file.

use std::io;
use std::path::Path;

/// What to give when an object is encrypted and no identity was.
pub const WANTED: &str = "give --identity FILE, the age identity of one of offsite.encryption's recipients";

/// The identities of one identity file.
pub struct Identities(Vec<Box<dyn age::Identity>>);

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identities({})", self.0.len())
    }
}

impl Identities {
    /// The identities in the file at `path`; Err says what is wrong in one line.
    pub fn from_file(path: &Path) -> Result<Identities, String> {
        let shown = path.display();
        let file = age::IdentityFile::from_file(path.to_string_lossy().into_owned()).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => {
                format!("{shown} is not an age identity file (a line AGE-SECRET-KEY-1…, as age-keygen writes it)")
            }
            _ => format!("cannot read the identity file {shown}: {e}"),
        })?;
        let ids = file
            .into_identities()
            .map_err(|_| format!("{shown} holds an identity this build cannot use: give an X25519 one (age-keygen)"))?;
        if ids.is_empty() {
            return Err(format!("{shown} holds no age identity (AGE-SECRET-KEY-1…)"));
        }
        Ok(Identities(ids))
    }

    /// Opens the encrypted object read from `sealed`: its recording as it is read.
    pub fn open<'a, R: io::Read + 'a>(&self, sealed: R) -> io::Result<impl io::Read + 'a> {
        let decryptor = age::Decryptor::new_buffered(io::BufReader::new(sealed)).map_err(not_age)?;
        decryptor
            .decrypt(self.0.iter().map(|i| i.as_ref()))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the identity given is not one of the object's recipients",
                ),
                e => not_age(e),
            })
    }
}

fn not_age(e: age::DecryptError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("not a readable age object: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn an_identity_file_opens_its_objects_and_a_bad_one_is_never_echoed() {
        let id = age::x25519::Identity::generate();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.txt");
        use age::secrecy::ExposeSecret;
        std::fs::write(&file, format!("# created: now\n{}\n", id.to_string().expose_secret())).unwrap();
        let ids = Identities::from_file(&file).unwrap();
        let recipient = id.to_public();
        let mut sealed = vec![];
        let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let mut w = enc.wrap_output(&mut sealed).unwrap();
        w.write_all(b"DHAV frames").unwrap();
        w.finish().unwrap();
        let mut plain = vec![];
        ids.open(&sealed[..]).unwrap().read_to_end(&mut plain).unwrap();
        assert_eq!(plain, b"DHAV frames");

        let other = Identities::from_file(&{
            let f = dir.path().join("other.txt");
            let o = age::x25519::Identity::generate();
            std::fs::write(&f, o.to_string().expose_secret()).unwrap();
            f
        })
        .unwrap();
        let e = other.open(&sealed[..]).err().unwrap();
        assert!(e.to_string().contains("not one of the object's recipients"), "{e}");

        std::fs::write(&file, "AGE-SECRET-KEY-1NOTAKEYQQQQ\n").unwrap();
        let e = Identities::from_file(&file).unwrap_err();
        assert!(e.contains("is not an age identity file") && !e.contains("QQQQ"), "{e}");
        assert!(Identities::from_file(&dir.path().join("none"))
            .unwrap_err()
            .contains("cannot read"));
    }
}
