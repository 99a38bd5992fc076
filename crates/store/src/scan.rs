//! Walks one tree once and lists what a pass needs: every recording with its size,
//! modification time and day (finished ones and those under an in-progress name apart),
//! and our own leftover temporaries. Links are never
//! followed (a link in the backup could lead retention out of it; a link loop would never
//! end). A folder or file that cannot be read is noted and skipped, never fatal.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use rules::listing::{FileMeta, InProgress, Listing, Recording};
use rules::names::{self, Kind, Names};

/// One folder being walked: its entries, sorted by name, not yet looked at.
struct Folder {
    rel: PathBuf,
    /// The day its folders give its recordings, worked out once per folder.
    date: Option<NaiveDate>,
    entries: std::vec::IntoIter<(OsString, std::fs::DirEntry)>,
}

impl Folder {
    fn open(path: &Path, rel: PathBuf, errors: &mut Vec<(PathBuf, String)>) -> io::Result<Folder> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            match entry {
                Ok(e) => entries.push((e.file_name(), e)),
                Err(e) => errors.push((rel.clone(), e.to_string())),
            }
        }
        // Walking each folder in name order lists the whole tree in path order, so the
        // ordered maps are built in one go instead of one search per file.
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Folder {
            date: names::date_of_folder(&rel),
            rel,
            entries: entries.into_iter(),
        })
    }
}

/// Recordings gathered before they join the map: small enough that the gathering
/// costs little memory beside the map, large enough that joining stays cheap.
const CHUNK: usize = 4096;

/// Moves the gathered recordings (in path order, after every key of `map`) into `map`.
/// Built from sorted runs, the map is packed full and nothing is searched per file.
fn settle_into(map: &mut BTreeMap<Arc<Path>, Recording>, gathered: &mut Vec<(Arc<Path>, Recording)>) {
    let mut chunk: BTreeMap<Arc<Path>, Recording> = gathered.drain(..).collect();
    map.append(&mut chunk);
}

/// Lists `root`. Fails only when `root` itself cannot be listed; problems below it are
/// collected in `Listing::errors`.
pub fn scan(root: &Path, names: &Names) -> io::Result<Listing> {
    scan_beside(root, names, &Listing::default())
}

/// `scan`, where a recording also listed in `other` shares its path with it: the
/// source and the backup mostly hold the same paths, and a site's 100,000 of them
/// would otherwise be held twice (about 6 MB).
pub fn scan_beside(root: &Path, names: &Names, other: &Listing) -> io::Result<Listing> {
    let mut listing = Listing::default();
    let mut recordings = Vec::new();
    // Read the root eagerly so a missing or unreadable root is an error, not an empty tree.
    let mut stack = vec![Folder::open(root, PathBuf::new(), &mut listing.errors)?];
    while let Some(folder) = stack.last_mut() {
        let Some((name, entry)) = folder.entries.next() else {
            stack.pop();
            continue;
        };
        let rel = folder.rel.join(&name);
        let date = folder.date;
        // file_type() does not follow links: a link is neither a dir nor a file here.
        let Ok(kind) = entry.file_type() else {
            listing.errors.push((rel, "cannot read the file type".into()));
            continue;
        };
        if kind.is_dir() {
            match Folder::open(&entry.path(), rel.clone(), &mut listing.errors) {
                Ok(sub) => stack.push(sub),
                Err(e) => listing.errors.push((rel, e.to_string())),
            }
        } else if kind.is_file() {
            if let Some((rel, rec)) = file(&entry, &name, rel, date, names, &mut listing) {
                recordings.push((shared(rel, other), rec));
                if recordings.len() == CHUNK {
                    settle_into(&mut listing.recordings, &mut recordings);
                }
            }
        }
    }
    settle_into(&mut listing.recordings, &mut recordings);
    Ok(listing)
}

/// `rel` as `other` holds it, else on its own.
fn shared(rel: PathBuf, other: &Listing) -> Arc<Path> {
    match other.recordings.get_key_value(rel.as_path()) {
        Some((held, _)) => held.clone(),
        None => Arc::from(rel),
    }
}

/// One file of the walk: a recording under its final name is returned; an in-progress
/// one, a temporary or an unreadable file goes into `listing`; anything else is ignored.
fn file(
    entry: &std::fs::DirEntry,
    name: &OsStr,
    rel: PathBuf,
    folder_date: Option<NaiveDate>,
    names: &Names,
    listing: &mut Listing,
) -> Option<(PathBuf, Recording)> {
    let what = names.classify(name)?;
    if what == Kind::Temp {
        listing.temps.push(rel);
        return None;
    }
    let meta = match entry.metadata().and_then(|m| FileMeta::of(&m)) {
        Ok(meta) => meta,
        // Vanished between listing and stat: the recorder rotated it.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            listing.errors.push((rel, e.to_string()));
            return None;
        }
    };
    let rec = Recording {
        meta,
        date: folder_date
            .or_else(|| names::recording_date(&rel, meta.mtime))
            .unwrap_or_else(|| unknown_time(&rel)),
    };
    match what {
        Kind::InProgress { final_name } => {
            let key = rel.with_file_name(final_name);
            listing.in_progress.insert(key, InProgress { rel, rec });
            None
        }
        _ => Some((rel, rec)),
    }
}

/// The day of a recording neither its folders nor its file time can date (a time
/// outside the calendar, which a file system can hold): today, so it is copied; said
/// once per file in the process's life, not every pass.
pub fn unknown_time(rel: &Path) -> NaiveDate {
    static SAID: std::sync::Mutex<Option<std::collections::HashSet<PathBuf>>> = std::sync::Mutex::new(None);
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.get_or_insert_with(Default::default).insert(rel.to_path_buf()) {
        tracing::warn!(
            path = %rel.display(),
            "the file's modification time is outside the calendar: its date is unknown; dated today, so it is copied"
        );
    }
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path, files: &[&str]) {
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"DHAV").unwrap();
        }
    }

    /// The source's listing holds the backup's path where both have a recording, its
    /// own where only it has one, and lists the same as a scan of its own.
    #[test]
    fn a_scan_beside_another_shares_the_paths_both_hold() {
        let t = tempfile::tempdir().unwrap();
        let (backup, source) = (t.path().join("b"), t.path().join("s"));
        tree(
            &backup,
            &[
                "2026/12/01/ch1/00.00.00-01.00.00.dav",
                "2026/12/01/ch1/01.00.00-02.00.00.dav",
            ],
        );
        tree(
            &source,
            &[
                "2026/12/01/ch1/01.00.00-02.00.00.dav",
                "2026/12/01/ch1/02.00.00-03.00.00.dav",
            ],
        );
        let names = Names {
            extensions: vec!["dav".into()],
            in_progress_suffixes: vec![".dav_".into()],
        };
        let other = scan(&backup, &names).unwrap();
        let beside = scan_beside(&source, &names, &other).unwrap();
        let alone = scan(&source, &names).unwrap();
        assert!(beside.recordings.keys().eq(alone.recordings.keys()));
        assert!(beside.recordings.values().eq(alone.recordings.values()));
        let held = |l: &Listing, p: &str| l.recordings.get_key_value(Path::new(p)).unwrap().0.clone();
        let both = "2026/12/01/ch1/01.00.00-02.00.00.dav";
        assert!(Arc::ptr_eq(&held(&beside, both), &held(&other, both)));
        assert!(!Arc::ptr_eq(&held(&alone, both), &held(&other, both)));
    }
}
