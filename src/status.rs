//! `log_dir/status.json`: the daemon's state for monitoring tools, replaced atomically
//! (write a temporary, fsync, rename) so a reader never sees half a file. Also carries
//! alerts across runs, so `since` tells when a condition first appeared even under
//! `--once`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use crate::activity::Live;
use crate::alert::{AlertKind, Raised};
use crate::volume::Disk;

pub const FILE_NAME: &str = "status.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub updated_at: DateTime<Local>,
    /// "once" or "daemon".
    pub mode: String,
    /// "running" between passes of a daemon, "stopped" after it exits, "finished" after `--once`.
    pub state: String,
    pub version: String,
    pub pid: u32,
    pub backup_available: bool,
    pub disk: Option<Disk>,
    pub last_pass: Option<PassSummary>,
    /// The alerts active after the last pass.
    pub alerts: Vec<Alert>,
    /// The daemon's live state; null for `--once`.
    #[serde(default)]
    pub daemon: Option<Live>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PassSummary {
    pub started_at: Option<DateTime<Local>>,
    pub finished_at: Option<DateTime<Local>>,
    pub log_file: Option<PathBuf>,
    /// Source recordings inside the retention window.
    pub scanned: usize,
    /// New finished copies.
    pub copied: usize,
    /// Finished copies that got the new bytes of a grown recording.
    pub updated: usize,
    /// In-progress copies started or brought up to date (recordings being written).
    #[serde(default)]
    pub following: usize,
    /// In-progress copies completed and given their final name.
    #[serde(default)]
    pub completed: usize,
    pub bytes_copied: u64,
    pub up_to_date: usize,
    pub deleted: usize,
    pub errors: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub message: String,
    pub since: DateTime<Local>,
}

/// The alerts now active: one per kind raised by this pass (several of a kind are
/// summed up in one message), keeping `since` of a kind that was already active.
pub fn merge(previous: &[Alert], raised: &[Raised], now: DateTime<Local>) -> Vec<Alert> {
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
            Alert { kind, message, since }
        })
        .collect()
}

pub fn read(log_dir: &Path) -> Option<Status> {
    let text = fs::read_to_string(log_dir.join(FILE_NAME)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Between the alerts active before a pass and after it: those that appeared (raised)
/// and those that went away (cleared), by kind.
pub fn changes(before: &[Alert], after: &[Alert]) -> (Vec<Alert>, Vec<Alert>) {
    let has = |list: &[Alert], a: &Alert| list.iter().any(|b| b.kind == a.kind);
    let raised = after.iter().filter(|a| !has(before, a)).cloned().collect();
    let cleared = before.iter().filter(|a| !has(after, a)).cloned().collect();
    (raised, cleared)
}

pub fn write(log_dir: &Path, status: &Status) -> io::Result<()> {
    let tmp = log_dir.join(".status.json.tmp");
    let mut f = fs::File::create(&tmp)?;
    serde_json::to_writer_pretty(&mut f, status)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, log_dir.join(FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_what_appeared_and_went() {
        let t = Local::now();
        let a = |kind| Alert {
            kind,
            message: String::new(),
            since: t,
        };
        let before = [a(AlertKind::CopyErrors), a(AlertKind::LowDiskSpace)];
        let after = [a(AlertKind::LowDiskSpace), a(AlertKind::SourceWipe)];
        let (raised, cleared) = changes(&before, &after);
        assert_eq!(raised, vec![a(AlertKind::SourceWipe)]);
        assert_eq!(cleared, vec![a(AlertKind::CopyErrors)]);
    }

    #[test]
    fn merge_keeps_since_and_folds_repeats() {
        let t0: DateTime<Local> = "2026-11-20T10:00:00-03:00".parse().unwrap();
        let t1: DateTime<Local> = "2026-11-26T10:00:00-03:00".parse().unwrap();
        let prev = vec![Alert {
            kind: AlertKind::LowDiskSpace,
            message: "old".into(),
            since: t0,
        }];
        let raised = vec![
            Raised::new(AlertKind::SourceShrunk, "a"),
            Raised::new(AlertKind::LowDiskSpace, "disk"),
            Raised::new(AlertKind::SourceShrunk, "b"),
        ];
        let got = merge(&prev, &raised, t1);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].kind, got[0].since), (AlertKind::SourceShrunk, t1));
        assert_eq!(got[0].message, "a (and 1 more like it)");
        assert_eq!(
            (got[1].kind, got[1].since, got[1].message.as_str()),
            (AlertKind::LowDiskSpace, t0, "disk")
        );
        assert!(
            merge(&prev, &[], t1).is_empty(),
            "a condition that is gone clears its alert"
        );
    }
}
