//! When live recordings start and end. Pure: the times are arguments.
//!
//! A live segment ends on the next multiple of `--segment-secs` counted from midnight
//! (`14.03.00-14.03.59` for 60 s), and always at midnight, so each day has its own
//! folder. Before the live recording starts, the stretch from the end of the written
//! past (the start of the hour it was written in) to the first live second is filled by
//! finished recordings cut at each hour (`catch_up`), so a live demo has no gap of its
//! own.

use chrono::{NaiveDateTime, NaiveTime, TimeDelta};

use crate::demo::site::{hour_start, HOUR_SECS};

const DAY_SECS: i64 = 86_400;

/// Where a live segment starting at `start` ends (not included).
pub fn segment_end(start: NaiveDateTime, segment_secs: u64) -> NaiveDateTime {
    let secs = segment_secs.clamp(1, DAY_SECS as u64) as i64;
    let midnight = start.date().and_time(NaiveTime::MIN);
    let into = (start - midnight).num_seconds();
    let next = ((into / secs + 1) * secs).min(DAY_SECS);
    midnight + TimeDelta::seconds(next)
}

/// The recordings from `from` up to (not including) `to`, cut at each hour: each as
/// its first and last second.
pub fn catch_up(from: NaiveDateTime, to: NaiveDateTime) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut pieces = Vec::new();
    let mut start = from;
    while start < to {
        let end = (hour_start(start) + TimeDelta::seconds(HOUR_SECS)).min(to);
        pieces.push((start, end - TimeDelta::seconds(1)));
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn segments_end_on_their_multiples_and_at_midnight() {
        let end = |s: &str, secs| segment_end(at(s), secs);
        assert_eq!(end("2026-11-29 14:03:00", 60), at("2026-11-29 14:04:00"));
        assert_eq!(end("2026-11-29 14:03:27", 60), at("2026-11-29 14:04:00"));
        assert_eq!(end("2026-11-29 14:03:27", 2), at("2026-11-29 14:03:28"));
        assert_eq!(end("2026-11-29 14:03:28", 2), at("2026-11-29 14:03:30"));
        assert_eq!(end("2026-11-29 23:59:30", 3600), at("2026-11-30 00:00:00"));
        assert_eq!(end("2026-11-29 23:59:59", 7), at("2026-11-30 00:00:00"));
        assert_eq!(end("2026-11-29 10:00:00", 0), at("2026-11-29 10:00:01"));
    }

    #[test]
    fn catching_up_cuts_at_each_hour() {
        assert_eq!(
            catch_up(at("2026-11-29 13:00:00"), at("2026-11-29 14:23:11")),
            vec![
                (at("2026-11-29 13:00:00"), at("2026-11-29 13:59:59")),
                (at("2026-11-29 14:00:00"), at("2026-11-29 14:23:10")),
            ]
        );
        assert_eq!(
            catch_up(at("2026-11-29 14:00:00"), at("2026-11-29 14:00:01")),
            vec![(at("2026-11-29 14:00:00"), at("2026-11-29 14:00:00"))]
        );
        assert!(catch_up(at("2026-11-29 14:00:00"), at("2026-11-29 14:00:00")).is_empty());
        assert!(catch_up(at("2026-11-29 14:00:00"), at("2026-11-29 13:00:00")).is_empty());
    }
}
