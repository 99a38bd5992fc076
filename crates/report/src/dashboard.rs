//! The daemon's own page (`GET /` of `http_listen`): one self-contained HTML page a
//! person reads at a glance, refreshed every 15 s. It says whether every finished
//! recording is in the backup, the daemon's state, the alerts with since when and what
//! to do, the last pass, the backup disk, the offsite tier and the coverage heatmap.
//! Pure: what the daemon holds in, HTML out.

use std::fmt::Write;

use chrono::{DateTime, Local};

use crate::coverage::html::{esc, heatmap, STYLE};
use crate::coverage::Document;
use crate::metrics::Protection;
use crate::status::Status;
use rules::health::ago;

const PAGE_STYLE: &str = "
.state{font-size:1.3em;padding:12px 16px;border-radius:6px;margin:0 0 18px}
dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;margin:0 0 18px}
dt{color:#555} dd{margin:0}
.alerts td,.alerts th{border:1px solid #ccc;text-align:left;vertical-align:top}
";

/// What the page shows.
pub struct Dashboard<'a> {
    pub site: &'a str,
    pub status: &'a Status,
    pub protection: Protection,
    pub coverage: Option<&'a Document>,
    pub now: DateTime<Local>,
}

/// The page.
pub fn page(d: &Dashboard) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let title = format!("cctv-mirror: {}", esc(d.site));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"15\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}{PAGE_STYLE}</style></head><body>\n\
         <h1 id=\"site\">{title}</h1><p class=\"meta\">{}</p>\n",
        d.now.format("%Y-%m-%d %H:%M:%S")
    );
    protected(&mut out, d);
    facts(&mut out, d);
    alerts(&mut out, d);
    if let Some(doc) = d.coverage {
        let _ = writeln!(
            out,
            "<h2>Coverage</h2><p class=\"verdict {}\">{}</p>",
            if doc.verdict.counts.complete { "ok" } else { "bad" },
            esc(&doc.verdict.sentence)
        );
        heatmap(&mut out, doc);
    }
    out.push_str("</body></html>\n");
    out
}

/// The one line that matters: is every finished recording in the backup?
fn protected(out: &mut String, d: &Dashboard) {
    let lag = d.protection.lag_secs;
    let (class, text) = if lag == 0.0 {
        ("ok", "Every finished recording is in the backup.".to_string())
    } else {
        let age = ago(chrono::TimeDelta::milliseconds((lag * 1000.0) as i64));
        (
            "bad",
            format!("The oldest finished recording not yet in the backup is {age} old."),
        )
    };
    let _ = writeln!(out, "<p class=\"state {class}\" id=\"protection\">{}</p>", esc(&text));
}

/// The daemon, the last pass, the disk and the offsite tier.
fn facts(out: &mut String, d: &Dashboard) {
    let s = d.status;
    let when = |t: DateTime<Local>| format!("{} ({} ago)", t.format("%Y-%m-%d %H:%M:%S"), ago(d.now - t));
    out.push_str("<dl>");
    let mut row = |name: &str, value: String| {
        let _ = write!(out, "<dt>{name}</dt><dd>{}</dd>", esc(&value));
    };
    row("Daemon", format!("{} (pid {}, version {})", s.state, s.pid, s.version));
    if let Some(live) = &s.daemon {
        row("Running since", when(live.started_at));
        row("Copies queued", live.queue_length.to_string());
    }
    if let Some(p) = &s.last_pass {
        if let Some(t) = p.finished_at {
            row("Last pass", format!("{}: {}", when(t), p.counts()));
        }
    }
    row(
        "Backup disk",
        match (s.disk, s.backup_available) {
            (Some(disk), true) => format!("{:.2} % free", disk.free_percent),
            _ => "NOT AVAILABLE".into(),
        },
    );
    if let Some(o) = &s.offsite {
        row(
            "Offsite",
            format!(
                "{}: {} recordings waiting, {} uploaded since start",
                o.state, o.pending_files, o.uploaded_files
            ),
        );
    }
    out.push_str("</dl>\n");
}

fn alerts(out: &mut String, d: &Dashboard) {
    let s = d.status;
    if s.alerts.is_empty() {
        out.push_str("<h2>Alerts</h2><p id=\"alerts\">None.</p>\n");
        return;
    }
    out.push_str("<h2>Alerts</h2><table class=\"alerts\" id=\"alerts\"><tr><th>alert</th><th>since</th><th>what happened</th><th>what to do</th></tr>\n");
    for a in &s.alerts {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{} ({} ago)</td><td>{}</td><td>{}</td></tr>",
            a.kind,
            a.since.format("%Y-%m-%d %H:%M"),
            ago(d.now - a.since),
            esc(&a.message),
            esc(a.kind.first_step())
        );
    }
    out.push_str("</table>\n");
}
