//! `cctv-mirror status`: one screen on whether cctv-mirror is doing its job, read from
//! `log_dir/status.json` and `coverage.json`, and whether a run holds the log folder's
//! lock (nothing is scanned or written). Exit 0 healthy; 3 when an alert is active, the
//! daemon is not running or silent, or its last pass is older than twice the interval
//! (`rules::health`); 2 bad config.

use std::fmt::Write;
use std::process::ExitCode;

use chrono::{DateTime, Local};
use serde_json::json;

use crate::config::Config;
use crate::engine::exit;
use crate::engine::lock::{self, Probe};
use crate::report::coverage::{self, Document};
use crate::report::status::{self, Status};
use crate::rules::health::{ago, problems, Seen};
use crate::store::volume::human;

pub fn run(cfg: &Config, as_json: bool) -> ExitCode {
    let now = Local::now();
    let status = status::read(&cfg.log_dir);
    let cover = Document::read(&cfg.log_dir.join(coverage::JSON_FILE));
    let held = matches!(lock::probe(&cfg.log_dir), Probe::Held(_));
    let problems = problems(
        status.as_ref().map(|s| seen(s, held)).as_ref(),
        now,
        cfg.reconcile_interval,
    );
    let text = if as_json {
        let value = json!({
            "healthy": problems.is_empty(),
            "problems": problems,
            "site": cfg.site_name,
            "config": cfg.file,
            "status": status,
            "coverage": cover.as_ref().map(|c| json!({"from": c.from, "to": c.to, "generated_at": c.generated_at, "verdict": c.verdict})),
        });
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        screen(cfg, status.as_ref(), cover.as_ref(), &problems, now)
    };
    print!("{text}");
    ExitCode::from(if problems.is_empty() { exit::OK } else { exit::PROBLEMS })
}

/// What health needs of the status, and whether a run holds the lock.
fn seen(s: &Status, held: bool) -> Seen {
    Seen {
        mode: s.mode,
        state: s.state,
        updated_at: s.updated_at,
        last_pass_at: s.last_pass.as_ref().and_then(|p| p.finished_at),
        last_copy_at: s.daemon.as_ref().and_then(|d| d.last_copy.as_ref()).map(|c| c.at),
        alerts: s.alerts.clone(),
        held: Some(held),
    }
}

/// The screen: a line per subject, then the verdict.
fn screen(
    cfg: &Config,
    s: Option<&Status>,
    cover: Option<&Document>,
    problems: &[String],
    now: DateTime<Local>,
) -> String {
    let mut out = String::new();
    let when = |t: DateTime<Local>| format!("{} ({} ago)", t.format("%Y-%m-%d %H:%M:%S"), ago(now - t));
    let _ = writeln!(out, "cctv-mirror status: {} ({})", cfg.site_name, cfg.file.display());
    match s {
        None => {
            let _ = writeln!(out, "Daemon:      no status.json in {}", cfg.log_dir.display());
        }
        Some(s) => {
            let _ = writeln!(
                out,
                "Daemon:      {} ({} mode, pid {}), status written {}",
                s.state,
                s.mode,
                s.pid,
                when(s.updated_at)
            );
            if let Some(d) = &s.daemon {
                let watcher = serde_json::to_value(d.watcher).unwrap_or_default();
                let watcher = watcher.as_str().unwrap_or("?");
                let _ = writeln!(out, "Watcher:     {watcher}, {} copies queued", d.queue_length);
            }
            let _ = match s.last_pass.as_ref().and_then(|p| p.finished_at.map(|t| (p, t))) {
                Some((p, t)) => writeln!(out, "Last pass:   {}: {}", when(t), p.counts()),
                None => writeln!(out, "Last pass:   none finished yet"),
            };
            let _ = match (&s.disk, s.backup_available) {
                (Some(d), true) => writeln!(
                    out,
                    "Backup disk: {} free ({:.2}%)",
                    human(d.free_bytes),
                    d.free_percent
                ),
                _ => writeln!(out, "Backup disk: NOT AVAILABLE at the last pass"),
            };
            offsite_line(&mut out, s, &when);
            alerts_and_channels(&mut out, s, &when);
        }
    }
    let _ = match cover {
        Some(c) => writeln!(out, "Coverage:    {} to {}: {}", c.from, c.to, c.verdict.sentence),
        None => writeln!(out, "Coverage:    no report yet (written after each pass)"),
    };
    if problems.is_empty() {
        let _ = writeln!(out, "\nHEALTHY");
    } else {
        let _ = writeln!(out, "\nNEEDS ATTENTION:");
        for p in problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

/// The offsite tier in one line, when there is one.
fn offsite_line(out: &mut String, s: &Status, when: &dyn Fn(DateTime<Local>) -> String) {
    let Some(o) = &s.offsite else { return };
    let last = o.last_upload.map_or("none yet".into(), when);
    let waiting = match o.pending_files {
        0 => "nothing waiting".to_string(),
        n => format!(
            "{n} recordings ({}) waiting, oldest {} old",
            human(o.pending_bytes),
            ago(chrono::Duration::seconds(o.lag_secs as i64))
        ),
    };
    let _ = write!(
        out,
        "Offsite:     {}: {waiting}; {} uploaded ({}), last {last}",
        o.state,
        o.uploaded_files,
        human(o.uploaded_bytes),
    );
    if let Some(why) = &o.reason {
        let _ = write!(out, "; {why}");
    }
    out.push('\n');
}

fn alerts_and_channels(out: &mut String, s: &Status, when: &dyn Fn(DateTime<Local>) -> String) {
    if s.alerts.is_empty() {
        let _ = writeln!(out, "Alerts:      none");
    }
    for a in &s.alerts {
        let _ = writeln!(out, "Alert:       {} since {}: {}", a.kind, when(a.since), a.message);
    }
    if s.notify.is_empty() {
        let _ = writeln!(out, "Notify:      no channel configured (alerts go to the logs only)");
    }
    for c in &s.notify {
        let ok = c.last_success.map_or("never".into(), when);
        let _ = write!(
            out,
            "Notify:      {}: last delivered {ok}, {} waiting",
            c.channel, c.pending
        );
        if let (Some(e), Some(t)) = (&c.last_error, c.last_error_at) {
            let _ = write!(out, "; last error {}: {e}", when(t));
        }
        out.push('\n');
    }
}
