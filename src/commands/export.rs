//! `cctv-mirror export`: one camera's recordings of a time range copied out of the
//! backup as evidence, each checked against the hash taken at backup, with the proof
//! beside them (docs/evidence.md). Exit 0 complete, 3 gaps or a file not proven, 2 bad
//! input, 1 when the backup cannot be read or the folder written.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Local, NaiveDate, NaiveDateTime};

use crate::config::Config;
use crate::engine::exit;
use crate::engine::version::VERSION;
use crate::report::export::{Check, Document, FileEntry, Heading, Origin};
use crate::rules::coverage::Held;
use crate::rules::export::{self as choose, Range, Selection};
use crate::rules::span::Span;
use crate::store::manifest::{self, Entry};
use crate::store::spans::{self, SpanCache};
use crate::store::{export as out, scan, whereis};

/// One camera's recordings in the backup: path, span when known, day.
type Recordings = Vec<(PathBuf, Option<Span>, NaiveDate)>;

pub fn run(cfg: &Config, camera: &str, (from, to): (NaiveDateTime, NaiveDateTime), output: &Path) -> ExitCode {
    let Some(range) = Range::new(from, to) else {
        eprintln!("error: --from ({from}) must come before --to ({to})");
        return ExitCode::from(exit::BAD_CONFIG);
    };
    if let Err(why) = output_ready(cfg, output) {
        eprintln!("error: {why}");
        return ExitCode::from(exit::BAD_CONFIG);
    }
    let cameras = match cameras(cfg) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    };
    let Some((camera, recordings)) = find(&cameras, camera) else {
        let known: Vec<&str> = cameras.keys().map(|c| &**c).collect();
        eprintln!(
            "error: the backup has no camera {camera:?}; its cameras: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
        return ExitCode::from(exit::BAD_CONFIG);
    };
    let tolerance = i64::from(cfg.gap_tolerance_secs);
    let chosen = choose::select(
        recordings.iter().map(|(p, s, d)| (p.as_path(), *s, *d)),
        range,
        tolerance,
    );
    match export(cfg, camera, range, &chosen, output) {
        Ok(doc) => {
            println!("{} ({})", doc.sentence, output.display());
            ExitCode::from(if doc.complete { exit::OK } else { exit::PROBLEMS })
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(exit::CANNOT_RUN)
        }
    }
}

/// The export folder must be new or empty, and outside the source and the backup
/// (a file written there would be copied, or taken for a recording).
fn output_ready(cfg: &Config, output: &Path) -> Result<(), String> {
    for (dir, what) in [(&cfg.backup_dir, "backup"), (&cfg.source_dir, "source")] {
        if whereis::really_within(output, dir) || whereis::really_within(dir, output) {
            return Err(format!(
                "the export folder {} must be outside the {what} folder {}",
                output.display(),
                dir.display()
            ));
        }
    }
    match std::fs::read_dir(output).map(|mut entries| entries.next().is_none()) {
        Ok(false) => Err(format!(
            "the export folder {} is not empty: name a new or empty folder",
            output.display()
        )),
        Ok(true) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot use {} as the export folder: {e}", output.display())),
    }
}

/// The camera named `asked`: as written, else the one that differs only in case (an
/// operator typing `CH03` for `ch03`).
fn find<'a>(cameras: &'a BTreeMap<Arc<str>, Recordings>, asked: &str) -> Option<(&'a str, &'a Recordings)> {
    if let Some((name, recs)) = cameras.get_key_value(asked) {
        return Some((name, recs));
    }
    let mut alike = cameras.iter().filter(|(name, _)| name.eq_ignore_ascii_case(asked));
    match (alike.next(), alike.next()) {
        (Some((name, recs)), None) => Some((name, recs)),
        _ => None,
    }
}

/// Every camera of the backup, with its finished recordings.
fn cameras(cfg: &Config) -> Result<BTreeMap<Arc<str>, Recordings>, String> {
    let dir = cfg.backup_dir.display();
    if !super::backup_readable(cfg)? {
        return Err(format!("{dir} holds no backup yet"));
    }
    let listing = scan::scan(&cfg.backup_dir, &cfg.names).map_err(|e| format!("cannot list {dir}: {e}"))?;
    let mut by_camera: BTreeMap<Arc<str>, Recordings> = BTreeMap::new();
    spans::pieces(
        &cfg.backup_dir,
        (&listing, None),
        &mut SpanCache::default(),
        &mut |rel, p| {
            if p.held == Held::Backup {
                by_camera
                    .entry(p.camera.clone())
                    .or_default()
                    .push((rel.to_path_buf(), p.span, p.date));
            }
        },
    );
    Ok(by_camera)
}

/// Copies the chosen recordings into `output` and writes the proof beside them.
fn export(cfg: &Config, camera: &str, range: Range, chosen: &Selection, output: &Path) -> Result<Document, String> {
    std::fs::create_dir_all(output).map_err(|e| format!("cannot create {}: {e}", output.display()))?;
    let keys: HashSet<String> = chosen.files.iter().map(|(rel, _)| manifest::key(rel)).collect();
    let hashes = match manifest::load_where(&cfg.backup_dir, |k| keys.contains(k)) {
        Ok((entries, _)) => entries,
        Err(e) => {
            eprintln!("note: the backup's manifest cannot be read ({e}): no file can be proven");
            HashMap::new()
        }
    };
    let files = chosen
        .files
        .iter()
        .map(|(rel, span)| copy_one(cfg, output, rel, *span, hashes.get(&manifest::key(rel))))
        .collect();
    let host = crate::config::host_name();
    let made_by = format!("cctv-mirror {VERSION}");
    let heading = Heading {
        site: &cfg.site_name,
        host: &host,
        camera,
        from: range.from,
        to: range.to,
        made_by: &made_by,
        backup_dir: &cfg.backup_dir,
        gap_tolerance_secs: i64::from(cfg.gap_tolerance_secs),
    };
    let doc = Document::new(&heading, files, &chosen.gaps, chosen.undated, Local::now());
    doc.write(output)
        .map_err(|e| format!("cannot write the proof into {}: {e}", output.display()))?;
    Ok(doc)
}

/// One recording copied out, hashed, and checked against its manifest entry.
fn copy_one(cfg: &Config, output: &Path, rel: &Path, span: Span, known: Option<&Entry>) -> FileEntry {
    let mut entry = FileEntry {
        name: manifest::key(rel),
        start: span.start,
        end: span.end,
        origin: Origin::Backup,
        size: 0,
        blake3: String::new(),
        sha256: String::new(),
        check: Check::NotCopied,
        error: None,
    };
    match out::copy_out(&cfg.backup_dir.join(rel), &output.join(rel)) {
        Ok(c) => {
            entry.check = match known.filter(|k| !k.gone && !k.blake3.is_empty()) {
                None => Check::NotInManifest,
                Some(k) if k.size == c.size && k.blake3 == c.blake3 => Check::MatchesManifest,
                Some(_) => Check::DiffersFromManifest,
            };
            (entry.size, entry.blake3, entry.sha256) = (c.size, c.blake3, c.sha256);
            println!("{}: {} bytes, {}", entry.name, entry.size, entry.check.words());
        }
        Err(e) => {
            eprintln!("error: cannot copy {}: {e}", rel.display());
            entry.error = Some(e.to_string());
        }
    }
    entry
}
