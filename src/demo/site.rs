//! The demo site's past: the one-hour segments each camera recorded from the first of
//! the last `days` days (today included) up to the start of the current hour, and the
//! gaps planted among them. Pure: `now` is an argument, and the same `now` always gives
//! the same site.
//!
//! Three gaps are planted, each on its own camera when there are enough (`ch02`, `ch03`,
//! `ch04`; with fewer cameras they share): an hour with no recording, a recording that
//! ends 10 minutes early, and a camera offline for two hours. Each sits at a fixed share
//! of the hours (a quarter, a half, three quarters in), moved later until it fits: never
//! the first or the last hour (so the camera recorded before and after it), never across
//! midnight, never touching another gap of the same camera.

use std::path::PathBuf;

use chrono::{Days, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use serde::Serialize;

/// How long a past segment is.
pub const HOUR_SECS: i64 = 3600;
/// How much earlier than the hour the short recording ends.
pub const EARLY_SECS: i64 = 600;

/// One recording: `camera` (1-based) from `start` to `last`, both seconds included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub camera: u32,
    pub start: NaiveDateTime,
    pub last: NaiveDateTime,
}

impl Segment {
    /// Where it ends (not included): the second after `last`.
    pub fn end(&self) -> NaiveDateTime {
        self.last + TimeDelta::seconds(1)
    }

    /// Its path under the source folder.
    pub fn rel(&self) -> PathBuf {
        rel_path(self.camera, self.start, self.last)
    }
}

/// `ch01`, `ch02`, …
pub fn camera_name(camera: u32) -> String {
    format!("ch{camera:02}")
}

/// `YYYY/MM/DD/chNN/HH.MM.SS-HH.MM.SS[R][0@0][0].dav`, with `/` on every OS (for what
/// is printed); `rel_path` is the same as a path.
pub fn rel_text(camera: u32, start: NaiveDateTime, last: NaiveDateTime) -> String {
    format!(
        "{}/{}/{}-{}[R][0@0][0].dav",
        start.format("%Y/%m/%d"),
        camera_name(camera),
        start.format("%H.%M.%S"),
        last.format("%H.%M.%S")
    )
}

/// `rel_text` as a path.
pub fn rel_path(camera: u32, start: NaiveDateTime, last: NaiveDateTime) -> PathBuf {
    rel_text(camera, start, last).split('/').collect()
}

/// The kinds of planted gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapKind {
    /// One hour with no recording.
    MissingHour,
    /// A recording that stops `EARLY_SECS` before its hour ends.
    EndsEarly,
    /// Two hours in a row with no recording.
    Offline,
}

impl GapKind {
    const ALL: [GapKind; 3] = [GapKind::MissingHour, GapKind::EndsEarly, GapKind::Offline];

    /// How many hour slots it takes.
    fn slots(self) -> usize {
        match self {
            GapKind::Offline => 2,
            _ => 1,
        }
    }

    /// In words, for the console.
    pub fn describe(self) -> &'static str {
        match self {
            GapKind::MissingHour => "an hour with no recording",
            GapKind::EndsEarly => "a recording that ends 10 minutes early",
            GapKind::Offline => "the camera offline for two hours",
        }
    }
}

/// A planted gap: `camera` recorded nothing from `from` up to (not including) `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlantedGap {
    pub camera: u32,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub kind: GapKind,
}

impl PlantedGap {
    pub fn secs(&self) -> i64 {
        (self.to - self.from).num_seconds()
    }
}

/// The whole past of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Camera by camera, in time order.
    pub segments: Vec<Segment>,
    pub gaps: Vec<PlantedGap>,
    /// The first day's midnight.
    pub from: NaiveDateTime,
    /// The start of `now`'s hour: where the past ends.
    pub until: NaiveDateTime,
}

/// A planted gap's place: its camera, its first hour slot and its kind.
#[derive(Debug, Clone, Copy)]
struct GapSlot {
    camera: u32,
    slot: usize,
    kind: GapKind,
}

/// The site for `cameras` cameras over the last `days` days (today included) as of
/// `now`.
pub fn plan(now: NaiveDateTime, cameras: u32, days: u32) -> Site {
    let until = hour_start(now);
    let back = Days::new(u64::from(days.saturating_sub(1)));
    let first_day = now.date().checked_sub_days(back).unwrap_or(now.date());
    let from = first_day.and_time(NaiveTime::MIN);
    let mut slots = Vec::new();
    let mut t = from;
    while t < until {
        slots.push(t);
        t += TimeDelta::seconds(HOUR_SECS);
    }
    let places = place_gaps(&slots, cameras);
    let mut segments = Vec::new();
    for camera in 1..=cameras {
        for (i, &start) in slots.iter().enumerate() {
            let here = places
                .iter()
                .find(|p| p.camera == camera && (p.slot..p.slot + p.kind.slots()).contains(&i));
            let length = match here.map(|p| p.kind) {
                Some(GapKind::MissingHour | GapKind::Offline) => continue,
                Some(GapKind::EndsEarly) => HOUR_SECS - EARLY_SECS,
                None => HOUR_SECS,
            };
            let last = start + TimeDelta::seconds(length - 1);
            segments.push(Segment { camera, start, last });
        }
    }
    let gaps = places.iter().map(|p| gap_of(p, &slots)).collect();
    Site {
        segments,
        gaps,
        from,
        until,
    }
}

/// Where each kind of gap goes among `slots` (see the module's doc); a kind that fits
/// nowhere is left out.
fn place_gaps(slots: &[NaiveDateTime], cameras: u32) -> Vec<GapSlot> {
    let n = slots.len();
    let mut places: Vec<GapSlot> = Vec::new();
    for (k, &kind) in GapKind::ALL.iter().enumerate() {
        let camera = (k as u32 + 1) % cameras.max(1) + 1;
        let len = kind.slots();
        let fits = |s: usize| {
            s >= 1
                && s + len < n
                && slots[s].date() == slots[s + len - 1].date()
                && places
                    .iter()
                    .filter(|p| p.camera == camera)
                    .all(|p| s + len < p.slot || p.slot + p.kind.slots() < s)
        };
        if let Some(slot) = (n * (k + 1) / 4..n).find(|&s| fits(s)) {
            places.push(GapSlot { camera, slot, kind });
        }
    }
    places
}

/// The stretch a placed gap leaves uncovered.
fn gap_of(p: &GapSlot, slots: &[NaiveDateTime]) -> PlantedGap {
    let start = slots[p.slot];
    let hour_end = start + TimeDelta::seconds(HOUR_SECS * p.kind.slots() as i64);
    let from = match p.kind {
        GapKind::EndsEarly => hour_end - TimeDelta::seconds(EARLY_SECS),
        _ => start,
    };
    PlantedGap {
        camera: p.camera,
        from,
        to: hour_end,
        kind: p.kind,
    }
}

/// The start of `t`'s hour.
pub fn hour_start(t: NaiveDateTime) -> NaiveDateTime {
    let hour = NaiveTime::from_hms_opt(t.hour(), 0, 0).unwrap_or(NaiveTime::MIN);
    t.date().and_time(hour)
}

/// One planted gap as `planted-gaps.json` holds it.
#[derive(Debug, Serialize)]
struct Planted {
    camera: String,
    from: String,
    to: String,
    secs: i64,
}

/// `planted-gaps.json`: the gaps in local naive times (`%Y-%m-%dT%H:%M:%S`).
pub fn planted_json(gaps: &[PlantedGap]) -> String {
    let fmt = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let planted: Vec<Planted> = gaps
        .iter()
        .map(|g| Planted {
            camera: camera_name(g.camera),
            from: fmt(g.from),
            to: fmt(g.to),
            secs: g.secs(),
        })
        .collect();
    serde_json::to_string_pretty(&planted).unwrap_or_else(|_| "[]".into()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::span::from_name;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// Each camera's uncovered stretches longer than 60 s, from the first midnight to
    /// `until`, as a coverage report would find them.
    fn uncovered(site: &Site, cameras: u32) -> Vec<(u32, NaiveDateTime, NaiveDateTime)> {
        let mut found = Vec::new();
        for camera in 1..=cameras {
            let mut at = site.from;
            for s in site.segments.iter().filter(|s| s.camera == camera) {
                if (s.start - at).num_seconds() > 60 {
                    found.push((camera, at, s.start));
                }
                at = at.max(s.end());
            }
            if (site.until - at).num_seconds() > 60 {
                found.push((camera, at, site.until));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn the_past_is_whole_hours_up_to_the_current_one() {
        let site = plan(at("2026-11-29 14:23:45"), 4, 3);
        assert_eq!(site.from, at("2026-11-27 00:00:00"));
        assert_eq!(site.until, at("2026-11-29 14:00:00"));
        let hours = 24 * 2 + 14;
        assert_eq!(site.segments.len(), 4 * hours - 3, "one hour and two hours missing");
        let first = site.segments[0];
        assert_eq!(
            first.rel(),
            PathBuf::from("2026/11/27/ch01/00.00.00-00.59.59[R][0@0][0].dav")
        );
        for s in &site.segments {
            let span = from_name(&s.rel()).unwrap();
            assert_eq!((span.start, span.end), (s.start, s.end()));
            assert!(s.end() <= site.until);
        }
    }

    #[test]
    fn the_planted_gaps_are_the_only_gaps() {
        for (now, cameras, days) in [
            ("2026-11-29 14:23:45", 4, 3),
            ("2026-11-29 00:10:00", 1, 3),
            ("2026-11-29 23:59:59", 2, 1),
            ("2026-03-01 05:00:00", 3, 2),
            ("2026-11-29 20:00:00", 64, 400),
        ] {
            let site = plan(at(now), cameras, days);
            let mut planted: Vec<_> = site.gaps.iter().map(|g| (g.camera, g.from, g.to)).collect();
            planted.sort();
            assert_eq!(
                uncovered(&site, cameras),
                planted,
                "{now}, {cameras} cameras, {days} days"
            );
            assert_eq!(site.gaps.len(), 3, "{now}, {cameras} cameras, {days} days");
            for g in &site.gaps {
                assert!(g.secs() > 60 && g.from.date() == (g.to - TimeDelta::seconds(1)).date());
                assert!(g.from > site.from && g.to < site.until);
            }
        }
    }

    #[test]
    fn the_gaps_spread_over_cameras_and_kinds() {
        let site = plan(at("2026-11-29 14:23:45"), 4, 3);
        let found: Vec<_> = site.gaps.iter().map(|g| (camera_name(g.camera), g.secs())).collect();
        let want = [("ch02", 3600), ("ch03", 600), ("ch04", 7200)];
        assert_eq!(found, want.map(|(c, s)| (c.to_string(), s)));
        assert_eq!(site.gaps[0].from, at("2026-11-27 15:00:00"));
        assert_eq!(site.gaps[1].from, at("2026-11-28 07:50:00"));
        let json: serde_json::Value = serde_json::from_str(&planted_json(&site.gaps)).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({"camera": "ch02", "from": "2026-11-27T15:00:00", "to": "2026-11-27T16:00:00", "secs": 3600})
        );
    }

    #[test]
    fn too_few_hours_plant_what_fits() {
        let site = plan(at("2026-11-29 00:30:00"), 4, 1);
        assert!(site.segments.is_empty() && site.gaps.is_empty());
        let site = plan(at("2026-11-29 03:30:00"), 1, 1);
        assert_eq!(site.gaps.len(), 1, "only the missing hour fits in 00:00–03:00");
        assert_eq!(uncovered(&site, 1).len(), 1);
    }
}
