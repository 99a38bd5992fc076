//! The one owner of an alert's life: pure, taking `now`. After each pass, `step` turns
//! the alerts active before it and the ones the pass raised into the alerts active now
//! and the events to announce: `raised` once when a kind appears, `cleared` once when a
//! pass no longer raises it, `reminder` every `remind` while it lasts. Every alert is
//! per pass: a pass that does not raise a kind clears it.

use std::time::Duration;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use super::kind::{AlertKind, Raised};

/// An active alert: what, since when, and when it was last announced as a reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub message: String,
    pub since: DateTime<Local>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Local>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Raised,
    Cleared,
    Reminder,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Raised => "raised",
            Change::Cleared => "cleared",
            Change::Reminder => "reminder",
        }
    }
}

/// Something to announce about one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub change: Change,
    pub alert: Alert,
    pub at: DateTime<Local>,
}

/// The alerts active after a pass that raised `raised`, and the events to announce.
pub fn step(
    previous: &[Alert],
    raised: &[Raised],
    now: DateTime<Local>,
    remind: Option<Duration>,
) -> (Vec<Alert>, Vec<Event>) {
    let mut active = merge(previous, raised, now);
    let mut events = Vec::new();
    for a in active.iter_mut() {
        let Some(before) = previous.iter().find(|p| p.kind == a.kind) else {
            events.push(Event {
                change: Change::Raised,
                alert: a.clone(),
                at: now,
            });
            continue;
        };
        a.reminded_at = before.reminded_at;
        let last = before.reminded_at.unwrap_or(before.since);
        let due = remind.is_some_and(|r| (now - last).to_std().is_ok_and(|waited| waited >= r));
        if due {
            a.reminded_at = Some(now);
            events.push(Event {
                change: Change::Reminder,
                alert: a.clone(),
                at: now,
            });
        }
    }
    for p in previous.iter().filter(|p| !active.iter().any(|a| a.kind == p.kind)) {
        events.push(Event {
            change: Change::Cleared,
            alert: p.clone(),
            at: now,
        });
    }
    (active, events)
}

/// One alert per kind raised (several of a kind summed up in one message), keeping
/// `since` of a kind that was already active.
fn merge(previous: &[Alert], raised: &[Raised], now: DateTime<Local>) -> Vec<Alert> {
    let mut kinds: Vec<AlertKind> = raised.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&Raised> = raised.iter().filter(|r| r.kind == kind).collect();
            let mut message = of_kind[0].message.clone();
            if of_kind.len() > 1 {
                message.push_str(&format!(" (and {} more like it)", of_kind.len() - 1));
            }
            let since = previous.iter().find(|a| a.kind == kind).map_or(now, |a| a.since);
            Alert {
                kind,
                message,
                since,
                reminded_at: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Local> {
        Local.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap() + chrono::Duration::hours(h.into())
    }

    fn raise(kind: AlertKind) -> Raised {
        Raised::new(kind, format!("{kind} happened"))
    }

    fn changes(events: &[Event]) -> Vec<(Change, AlertKind)> {
        events.iter().map(|e| (e.change, e.alert.kind)).collect()
    }

    #[test]
    fn raised_once_reminded_then_cleared_once() {
        let day = Some(Duration::from_secs(24 * 3600));
        let wipe = [raise(AlertKind::SourceWipe)];
        let (a, e) = step(&[], &wipe, at(0), day);
        assert_eq!(changes(&e), [(Change::Raised, AlertKind::SourceWipe)]);
        let (a, e) = step(&a, &wipe, at(1), day);
        assert!(e.is_empty(), "not announced twice: {e:?}");
        let (a, e) = step(&a, &wipe, at(24), day);
        assert_eq!(changes(&e), [(Change::Reminder, AlertKind::SourceWipe)]);
        let (a, e) = step(&a, &wipe, at(30), day);
        assert!(e.is_empty(), "the next reminder counts from the last one");
        let (a, e) = step(&a, &wipe, at(48), day);
        assert_eq!(changes(&e), [(Change::Reminder, AlertKind::SourceWipe)]);
        assert_eq!(a[0].since, at(0));
        let (a, e) = step(&a, &[], at(49), day);
        assert_eq!(changes(&e), [(Change::Cleared, AlertKind::SourceWipe)]);
        assert!(a.is_empty());
        let (_, e) = step(&a, &[], at(50), day);
        assert!(e.is_empty(), "cleared once");
    }

    #[test]
    fn no_reminders_without_remind_and_kinds_are_separate() {
        let (a, _) = step(&[], &[raise(AlertKind::CopyErrors)], at(0), None);
        let (a, e) = step(
            &a,
            &[raise(AlertKind::CopyErrors), raise(AlertKind::LowDiskSpace)],
            at(100),
            None,
        );
        assert_eq!(changes(&e), [(Change::Raised, AlertKind::LowDiskSpace)]);
        let (_, e) = step(&a, &[raise(AlertKind::LowDiskSpace)], at(101), None);
        assert_eq!(changes(&e), [(Change::Cleared, AlertKind::CopyErrors)]);
    }

    #[test]
    fn a_clock_that_went_back_reminds_nothing() {
        let day = Some(Duration::from_secs(24 * 3600));
        let (a, _) = step(&[], &[raise(AlertKind::ClockSuspect)], at(48), day);
        let (_, e) = step(&a, &[raise(AlertKind::ClockSuspect)], at(0), day);
        assert!(e.is_empty());
    }

    #[test]
    fn several_of_a_kind_are_one_alert() {
        let (a, e) = step(
            &[],
            &[raise(AlertKind::SourceShrunk), raise(AlertKind::SourceShrunk)],
            at(0),
            None,
        );
        assert_eq!(e.len(), 1);
        assert!(a[0].message.ends_with("(and 1 more like it)"));
    }
}
