//! Pruning of old pass logs: `log_dir/YYYY/MM/DD/HH-MM-SS.log` files older than
//! `log_retention_days`, and the day, month and year folders that leaves empty. Nothing
//! else in `log_dir` is touched (status.json, the backup marker's record, an operator's
//! own files), links are never followed, and it runs once a day (`log_dir/logs-pruned`
//! holds the date of the last run), also under `run --once`. `plan` is pure and counts
//! its days back from the earlier of today and the newest earlier log day, so a clock
//! that jumps ahead does not erase the history.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};

use store::emptied::remove_emptied;

/// In `log_dir`: the local date pruning last ran, one line.
pub const STAMP: &str = "logs-pruned";

/// One day folder of pass logs as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDay {
    pub date: NaiveDate,
    /// The pass log names in it (`HH-MM-SS.log`); other files are not listed.
    pub logs: Vec<String>,
}

/// One pass log to delete, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruning {
    pub rel: PathBuf,
    pub reason: String,
}

/// The pass logs to delete: those of days before `reference − keep_days`, where the
/// reference is today or, when earlier, the day after the newest earlier log day (a
/// clock jumped ahead sees a long gap, not old logs). `keep_days` 0 keeps all.
pub fn plan(days: &[LogDay], today: NaiveDate, keep_days: u32) -> Vec<Pruning> {
    if keep_days == 0 {
        return Vec::new();
    }
    let newest_before = days.iter().map(|d| d.date).filter(|d| *d < today).max();
    // The day after the newest earlier log: today when logs were written yesterday.
    let reference = newest_before.and_then(|n| n.succ_opt()).map_or(today, |n| n.min(today));
    let Some(cutoff) = reference.checked_sub_days(Days::new(keep_days.into())) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for day in days.iter().filter(|d| d.date < cutoff) {
        for name in &day.logs {
            out.push(Pruning {
                rel: day_folder(day.date).join(name),
                reason: format!(
                    "pass log of {}, before {cutoff} ({keep_days} days before {reference})",
                    day.date
                ),
            });
        }
    }
    out
}

/// `YYYY/MM/DD` of a date.
fn day_folder(d: NaiveDate) -> PathBuf {
    PathBuf::from(d.format("%Y/%m/%d").to_string())
}

/// True for a pass log's name, `HH-MM-SS.log`.
pub fn is_pass_log(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 12
        && name.ends_with(".log")
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
        && b[2] == b'-'
        && b[5] == b'-'
}

/// What a pruning run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: usize,
    pub folders_removed: usize,
    pub errors: Vec<(PathBuf, String)>,
}

/// Prunes `log_dir` unless it was already pruned on `today`; None when it was.
pub fn once_a_day(log_dir: &Path, today: NaiveDate, keep_days: u32) -> Option<Pruned> {
    let stamp = log_dir.join(STAMP);
    let last = fs::read_to_string(&stamp).ok();
    if last.as_deref().map(str::trim) == Some(&today.to_string()) {
        return None;
    }
    let plan = plan(&list(log_dir), today, keep_days);
    let done = apply(log_dir, &plan);
    for (p, d) in plan.iter().zip(0..) {
        if d < 3 {
            tracing::debug!(path = %p.rel.display(), reason = %p.reason, "pruned pass log");
        }
    }
    if let Err(e) = fs::write(&stamp, format!("{today}\n")) {
        tracing::warn!("cannot record the pruning in {}: {e}", stamp.display());
    }
    Some(done)
}

/// The `YYYY/MM/DD` folders under `log_dir` (real folders only, never through a link)
/// with their pass logs.
pub fn list(log_dir: &Path) -> Vec<LogDay> {
    let mut out = Vec::new();
    for (y, year) in numbered_dirs(log_dir, 4) {
        for (m, month) in numbered_dirs(&year, 2) {
            for (d, day) in numbered_dirs(&month, 2) {
                let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
                    continue;
                };
                let mut logs: Vec<String> = fs::read_dir(&day)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| is_pass_log(n))
                    .collect();
                logs.sort();
                out.push(LogDay { date, logs });
            }
        }
    }
    out
}

/// Subfolders of `dir` named by `width` digits, with their number; links are skipped.
fn numbered_dirs(dir: &Path, width: usize) -> Vec<(u32, PathBuf)> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let ok = name.len() == width && name.bytes().all(|b| b.is_ascii_digit());
            Some((name.parse().ok().filter(|_| ok)?, e.path()))
        })
        .collect()
}

/// Deletes the planned logs, then the folders they leave empty (`store::emptied`).
pub fn apply(log_dir: &Path, plan: &[Pruning]) -> Pruned {
    let mut out = Pruned::default();
    let mut deleted = Vec::new();
    for p in plan {
        let path = log_dir.join(&p.rel);
        let is_file = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        match is_file.then(|| fs::remove_file(&path)) {
            Some(Ok(())) => deleted.push(p.rel.as_path()),
            Some(Err(e)) => out.errors.push((p.rel.clone(), e.to_string())),
            None => out
                .errors
                .push((p.rel.clone(), "not a regular file; left alone".into())),
        }
    }
    out.deleted = deleted.len();
    out.folders_removed = remove_emptied(log_dir, deleted, |_| true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn days(dates: &[&str]) -> Vec<LogDay> {
        dates
            .iter()
            .map(|d| LogDay {
                date: day(d),
                logs: vec!["10-00-00.log".into()],
            })
            .collect()
    }

    #[test]
    fn names() {
        assert!(is_pass_log("23-59-59.log"));
        assert!(!is_pass_log("23-59-59.log.txt"));
        assert!(!is_pass_log("notes.log"));
        assert!(!is_pass_log("2-59-59.log"));
    }

    #[test]
    fn keeps_the_last_keep_days() {
        let l = days(&["2026-08-28", "2026-08-29", "2026-11-26", "2026-11-27"]);
        let p = plan(&l, day("2026-11-27"), 90);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].rel, PathBuf::from("2026/08/28/10-00-00.log"));
        assert!(plan(&l, day("2026-11-27"), 0).is_empty(), "0 keeps everything");
    }

    #[test]
    fn a_clock_jumped_ahead_prunes_nothing_recent() {
        let l = days(&["2026-08-01", "2026-11-26", "2028-01-01"]);
        let p = plan(&l, day("2028-01-01"), 90);
        let rels: Vec<_> = p.iter().map(|p| p.rel.clone()).collect();
        assert_eq!(rels, vec![PathBuf::from("2026/08/01/10-00-00.log")], "{p:?}");
    }
}
