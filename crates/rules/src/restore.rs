//! What `restore --from-offsite` brings back from the bucket, and under which name.
//! Pure: the bucket's listing, the choice and what the destination holds are arguments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::export::Range;
use crate::names::{date_from_path, kept_beside, MAX_KEPT_BESIDE};
use crate::offsite::grown_of;
use crate::sealed::plain_key;
use crate::span;

/// One recording of the bucket: the key of its current version, the path it takes
/// under the destination, its size and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub rel: PathBuf,
    pub size: u64,
    pub date: NaiveDate,
}

/// The recordings under `prefix` in a listing (key, recording's size), each at its
/// current version (its newest `NAME.grown-N`), named as the backup names it (an
/// encrypted `NAME.dav.age` as `NAME.dav`). Keys without a day in their path (the
/// site's marker) are not recordings.
pub fn stored(listed: &[(String, u64)], prefix: &str) -> Vec<Stored> {
    let mut newest: BTreeMap<String, (u32, &str, u64)> = BTreeMap::new();
    for (key, size) in listed {
        let Some(rest) = key.strip_prefix(prefix) else { continue };
        let rest = plain_key(rest).unwrap_or(rest);
        let (base, n) = grown_of(rest).unwrap_or_else(|| (rest.to_string(), 0));
        let slot = newest.entry(base).or_insert((n, key, *size));
        if n >= slot.0 {
            *slot = (n, key, *size);
        }
    }
    newest
        .into_iter()
        .filter_map(|(rel, (_, key, size))| {
            let rel = PathBuf::from(rel);
            let date = date_from_path(&rel)?;
            Some(Stored {
                key: key.to_string(),
                rel,
                size,
                date,
            })
        })
        .collect()
}

/// Which recordings to restore; each unset part takes all.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// Dated on or after this day.
    pub since: Option<NaiveDate>,
    /// Of this camera, as `span::camera` names it.
    pub camera: Option<String>,
    /// Overlapping this range (by the times in their names; those without, by day).
    pub range: Option<Range>,
}

impl Choice {
    pub fn takes(&self, s: &Stored) -> bool {
        let camera = || match &self.camera {
            None => true,
            Some(c) => span::camera(&s.rel).as_deref() == Some(c.as_str()),
        };
        let range = || match self.range {
            None => true,
            Some(r) => match span::from_name_on(&s.rel, Some(s.date)) {
                Some(sp) => sp.start < r.to && sp.end > r.from,
                None => (r.from.date()..=r.to.date()).contains(&s.date),
            },
        };
        self.since.is_none_or(|d| s.date >= d) && camera() && range()
    }
}

/// The cameras the stored recordings belong to.
pub fn cameras(all: &[Stored]) -> BTreeSet<String> {
    all.iter().filter_map(|s| span::camera(&s.rel)).collect()
}

/// What the destination holds at one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Nothing,
    /// The object's very bytes (same size and hash).
    Same,
    /// Other bytes: never overwritten.
    Other,
}

/// Where a recording goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Fetched under its own name.
    Own(PathBuf),
    /// Its name holds other bytes: fetched beside them, as `STEM.changed-N.EXT`.
    Beside(PathBuf),
    /// Already there, under this name: nothing to fetch.
    Already(PathBuf),
    /// Its name and every name beside it hold other bytes.
    NoRoom,
}

/// Where the recording `rel` goes, from what each name holds (`held`).
pub fn place(rel: &Path, held: impl Fn(&Path) -> Held) -> Place {
    match held(rel) {
        Held::Nothing => return Place::Own(rel.to_path_buf()),
        Held::Same => return Place::Already(rel.to_path_buf()),
        Held::Other => {}
    }
    for n in 1..=MAX_KEPT_BESIDE {
        let beside = kept_beside(rel, n);
        match held(&beside) {
            Held::Nothing => return Place::Beside(beside),
            Held::Same => return Place::Already(beside),
            Held::Other => {}
        }
    }
    Place::NoRoom
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn listed(keys: &[(&str, u64)]) -> Vec<(String, u64)> {
        keys.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    const A: &str = "site/2026/12/02/ch03/14.00.00-14.59.59[R][0@0][0].dav";

    #[test]
    fn each_recording_comes_back_at_its_newest_version_under_its_own_name() {
        let l = listed(&[
            (A, 10),
            ("site/2026/12/02/ch03/14.00.00-14.59.59[R][0@0][0].grown-2.dav", 30),
            ("site/2026/12/02/ch03/14.00.00-14.59.59[R][0@0][0].grown-1.dav", 20),
            ("site/2026/12/02/ch04/14.00.00-14.59.59[R][0@0][0].dav", 5),
            ("site/.cctv-mirror-site.json", 50),
            ("other/2026/12/02/ch03/x.dav", 7),
        ]);
        let s = stored(&l, "site/");
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(
            s[0].key,
            "site/2026/12/02/ch03/14.00.00-14.59.59[R][0@0][0].grown-2.dav"
        );
        assert_eq!(
            s[0].rel,
            PathBuf::from("2026/12/02/ch03/14.00.00-14.59.59[R][0@0][0].dav")
        );
        assert_eq!(
            (s[0].size, s[0].date),
            (30, NaiveDate::from_ymd_opt(2026, 12, 2).unwrap())
        );
        assert_eq!(s[1].size, 5);
    }

    #[test]
    fn the_choice_takes_by_day_camera_and_time() {
        let s = stored(
            &listed(&[
                (A, 1),
                ("site/2026/12/02/ch03/15.00.00-15.59.59[R][0@0][0].dav", 1),
                ("site/2026/12/01/ch03/14.00.00-14.59.59[R][0@0][0].dav", 1),
                ("site/2026/12/02/ch04/14.00.00-14.59.59[R][0@0][0].dav", 1),
            ]),
            "site/",
        );
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let taken = |c: Choice| s.iter().filter(|r| c.takes(r)).count();
        assert_eq!(taken(Choice::default()), 4);
        assert_eq!(
            taken(Choice {
                since: NaiveDate::from_ymd_opt(2026, 12, 2),
                ..Choice::default()
            }),
            3
        );
        assert_eq!(
            taken(Choice {
                camera: Some("ch03".into()),
                ..Choice::default()
            }),
            3
        );
        let range = Range::new(t("2026-12-02 14:30"), t("2026-12-02 15:00"));
        assert_eq!(
            taken(Choice {
                range,
                ..Choice::default()
            }),
            2,
            "14:00–14:59 of both cameras; 15:00 starts at the range's end"
        );
        assert_eq!(
            cameras(&s).into_iter().collect::<Vec<_>>(),
            vec!["ch03".to_string(), "ch04".to_string()]
        );
    }

    #[test]
    fn other_bytes_are_never_overwritten_the_recording_goes_beside() {
        let rel = Path::new("2026/12/02/ch03/a.dav");
        assert_eq!(place(rel, |_| Held::Nothing), Place::Own(rel.into()));
        assert_eq!(place(rel, |_| Held::Same), Place::Already(rel.into()));
        let first_free = |p: &Path| if p == rel { Held::Other } else { Held::Nothing };
        assert_eq!(
            place(rel, first_free),
            Place::Beside("2026/12/02/ch03/a.changed-1.dav".into())
        );
        // Restored beside before (a resumed restore): found there, not fetched again.
        let beside_same = |p: &Path| if p == rel { Held::Other } else { Held::Same };
        assert_eq!(
            place(rel, beside_same),
            Place::Already("2026/12/02/ch03/a.changed-1.dav".into())
        );
        assert_eq!(place(rel, |_| Held::Other), Place::NoRoom);
    }
}
