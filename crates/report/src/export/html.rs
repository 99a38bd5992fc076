//! `export.html`: the export as one self-contained page (no script, font or image from
//! elsewhere) that a client, a lawyer or a court can read and print: what was asked,
//! what is there, the gaps, and how to check each file's hash with standard tools.

use std::fmt::Write;

use super::{Check, Document};
use crate::coverage::html::{esc, STYLE};
use rules::coverage::human_secs;

/// The page.
pub fn page(doc: &Document) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let title = format!("Recordings exported: {}, {}", esc(&doc.camera), esc(&doc.site));
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}\
         td.hash{{font-family:monospace;font-size:.75em;word-break:break-all}}</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"verdict {}\" id=\"verdict\">{}</p>",
        if doc.complete { "ok" } else { "bad" },
        esc(&doc.sentence),
    );
    asked(&mut out, doc);
    files(&mut out, doc);
    gaps(&mut out, doc);
    how_to_check(&mut out, doc);
    out.push_str("</body></html>\n");
    out
}

fn asked(out: &mut String, doc: &Document) {
    let mut rows = vec![
        ("Site", doc.site.clone()),
        ("Computer", doc.host.clone()),
        ("Camera", doc.camera.clone()),
        ("From", doc.from.to_string()),
        ("To", doc.to.to_string()),
        ("Taken from", doc.backup_dir.clone()),
        ("Made", doc.made_at.format("%Y-%m-%d %H:%M:%S %:z").to_string()),
        ("Made by", doc.made_by.clone()),
    ];
    if let Some(b) = &doc.bucket {
        rows.insert(5, ("and from", b.clone()));
    }
    out.push_str("<h2>What was asked</h2><table class=\"gaps\" id=\"asked\">");
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    out.push_str("</table>\n");
}

fn files(out: &mut String, doc: &Document) {
    let _ = write!(
        out,
        "<h2>The recordings ({})</h2><table class=\"gaps\" id=\"files\"><tr><th>File</th><th>From</th>\
         <th>To</th><th>Taken from</th><th>Bytes</th><th>SHA-256</th><th>Check</th></tr>",
        doc.files.len()
    );
    for f in &doc.files {
        let check = match &f.error {
            Some(e) => format!("{}: {}", f.check.words(), e),
            None => f.check.words().to_string(),
        };
        let _ = write!(
            out,
            "<tr class=\"file\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td><td>{}</td></tr>",
            esc(&f.name),
            f.start,
            f.end,
            f.origin.words(),
            f.size,
            f.sha256,
            esc(&check)
        );
    }
    out.push_str("</table>\n");
    if doc.undated > 0 {
        let _ = writeln!(
            out,
            "<p>{} recording(s) of this camera on these days have no readable times and were not exported.</p>",
            doc.undated
        );
    }
}

fn gaps(out: &mut String, doc: &Document) {
    if doc.gaps.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Gaps</h2><p id=\"no-gaps\">None: the recordings cover the whole range (pauses up to {} s are not gaps).</p>",
            doc.gap_tolerance_secs
        );
        return;
    }
    out.push_str("<h2>Gaps</h2><table class=\"gaps\" id=\"gaps\"><tr><th>From</th><th>To</th><th>Length</th></tr>");
    for g in &doc.gaps {
        let _ = write!(
            out,
            "<tr class=\"gap\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            g.from,
            g.to,
            human_secs(g.secs)
        );
    }
    out.push_str("</table>\n");
}

fn how_to_check(out: &mut String, doc: &Document) {
    let example = doc
        .files
        .iter()
        .find(|f| f.check != Check::NotCopied)
        .map_or("2026\\12\\02\\ch03\\14.00.00-14.59.59.dav".to_string(), |f| {
            f.name.replace('/', "\\")
        });
    let _ = writeln!(
        out,
        "<h2>How to check the files</h2>\
         <p>Each file's SHA-256 above was computed from its bytes as they were copied out. The same hash \
         from any copy proves it holds the same bytes. In the export folder:</p>\
         <ul><li>Linux or macOS: <code>sha256sum -c SHA256SUMS</code> prints <code>OK</code> for each file.</li>\
         <li>Windows: <code>certutil -hashfile \"{}\" SHA256</code> prints the hash of one file; \
         compare it with the table.</li></ul>\
         <p><code>export.json</code> holds the same facts for programs, with each file's BLAKE3, the hash \
         cctv-mirror took when it backed the recording up.</p>",
        esc(&example)
    );
}
