//! The coverage report for a console: the verdict, a line per camera, then every gap.

use std::fmt::Write;

use crate::coverage::Document;
use rules::coverage::human_secs;
use store::volume::human;

/// The report as lines of text.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let v = &doc.verdict.counts;
    let _ = writeln!(
        out,
        "Coverage of {} from {} to {} ({})",
        doc.site, doc.from, doc.to, doc.backup_dir
    );
    let _ = writeln!(out, "{}", doc.verdict.sentence);
    if let Some(n) = doc.newest {
        let _ = writeln!(out, "Newest recording reaches {}.", n.format("%Y-%m-%d %H:%M:%S"));
    }
    let offsite = doc.cameras.iter().flat_map(|c| &c.days).any(|d| d.offsite.is_some());
    if !doc.cameras.is_empty() {
        let width = doc.cameras.iter().map(|c| c.camera.len()).max().unwrap_or(6).max(6);
        let _ = write!(
            out,
            "\n{:width$}  {:>13}  {:>8}  {:>5}  {:>10}  {:>10}",
            "camera", "complete days", "covered", "gaps", "recordings", "size"
        );
        let _ = writeln!(out, "{}", if offsite { "  offsite" } else { "" });
        for c in &doc.cameras {
            let history = c.days.iter().filter(|d| !d.before_first_recording);
            let days = history.clone().filter(|d| d.complete).count();
            let (covered, expected) = c
                .days
                .iter()
                .fold((0i64, 0i64), |(a, b), d| (a + d.covered_secs, b + d.expected_secs));
            let share = if expected == 0 {
                100.0
            } else {
                covered as f64 * 100.0 / expected as f64
            };
            let _ = write!(
                out,
                "{:width$}  {:>13}  {:>7.2}%  {:>5}  {:>10}  {:>10}",
                c.camera,
                format!("{days}/{}", history.count()),
                share.min(100.0),
                c.days.iter().map(|d| d.gaps.len()).sum::<usize>(),
                c.days.iter().map(|d| d.recordings).sum::<u32>(),
                human(c.days.iter().map(|d| d.bytes).sum())
            );
            if offsite {
                let there: u32 = c.days.iter().filter_map(|d| d.offsite).sum();
                let _ = write!(out, "  {there}/{}", c.days.iter().map(|d| d.finished()).sum::<u32>());
            }
            if c.since > doc.from.and_time(chrono::NaiveTime::MIN) {
                let _ = write!(out, "  since {}", c.since.format("%Y-%m-%d %H:%M"));
            }
            out.push('\n');
        }
    }
    let gaps = doc.gaps();
    if !gaps.is_empty() {
        let _ = writeln!(out, "\nGaps (longer than {} s):", doc.gap_tolerance_secs);
        for (camera, g) in gaps {
            let _ = writeln!(
                out,
                "  {camera}  {} → {}  ({})",
                g.from.format("%Y-%m-%d %H:%M:%S"),
                g.to.format("%Y-%m-%d %H:%M:%S"),
                human_secs(g.secs)
            );
        }
    }
    if v.source_only > 0 {
        let _ = writeln!(
            out,
            "\n{} recording(s) of these days are only in the source (not yet backed up).",
            v.source_only
        );
    }
    if !doc.source_listed {
        let _ = writeln!(
            out,
            "\nThe source could not be listed: recordings not yet backed up are not counted."
        );
    }
    if v.unknown_times > 0 {
        let _ = writeln!(
            out,
            "{} recording(s) have neither times in their name nor readable DHAV frames: not counted as coverage.",
            v.unknown_times
        );
    }
    out
}
