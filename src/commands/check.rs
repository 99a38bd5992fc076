//! `cctv-mirror check`: prints the settings in effect and whether each folder is ready,
//! without writing anything (but the offsite probe, deleted at once), so an operator
//! can validate a set-up before scheduling it.

use std::path::Path;

use crate::alert::notify::channel::{host_of, Channel};
use crate::config::{keys, Config};
use crate::rules::window::Window;
use crate::store::scan;
use crate::store::volume::{self, BackupState};

/// Prints the report to stdout; true when nothing needs fixing.
pub fn check(cfg: &Config) -> bool {
    problems(cfg, true).is_empty()
}

/// The `source_dir` line: the folder and how many recordings it holds, in the window.
fn source_line(cfg: &Config) -> (String, bool) {
    match scan::scan(&cfg.source_dir, &cfg.names) {
        Ok(listing) => {
            let window = Window::of(chrono::Local::now().date_naive(), cfg.retention_days, &[&listing]);
            let recent = listing.recordings.values().filter(|r| window.contains(r.date)).count();
            let note = format!(
                "{} ({} recordings, {} since {})",
                cfg.source_dir.display(),
                listing.recordings.len(),
                recent,
                window.cutoff
            );
            (note, true)
        }
        Err(e) => (
            format!(
                "{} cannot be read: {e} (run waits for it and raises source_unavailable)",
                cfg.source_dir.display()
            ),
            false,
        ),
    }
}

/// The `backup_dir` line: the folder, its disk's space when it is a folder, and what a
/// pass will find there (`volume::backup_state`, the reading the pass acts on).
fn backup_line(cfg: &Config) -> (String, bool) {
    let backup = &cfg.backup_dir;
    let state = volume::backup_state(backup, &cfg.log_dir);
    let (mark, ok) = match &state {
        BackupState::Marked { .. } => ("marked".to_string(), true),
        BackupState::LostMarker => (
            "has LOST its marker: is the backup disk mounted? if it was replaced on purpose, run adopt-backup".into(),
            false,
        ),
        BackupState::BareMountPoint => (
            "is an empty folder without the marker: if it is the new backup disk, run adopt-backup (a pass never adopts an empty folder: it could be the mount point of a disk that is not mounted)".into(),
            false,
        ),
        BackupState::Unmarked => ("will be adopted and marked by the first pass".into(), true),
        BackupState::Missing => ("is missing: is the backup disk connected?".into(), false),
        BackupState::ToCreate => ("will be created by the first pass".into(), true),
        BackupState::NoParent => (
            "does not exist, nor does the folder holding it: is the backup disk connected?".into(),
            false,
        ),
        BackupState::NotAFolder => ("exists but is not a folder".into(), false),
        BackupState::Unreachable(e) => (format!("cannot be reached: {e}"), false),
    };
    if !backup.is_dir() {
        return (format!("{} ({mark})", backup.display()), ok);
    }
    let space = match volume::disk_of(backup) {
        Ok(d) => format!(
            "{} free of {} ({:.2}%)",
            volume::human(d.free_bytes),
            volume::human(d.total_bytes),
            d.free_percent
        ),
        Err(e) => format!("free space unknown: {e}"),
    };
    (format!("{} ({space}; {mark})", backup.display()), ok)
}

/// What must be fixed before cctv-mirror can do its job, one line each (`key: what`);
/// with `print`, the whole report goes to stdout as well.
pub fn problems(cfg: &Config, print: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut line = |key: &str, value: String, ok: bool| {
        if !ok {
            problems.push(format!("{key}: {value}"));
        }
        if print {
            println!(
                "{:<24} {}{}",
                format!("{key}:"),
                value,
                if ok { "" } else { "  <-- PROBLEM" }
            );
        }
    };
    line("configuration", cfg.file.display().to_string(), true);

    let (value, ok) = source_line(cfg);
    line("source_dir", value, ok);

    let (value, ok) = backup_line(cfg);
    line("backup_dir", value, ok);

    let existing = cfg.log_dir.ancestors().find(|p| p.exists());
    let log_ok = existing.is_some_and(Path::is_dir);
    let note = if cfg.log_dir.is_dir() {
        "exists"
    } else if log_ok {
        "will be created"
    } else {
        "cannot be created"
    };
    line("log_dir", format!("{} ({note})", cfg.log_dir.display()), log_ok);

    for key in keys::KEYS {
        if let Some(value) = cfg.shown(key.name) {
            line(key.name, value, true);
        }
    }
    let channels = Channel::all(&cfg.notify);
    for c in &channels {
        match c.readiness() {
            Ok(()) => line("notify", format!("{} (not sent: try `notify-test`)", c.name()), true),
            Err(why) => line("notify", format!("{}: {why}", c.name()), false),
        }
    }
    for (key, url) in [
        ("heartbeat_url", &cfg.notify.heartbeat_url),
        ("heartbeat_fail_url", &cfg.notify.heartbeat_fail_url),
    ] {
        if let Some(u) = url {
            line(&format!("notify.{key}"), host_of(u).to_string(), true);
        }
    }
    if channels.is_empty() {
        line("notify", "(none: alerts only in the logs and status.json)".into(), true);
    }
    if let Some(o) = &cfg.offsite {
        match crate::offsite::probe::probe(o, &cfg.site_name) {
            Ok(fine) => {
                line("offsite", fine, true);
                line("offsite", crate::offsite::conditional::line(o), true);
                line("offsite", encryption_line(o.recipients.len()), true);
            }
            Err(why) => line("offsite", why, false),
        }
    }
    if print && problems.is_empty() {
        println!("result: ready");
    } else if print {
        println!("result: {} problem(s) to fix", problems.len());
    }
    problems
}

/// What `check` says of the offsite copy's encryption.
fn encryption_line(recipients: usize) -> String {
    match recipients {
        0 => "objects in clear (no offsite.encryption): the bucket can read the footage".into(),
        1 => "objects encrypted to 1 age recipient (restore and export need its identity)".into(),
        n => format!("objects encrypted to {n} age recipients (restore and export need one of their identities)"),
    }
}
