//! `cctv-mirror report`: lists the backup (and the source, for what is not backed up
//! yet) without writing anything, and prints or writes the coverage report. Exit 0
//! when the coverage is complete, 3 when it is not, 1 when the backup cannot be read.

use std::path::Path;
use std::process::ExitCode;

use chrono::Local;

use crate::cli::ReportFormat;
use crate::config::offsite::Offsite;
use crate::config::Config;
use crate::engine::exit;
use crate::offsite::client::{Client, Listed};
use crate::offsite::view::{confirm, seen, Known};
use crate::report::coverage::{self, html, text, Bucket, Document};
use crate::rules::listing::Listing;
use crate::store::scan;
use crate::store::spans::SpanCache;

pub fn run(cfg: &Config, days: Option<u32>, format: ReportFormat, output: Option<&Path>) -> ExitCode {
    let (backup, source) = match list(cfg) {
        Ok(pair) => pair,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    };
    let days = days.unwrap_or(cfg.retention_days);
    let bucket = bucket(cfg, &backup);
    let doc = coverage::build(
        cfg,
        (&backup, source.as_ref()),
        &mut SpanCache::default(),
        Local::now(),
        (days, bucket.as_ref()),
    );
    let body = match format {
        ReportFormat::Text => text::render(&doc),
        ReportFormat::Json => coverage::to_json(&doc),
        ReportFormat::Html => html::page(&doc),
    };
    if let Err(e) = emit(&body, output) {
        eprintln!(
            "error: cannot write {}: {e}",
            output.map_or("the report".into(), |p| p.display().to_string())
        );
        return ExitCode::from(exit::CANNOT_RUN);
    }
    if let Some(path) = output {
        eprintln!("{} ({})", doc.verdict.sentence, path.display());
    }
    ExitCode::from(verdict_code(&doc))
}

/// 0 complete, 3 not.
pub fn verdict_code(doc: &Document) -> u8 {
    if doc.verdict.counts.complete {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

fn emit(body: &str, output: Option<&Path>) -> std::io::Result<()> {
    match output {
        Some(path) => std::fs::write(path, body),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()
        }
    }
}

/// Both trees, listed at once; the backup only when it is the backup (never created or
/// marked here), the source when it can be listed.
fn list(cfg: &Config) -> Result<(Listing, Option<Listing>), String> {
    if !super::backup_readable(cfg)? {
        return Ok((Listing::default(), scan::scan(&cfg.source_dir, &cfg.names).ok()));
    }
    std::thread::scope(|threads| {
        let source = threads.spawn(|| scan::scan(&cfg.source_dir, &cfg.names).ok());
        let backup = scan::scan(&cfg.backup_dir, &cfg.names)
            .map_err(|e| format!("cannot list {}: {e}", cfg.backup_dir.display()))?;
        Ok((backup, source.join().ok().flatten()))
    })
}

/// With an offsite tier, its prefix and the objects under it, for the offsite column;
/// None (and a line on stderr saying why) when the bucket cannot be listed.
fn bucket(cfg: &Config, backup: &Listing) -> Option<Bucket> {
    let o = cfg.offsite.as_ref()?;
    let listed = crate::offsite::probe::client(o).and_then(|c| {
        let l = c.list(&o.prefix).map_err(|e| e.to_string())?;
        Ok((c, l))
    });
    match listed {
        Ok((c, l)) => Some(Bucket {
            prefix: o.prefix.clone(),
            objects: confirmed(c, l, (o, backup)),
        }),
        Err(why) => {
            eprintln!("note: the offsite bucket cannot be listed, the report has no offsite column: {why}");
            None
        }
    }
}

/// The listing as recordings and their sizes; an encrypted object sealed to other
/// recipients than today's is read once, where the backup holds its recording.
fn confirmed(
    c: Client,
    listed: Vec<Listed>,
    (o, backup): (&Offsite, &Listing),
) -> std::collections::HashMap<String, u64> {
    let known = Known::default();
    let mut seen = seen(listed, o.recipients.len(), &known);
    let local = |key: &str| {
        let rel = key.strip_prefix(&o.prefix)?;
        backup.recordings.get(Path::new(rel)).map(|r| r.meta.size)
    };
    confirm(&c, &mut seen, local, &known);
    seen.into_iter().map(|s| (s.key, s.size)).collect()
}
