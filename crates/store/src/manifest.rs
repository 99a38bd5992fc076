//! The manifest: each backup recording's size and BLAKE3 hash from when its copy took
//! its final name (the hash of the bytes read from the source, found again in the
//! copy), kept on the backup disk itself (`backup_dir/.cctv-mirror-manifest.jsonl`, so
//! it travels with the disk), for `verify` to tell bit rot from a whole file. One
//! JSON line per event, appended: a copy records its entry, retention appends a `gone`
//! line; the last line about a path wins. Rewritten whole (temporary, fsync, rename)
//! when most of its lines are stale. Never created where the backup's marker is missing.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use crate::{chunks, volume};

pub const FILE: &str = ".cctv-mirror-manifest.jsonl";

/// Appends from the copy workers and retention, one at a time.
static APPENDING: Mutex<()> = Mutex::new(());

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the backup folder, `/`-separated.
    pub path: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blake3: String,
    pub at: DateTime<Local>,
    /// Retention removed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// Taken by `verify` from the backup file itself, never checked against its source.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
}

/// A path as the manifest writes it.
pub use rules::paths::slashed as key;

/// The size and BLAKE3 hash of a file, read once in 4 MiB chunks (`chunks::read`);
/// `also` sees every chunk (the frame check of `verify`).
pub fn hash_file(path: &Path, mut also: impl FnMut(&[u8])) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut size = 0u64;
    let len = f.metadata()?.len();
    chunks::read(&mut f, len, &mut |chunk| {
        hasher.update(chunk);
        also(chunk);
        size += chunk.len() as u64;
        Ok(())
    })?;
    Ok((size, hasher.finalize().to_hex().to_string()))
}

impl Entry {
    /// The entry of the backup file `rel`, of `size` bytes hashing `blake3`, as of now.
    pub fn new(rel: &Path, size: u64, blake3: String) -> Entry {
        Entry {
            path: key(rel),
            size,
            blake3,
            at: Local::now(),
            gone: false,
            adopted: false,
        }
    }
}

/// Appends `gone` lines for recordings retention removed.
pub fn forget(root: &Path, rels: &[&Path]) -> io::Result<()> {
    let at = Local::now();
    let lines: Vec<Entry> = rels
        .iter()
        .map(|rel| Entry {
            path: key(rel),
            size: 0,
            blake3: String::new(),
            at,
            gone: true,
            adopted: false,
        })
        .collect();
    append(root, &lines)
}

/// Appends lines, each written whole. Not flushed one by one (a backfill makes
/// thousands of copies a minute): the system writes them back within seconds, and a
/// line lost to a crash only means that recording is hashed afresh, as new, at its
/// next verification.
pub fn append(root: &Path, entries: &[Entry]) -> io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut text = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut text, e)?;
        text.push(b'\n');
    }
    let _one = APPENDING.lock().unwrap_or_else(|p| p.into_inner());
    let mut f = crate::create::append_to(root, Path::new(FILE)).map_err(|e| match e {
        crate::create::Refused::Gone => io::Error::new(io::ErrorKind::NotFound, "the backup's marker is missing"),
        crate::create::Refused::Io(e) => e,
    })?;
    f.write_all(&text)
}

/// The manifest's live entries by path, and how many lines it holds. A line that
/// cannot be read (a crash mid-append) is skipped.
pub fn load(root: &Path) -> io::Result<(HashMap<String, Entry>, usize)> {
    load_where(root, |_| true)
}

/// `load`, keeping only the entries whose path `keep` accepts: a slice's verification
/// holds a slice of the manifest, not all of it.
pub fn load_where(root: &Path, keep: impl Fn(&str) -> bool) -> io::Result<(HashMap<String, Entry>, usize)> {
    let f = match File::open(root.join(FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((HashMap::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut live = HashMap::new();
    let mut lines = 0;
    for line in BufReader::new(f).lines() {
        lines += 1;
        let Ok(e) = serde_json::from_str::<Entry>(&line?) else {
            continue;
        };
        if !keep(&e.path) {
            continue;
        }
        if e.gone {
            live.remove(&e.path);
        } else {
            live.insert(e.path.clone(), e);
        }
    }
    Ok((live, lines))
}

/// Rewrites the manifest with only its live entries when over half its lines are
/// stale (and it has at least 1,000): temporary, fsync, rename.
pub fn compact(root: &Path) -> io::Result<bool> {
    let _one = APPENDING.lock().unwrap_or_else(|p| p.into_inner());
    let (live, lines) = load(root)?;
    if lines < 1000 || lines < 2 * live.len() || !volume::marked(root) {
        return Ok(false);
    }
    let mut entries: Vec<&Entry> = live.values().collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let tmp = root.join(format!("{FILE}.new"));
    let mut f = File::create(&tmp)?;
    for e in entries {
        serde_json::to_writer(&mut f, e)?;
        f.write_all(b"\n")?;
    }
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, root.join(FILE))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_line_reads_as_verified_and_an_adopted_one_says_so() {
        let old = r#"{"path":"a.dav","size":3,"blake3":"ab","at":"2026-11-27T10:00:00+00:00"}"#;
        let e: Entry = serde_json::from_str(old).unwrap();
        assert!(!e.adopted && !e.gone);
        let adopted = Entry {
            adopted: true,
            ..Entry::new(Path::new("d/a.dav"), 3, "ab".into())
        };
        let line = serde_json::to_string(&adopted).unwrap();
        assert!(line.contains(r#""adopted":true"#), "{line}");
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), adopted);
        let copied = serde_json::to_string(&Entry::new(Path::new("a.dav"), 3, "ab".into())).unwrap();
        assert!(!copied.contains("adopted"), "{copied}");
    }
}
