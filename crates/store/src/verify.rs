//! Re-reading the backup: every recording of the chosen days and slice is read once,
//! in 4 MiB chunks, through BLAKE3 and the DHAV frame walk (`rules::chain`), and held
//! to its manifest entry. Problems: content that no longer matches its hash (bit rot),
//! a size that changed, a frame chain that breaks (truncated or damaged, with the last
//! good time), a manifest entry whose file is gone, a file that cannot be read.
//! Recordings without an entry (adopted from an older backup) get one now, marked
//! adopted: each verification lists them until a verified copy replaces the entry.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::manifest::{self, Entry};
use crate::scan;
use rules::chain::{Chain, Walk};
use rules::names::{date_from_path, Names};
use rules::slice::Slice;

/// Which recordings to read.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// Only those dated on or after this day.
    pub since: Option<NaiveDate>,
    pub slice: Slice,
}

impl Scope {
    /// Whether the recording at `rel` (dated `date`) is chosen.
    pub fn contains(&self, rel: &Path, date: Option<NaiveDate>) -> bool {
        self.slice.contains(rel) && self.since.is_none_or(|s| date.is_some_and(|d| d >= s))
    }
}

/// What is wrong with one recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Same size, other content: the disk changed it (bit rot).
    ContentChanged { expected: String, found: String },
    /// Its size is not the one recorded when it was copied.
    SizeChanged { recorded: u64, found: u64 },
    /// Its frames stop forming a chain at byte `at`.
    FramesBroken {
        at: u64,
        why: String,
        last_good: Option<NaiveDateTime>,
    },
    /// The manifest has it; the disk does not.
    Missing,
    /// It cannot be read.
    Unreadable { why: String },
}

/// One problem found, by path relative to the backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub path: String,
    #[serde(flatten)]
    pub problem: Problem,
}

/// What a verification read and found.
#[derive(Debug, Default, Serialize)]
pub struct Verification {
    pub files: u64,
    pub bytes: u64,
    pub secs: f64,
    /// Recordings that had no manifest entry and got one now.
    pub adopted: u64,
    /// The recordings read whose entry was adopted (now or before): held to a hash taken
    /// from the backup itself, never verified against their source.
    pub adopted_unverified: Vec<String>,
    /// Recordings that are not DHAV: their frames were not checked.
    pub not_dhav: u64,
    /// Why the recordings without an entry could not be added to the manifest (a
    /// backup not marked yet is never written into).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_not_updated: Option<String>,
    pub problems: Vec<Found>,
}

/// Reads what `scope` chooses of the backup at `root`. `progress` hears the bytes
/// read and the total after each file, and answers false to stop there. Err: the
/// backup or its manifest cannot be listed, or the reading was stopped.
pub fn verify(
    root: &Path,
    names: &Names,
    scope: Scope,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<Verification, String> {
    let listing = scan::scan(root, names).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    // A slice's verification holds its part of the manifest only.
    let in_slice = |path: &str| scope.slice.contains(Path::new(path));
    let (known, _) = manifest::load_where(root, in_slice).map_err(|e| format!("cannot read the manifest: {e}"))?;
    let chosen = |rel: &Path, date: Option<NaiveDate>| scope.contains(rel, date);
    let files: Vec<PathBuf> = listing
        .recordings
        .iter()
        .filter(|(rel, r)| chosen(rel, Some(r.date)))
        .map(|(rel, _)| rel.to_path_buf())
        .collect();
    let total: u64 = files
        .iter()
        .filter_map(|r| listing.recordings.get(r.as_path()))
        .map(|r| r.meta.size)
        .sum();
    let started = Instant::now();
    let mut out = Verification::default();
    let mut adopted = Vec::new();
    for rel in &files {
        let key = manifest::key(rel);
        let (read, entry) = look(root, rel, &key, known.get(&key));
        match read {
            Ok(Some(c)) => {
                out.bytes += c.size;
                out.not_dhav += u64::from(c.chain == Chain::NotDhav);
                for problem in c.problems {
                    out.problems.push(Found {
                        path: key.clone(),
                        problem,
                    });
                }
                if entry.as_ref().is_none_or(|e| e.adopted) {
                    out.adopted_unverified.push(key.clone());
                }
                if entry.is_none() {
                    adopted.push(new_entry(key, c.size, c.hash));
                }
            }
            Ok(None) => {}
            Err(why) => out.problems.push(Found {
                path: key,
                problem: Problem::Unreadable { why },
            }),
        }
        out.files += 1;
        if !progress(out.bytes, total) {
            return Err(format!("stopped after {} of {} recordings", out.files, files.len()));
        }
    }
    for path in known.keys().filter(|p| !listing.recordings.contains_key(Path::new(p))) {
        if chosen(Path::new(path), date_from_path(Path::new(path))) {
            out.problems.push(Found {
                path: path.clone(),
                problem: Problem::Missing,
            });
        }
    }
    // A copy recorded while this ran has an entry of its own now.
    if !adopted.is_empty() {
        let fresh: HashSet<String> = adopted.iter().map(|e| e.path.clone()).collect();
        if let Ok((now, _)) = manifest::load_where(root, |k| fresh.contains(k)) {
            adopted.retain(|e| !now.contains_key(&e.path));
        }
    }
    match manifest::append(root, &adopted) {
        Ok(()) => out.adopted = adopted.len() as u64,
        Err(e) => {
            out.manifest_not_updated = Some(format!("{} recording(s) not added to the manifest: {e}", adopted.len()))
        }
    }
    out.problems.sort_by(|a, b| a.path.cmp(&b.path)); // stable: a file's problems keep their order
    out.adopted_unverified.sort();
    out.secs = started.elapsed().as_secs_f64();
    Ok(out)
}

struct Checked {
    size: u64,
    hash: String,
    chain: Chain,
}

/// One file read and judged, with its problems.
struct Looked {
    size: u64,
    hash: String,
    chain: Chain,
    problems: Vec<Problem>,
}

/// Reads the recording `rel` and judges it against its entry. One with a problem is
/// read again against its entry as the manifest holds it now: the daemon may have grown
/// it and recorded that, or retention removed it, since the manifest was read. Ok(None):
/// it went meanwhile. Also the entry it was judged against.
fn look(root: &Path, rel: &Path, key: &str, entry: Option<&Entry>) -> (Result<Option<Looked>, String>, Option<Entry>) {
    let first = judged(root, rel, entry);
    if matches!(&first, Ok(Some(l)) if l.problems.is_empty()) {
        return (first, entry.cloned());
    }
    let now = match manifest::load_where(root, |k| k == key) {
        Ok((mut live, _)) => live.remove(key),
        Err(_) => return (first, entry.cloned()),
    };
    (judged(root, rel, now.as_ref()), now)
}

/// `check` and `judge` of one file; Ok(None) when it is gone and `entry` expects
/// nothing of it.
fn judged(root: &Path, rel: &Path, entry: Option<&Entry>) -> Result<Option<Looked>, String> {
    let path = root.join(rel);
    match check(&path) {
        Ok(Checked { size, hash, chain }) => {
            let problems = judge(entry, size, &hash, chain.clone());
            Ok(Some(Looked {
                size,
                hash,
                chain,
                problems,
            }))
        }
        Err(_) if entry.is_none() && !path.exists() => Ok(None),
        Err(why) => Err(why),
    }
}

/// Reads one file once: its size, hash and frame chain.
fn check(path: &Path) -> Result<Checked, String> {
    let mut walk = Walk::new();
    let (size, hash) = manifest::hash_file(path, |chunk| walk.feed(chunk)).map_err(|e| e.to_string())?;
    Ok(Checked {
        size,
        hash,
        chain: walk.finish(),
    })
}

/// The problems one read shows: against the manifest (a changed size or content),
/// and in the frames (where the chain breaks, with the last good time).
pub fn judge(entry: Option<&Entry>, size: u64, hash: &str, chain: Chain) -> Vec<Problem> {
    let mut out = Vec::new();
    match entry {
        Some(e) if e.size != size => out.push(Problem::SizeChanged {
            recorded: e.size,
            found: size,
        }),
        Some(e) if e.blake3 != hash => out.push(Problem::ContentChanged {
            expected: e.blake3.clone(),
            found: hash.to_string(),
        }),
        _ => {}
    }
    if let Chain::Broken { at, why, last_good, .. } = chain {
        out.push(Problem::FramesBroken { at, why, last_good });
    }
    out
}

fn new_entry(path: String, size: u64, blake3: String) -> Entry {
    Entry {
        path,
        size,
        blake3,
        at: chrono::Local::now(),
        gone: false,
        adopted: true,
    }
}

impl Problem {
    /// The problem in words, for a log line or a console.
    pub fn describe(&self) -> String {
        match self {
            Problem::ContentChanged { .. } => {
                "content no longer matches the hash recorded when it was copied (bit rot or tampering)".into()
            }
            Problem::SizeChanged { recorded, found } => format!("size is {found} bytes, {recorded} when it was copied"),
            Problem::FramesBroken { at, why, last_good } => format!(
                "DHAV frames break at byte {at}: {why}; last good frame {}",
                last_good.map_or("none".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            ),
            Problem::Missing => "in the manifest, gone from the disk (not removed by retention)".into(),
            Problem::Unreadable { why } => format!("cannot be read: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use rules::slice::Slice;

    const ALL: Scope = Scope {
        since: None,
        slice: Slice::ALL,
    };

    /// Writes `bytes` at `rel` under `root` and records them in the manifest.
    fn backed_up(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let entry = Entry::new(
            Path::new(rel),
            bytes.len() as u64,
            blake3::hash(bytes).to_hex().to_string(),
        );
        manifest::append(root, &[entry]).unwrap();
    }

    /// A copy the daemon grows (and records), or retention removes, while the
    /// verification runs is no problem; one grown without a record still is.
    #[test]
    fn what_the_daemon_does_meanwhile_is_no_problem() {
        let (_t, m) = testing::setup();
        let root = &m.backup_dir;
        let rels = [
            "2026/12/01/ch01/a.dav",
            "2026/12/01/ch01/b.dav",
            "2026/12/01/ch01/c.dav",
            "2026/12/01/ch01/d.dav",
        ];
        for (i, rel) in rels.iter().enumerate() {
            backed_up(root, rel, &vec![i as u8; 1000]);
        }
        let mut first = true;
        let v = verify(root, &m.names, ALL, &mut |_, _| {
            if std::mem::take(&mut first) {
                // After a.dav: b grows and is recorded, c is removed by retention, d
                // grows behind the manifest's back.
                backed_up(root, rels[1], &[vec![1u8; 1000], vec![9u8; 500]].concat());
                std::fs::remove_file(root.join(rels[2])).unwrap();
                manifest::forget(root, &[Path::new(rels[2])]).unwrap();
                let mut d = std::fs::OpenOptions::new()
                    .append(true)
                    .open(root.join(rels[3]))
                    .unwrap();
                std::io::Write::write_all(&mut d, b"more").unwrap();
            }
            true
        })
        .unwrap();
        let found: Vec<(&str, &Problem)> = v.problems.iter().map(|f| (f.path.as_str(), &f.problem)).collect();
        assert_eq!(
            found,
            vec![(
                rels[3],
                &Problem::SizeChanged {
                    recorded: 1000,
                    found: 1004
                }
            )]
        );
    }
}
