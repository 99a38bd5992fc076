//! Decides, from the two trees' listings and `now`, what a pass copies and alerts on,
//! each with a reason. Pure, so every rule is tested on made-up listings and any `now`.
//! A source named `NAME.dav_` or changed within `quiet` is still being recorded: its copy
//! grows as `NAME.partial`. What is inside the window is `rules::window`'s to say.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::alert::{AlertKind, Raised};
use crate::fit;
use crate::listing::{FileMeta, Listing, Recording};
use crate::names;
use crate::stage::Stage;
use crate::window::Window;

/// Below this many recent backup recordings, a missing share proves nothing.
pub const WIPE_MIN_RECENT: usize = 4;

/// Why a file is to be synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyJob {
    /// The source file, as it is named now.
    pub rel: PathBuf,
    pub stage: Stage,
    pub reason: String,
    /// The source's size when planned.
    pub bytes: u64,
    /// The source's modification time when planned: when a finished recording ended.
    pub ended: std::time::SystemTime,
}

/// What a pass will do about copies.
#[derive(Debug, Default)]
pub struct CopyPlan {
    pub jobs: Vec<CopyJob>,
    /// Source recordings inside the window.
    pub in_window: usize,
    /// Source recordings dated before the window, left alone.
    pub too_old: usize,
    /// Source recordings whose backup is already current.
    pub up_to_date: usize,
    /// Source recordings still being recorded (as named now), for the watcher to follow.
    pub recording: Vec<PathBuf>,
    pub alerts: Vec<Raised>,
}

/// How far in the future a file's time may be and still say "written a moment ago":
/// a clock set back by up to a day. Farther is a clock that is wrong, not a recent
/// write; its distance then counts as age, so a pass can finish the file.
pub const FUTURE_GRACE: Duration = Duration::from_secs(24 * 3600);

/// True when a source with this name and `meta` is still being recorded at `now`. A
/// time ahead of `now` (up to `FUTURE_GRACE`) gives no age: the clock went back since
/// the last write, which may have been a moment ago.
pub fn still_recording(named_in_progress: bool, meta: &FileMeta, now: SystemTime, quiet: Duration) -> bool {
    let age = match now.duration_since(meta.mtime) {
        Ok(age) => age,
        Err(ahead) if ahead.duration() <= FUTURE_GRACE => Duration::ZERO,
        Err(ahead) => ahead.duration(),
    };
    named_in_progress || age < quiet
}

/// Plans the copies: every source recording of the window whose backup is missing or
/// differs in size or time, finished or still recording (see the module text). Nothing
/// here ever plans a deletion: sources that vanished only feed the `source_wipe` rule.
pub fn plan_copies(source: &Listing, backup: &Listing, window: &Window, now: SystemTime, quiet: Duration) -> CopyPlan {
    let mut plan = CopyPlan::default();
    let mut future = Vec::new();
    let kept = kept_versions(backup);
    // Both listings are in path order: their recordings are paired by walking them side
    // by side, not by a search per file.
    let mut cursor = backup.recordings.iter().peekable();
    let finished = source.recordings.iter().map(|(rel, r)| {
        while cursor.next_if(|(b, _)| *b < rel).is_some() {}
        let copy = cursor.next_if(|(b, _)| *b == rel).map(|(_, c)| c);
        let rel: &Path = rel;
        (rel, rel, r, false, copy)
    });
    // A recorder's in-progress name beside the finished one is a leftover; the
    // finished one counts.
    let unfinished = source
        .in_progress
        .iter()
        .filter(|(key, _)| !source.recordings.contains_key(key.as_path()))
        .map(|(key, p)| {
            let copy = backup.recordings.get(key.as_path());
            (key.as_path(), p.rel.as_path(), &p.rec, true, copy)
        });
    for (key, rel, src, named_in_progress, copy) in finished.chain(unfinished) {
        if !window.contains(src.date) {
            plan.too_old += 1;
            continue;
        }
        plan.in_window += 1;
        if src.date > window.today {
            future.push(rel);
        }
        let recording = still_recording(named_in_progress, &src.meta, now, quiet);
        if recording {
            plan.recording.push(rel.to_path_buf());
        }
        match backup_state(key, src, recording, copy, backup, &kept) {
            None => plan.up_to_date += 1,
            Some(reason) => plan.jobs.push(CopyJob {
                rel: rel.to_path_buf(),
                stage: if recording { Stage::Recording } else { Stage::Finished },
                reason,
                bytes: src.meta.size,
                ended: src.meta.mtime,
            }),
        }
    }
    future.extend(
        backup
            .recordings
            .iter()
            .filter(|(_, r)| r.date > window.today)
            .map(|(p, _)| -> &Path { p }),
    );
    if let Some(first) = future.first() {
        plan.alerts.push(Raised::new(
            AlertKind::ClockSuspect,
            format!(
                "{} recording(s) are dated after today ({}), e.g. {}: check the clocks of this machine and of the recorder",
                future.len(),
                window.today,
                first.display()
            ),
        ));
    }
    plan.alerts.extend(wipe_alert(source, backup, window));
    plan
}

/// The versions kept beside their originals, by the original's path: one look at each
/// backup name, instead of probing every recording for names that are almost never there.
fn kept_versions(backup: &Listing) -> HashMap<PathBuf, Vec<FileMeta>> {
    let mut kept: HashMap<PathBuf, Vec<FileMeta>> = HashMap::new();
    for (rel, r) in &backup.recordings {
        if let Some(original) = names::unkept(rel) {
            kept.entry(original).or_default().push(r.meta);
        }
    }
    kept
}

/// None when the backup of the recording finally named `rel` (`copy`, or a version kept
/// beside it, or its in-progress copy while it is recording) is current; else the reason
/// to sync.
fn backup_state(
    rel: &Path,
    src: &Recording,
    recording: bool,
    copy: Option<&Recording>,
    backup: &Listing,
    kept: &HashMap<PathBuf, Vec<FileMeta>>,
) -> Option<String> {
    // A long name's kept versions are named after its key, its in-progress copy after
    // its `partial_key`.
    let key = fit::key_of(rel);
    if kept
        .get(key.as_ref())
        .is_some_and(|v| v.iter().any(|k| k.matches(&src.meta)))
    {
        return None;
    }
    if let Some(p) = backup
        .in_progress
        .get(names::partial_key(rel).as_ref())
        .filter(|_| copy.is_none())
    {
        let (have, want) = (p.rec.meta.size, src.meta.size);
        return match (recording, p.rec.meta.matches(&src.meta)) {
            (true, true) => None,
            (true, false) => Some(format!("recording: the in-progress copy has {have} of {want} bytes")),
            (false, _) => Some(format!(
                "finished: the in-progress copy ({have} of {want} bytes) is completed and takes its final name"
            )),
        };
    }
    let Some(b) = copy else {
        return Some(if recording {
            "recording, not in the backup yet".into()
        } else {
            "missing from the backup".into()
        });
    };
    if b.meta.matches(&src.meta) {
        return None;
    }
    Some(match src.meta.size.cmp(&b.meta.size) {
        std::cmp::Ordering::Greater => format!("source grew from {} to {} bytes", b.meta.size, src.meta.size),
        std::cmp::Ordering::Less => {
            format!(
                "source is shorter than its backup ({} < {} bytes)",
                src.meta.size, b.meta.size
            )
        }
        std::cmp::Ordering::Equal => "source has a new modification time".into(),
    })
}

/// The `source_wipe` rule. The recorder may recycle its own oldest days, so only the
/// two most recent days of the window are compared: when the backup holds at least
/// `WIPE_MIN_RECENT` recordings of those days and the source has lost more than half of
/// them, the source was wiped. A source with no recording at all in the window while
/// the backup has some is a wipe too.
pub fn wipe_alert(source: &Listing, backup: &Listing, window: &Window) -> Option<Raised> {
    let recent_from = window.reference.pred_opt().unwrap_or(window.reference);
    let mut recent = 0;
    let mut missing = 0;
    let mut backup_in_window = 0;
    for (rel, r) in &backup.recordings {
        if names::is_kept_beside(rel) || !window.contains(r.date) {
            continue;
        }
        backup_in_window += 1;
        if r.date >= recent_from && r.date <= window.reference {
            recent += 1;
            if !source.recordings.contains_key(rel) {
                missing += 1;
            }
        }
    }
    if recent >= WIPE_MIN_RECENT && missing * 2 > recent {
        return Some(Raised::new(
            AlertKind::SourceWipe,
            format!(
                "{missing} of the {recent} recordings of {recent_from}..{} in the backup are gone from the source; the backup keeps them",
                window.reference
            ),
        ));
    }
    let source_in_window = source.recordings.values().filter(|r| window.contains(r.date)).count();
    if source_in_window == 0 && backup_in_window > 0 {
        return Some(Raised::new(
            AlertKind::SourceWipe,
            format!(
                "the source holds no recording since {} while the backup holds {backup_in_window}; the backup keeps them",
                window.cutoff
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::InProgress;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const QUIET: Duration = Duration::from_secs(5);
    /// Long after every test recording's time: they are all finished.
    fn later() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    fn rec(date: &str, size: u64, t: u64) -> Recording {
        Recording {
            meta: FileMeta {
                size,
                mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(t),
            },
            date: day(date),
        }
    }

    fn listing(items: &[(&str, Recording)]) -> Listing {
        let mut l = Listing::default();
        for (p, r) in items {
            l.recordings.insert(Path::new(p).into(), *r);
        }
        l
    }

    #[test]
    fn copies_missing_and_grown_leaves_current_and_old() {
        let today = day("2026-11-26");
        let src = listing(&[
            ("2026/11/26/new.dav", rec("2026-11-26", 10, 100)),
            ("2026/11/26/grown.dav", rec("2026-11-26", 20, 200)),
            ("2026/11/25/same.dav", rec("2026-11-25", 30, 300)),
            ("2026/11/25/touched.dav", rec("2026-11-25", 30, 400)),
            ("2026/11/25/short.dav", rec("2026-11-25", 5, 300)),
            ("2026/09/01/old.dav", rec("2026-09-01", 1, 1)),
        ]);
        let bak = listing(&[
            ("2026/11/26/grown.dav", rec("2026-11-26", 10, 100)),
            ("2026/11/25/same.dav", rec("2026-11-25", 30, 301)),
            ("2026/11/25/touched.dav", rec("2026-11-25", 30, 300)),
            ("2026/11/25/short.dav", rec("2026-11-25", 50, 300)),
        ]);
        let w = Window::of(today, 31, &[&src, &bak]);
        let plan = plan_copies(&src, &bak, &w, later(), QUIET);
        let jobs: Vec<(&str, &str)> = plan
            .jobs
            .iter()
            .map(|j| (j.rel.to_str().unwrap(), j.reason.as_str()))
            .collect();
        assert_eq!(
            jobs,
            vec![
                (
                    "2026/11/25/short.dav",
                    "source is shorter than its backup (5 < 50 bytes)"
                ),
                ("2026/11/25/touched.dav", "source has a new modification time"),
                ("2026/11/26/grown.dav", "source grew from 10 to 20 bytes"),
                ("2026/11/26/new.dav", "missing from the backup"),
            ]
        );
        assert_eq!((plan.in_window, plan.too_old, plan.up_to_date), (5, 1, 1));
        assert!(plan.alerts.is_empty(), "{:?}", plan.alerts);
    }

    #[test]
    fn recordings_in_progress_go_to_their_in_progress_copy_until_finished() {
        let t = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let mut src = listing(&[
            ("d/growing.dav", rec("2026-11-26", 20, 1000)),
            ("d/new.dav", rec("2026-11-26", 5, 998)),
            ("d/done.dav", rec("2026-11-26", 30, 900)),
            ("d/same.dav", rec("2026-11-26", 8, 999)),
        ]);
        src.in_progress.insert(
            PathBuf::from("d/ch2.dav"),
            InProgress {
                rel: PathBuf::from("d/ch2.dav_"),
                rec: rec("2026-11-26", 7, 500),
            },
        );
        let mut bak = Listing::default();
        for (k, r) in [
            ("d/growing.dav", rec("2026-11-26", 10, 990)),
            ("d/done.dav", rec("2026-11-26", 25, 890)),
            ("d/same.dav", rec("2026-11-26", 8, 999)),
        ] {
            let rel = names::partial_of(Path::new(k));
            bak.in_progress.insert(PathBuf::from(k), InProgress { rel, rec: r });
        }
        let w = Window::new(day("2026-11-26"), 31, None);
        let plan = plan_copies(&src, &bak, &w, t(1001), QUIET);
        let jobs: Vec<(&str, Stage, &str)> = plan
            .jobs
            .iter()
            .map(|j| (j.rel.to_str().unwrap(), j.stage, j.reason.as_str()))
            .collect();
        assert_eq!(
            jobs,
            vec![
                (
                    "d/done.dav",
                    Stage::Finished,
                    "finished: the in-progress copy (25 of 30 bytes) is completed and takes its final name"
                ),
                (
                    "d/growing.dav",
                    Stage::Recording,
                    "recording: the in-progress copy has 10 of 20 bytes"
                ),
                ("d/new.dav", Stage::Recording, "recording, not in the backup yet"),
                ("d/ch2.dav_", Stage::Recording, "recording, not in the backup yet"),
            ]
        );
        assert_eq!(plan.up_to_date, 1, "same.dav's in-progress copy is current");
        let following: Vec<&str> = plan.recording.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(following, ["d/growing.dav", "d/new.dav", "d/same.dav", "d/ch2.dav_"]);
        // A file time up to a day ahead (the clock went back since the last write)
        // says nothing of its age: still recording. Farther is a wrong clock, which
        // does not keep a file "in progress" for ever.
        assert!(still_recording(false, &rec("2026-11-26", 1, 5000).meta, t(1000), QUIET));
        assert!(still_recording(false, &rec("2026-11-26", 1, 1002).meta, t(1000), QUIET));
        let two_days = 1000 + 2 * 86_400;
        assert!(!still_recording(
            false,
            &rec("2026-11-26", 1, two_days).meta,
            t(1000),
            QUIET
        ));
    }

    #[test]
    fn a_version_kept_beside_counts_as_current() {
        let src = listing(&[("d/a.dav", rec("2026-11-26", 9, 9))]);
        let bak = listing(&[
            ("d/a.dav", rec("2026-11-26", 5, 5)),
            ("d/a.changed-1.dav", rec("2026-11-26", 9, 9)),
        ]);
        let plan = plan_copies(&src, &bak, &Window::new(day("2026-11-26"), 31, None), later(), QUIET);
        assert!(plan.jobs.is_empty());
        assert!(plan.alerts.is_empty(), "{:?}", plan.alerts);
    }

    #[test]
    fn future_recordings_raise_clock_suspect_and_are_copied() {
        let src = listing(&[("2027/01/01/a.dav", rec("2027-01-01", 1, 1))]);
        let plan = plan_copies(
            &src,
            &Listing::default(),
            &Window::new(day("2026-11-26"), 31, None),
            later(),
            QUIET,
        );
        assert_eq!(plan.jobs.len(), 1);
        assert_eq!(plan.alerts[0].kind, AlertKind::ClockSuspect);
    }

    #[test]
    fn wipe_rule() {
        let today = day("2026-11-26");
        let names: Vec<String> = (0..10).map(|i| format!("2026/11/26/{i}.dav")).collect();
        let full: Vec<(&str, Recording)> = names.iter().map(|n| (n.as_str(), rec("2026-11-26", 1, 1))).collect();
        let bak = listing(&full);
        let w = Window::new(today, 31, Some(today));
        // Half gone is not yet a wipe; six of ten is.
        assert!(wipe_alert(&listing(&full[..5]), &bak, &w).is_none());
        let a = wipe_alert(&listing(&full[..4]), &bak, &w).unwrap();
        assert_eq!(a.kind, AlertKind::SourceWipe);
        assert!(a.message.starts_with("6 of the 10"), "{}", a.message);
        // Old days missing from the source are the recorder's own recycling, not a wipe.
        let old: Vec<(&str, Recording)> = names.iter().map(|n| (n.as_str(), rec("2026-11-10", 1, 1))).collect();
        let bak_old = listing(&[old.as_slice(), &full[..1]].concat());
        assert!(wipe_alert(&listing(&full[..1]), &bak_old, &w).is_none());
        // An empty source beside a full backup is a wipe even with few files.
        let a = wipe_alert(&Listing::default(), &listing(&full[..1]), &w).unwrap();
        assert!(a.message.contains("holds no recording"), "{}", a.message);
        // Kept-beside versions are not expected in the source.
        let kept = listing(&[
            ("x/a.changed-1.dav", rec("2026-11-26", 1, 1)),
            ("x/a.dav", rec("2026-11-26", 1, 1)),
        ]);
        assert!(wipe_alert(&listing(&[("x/a.dav", rec("2026-11-26", 1, 1))]), &kept, &w).is_none());
    }
}
