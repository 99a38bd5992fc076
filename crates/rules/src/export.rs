//! Which of a camera's recordings an export of a time range takes, and the gaps they
//! leave inside it. Pure: the recordings and the range are arguments.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use crate::coverage::Gap;
use crate::span::Span;

/// From `from` up to (not including) `to`, local time as the recorder writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Range {
    /// The range, when `from` comes before `to`.
    pub fn new(from: NaiveDateTime, to: NaiveDateTime) -> Option<Range> {
        (from < to).then_some(Range { from, to })
    }

    fn overlaps(&self, s: &Span) -> bool {
        s.start < self.to && s.end > self.from
    }
}

/// What an export takes: the recordings that overlap the range, by start; the
/// stretches of it none covers, longer than the tolerance; and how many of the
/// camera's recordings on the range's days have no known times (never taken).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub files: Vec<(PathBuf, Span)>,
    pub gaps: Vec<Gap>,
    pub undated: usize,
}

/// One of the camera's recordings: its path, and its span when known.
pub type Candidate<'a> = (&'a Path, Option<Span>, chrono::NaiveDate);

/// The selection for `range` among one camera's recordings.
pub fn select<'a>(recordings: impl IntoIterator<Item = Candidate<'a>>, range: Range, tolerance_secs: i64) -> Selection {
    let (first_day, last_day) = (range.from.date(), range.to.date());
    let mut out = Selection::default();
    for (path, span, day) in recordings {
        match span {
            Some(s) if range.overlaps(&s) => out.files.push((path.to_path_buf(), s)),
            None if (first_day..=last_day).contains(&day) => out.undated += 1,
            _ => {}
        }
    }
    out.files.sort_by(|a, b| (a.1.start, &a.0).cmp(&(b.1.start, &b.0)));
    out.gaps = gaps(out.files.iter().map(|(_, s)| *s), range, tolerance_secs);
    out
}

/// The stretches of `range` that no span (in start order) covers, longer than
/// `tolerance_secs`.
fn gaps(spans: impl Iterator<Item = Span>, range: Range, tolerance_secs: i64) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut covered = range.from;
    let mut note = |from: NaiveDateTime, to: NaiveDateTime| {
        if (to - from).num_seconds() > tolerance_secs {
            out.push(Gap { from, to });
        }
    };
    for s in spans {
        if s.start > covered {
            note(covered, s.start.min(range.to));
        }
        covered = covered.max(s.end);
    }
    if covered < range.to {
        note(covered, range.to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn span(from: (u32, u32), to: (u32, u32)) -> Option<Span> {
        Some(Span {
            start: at(from.0, from.1),
            end: at(to.0, to.1),
        })
    }

    fn day() -> NaiveDate {
        at(0, 0).date()
    }

    #[test]
    fn a_range_inside_one_recording_takes_it_whole_with_no_gap() {
        let r = Range::new(at(14, 0), at(14, 30)).unwrap();
        let s = select([(Path::new("a.dav"), span((14, 0), (15, 0)), day())], r, 60);
        assert_eq!(s.files.len(), 1);
        assert!(s.gaps.is_empty());
    }

    #[test]
    fn only_overlapping_recordings_are_taken_in_start_order() {
        let r = Range::new(at(14, 0), at(16, 0)).unwrap();
        let recs = [
            (Path::new("c.dav"), span((15, 0), (16, 0)), day()),
            (Path::new("before.dav"), span((13, 0), (14, 0)), day()),
            (Path::new("b.dav"), span((14, 0), (15, 0)), day()),
            (Path::new("after.dav"), span((16, 0), (17, 0)), day()),
        ];
        let s = select(recs, r, 60);
        let names: Vec<_> = s.files.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(names, ["b.dav", "c.dav"]);
        assert!(s.gaps.is_empty());
    }

    #[test]
    fn gaps_at_the_start_middle_and_end_are_listed_and_short_ones_forgiven() {
        let r = Range::new(at(10, 0), at(14, 0)).unwrap();
        let recs = [
            (Path::new("a.dav"), span((10, 30), (11, 0)), day()),
            (Path::new("b.dav"), span((11, 1), (12, 0)), day()),
            (Path::new("c.dav"), span((12, 30), (13, 0)), day()),
        ];
        let s = select(recs, r, 60);
        let gaps: Vec<_> = s.gaps.iter().map(|g| (g.from, g.to)).collect();
        assert_eq!(
            gaps,
            [(at(10, 0), at(10, 30)), (at(12, 0), at(12, 30)), (at(13, 0), at(14, 0))]
        );
    }

    #[test]
    fn no_recording_is_one_gap_over_the_whole_range() {
        let r = Range::new(at(10, 0), at(11, 0)).unwrap();
        let s = select([], r, 60);
        assert_eq!(
            s.gaps,
            [Gap {
                from: at(10, 0),
                to: at(11, 0)
            }]
        );
    }

    #[test]
    fn overlapping_recordings_leave_no_false_gap() {
        let r = Range::new(at(10, 0), at(12, 0)).unwrap();
        let recs = [
            (Path::new("long.dav"), span((9, 0), (11, 30)), day()),
            (Path::new("inner.dav"), span((10, 0), (10, 10)), day()),
            (Path::new("last.dav"), span((11, 30), (12, 0)), day()),
        ];
        assert!(select(recs, r, 0).gaps.is_empty());
    }

    #[test]
    fn recordings_without_times_on_the_days_are_counted_never_taken() {
        let r = Range::new(at(10, 0), at(11, 0)).unwrap();
        let other_day = day().succ_opt().unwrap().succ_opt().unwrap();
        let recs = [(Path::new("x.dav"), None, day()), (Path::new("y.dav"), None, other_day)];
        let s = select(recs, r, 60);
        assert_eq!((s.files.len(), s.undated), (0, 1));
    }

    #[test]
    fn a_range_must_run_forwards() {
        assert!(Range::new(at(11, 0), at(10, 0)).is_none());
        assert!(Range::new(at(10, 0), at(10, 0)).is_none());
    }
}
