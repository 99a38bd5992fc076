//! When the daemon verifies a slice of the backup: once a calendar day, from
//! `SCRUB_FROM_HOUR` on (the quiet of the night when the daemon runs then; the first
//! pass after it otherwise), the slice of that day (`Slice::of_night`), so
//! `scrub_days` days in a row read the whole backup. Pure: `now` is an argument.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::slice::Slice;

/// The hour of the day from which a day's verification may start.
pub const SCRUB_FROM_HOUR: u32 = 1;

/// The slice to verify now, if one is due.
pub fn due(now: NaiveDateTime, last_night: Option<NaiveDate>, scrub_days: u32) -> Option<Slice> {
    let today = now.date();
    if scrub_days == 0 || now.hour() < SCRUB_FROM_HOUR || last_night.is_some_and(|d| d >= today) {
        return None;
    }
    Some(Slice::of_night(today, scrub_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn once_a_day_after_the_hour_and_never_when_off() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28);
        let yesterday = NaiveDate::from_ymd_opt(2026, 11, 27);
        assert_eq!(due(at("2026-11-28 00:30:00"), yesterday, 7), None, "before the hour");
        let s = due(at("2026-11-28 01:00:00"), yesterday, 7).unwrap();
        assert_eq!((s.of, s), (7, Slice::of_night(day.unwrap(), 7)));
        assert_eq!(due(at("2026-11-28 13:00:00"), day, 7), None, "done today");
        assert!(due(at("2026-11-28 13:00:00"), None, 7).is_some());
        assert_eq!(due(at("2026-11-28 13:00:00"), None, 0), None, "off");
    }
}
