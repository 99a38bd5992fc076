//! What leaves the backup, and the code that removes it. `plan` is pure: recordings
//! dated before the window's cutoff, each with its reason; `stale_temps` names our own
//! leftover temporaries. `apply` deletes exactly what a plan lists, only regular files
//! that the OS places exactly where the plan says, inside the real backup folder (no
//! link of any kind on the way: symlinks, junctions, mount points), then the folders it
//! emptied. Nothing else in the program deletes from the backup.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::plan::Window;
use crate::scan::Listing;
use crate::store::emptied::remove_emptied;
use crate::store::whereis::{device_of, same_place, Opened};

/// One file to delete and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub rel: PathBuf,
    pub reason: String,
}

/// Backup recordings dated before the cutoff, finished or in-progress copies (whose
/// source stopped before it finished: a wipe, a crash of the recorder). Anything that is
/// not a recording (the scan lists only recordings) is never planned.
pub fn plan(backup: &Listing, window: &Window, retention_days: u32) -> Vec<Deletion> {
    let in_progress = backup.in_progress.values().map(|p| (&p.rel, &p.rec));
    backup
        .recordings
        .iter()
        .chain(in_progress)
        .filter(|(_, r)| !window.contains(r.date))
        .map(|(rel, r)| Deletion {
            rel: rel.clone(),
            reason: format!(
                "dated {}, before {} ({} days before {}{})",
                r.date,
                window.cutoff,
                retention_days,
                window.reference,
                if window.reference < window.today {
                    ", the newest recording"
                } else {
                    ", today"
                }
            ),
        })
        .collect()
}

/// A pass may delete at most this share of the backup's recordings at once without
/// an operator's word: more is what a wrong clock, a wrong `retention_days` or a
/// misread layout looks like, and deleting is the one thing that cannot be undone.
pub const MASS_DELETE_SHARE: f64 = 0.5;

/// Why `deletions` out of `held` backup recordings (finished and in progress) are too
/// many to carry out without `--allow-mass-delete`, or None when they are not.
pub fn mass_delete(deletions: usize, held: usize) -> Option<String> {
    (deletions > 0 && deletions as f64 > held as f64 * MASS_DELETE_SHARE).then(|| {
        format!(
            "retention would delete {deletions} of the {held} recordings in the backup (more than {:.0}%); nothing deleted. \
             If that is intended (retention_days was lowered, or the backup was not pruned for a long time), run once with --allow-mass-delete",
            MASS_DELETE_SHARE * 100.0
        )
    })
}

/// Our temporaries that no copy is writing now (`busy` says which are): left by a
/// crash or a kill, never complete, safe to remove.
pub fn stale_temps(backup: &Listing, busy: impl Fn(&Path) -> bool) -> Vec<Deletion> {
    backup
        .temps
        .iter()
        .filter(|t| !busy(t))
        .map(|t| Deletion {
            rel: t.clone(),
            reason: "unfinished temporary left by an interrupted copy".into(),
        })
        .collect()
}

/// What `apply` did.
#[derive(Debug, Default)]
pub struct Applied {
    pub deleted: Vec<(Deletion, u64)>,
    pub folders_removed: usize,
    pub errors: Vec<(PathBuf, String)>,
}

/// Deletes the planned files under `root`, then the folders that became empty; nothing
/// at all when `root` lacks its marker (the volume is not there).
pub fn apply(root: &Path, deletions: Vec<Deletion>) -> Applied {
    let mut out = Applied::default();
    if !crate::volume::marked(root) {
        let why = format!("refused: {} has no {} marker", root.display(), crate::volume::MARKER);
        out.errors = deletions.into_iter().map(|d| (d.rel, why.clone())).collect();
        return out;
    }
    let real_root = match fs::canonicalize(root).and_then(|r| Ok((r, device_of(root)?))) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("refused: cannot tell where {} really is: {e}", root.display());
            out.errors = deletions.into_iter().map(|d| (d.rel, why.clone())).collect();
            return out;
        }
    };
    for d in deletions {
        match remove_inside(root, &real_root, &d.rel) {
            Ok(bytes) => out.deleted.push((d, bytes)),
            Err(e) => out.errors.push((d.rel, e)),
        }
    }
    // Only folders that are really where they seem: no link on the way.
    let really_here = |dir: &Path| {
        is_plain_dir(root, dir)
            && fs::canonicalize(root.join(dir)).is_ok_and(|real| same_place(&real, &real_root.0.join(dir)))
    };
    let deleted = out.deleted.iter().map(|(d, _)| d.rel.as_path());
    out.folders_removed = remove_emptied(root, deleted, really_here);
    out
}

/// Removes one regular file, refusing paths that leave `root` or pass through a link:
/// the file is opened without following a final link, and the OS must place the opened
/// file exactly at `real_root/rel` (Wine, for one, shows a Unix folder link as a plain
/// folder; only the opened file's real path tells), on the backup's own device (a
/// disk mounted on a folder inside the backup is not the backup).
fn remove_inside(root: &Path, (real_root, device): &(PathBuf, Option<u64>), rel: &Path) -> Result<u64, String> {
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err("refused: the path is not plainly inside the backup".into());
    }
    if let Some(parent) = rel.parent() {
        if !is_plain_dir(root, parent) {
            return Err("refused: a folder on the way is a link or gone".into());
        }
    }
    let path = root.join(rel);
    let meta = fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("refused: not a regular file (a link or a folder)".into());
    }
    let opened = Opened::open(&path).map_err(|e| format!("refused: cannot open it to see where it is: {e}"))?;
    let expected = real_root.join(rel);
    match opened.real_path() {
        Ok(real) if same_place(&real, &expected) => {}
        Ok(real) => {
            return Err(format!(
                "refused: it is really {} (reached through a link), not inside the backup folder {}",
                real.display(),
                real_root.display()
            ))
        }
        Err(e) => return Err(format!("refused: cannot tell where it really is: {e}")),
    }
    if device.is_some() && opened.device().ok().flatten() != *device {
        return Err("refused: it is on another disk mounted inside the backup folder".into());
    }
    let len = opened.size().map_err(|e| e.to_string())?;
    opened.delete().map_err(|e| e.to_string())?;
    Ok(len)
}

/// True when every folder from `root` down to `rel` is a real folder, not a link.
fn is_plain_dir(root: &Path, rel: &Path) -> bool {
    let mut p = root.to_path_buf();
    rel.components().all(|c| {
        p.push(c);
        fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_dir())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{FileMeta, Recording};
    use chrono::NaiveDate;
    use std::time::SystemTime;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn backup(dates: &[&str]) -> Listing {
        let mut l = Listing::default();
        for d in dates {
            let meta = FileMeta {
                size: 1,
                mtime: SystemTime::UNIX_EPOCH,
            };
            l.recordings.insert(
                PathBuf::from(format!("{}/a.dav", d.replace('-', "/"))),
                Recording { meta, date: day(d) },
            );
        }
        l
    }

    #[test]
    fn deletes_only_before_cutoff() {
        let l = backup(&["2026-10-25", "2026-10-26", "2026-11-26"]);
        let w = Window::of(day("2026-11-26"), 31, &[&l]);
        let plan = plan(&l, &w, 31);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].rel, PathBuf::from("2026/10/25/a.dav"));
        assert_eq!(
            plan[0].reason,
            "dated 2026-10-25, before 2026-10-26 (31 days before 2026-11-26, today)"
        );
    }

    #[test]
    fn old_in_progress_copies_go_too() {
        let mut l = backup(&["2026-11-26"]);
        for d in ["2026-10-01", "2026-11-25"] {
            let rec = Recording {
                meta: FileMeta {
                    size: 1,
                    mtime: SystemTime::UNIX_EPOCH,
                },
                date: day(d),
            };
            let key = PathBuf::from(format!("{}/b.dav", d.replace('-', "/")));
            let rel = crate::layout::partial_of(&key);
            l.in_progress.insert(key, crate::scan::InProgress { rel, rec });
        }
        let w = Window::of(day("2026-11-26"), 31, &[&l]);
        let got: Vec<PathBuf> = plan(&l, &w, 31).into_iter().map(|d| d.rel).collect();
        assert_eq!(got, vec![PathBuf::from("2026/10/01/b.dav.partial")]);
    }

    #[test]
    fn apply_deletes_nothing_without_the_marker() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("b");
        fs::create_dir_all(root.join("2026/10/01")).unwrap();
        fs::write(root.join("2026/10/01/a.dav"), b"x").unwrap();
        let applied = apply(
            &root,
            vec![Deletion {
                rel: PathBuf::from("2026/10/01/a.dav"),
                reason: "test".into(),
            }],
        );
        assert!(applied.deleted.is_empty());
        assert!(root.join("2026/10/01/a.dav").exists());
    }

    #[test]
    fn more_than_half_at_once_needs_the_operator() {
        assert_eq!(mass_delete(0, 0), None);
        assert_eq!(mass_delete(1, 32), None, "a normal day's pruning");
        assert_eq!(mass_delete(5, 10), None, "half is still allowed");
        assert!(mass_delete(6, 10).is_some());
        assert!(mass_delete(1, 1).is_some(), "the whole backup never goes unasked");
    }

    #[test]
    fn clock_jump_ahead_deletes_nothing_recent() {
        let l = backup(&["2026-10-27", "2026-11-26"]);
        let w = Window::of(day("2027-12-31"), 31, &[&l]);
        assert!(plan(&l, &w, 31).is_empty());
    }

    #[test]
    fn apply_refuses_links_and_removes_emptied_folders() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("b");
        let outside = t.path().join("outside");
        fs::create_dir_all(root.join("2026/10/01")).unwrap();
        fs::create_dir_all(root.join("2026/10/02")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root.join("2026/10/01/a.dav"), b"x").unwrap();
        fs::write(root.join("2026/10/02/a.dav"), b"x").unwrap();
        fs::write(root.join("2026/10/02/notes.txt"), b"x").unwrap();
        fs::write(outside.join("a.dav"), b"x").unwrap();
        crate::volume::mark(&root, &t.path().join("logs")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("2026/10/03")).unwrap();
        let del = |p: &str| Deletion {
            rel: PathBuf::from(p),
            reason: "test".into(),
        };
        let applied = apply(
            &root,
            vec![
                del("2026/10/01/a.dav"),
                del("2026/10/02/a.dav"),
                del("2026/10/03/a.dav"),
                del("../outside/a.dav"),
            ],
        );
        assert_eq!(applied.deleted.len(), 2);
        assert_eq!(applied.errors.len(), 2, "{:?}", applied.errors);
        assert!(outside.join("a.dav").exists());
        assert!(!root.join("2026/10/01").exists(), "emptied folder removed");
        assert!(root.join("2026/10/02/notes.txt").exists(), "other files kept");
        assert!(root.exists());
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        fn rec(date: NaiveDate) -> Recording {
            Recording {
                meta: FileMeta {
                    size: 1,
                    mtime: SystemTime::UNIX_EPOCH,
                },
                date,
            }
        }

        proptest! {
            /// Whatever the recordings, today's date (a clock far behind or years
            /// ahead) and retention_days: no plan deletes a recording dated on or after
            /// the cutoff, nor anything within retention_days of the newest recording,
            /// and everything before the cutoff is planned.
            #[test]
            fn no_plan_deletes_inside_the_window(
                finished in vec(-3000i64..3000, 0..60),
                unfinished in vec(-3000i64..3000, 0..8),
                today in -3000i64..6000,
                days in 1u32..800,
            ) {
                let base = day("2026-01-01");
                let at = |off: i64| base.checked_add_signed(chrono::Duration::days(off)).unwrap();
                let mut l = Listing::default();
                for (i, off) in finished.iter().enumerate() {
                    l.recordings.insert(PathBuf::from(format!("f{i}.dav")), rec(at(*off)));
                }
                for (i, off) in unfinished.iter().enumerate() {
                    let key = PathBuf::from(format!("p{i}.dav"));
                    let rel = crate::layout::partial_of(&key);
                    l.in_progress.insert(key, crate::scan::InProgress { rel, rec: rec(at(*off)) });
                }
                let w = Window::of(at(today), days, &[&l]);
                let planned = plan(&l, &w, days);
                let date_of = |rel: &Path| {
                    l.recordings.get(rel).copied().or_else(|| {
                        l.in_progress.values().find(|p| p.rel == rel).map(|p| p.rec)
                    })
                };
                let newest = finished.iter().chain(&unfinished).max().map(|o| at(*o));
                for d in &planned {
                    let r = date_of(&d.rel).expect("planned files come from the listing");
                    prop_assert!(r.date < w.cutoff, "{} dated {} >= cutoff {}", d.rel.display(), r.date, w.cutoff);
                    if let Some(newest) = newest {
                        prop_assert!(r.date < newest - chrono::Days::new(days.into()));
                    }
                }
                let before = finished.iter().chain(&unfinished).filter(|o| at(**o) < w.cutoff).count();
                prop_assert_eq!(planned.len(), before);
            }
        }
    }
}
