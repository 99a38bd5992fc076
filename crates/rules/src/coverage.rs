//! Coverage: which seconds of each camera-day the backup holds, the gaps, and the
//! verdict (docs/report.md, "What counts as covered"). Pure: the recordings and `today`
//! are arguments; `report`, `status` and `coverage.json` all give this one answer.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::span::Span;

/// Where a recording is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// In the backup under its final name.
    Backup,
    /// In the backup, still being copied as it grows.
    Copying,
    /// Only in the source: not yet backed up. Counted apart, never as coverage.
    SourceOnly,
}

/// One recording, as coverage sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Shared by the pieces of one camera (a site has tens of thousands).
    pub camera: std::sync::Arc<str>,
    /// Its times; None when neither its name nor its frames give them.
    pub span: Option<Span>,
    /// The day its folders (or its scan) give it: where it is counted without a span.
    pub date: NaiveDate,
    pub bytes: u64,
    /// R, M, A or I, when its name says.
    pub kind: Option<char>,
    pub held: Held,
    /// Whether the offsite bucket holds it (a final backup copy); None without one.
    pub offsite: Option<bool>,
}

/// A stretch no recording covers, from `from` up to (not including) `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Gap {
    pub fn secs(&self) -> i64 {
        (self.to - self.from).num_seconds()
    }
}

/// One camera's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub covered_secs: i64,
    pub expected_secs: i64,
    /// The gaps longer than the tolerance, clipped to this day.
    pub gaps: Vec<Gap>,
    /// Recordings starting this day, in the backup (final or being copied).
    pub recordings: u32,
    pub bytes: u64,
    /// Of those, copies still being made of growing recordings.
    pub copying: u32,
    /// Recordings of this day whose times could not be read.
    pub unknown_times: u32,
    /// Recordings of this day only in the source.
    pub source_only: u32,
    /// Recordings by type (R, M, A, I; `?` when the name gives none).
    pub types: BTreeMap<char, u32>,
    /// Of the final backup copies, how many the offsite bucket holds; None without one.
    pub offsite: Option<u32>,
    /// Wholly before the camera's first recording: nothing expected, not in the verdict.
    pub before_first: bool,
}

impl Day {
    /// No gap: every expected second is covered, within the tolerance.
    pub fn complete(&self) -> bool {
        self.gaps.is_empty()
    }
}

/// One camera over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camera {
    pub camera: String,
    /// Where its history begins in the range: its first recording, or the range's start.
    pub since: NaiveDateTime,
    pub days: Vec<Day>,
}

/// The answer on the whole range.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    /// True only when every camera covers every day of its history in the range.
    pub complete: bool,
    pub cameras: usize,
    /// The camera-days of history (days wholly before a camera's first recording left out).
    pub camera_days: usize,
    pub complete_camera_days: usize,
    /// Gaps longer than the tolerance; one across midnight counts once.
    pub gaps: usize,
    /// Their seconds.
    pub missing_secs: i64,
    /// Recordings of the range whose times could not be read.
    pub unknown_times: u32,
    /// Recordings of the range only in the source (not yet backed up).
    pub source_only: u32,
    /// When every camera's history will fill the range (the day its first day is whole
    /// in it); None when it does already.
    #[serde(default)]
    pub history_full_on: Option<NaiveDate>,
}

/// The coverage of `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The newest instant any camera has reached in either tree, if any recording has times.
    pub newest: Option<NaiveDateTime>,
    pub tolerance_secs: i64,
    pub cameras: Vec<Camera>,
    pub verdict: Verdict,
}

/// The coverage of the days `from..=to` by `pieces`, with today `today`.
pub fn coverage(pieces: &[Piece], from: NaiveDate, to: NaiveDate, today: NaiveDate, tolerance_secs: i64) -> Coverage {
    let mut tally = Tally::new(from, to, today, tolerance_secs);
    for p in pieces {
        tally.add(p.clone());
    }
    tally.finish()
}

/// Coverage gathered one recording at a time, so that a listing of a hundred thousand
/// recordings is never copied whole: per camera, its spans and its days' counts.
pub struct Tally {
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    tolerance_secs: i64,
    newest: Option<NaiveDateTime>,
    cameras: Vec<Gathered>,
    /// Index of each camera in `cameras`.
    index: std::collections::HashMap<std::sync::Arc<str>, usize>,
    /// The last piece's camera: pieces come folder by folder.
    last: Option<(std::sync::Arc<str>, usize)>,
}

/// One camera's share of a tally.
struct Gathered {
    name: std::sync::Arc<str>,
    /// Its backup recordings' spans, in the order they came.
    spans: Vec<Span>,
    /// Per day of the range, the counts (an empty day until its first recording).
    days: Vec<Day>,
    /// Whether any of its recordings is in the range.
    seen: bool,
    /// Where its first recording, in either tree, begins.
    first: Option<NaiveDateTime>,
}

impl Tally {
    pub fn new(from: NaiveDate, to: NaiveDate, today: NaiveDate, tolerance_secs: i64) -> Tally {
        Tally {
            from,
            to,
            today,
            tolerance_secs,
            newest: None,
            cameras: Vec::new(),
            index: std::collections::HashMap::new(),
            last: None,
        }
    }

    /// Takes one recording in.
    pub fn add(&mut self, p: Piece) {
        let (from, to) = (self.from, self.to);
        if let Some(s) = p.span {
            self.newest = self.newest.max(Some(s.end));
        }
        let at = self.camera_of(&p.camera);
        let cam = &mut self.cameras[at];
        let start = p.span.map_or_else(|| midnight(p.date), |s| s.start);
        cam.first = Some(cam.first.map_or(start, |f| f.min(start)));
        if p.held != Held::SourceOnly {
            cam.spans.extend(p.span);
        }
        let day = p.span.map_or(p.date, |s| s.start.date());
        if (from..=to).contains(&day) {
            cam.seen = true;
            let i = (day - from).num_days() as usize;
            if cam.days.len() <= i {
                let len = (to - from).num_days() as usize + 1;
                let mut d = from.iter_days();
                cam.days.resize_with(len, || empty_day(d.next().unwrap_or(to)));
            }
            count(&mut cam.days[i], &p);
        }
    }

    fn camera_of(&mut self, name: &std::sync::Arc<str>) -> usize {
        if let Some((last, at)) = &self.last {
            if std::sync::Arc::ptr_eq(last, name) || **last == **name {
                return *at;
            }
        }
        let next = self.cameras.len();
        let at = *self.index.entry(name.clone()).or_insert(next);
        if at == next {
            self.cameras.push(Gathered {
                name: name.clone(),
                spans: Vec::new(),
                days: Vec::new(),
                seen: false,
                first: None,
            });
        }
        self.last = Some((name.clone(), at));
        at
    }

    /// The coverage of what was taken in.
    pub fn finish(self) -> Coverage {
        let ends = DayEnds {
            today: self.today,
            newest: self.newest,
        };
        let (from, to, tolerance) = (self.from, self.to, self.tolerance_secs);
        let mut gathered: Vec<Gathered> = self.cameras.into_iter().filter(|c| c.seen).collect();
        gathered.sort_by(|a, b| a.name.cmp(&b.name));
        let cameras: Vec<Camera> = gathered
            .into_iter()
            .map(|c| camera(c, from, to, ends, tolerance))
            .collect();
        let verdict = verdict(&cameras, from, to);
        Coverage {
            from,
            to,
            newest: self.newest,
            tolerance_secs: tolerance,
            cameras,
            verdict,
        }
    }
}

fn empty_day(date: NaiveDate) -> Day {
    Day {
        date,
        covered_secs: 0,
        expected_secs: 0,
        gaps: Vec::new(),
        recordings: 0,
        bytes: 0,
        copying: 0,
        unknown_times: 0,
        source_only: 0,
        types: BTreeMap::new(),
        offsite: None,
        before_first: false,
    }
}

/// Where each day's expected seconds end.
#[derive(Debug, Clone, Copy)]
struct DayEnds {
    today: NaiveDate,
    newest: Option<NaiveDateTime>,
}

impl DayEnds {
    /// The end of what `date` is expected to hold: its midnight, or for today (and
    /// later) the newest instant reached, within the day.
    fn of(&self, date: NaiveDate) -> NaiveDateTime {
        let (start, end) = (midnight(date), next_midnight(date));
        if date < self.today {
            return end;
        }
        self.newest.map_or(start, |n| n.clamp(start, end))
    }
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_time(chrono::NaiveTime::MIN)
}

fn next_midnight(d: NaiveDate) -> NaiveDateTime {
    midnight(d.checked_add_days(Days::new(1)).unwrap_or(d))
}

fn camera(c: Gathered, from: NaiveDate, to: NaiveDate, ends: DayEnds, tolerance: i64) -> Camera {
    let since = c.first.map_or(midnight(from), |f| f.max(midnight(from)));
    let covered = merged(c.spans);
    let gaps = gaps(&covered, since, ends.of(to), tolerance);
    let mut counted = c.days.into_iter();
    let days = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|date| {
            let start = midnight(date).max(since);
            let end = ends.of(date).max(start);
            let mut day = counted.next().unwrap_or_else(|| empty_day(date));
            day.covered_secs = covered.iter().map(|s| overlap(s, start, end)).sum();
            day.expected_secs = (end - start).num_seconds();
            day.before_first = next_midnight(date) <= since;
            day.gaps = gaps
                .iter()
                .filter_map(|g| clip(g, start, next_midnight(date)))
                .collect();
            day
        })
        .collect();
    Camera {
        camera: c.name.to_string(),
        since,
        days,
    }
}

/// Adds one recording to its day's counts.
fn count(day: &mut Day, p: &Piece) {
    if p.held == Held::SourceOnly {
        day.source_only += 1;
        return;
    }
    day.recordings += 1;
    day.bytes += p.bytes;
    day.copying += u32::from(p.held == Held::Copying);
    day.unknown_times += u32::from(p.span.is_none());
    *day.types.entry(p.kind.unwrap_or('?')).or_default() += 1;
    if let Some(there) = p.offsite {
        *day.offsite.get_or_insert(0) += u32::from(there);
    }
}

/// The backup's spans of one camera, sorted and merged where they touch or overlap.
fn merged(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| s.start);
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// The stretches of `start..end` that `covered` (sorted, disjoint) leaves, longer than
/// `tolerance` seconds.
fn gaps(covered: &[Span], start: NaiveDateTime, end: NaiveDateTime, tolerance: i64) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut at = start;
    for s in covered.iter().chain(std::iter::once(&Span { start: end, end })) {
        let to = s.start.min(end);
        if to > at && (to - at).num_seconds() > tolerance {
            out.push(Gap { from: at, to });
        }
        at = at.max(s.end);
        if at >= end {
            break;
        }
    }
    out
}

fn overlap(s: &Span, start: NaiveDateTime, end: NaiveDateTime) -> i64 {
    let (a, b) = (s.start.max(start), s.end.min(end));
    (b - a).num_seconds().max(0)
}

fn clip(g: &Gap, start: NaiveDateTime, end: NaiveDateTime) -> Option<Gap> {
    let (from, to) = (g.from.max(start), g.to.min(end));
    (to > from).then_some(Gap { from, to })
}

fn verdict(cameras: &[Camera], from: NaiveDate, to: NaiveDate) -> Verdict {
    let days = || cameras.iter().flat_map(|c| c.days.iter()).filter(|d| !d.before_first);
    let mut v = Verdict {
        cameras: cameras.len(),
        camera_days: days().count(),
        complete_camera_days: days().filter(|d| d.complete()).count(),
        unknown_times: days().map(|d| d.unknown_times).sum(),
        source_only: days().map(|d| d.source_only).sum(),
        ..Verdict::default()
    };
    for c in cameras {
        // A gap across midnight is shown in both days; it counts once.
        let mut last: Option<NaiveDateTime> = None;
        for g in c.days.iter().flat_map(|d| d.gaps.iter()) {
            v.missing_secs += g.secs();
            if last != Some(g.from) {
                v.gaps += 1;
            }
            last = Some(g.to);
        }
    }
    v.complete = v.cameras > 0 && v.complete_camera_days == v.camera_days;
    let latest = cameras.iter().map(|c| c.since).max();
    v.history_full_on = latest.and_then(|since| full_on(since, from, to));
    v
}

/// The day a history that began at `since` fills a range as long as `from..=to`: the
/// last day of the first such range whose first day `since` covers whole. None when
/// this range is full already.
fn full_on(since: NaiveDateTime, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
    if since <= midnight(from) {
        return None;
    }
    let length = (to - from).num_days() + 1;
    let last_second = since + chrono::TimeDelta::days(length) - chrono::TimeDelta::seconds(1);
    Some(last_second.date())
}

/// Seconds as `3 d 04 h`, `1 h 05 min`, `4 min 10 s`, `12 s`.
pub fn human_secs(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h >= 48 {
        return format!("{} d {:02} h", h / 24, h % 24);
    }
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s:02} s"),
        _ => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn piece(camera: &str, from: &str, to: &str) -> Piece {
        let span = Span {
            start: at(from),
            end: at(to),
        };
        Piece {
            camera: camera.into(),
            span: Some(span),
            date: span.start.date(),
            bytes: 10,
            kind: Some('R'),
            held: Held::Backup,
            offsite: None,
        }
    }

    /// Hourly segments of `camera` from `first` for `hours` hours, skipping `skip`.
    fn hours(camera: &str, first: &str, hours: i64, skip: &[i64]) -> Vec<Piece> {
        (0..hours)
            .filter(|h| !skip.contains(h))
            .map(|h| {
                let s = at(first) + TimeDelta::hours(h);
                let mut p = piece(camera, "2000-01-01 00:00:00", "2000-01-01 00:00:01");
                p.span = Some(Span {
                    start: s,
                    end: s + TimeDelta::hours(1),
                });
                p.date = s.date();
                p
            })
            .collect()
    }

    fn gap(a: &str, b: &str) -> Gap {
        Gap { from: at(a), to: at(b) }
    }

    #[test]
    fn whole_days_are_complete_and_today_is_expected_up_to_the_newest_instant() {
        let mut p = hours("ch01", "2026-11-26 00:00:00", 24 + 10, &[]);
        p.extend(hours("ch02", "2026-11-26 00:00:00", 24 + 9, &[]));
        let c = coverage(&p, d("2026-11-26"), d("2026-11-27"), d("2026-11-27"), 60);
        assert_eq!(c.newest, Some(at("2026-11-27 10:00:00")));
        let ch01 = &c.cameras[0];
        assert_eq!(ch01.days[0].covered_secs, 86_400);
        assert_eq!(ch01.days[0].expected_secs, 86_400);
        assert_eq!(ch01.days[1].expected_secs, 10 * 3600);
        assert!(ch01.days.iter().all(Day::complete));
        // ch02 stopped an hour before ch01: its last hour is a gap.
        assert_eq!(
            c.cameras[1].days[1].gaps,
            vec![gap("2026-11-27 09:00:00", "2026-11-27 10:00:00")]
        );
        assert_eq!(c.verdict.gaps, 1);
        assert_eq!(c.verdict.missing_secs, 3600);
        assert_eq!((c.verdict.camera_days, c.verdict.complete_camera_days), (4, 3));
        assert!(!c.verdict.complete);
    }

    #[test]
    fn planted_gaps_are_found_exactly_and_short_ones_forgiven() {
        let mut p = hours("ch01", "2026-11-26 00:00:00", 24, &[3, 4]);
        // Ends 10 minutes early, and a 30-second hole (forgiven).
        let last = p.last_mut().unwrap();
        last.span.as_mut().unwrap().end -= TimeDelta::minutes(10);
        p[0].span.as_mut().unwrap().end -= TimeDelta::seconds(30);
        let c = coverage(&p, d("2026-11-26"), d("2026-11-26"), d("2026-11-27"), 60);
        let day = &c.cameras[0].days[0];
        assert_eq!(
            day.gaps,
            vec![
                gap("2026-11-26 03:00:00", "2026-11-26 05:00:00"),
                gap("2026-11-26 23:50:00", "2026-11-27 00:00:00")
            ]
        );
        assert_eq!(day.covered_secs, 86_400 - 2 * 3600 - 600 - 30);
        assert_eq!(c.verdict.missing_secs, 2 * 3600 + 600);
    }

    #[test]
    fn a_gap_across_midnight_is_shown_in_both_days_and_counted_once() {
        let p = vec![
            piece("ch01", "2026-11-25 00:00:00", "2026-11-25 23:00:00"),
            piece("ch01", "2026-11-26 01:00:00", "2026-11-27 00:00:00"),
            piece("ch01", "2026-11-26 23:59:00", "2026-11-27 00:00:30"),
        ];
        let c = coverage(&p, d("2026-11-25"), d("2026-11-26"), d("2026-11-30"), 60);
        let days = &c.cameras[0].days;
        assert_eq!(days[0].gaps, vec![gap("2026-11-25 23:00:00", "2026-11-26 00:00:00")]);
        assert_eq!(days[1].gaps, vec![gap("2026-11-26 00:00:00", "2026-11-26 01:00:00")]);
        assert_eq!((c.verdict.gaps, c.verdict.missing_secs), (1, 7200));
        assert_eq!(
            days[1].covered_secs,
            23 * 3600,
            "the part after midnight is the next day's"
        );
    }

    #[test]
    fn a_day_without_recordings_is_one_whole_gap_and_unknown_times_are_counted() {
        let mut p = hours("ch01", "2026-11-24 00:00:00", 24, &[]);
        let mut odd = piece("ch01", "2026-11-25 00:00:00", "2026-11-25 00:00:01");
        odd.span = None;
        odd.kind = None;
        p.push(odd);
        let mut waiting = piece("ch01", "2026-11-24 05:00:00", "2026-11-24 06:00:00");
        waiting.held = Held::SourceOnly;
        p.push(waiting);
        let c = coverage(&p, d("2026-11-24"), d("2026-11-25"), d("2026-11-30"), 60);
        let days = &c.cameras[0].days;
        assert_eq!(days[1].gaps, vec![gap("2026-11-25 00:00:00", "2026-11-26 00:00:00")]);
        assert_eq!(days[1].unknown_times, 1);
        assert_eq!(days[1].types.get(&'?'), Some(&1));
        assert_eq!(days[0].source_only, 1);
        assert_eq!(days[0].recordings, 24);
        assert_eq!((c.verdict.unknown_times, c.verdict.source_only), (1, 1));
    }

    #[test]
    fn days_before_the_first_recording_are_not_expected_and_the_verdict_says_when_the_window_is_full() {
        // A site installed three days ago at 08:00, under a 31-day range, one gap planted.
        let p = hours("ch01", "2026-11-25 08:00:00", 24 * 2 + 16 + 5, &[30]);
        let c = coverage(&p, d("2026-10-28"), d("2026-11-27"), d("2026-11-28"), 60);
        let cam = &c.cameras[0];
        assert_eq!(cam.since, at("2026-11-25 08:00:00"));
        assert!(cam.days[..28].iter().all(|d| d.before_first && d.expected_secs == 0));
        assert!(cam.days[28..].iter().all(|d| !d.before_first));
        assert_eq!(
            cam.days[28].expected_secs,
            16 * 3600,
            "expected from the first recording"
        );
        assert_eq!(c.verdict.gaps, 1);
        assert_eq!(c.verdict.missing_secs, 3600);
        assert_eq!((c.verdict.camera_days, c.verdict.complete_camera_days), (3, 2));
        assert_eq!(c.verdict.history_full_on, Some(d("2026-12-26")));
    }

    #[test]
    fn a_camera_added_yesterday_is_complete_from_its_first_recording() {
        let mut p = hours("ch01", "2026-11-20 00:00:00", 24 * 8 + 10, &[]);
        p.extend(hours("ch02", "2026-11-27 14:00:00", 20, &[]));
        let c = coverage(&p, d("2026-11-20"), d("2026-11-28"), d("2026-11-28"), 60);
        assert!(c.verdict.complete, "{:?}", c.verdict);
        assert_eq!(c.cameras[1].days.iter().filter(|d| d.before_first).count(), 7);
        assert_eq!(c.verdict.camera_days, 9 + 2);
        assert_eq!(c.verdict.history_full_on, Some(d("2026-12-06")));
    }

    #[test]
    fn a_camera_silent_for_two_days_shows_its_silence_as_a_gap() {
        let mut p = hours("ch01", "2026-11-20 00:00:00", 24 * 8 + 10, &[]);
        p.extend(hours("ch02", "2026-11-20 00:00:00", 24 * 6 + 10, &[]));
        let c = coverage(&p, d("2026-11-20"), d("2026-11-28"), d("2026-11-28"), 60);
        assert_eq!(
            c.cameras[1].days[8].gaps,
            vec![gap("2026-11-28 00:00:00", "2026-11-28 10:00:00")]
        );
        assert_eq!(c.verdict.gaps, 1);
        assert_eq!(c.verdict.missing_secs, 2 * 86_400);
        assert_eq!(c.verdict.history_full_on, None);
    }

    #[test]
    fn a_recording_only_in_the_source_starts_history_and_is_a_gap_until_copied() {
        let mut waiting = piece("ch01", "2026-11-27 06:00:00", "2026-11-27 07:00:00");
        waiting.held = Held::SourceOnly;
        let p = vec![waiting, piece("ch01", "2026-11-27 07:00:00", "2026-11-27 08:00:00")];
        let c = coverage(&p, d("2026-11-26"), d("2026-11-27"), d("2026-11-27"), 60);
        assert_eq!(c.cameras[0].since, at("2026-11-27 06:00:00"));
        assert_eq!(
            c.cameras[0].days[1].gaps,
            vec![gap("2026-11-27 06:00:00", "2026-11-27 07:00:00")]
        );
    }

    #[test]
    fn nothing_is_not_complete() {
        let c = coverage(&[], d("2026-11-24"), d("2026-11-25"), d("2026-11-25"), 60);
        assert!(!c.verdict.complete);
        assert_eq!(c.verdict.cameras, 0);
    }

    #[test]
    fn seconds_read_as_people_say_them() {
        assert_eq!(human_secs(12), "12 s");
        assert_eq!(human_secs(250), "4 min 10 s");
        assert_eq!(human_secs(3900), "1 h 05 min");
        assert_eq!(human_secs(4_842_000), "56 d 01 h");
    }

    #[test]
    fn a_day_counts_its_copies_in_the_offsite_bucket_only_with_a_bucket() {
        let mut there = piece("ch01", "2026-11-25 00:00:00", "2026-11-25 01:00:00");
        there.offsite = Some(true);
        let mut not = piece("ch01", "2026-11-25 01:00:00", "2026-11-25 02:00:00");
        not.offsite = Some(false);
        let c = coverage(&[there, not], d("2026-11-25"), d("2026-11-25"), d("2026-11-26"), 60);
        assert_eq!(c.cameras[0].days[0].offsite, Some(1));
        let plain = piece("ch01", "2026-11-25 00:00:00", "2026-11-25 01:00:00");
        let c = coverage(&[plain], d("2026-11-25"), d("2026-11-25"), d("2026-11-26"), 60);
        assert_eq!(c.cameras[0].days[0].offsite, None, "no bucket, no count");
    }
}
