//! Re-reading the backup: every recording of the chosen days and slice is read once,
//! in 4 MiB chunks, through BLAKE3 and the DHAV frame walk (`rules::chain`), and held
//! to its manifest entry. Problems: content that no longer matches its hash (bit rot),
//! a size that changed, a frame chain that breaks (truncated or damaged, with the last
//! good time), a manifest entry whose file is gone, a file that cannot be read.
//! Recordings without an entry (adopted from an older backup) get one now, marked
//! adopted: each verification lists them until a verified copy replaces the entry.

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
        match check(&root.join(rel)) {
            Ok(Checked { size, hash, chain }) => {
                out.bytes += size;
                out.not_dhav += u64::from(chain == Chain::NotDhav);
                for problem in judge(known.get(&key), size, &hash, chain) {
                    out.problems.push(Found {
                        path: key.clone(),
                        problem,
                    });
                }
                let entry = known.get(&key);
                if entry.is_none_or(|e| e.adopted) {
                    out.adopted_unverified.push(key.clone());
                }
                if entry.is_none() {
                    adopted.push(new_entry(key, size, hash));
                }
            }
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
