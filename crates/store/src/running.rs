//! The source-derived hash of each copy being grown, kept between its appends, and
//! whether this process read back every byte it covers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// For each copy being grown (by its absolute backup path), the hash of the source's
/// bytes it holds so far; `Hasher::count` is how many. Lost at a restart: then built
/// again from the source. At most `KEPT` are held (a site has one recording in
/// progress per camera); beyond, the one kept longest ago is dropped, so copies whose
/// source vanished never pile up.
#[derive(Debug, Default)]
pub struct Running(Mutex<Hashes>);

/// The running hashes, each with the number of the `keep` that stored it.
#[derive(Debug, Default)]
struct Hashes {
    hashes: HashMap<PathBuf, (u64, SourceHash)>,
    kept: u64,
}

/// The hash of the source's first bytes that a copy holds, and whether each of those
/// bytes was read back from the copy, equal, after the flush that wrote it.
#[derive(Debug, Clone)]
pub(super) struct SourceHash {
    pub hasher: blake3::Hasher,
    /// True only when this process wrote and read back every byte: a hash built again
    /// from the source after a restart proves nothing of the copy.
    pub read_back: bool,
}

/// How many running hashes are held, about 2 KB each.
const KEPT: usize = 1024;

impl Running {
    /// The hash of the first `len` source bytes of the copy at `path`, if held.
    pub(super) fn take(&self, path: &Path, len: u64) -> Option<SourceHash> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        held.hashes
            .remove(path)
            .map(|(_, h)| h)
            .filter(|h| h.hasher.count() == len)
    }

    pub(super) fn keep(&self, path: &Path, hash: SourceHash) {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let map = &mut held.hashes;
        if map.len() >= KEPT && !map.contains_key(path) {
            let oldest = map.iter().min_by_key(|(_, (n, _))| *n).map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                map.remove(&p);
            }
        }
        held.kept += 1;
        let n = held.kept;
        held.hashes.insert(path.to_path_buf(), (n, hash));
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).hashes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_hashes_are_bounded_and_the_oldest_goes_first() {
        let running = Running::default();
        for n in 0..KEPT + 10 {
            running.keep(
                Path::new(&format!("/b/{n}.dav.partial")),
                SourceHash {
                    hasher: blake3::Hasher::new(),
                    read_back: false,
                },
            );
        }
        assert_eq!(running.held(), KEPT);
        assert!(
            running.take(Path::new("/b/0.dav.partial"), 0).is_none(),
            "the oldest dropped"
        );
        assert!(running
            .take(Path::new(&format!("/b/{}.dav.partial", KEPT + 9)), 0)
            .is_some());
    }
}
