//! `--slice K/N`: the K-th of N disjoint slices of the backup, validated from the
//! command line into its own type. A recording's slice follows from its path alone
//! (FNV-1a of it with `/` separators, modulo N), so the N slices hold every recording
//! exactly once on every OS, and a recording stays in its slice from night to night.

use std::fmt;
use std::path::Path;

use chrono::NaiveDate;

use crate::fit::fnv1a;
use crate::paths::slashed;

/// The most slices there can be.
pub const MAX_SLICES: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// 1 to `of`.
    pub k: u32,
    pub of: u32,
}

impl Slice {
    /// The whole backup.
    pub const ALL: Slice = Slice { k: 1, of: 1 };

    /// Reads `K/N` (1 ≤ K ≤ N ≤ 1000); the error says what is wrong.
    pub fn parse(s: &str) -> Result<Slice, String> {
        let bad = || format!("--slice {s:?}: expected K/N with 1 <= K <= N <= {MAX_SLICES}, e.g. 3/7");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, of): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || of == 0 || k > of || of > MAX_SLICES {
            return Err(bad());
        }
        Ok(Slice { k, of })
    }

    /// Whether the recording at `rel` is in this slice.
    pub fn contains(&self, rel: &Path) -> bool {
        fnv1a(slashed(rel).as_bytes()) % u64::from(self.of) == u64::from(self.k - 1)
    }

    /// The slice a nightly scrub of `of` slices reads on `day`: each in turn, so `of`
    /// nights in a row read them all.
    pub fn of_night(day: NaiveDate, of: u32) -> Slice {
        let days = day.signed_duration_since(NaiveDate::MIN).num_days().unsigned_abs();
        let of = of.clamp(1, MAX_SLICES);
        Slice {
            k: (days % u64::from(of)) as u32 + 1,
            of,
        }
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_read_strictly() {
        assert_eq!(Slice::parse("3/7"), Ok(Slice { k: 3, of: 7 }));
        for bad in ["0/7", "8/7", "3", "a/b", "1/0", "1/1001", ""] {
            assert!(Slice::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_recording_is_in_exactly_one_slice_and_nights_take_turns() {
        for i in 0..500 {
            let rel = format!(
                "2026/11/{:02}/ch{:02}/{i:02}.00.00-{i:02}.59.59.dav",
                i % 28 + 1,
                i % 16
            );
            let n = (1..=7)
                .filter(|k| Slice { k: *k, of: 7 }.contains(Path::new(&rel)))
                .count();
            assert_eq!(n, 1);
        }
        let start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let mut ks: Vec<u32> = start.iter_days().take(7).map(|d| Slice::of_night(d, 7).k).collect();
        ks.sort();
        assert_eq!(ks, (1..=7).collect::<Vec<_>>());
    }
}
