//! The daily summary (`daily_summary_at`): what happened since the last one (passes,
//! copies of the passes and the watcher, deletions, errors), the last pass, the active
//! alerts, the free space and the offsite uploads, sent once a local day by the first
//! pass at or after that time. Its counters are kept in `log_dir/summary.json`, so `--once` runs add up too.
//! `due` and `text` are pure.

use std::path::Path;

use chrono::{DateTime, Local, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use report::activity::Totals;
use report::status::{OffsiteStatus, PassSummary};
use rules::alert::Alert;
use store::volume::{self, Disk};

pub const FILE_NAME: &str = "summary.json";

/// Counts since the last summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub since: Option<DateTime<Local>>,
    pub last_sent: Option<NaiveDate>,
    pub passes: u64,
    pub copied: u64,
    pub updated: u64,
    pub deleted: u64,
    pub errors: u64,
    pub bytes_copied: u64,
}

impl Counts {
    /// Adds one pass: its deletions, and the copy jobs (`moved`) since the last pass.
    pub fn add(&mut self, pass: &PassSummary, moved: &Totals, now: DateTime<Local>) {
        self.since.get_or_insert(now);
        self.passes += 1;
        self.deleted += pass.deleted as u64;
        self.copied += moved.copied + moved.completed;
        self.updated += moved.updated + moved.followed;
        self.errors += moved.errors;
        self.bytes_copied += moved.bytes_copied;
    }
}

/// The copy jobs between two readings of the totals since start.
pub fn moved(now: &Totals, before: &Totals) -> Totals {
    Totals {
        copied: now.copied.saturating_sub(before.copied),
        updated: now.updated.saturating_sub(before.updated),
        followed: now.followed.saturating_sub(before.followed),
        completed: now.completed.saturating_sub(before.completed),
        bytes_copied: now.bytes_copied.saturating_sub(before.bytes_copied),
        errors: now.errors.saturating_sub(before.errors),
        deleted: now.deleted.saturating_sub(before.deleted),
    }
}

/// True when the summary of `now`'s day is due and not yet sent.
pub fn due(now: DateTime<Local>, at: NaiveTime, last_sent: Option<NaiveDate>) -> bool {
    now.time() >= at && last_sent.is_none_or(|d| d < now.date_naive())
}

/// The summary's words.
pub fn text(c: &Counts, last: Option<&PassSummary>, alerts: &[Alert], disk: Option<&Disk>) -> String {
    let since = c
        .since
        .map_or("start".into(), |s| s.format("%Y-%m-%d %H:%M").to_string());
    let last = last
        .and_then(|p| p.finished_at)
        .map_or("none yet".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
    let kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    let alerts = if kinds.is_empty() {
        "none".to_string()
    } else {
        kinds.join(", ")
    };
    let free = disk.map_or("unknown".into(), |d| {
        format!("{} ({:.1}%)", volume::human(d.free_bytes), d.free_percent)
    });
    format!(
        "Since {since}: {} passes, {} recordings copied, {} updated, {} deleted by retention, {} errors, {} copied in all. \
         Last pass: {last}. Active alerts: {alerts}. Backup disk free: {free}.",
        c.passes,
        c.copied,
        c.updated,
        c.deleted,
        c.errors,
        volume::human(c.bytes_copied)
    )
}

/// The offsite tier's sentence of the summary.
pub fn offsite(o: &OffsiteStatus) -> String {
    let waiting = match o.pending_files {
        0 => "nothing waiting".to_string(),
        n => format!("{n} recordings waiting, the oldest {} h old", o.lag_secs / 3600),
    };
    let why = o.reason.as_ref().map_or(String::new(), |r| format!(" ({r})"));
    format!(
        " Offsite: {}{why}, {waiting}, {} uploaded since the daemon started.",
        o.state, o.uploaded_files
    )
}

pub fn load(log_dir: &Path) -> Counts {
    std::fs::read_to_string(log_dir.join(FILE_NAME))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn save(log_dir: &Path, c: &Counts) -> std::io::Result<()> {
    report::json_file::replace(log_dir, FILE_NAME, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Local> {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_local_timezone(Local)
            .unwrap()
    }

    #[test]
    fn once_a_day_at_or_after_the_time() {
        let t = NaiveTime::from_hms_opt(7, 30, 0).unwrap();
        let day = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert!(!due(at("2026-11-27 07:29"), t, day("2026-11-26")));
        assert!(due(at("2026-11-27 07:30"), t, day("2026-11-26")));
        assert!(due(at("2026-11-27 23:00"), t, None));
        assert!(!due(at("2026-11-27 09:00"), t, day("2026-11-27")), "sent already today");
    }

    #[test]
    fn the_text_says_what_happened() {
        let mut c = Counts::default();
        let moved = Totals {
            copied: 3,
            bytes_copied: 3 << 20,
            ..Default::default()
        };
        let pass = PassSummary {
            deleted: 2,
            ..Default::default()
        };
        c.add(&pass, &moved, at("2026-11-26 07:30"));
        let t = text(&c, None, &[], None);
        assert!(
            t.starts_with("Since 2026-11-26 07:30: 1 passes, 3 recordings copied, 0 updated, 2 deleted"),
            "{t}"
        );
        assert!(
            t.contains("3.0 MiB copied in all") && t.contains("Active alerts: none"),
            "{t}"
        );
    }

    #[test]
    fn the_offsite_sentence_says_what_waits_and_why() {
        let o = OffsiteStatus {
            state: rules::run::OffsiteState::Unavailable,
            reason: Some("access denied".into()),
            pending_files: 12,
            lag_secs: 7 * 3600 + 5,
            uploaded_files: 300,
            ..Default::default()
        };
        assert_eq!(
            offsite(&o),
            " Offsite: unavailable (access denied), 12 recordings waiting, the oldest 7 h old, 300 uploaded since the daemon started."
        );
    }
}
