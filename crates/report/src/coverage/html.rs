//! The coverage report as one self-contained HTML page (no script, font or image from
//! elsewhere: it works offline on the server and prints for a client): the verdict in
//! a sentence, a heatmap of cameras × days coloured by coverage with the gaps on hover,
//! and every gap in a table below.

use std::fmt::Write;

use crate::coverage::{DayEntry, Document};
use rules::coverage::human_secs;

/// The report's style sheet; the daemon's page uses it too.
pub const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:1.4em;margin:0 0 4px} .meta{color:#555;margin:0 0 16px}
.verdict{font-size:1.15em;padding:10px 14px;border-radius:6px;margin:0 0 18px}
.ok{background:#e3f4e4;border:1px solid #2e7d32} .bad{background:#fdeaea;border:1px solid #c62828}
table{border-collapse:collapse;margin:0 0 20px} th,td{padding:3px 6px;font-size:.85em}
.map td.cell{width:22px;height:20px;border:1px solid #fff;text-align:center;font-size:.7em;color:#fff}
.map th.day{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;height:70px}
.map th.cam{text-align:left;white-space:nowrap}
.c100{background:#2e7d32} .c99{background:#7cb342} .c90{background:#f9a825} .c1{background:#ef6c00}
.c0{background:#c62828} .cna{background:#bdbdbd} .cbf{background:#e6e6e6}
.gaps{border:1px solid #ccc} .gaps th,.gaps td{border:1px solid #ccc;text-align:left}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;color:#fff;font-size:.8em}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media print{body{margin:8mm} .map td.cell{width:16px;height:14px}}
";

/// The page.
pub fn page(doc: &Document) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let title = format!("Recording coverage: {}", esc(&doc.site));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\n\
         <h1>{title}</h1><p class=\"meta\">{} to {} · backup {} · made {}</p>\n\
         <p class=\"verdict {}\" id=\"verdict\">{}</p>\n",
        doc.from,
        doc.to,
        esc(&doc.backup_dir),
        doc.generated_at.format("%Y-%m-%d %H:%M"),
        if doc.verdict.counts.complete { "ok" } else { "bad" },
        esc(&doc.verdict.sentence)
    );
    heatmap(&mut out, doc);
    offsite_map(&mut out, doc);
    gap_table(&mut out, doc);
    notes(&mut out, doc);
    out.push_str("</body></html>\n");
    out
}

/// Opens a table of camera-days with its row of dates; false when there is no camera.
fn map_head(out: &mut String, doc: &Document, id: &str) -> bool {
    let Some(first) = doc.cameras.first() else {
        return false;
    };
    let _ = write!(out, "<table class=\"map\" id=\"{id}\"><tr><th></th>");
    for d in &first.days {
        let _ = write!(out, "<th class=\"day\">{}</th>", d.date.format("%d/%m"));
    }
    out.push_str("</tr>\n");
    true
}

/// The heatmap of cameras × days, as a table (nothing without a camera).
pub fn heatmap(out: &mut String, doc: &Document) {
    if !map_head(out, doc, "heatmap") {
        return;
    }
    for c in &doc.cameras {
        let _ = write!(out, "<tr><th class=\"cam\">{}</th>", esc(&c.camera));
        for d in &c.days {
            let (class, share) = shade(d);
            let _ = write!(
                out,
                "<td class=\"cell {class}\" data-camera=\"{}\" data-date=\"{}\" title=\"{}\">{}</td>",
                esc(&c.camera),
                d.date,
                esc(&hover(&c.camera, d, share)),
                if d.gaps.is_empty() {
                    String::new()
                } else {
                    d.gaps.len().to_string()
                }
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str(
        "</table>\n<p class=\"legend\"><span class=\"c100\">100%</span><span class=\"c99\">99% or more</span>\
         <span class=\"c90\">90% or more</span><span class=\"c1\">less</span><span class=\"c0\">nothing</span>\
         <span class=\"cna\">not expected yet</span><span class=\"cbf\" style=\"color:#555\">before the first recording</span> A number in a cell is its count of gaps.</p>\n",
    );
}

/// Per camera-day, how many of the finished backup copies the offsite bucket holds;
/// only with an offsite tier.
fn offsite_map(out: &mut String, doc: &Document) {
    if !doc.cameras.iter().flat_map(|c| &c.days).any(|d| d.offsite.is_some()) {
        return;
    }
    out.push_str("<h2>Offsite copy</h2>\n");
    map_head(out, doc, "offsite");
    for c in &doc.cameras {
        let _ = write!(out, "<tr><th class=\"cam\">{}</th>", esc(&c.camera));
        for d in &c.days {
            let (there, of) = (d.offsite.unwrap_or(0), d.finished());
            let class = match (there, of) {
                (_, 0) => "cna",
                (t, o) if t >= o => "c100",
                (0, _) => "c0",
                _ => "c1",
            };
            let _ = write!(
                out,
                "<td class=\"cell {class}\" data-camera=\"{}\" data-date=\"{}\" title=\"{} {}: {there} of {of} in the bucket\">{}</td>",
                esc(&c.camera),
                d.date,
                esc(&c.camera),
                d.date,
                if of == 0 { String::new() } else { format!("{there}/{of}") }
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p class=\"legend\">Each cell: the day's finished backup copies the offsite bucket holds, of all of them.</p>\n");
}

/// The cell's colour class and the share of the day covered.
fn shade(d: &DayEntry) -> (&'static str, f64) {
    if d.before_first_recording {
        return ("cbf", 100.0);
    }
    if d.expected_secs == 0 {
        return ("cna", 100.0);
    }
    let share = (d.covered_secs as f64 * 100.0 / d.expected_secs as f64).min(100.0);
    let class = match share {
        _ if d.gaps.is_empty() => "c100",
        s if s >= 99.0 => "c99",
        s if s >= 90.0 => "c90",
        s if s > 0.0 => "c1",
        _ => "c0",
    };
    (class, share)
}

fn hover(camera: &str, d: &DayEntry, share: f64) -> String {
    if d.before_first_recording {
        return format!("{camera} {}: before the first recording", d.date);
    }
    let mut s = format!(
        "{camera} {}: {share:.2}% covered, {} recording(s)",
        d.date, d.recordings
    );
    for g in &d.gaps {
        let _ = write!(
            s,
            "\ngap {} → {} ({})",
            g.from.format("%H:%M:%S"),
            g.to.format("%H:%M:%S"),
            human_secs(g.secs)
        );
    }
    s
}

fn gap_table(out: &mut String, doc: &Document) {
    let gaps = doc.gaps();
    if gaps.is_empty() {
        out.push_str("<p id=\"no-gaps\">No gaps.</p>\n");
        return;
    }
    let _ = write!(
        out,
        "<h2>Gaps longer than {} s</h2>\n<table class=\"gaps\" id=\"gaps\"><tr><th>camera</th><th>from</th><th>to</th><th>length</th></tr>\n",
        doc.gap_tolerance_secs
    );
    for (camera, g) in gaps {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(camera),
            g.from.format("%Y-%m-%d %H:%M:%S"),
            g.to.format("%Y-%m-%d %H:%M:%S"),
            human_secs(g.secs)
        );
    }
    out.push_str("</table>\n");
}

fn notes(out: &mut String, doc: &Document) {
    let v = &doc.verdict.counts;
    if v.source_only > 0 {
        let _ = writeln!(
            out,
            "<p>{} recording(s) of these days are only in the source (not yet backed up).</p>",
            v.source_only
        );
    }
    if v.unknown_times > 0 {
        let _ = writeln!(
            out,
            "<p>{} recording(s) have no readable times: not counted as coverage.</p>",
            v.unknown_times
        );
    }
}

/// Text made safe inside HTML and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}
