//! The daemon's state in Prometheus's text format (`GET /metrics`): every name starts
//! `cctv_mirror_`, counters end `_total`, sizes are `_bytes` and times `_seconds`.
//! Pure: the status the daemon holds, what protects the site now, and `now` in; text
//! out.

use std::fmt::Write;

use chrono::{DateTime, Local};

use crate::status::Status;
use rules::alert::AlertKind;
use rules::run::OffsiteState;

/// What protects the site right now, beside `status.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Protection {
    /// The age of the oldest finished recording not yet whole in the backup; 0 when none.
    pub lag_secs: f64,
    /// The age of the newest finished recording seen; None before one.
    pub newest_age_secs: Option<f64>,
    /// Recordings being recorded whose in-progress copy is kept.
    pub in_progress: usize,
}

/// The exposition: one `# HELP` and `# TYPE` per family, then its samples.
pub fn render(s: &Status, p: &Protection, now: DateTime<Local>) -> String {
    let mut out = Exposition::default();
    out.family("build_info", "gauge", "The version running (always 1).");
    out.sample("build_info", &[("version", &s.version)], 1.0);
    let totals = s.daemon.as_ref().map(|d| d.since_start.clone()).unwrap_or_default();
    for (name, help, v) in [
        (
            "recordings_copied_total",
            "Recordings copied whole into the backup since the daemon started.",
            totals.copied + totals.completed,
        ),
        (
            "recordings_updated_total",
            "Finished copies that got a grown recording's new bytes.",
            totals.updated,
        ),
        (
            "recordings_deleted_total",
            "Backup recordings deleted by retention since the daemon started.",
            totals.deleted,
        ),
        (
            "copied_bytes_total",
            "Bytes written into the backup since the daemon started.",
            totals.bytes_copied,
        ),
        (
            "copy_errors_total",
            "Copy jobs that failed (each retried later).",
            totals.errors,
        ),
    ] {
        out.family(name, "counter", help);
        out.sample(name, &[], v as f64);
    }
    out.gauge(
        "protection_lag_seconds",
        "Age of the oldest finished recording not yet whole in the backup (0: every one is).",
        p.lag_secs,
    );
    if let Some(age) = p.newest_age_secs {
        out.gauge(
            "newest_recording_age_seconds",
            "Age of the newest finished recording seen.",
            age,
        );
    }
    out.gauge(
        "in_progress_copies",
        "Recordings being recorded whose in-progress copy is kept.",
        p.in_progress as f64,
    );
    out.gauge(
        "queue_length",
        "Recordings queued or being copied.",
        s.daemon.as_ref().map_or(0, |d| d.queue_length) as f64,
    );
    passes(&mut out, s);
    disk(&mut out, s);
    out.family("alert_active", "gauge", "1 while an alert of this kind is active.");
    for kind in AlertKind::ALL {
        let on = s.alerts.iter().any(|a| a.kind == kind);
        out.sample("alert_active", &[("kind", kind.as_str())], f64::from(u8::from(on)));
    }
    out.family(
        "notify_pending_messages",
        "gauge",
        "Messages waiting for a notification channel.",
    );
    for c in &s.notify {
        out.sample("notify_pending_messages", &[("channel", &c.channel)], c.pending as f64);
    }
    offsite(&mut out, s);
    out.gauge(
        "status_age_seconds",
        "Seconds since the daemon last wrote its status.",
        secs(now - s.updated_at),
    );
    out.text
}

fn passes(out: &mut Exposition, s: &Status) {
    let Some(pass) = &s.last_pass else { return };
    if let Some(end) = pass.finished_at {
        out.gauge(
            "last_pass_end_timestamp_seconds",
            "When the last pass ended (Unix time).",
            end.timestamp_millis() as f64 / 1000.0,
        );
        if let Some(start) = pass.started_at {
            out.gauge(
                "last_pass_duration_seconds",
                "How long the last pass took.",
                secs(end - start),
            );
        }
    }
}

fn disk(out: &mut Exposition, s: &Status) {
    out.gauge(
        "backup_available",
        "1 when the backup volume was there at the last look.",
        f64::from(u8::from(s.backup_available)),
    );
    if let Some(d) = s.disk.filter(|_| s.backup_available) {
        out.gauge(
            "backup_free_bytes",
            "Bytes the daemon may still write on the backup disk.",
            d.free_bytes as f64,
        );
        out.gauge("backup_size_bytes", "The backup disk's size.", d.total_bytes as f64);
    }
}

fn offsite(out: &mut Exposition, s: &Status) {
    let Some(o) = &s.offsite else { return };
    out.gauge(
        "offsite_available",
        "1 unless the offsite bucket cannot be used.",
        f64::from(u8::from(o.state != OffsiteState::Unavailable)),
    );
    out.gauge(
        "offsite_pending_recordings",
        "Recordings waiting for the offsite bucket.",
        o.pending_files as f64,
    );
    out.gauge(
        "offsite_pending_bytes",
        "Bytes waiting for the offsite bucket.",
        o.pending_bytes as f64,
    );
    out.gauge(
        "offsite_lag_seconds",
        "Age of the oldest recording waiting for the bucket (0: none).",
        o.lag_secs as f64,
    );
    out.family(
        "offsite_uploaded_bytes_total",
        "counter",
        "Bytes sent to the offsite bucket since the daemon started.",
    );
    out.sample("offsite_uploaded_bytes_total", &[], o.uploaded_bytes as f64);
}

fn secs(d: chrono::TimeDelta) -> f64 {
    (d.num_milliseconds().max(0) as f64) / 1000.0
}

/// The text being written.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP cctv_mirror_{name} {help}");
        let _ = writeln!(self.text, "# TYPE cctv_mirror_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.text, "cctv_mirror_{name}");
        if !labels.is_empty() {
            let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }
}

/// A label value as the format wants it: `\`, `"` and line feeds escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
    }

    #[test]
    fn every_alert_kind_has_a_series_and_counters_end_total() {
        let s = Status {
            updated_at: Local::now(),
            mode: rules::run::RunMode::Daemon,
            state: rules::run::RunState::Running,
            version: "1.2.3".into(),
            pid: 1,
            backup_available: true,
            disk: None,
            last_pass: None,
            alerts: Vec::new(),
            daemon: None,
            notify: Vec::new(),
            offsite: None,
        };
        let text = render(&s, &Protection::default(), Local::now());
        assert_eq!(
            text.matches("cctv_mirror_alert_active{kind=").count(),
            AlertKind::ALL.len()
        );
        assert!(text.contains("cctv_mirror_build_info{version=\"1.2.3\"} 1\n"), "{text}");
        for line in text
            .lines()
            .filter(|l| l.starts_with("# TYPE") && l.ends_with("counter"))
        {
            assert!(line.contains("_total "), "{line}");
        }
    }
}
