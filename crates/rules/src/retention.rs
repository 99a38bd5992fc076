//! What leaves the backup, each with its reason, as pure rules: recordings dated before
//! the window's cutoff (`plan`), our own leftover temporaries (`stale_temps`), and the
//! refusal to delete more than half the backup at once (`mass_delete`).
//! `store::delete` carries a plan out.

use std::path::{Path, PathBuf};

use crate::listing::Listing;
use crate::window::Window;

/// One file to delete and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub rel: PathBuf,
    pub reason: String,
    /// Its size when listed (0 for a temporary, whose size is not listed).
    pub bytes: u64,
}

/// Backup recordings dated before the cutoff, finished or in-progress copies (whose
/// source stopped before it finished: a wipe, a crash of the recorder). Anything that is
/// not a recording (the scan lists only recordings) is never planned.
pub fn plan(backup: &Listing, window: &Window, retention_days: u32) -> Vec<Deletion> {
    let in_progress = backup.in_progress.values().map(|p| (p.rel.as_path(), &p.rec));
    backup
        .recordings
        .iter()
        .map(|(rel, r)| -> (&Path, _) { (rel, r) })
        .chain(in_progress)
        .filter(|(_, r)| !window.contains(r.date))
        .map(|(rel, r)| Deletion {
            rel: rel.to_path_buf(),
            bytes: r.meta.size,
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

/// A pass may delete at most this share of the backup's recordings, by count or by
/// bytes, at once without an operator's word: more is what a wrong clock, a wrong
/// `retention_days` or a misread layout looks like, and deleting is the one thing that
/// cannot be undone.
pub const MASS_DELETE_SHARE: f64 = 0.5;

/// How many recordings, and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    pub files: usize,
    pub bytes: u64,
}

impl Amount {
    pub fn of(sizes: impl IntoIterator<Item = u64>) -> Amount {
        sizes.into_iter().fold(Amount::default(), |a, s| Amount {
            files: a.files + 1,
            bytes: a.bytes + s,
        })
    }
}

/// Why deleting `planned` of the `held` recordings in `place` (`the backup`, or an
/// offsite prefix) is too much to carry out without `--allow-mass-delete`, or None
/// when it is not. A single deletion counts like any other: the whole of a place
/// holding one recording never goes unasked.
pub fn mass_delete(planned: Amount, held: Amount, place: &str) -> Option<String> {
    let over = |part: f64, whole: f64| part > whole * MASS_DELETE_SHARE;
    let too_many = over(planned.files as f64, held.files as f64);
    let too_big = over(planned.bytes as f64, held.bytes as f64);
    (planned.files > 0 && (too_many || too_big)).then(|| {
        format!(
            "retention would delete {} of the {} recordings in {place} ({} of {}; more than {:.0}% {}); nothing deleted. \
             If that is intended (retention_days was lowered, or the backup was not pruned for a long time), run once with --allow-mass-delete",
            planned.files,
            held.files,
            gib(planned.bytes),
            gib(held.bytes),
            MASS_DELETE_SHARE * 100.0,
            if too_many { "of them" } else { "of their bytes" },
        )
    })
}

/// Bytes as `12.3 GiB`.
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
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
            bytes: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{FileMeta, Recording};
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
                PathBuf::from(format!("{}/a.dav", d.replace('-', "/"))).into(),
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
            let rel = crate::names::partial_of(&key);
            l.in_progress.insert(key, crate::listing::InProgress { rel, rec });
        }
        let w = Window::of(day("2026-11-26"), 31, &[&l]);
        let got: Vec<PathBuf> = plan(&l, &w, 31).into_iter().map(|d| d.rel).collect();
        assert_eq!(got, vec![PathBuf::from("2026/10/01/b.dav.partial")]);
    }

    #[test]
    fn more_than_half_at_once_needs_the_operator() {
        let n = |files: usize| Amount {
            files,
            bytes: files as u64 * 100,
        };
        assert_eq!(mass_delete(n(0), n(0), "the backup"), None);
        assert_eq!(mass_delete(n(1), n(32), "the backup"), None, "a normal day's pruning");
        assert_eq!(mass_delete(n(5), n(10), "the backup"), None, "half is still allowed");
        assert!(mass_delete(n(6), n(10), "the backup").is_some());
        assert!(
            mass_delete(n(1), n(1), "the backup").is_some(),
            "the whole backup never goes unasked"
        );
        let why = mass_delete(
            Amount { files: 1, bytes: 700 },
            Amount { files: 10, bytes: 1000 },
            "the backup",
        )
        .unwrap();
        assert!(
            why.contains("of their bytes"),
            "one file holding most of the backup: {why}"
        );
        assert_eq!(
            mass_delete(
                Amount { files: 1, bytes: 500 },
                Amount { files: 10, bytes: 1000 },
                "the backup"
            ),
            None
        );
    }

    #[test]
    fn clock_jump_ahead_deletes_nothing_recent() {
        let l = backup(&["2026-10-27", "2026-11-26"]);
        let w = Window::of(day("2027-12-31"), 31, &[&l]);
        assert!(plan(&l, &w, 31).is_empty());
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
                    l.recordings.insert(PathBuf::from(format!("f{i}.dav")).into(), rec(at(*off)));
                }
                for (i, off) in unfinished.iter().enumerate() {
                    let key = PathBuf::from(format!("p{i}.dav"));
                    let rel = crate::names::partial_of(&key);
                    l.in_progress.insert(key, crate::listing::InProgress { rel, rec: rec(at(*off)) });
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
