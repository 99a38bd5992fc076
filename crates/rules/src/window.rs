//! The days the backup must hold, one rule for the pass, the watcher, retention and
//! `check`: recordings dated on or after `cutoff = reference - retention_days`, where
//! `reference` is the EARLIER of today and the newest recording present. A clock that
//! jumps ahead moves neither the window nor retention's cutoff past real recordings.
//! Pure: `today` and the listings are arguments.

use chrono::{Days, NaiveDate};

use crate::listing::Listing;

/// The days the backup must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub today: NaiveDate,
    /// The newest recording's day, when there is one.
    pub newest: Option<NaiveDate>,
    /// The day retention counts back from: min(today, newest recording).
    pub reference: NaiveDate,
    /// The oldest day kept; recordings dated before it are outside the window.
    pub cutoff: NaiveDate,
}

impl Window {
    pub fn new(today: NaiveDate, retention_days: u32, newest: Option<NaiveDate>) -> Window {
        let reference = newest.map_or(today, |n| n.min(today));
        let cutoff = reference
            .checked_sub_days(Days::new(retention_days.into()))
            .unwrap_or(NaiveDate::MIN);
        Window {
            today,
            newest,
            reference,
            cutoff,
        }
    }

    /// The window for these listings: the newest recording of either tree counts.
    pub fn of(today: NaiveDate, retention_days: u32, listings: &[&Listing]) -> Window {
        let newest = listings
            .iter()
            .flat_map(|l| l.recordings.values().chain(l.in_progress.values().map(|p| &p.rec)))
            .map(|r| r.date)
            .max();
        Window::new(today, retention_days, newest)
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        date >= self.cutoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn window_counts_back_from_earlier_of_today_and_newest() {
        let w = Window::new(day("2026-11-26"), 31, Some(day("2026-11-26")));
        assert_eq!(w.cutoff, day("2026-10-26"));
        // Clock a year ahead: the newest recording anchors the window.
        let w = Window::new(day("2027-12-31"), 31, Some(day("2026-11-26")));
        assert_eq!((w.reference, w.cutoff), (day("2026-11-26"), day("2026-10-26")));
        // Clock behind the recordings: today anchors it, so less is deleted, not more.
        let w = Window::new(day("2026-01-01"), 31, Some(day("2026-11-26")));
        assert_eq!(w.reference, day("2026-01-01"));
        assert!(w.contains(day("2026-11-26")));
        assert_eq!(Window::new(day("2026-11-26"), 1, None).cutoff, day("2026-11-25"));
    }
}
