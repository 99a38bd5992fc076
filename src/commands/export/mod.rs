//! `cctv-mirror export`: one camera's recordings of a time range copied out of the
//! backup as evidence (from the offsite bucket with `--from-offsite`, or for what the
//! backup lacks), each checked against the hash taken at backup, with the proof beside
//! them (docs/evidence.md). Exit 0 complete, 3 gaps or a file not proven, 2 bad input,
//! 1 when the backup (or, asked for, the bucket) cannot be read or the folder written.

mod found;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;

use chrono::{Local, NaiveDateTime};

use crate::config::Config;
use crate::engine::exit;
use crate::engine::version::VERSION;
use crate::offsite::identity::Identities;
use crate::offsite::restore::{fetch, recorded};
use crate::report::export::{Check, Document, FileEntry, Heading, Origin};
use crate::report::runlog;
use crate::rules::export::{self as choose, Range, Selection};
use crate::rules::sealed::plain_key;
use crate::rules::span::Span;
use crate::store::manifest::{self, Entry};
use crate::store::{export as out, whereis};
use found::{Bucket, Cameras, Found};

/// What `export` was asked.
pub struct Asked<'a> {
    pub camera: &'a str,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub output: &'a Path,
    pub from_offsite: bool,
    /// The age identity file that opens encrypted objects.
    pub identity: Option<&'a Path>,
}

pub fn run(cfg: &Config, asked: &Asked) -> ExitCode {
    let Some(range) = Range::new(asked.from, asked.to) else {
        return fail(
            exit::BAD_CONFIG,
            &format!("--from ({}) must come before --to ({})", asked.from, asked.to),
        );
    };
    if let Err(why) = output_ready(cfg, asked.output) {
        return fail(exit::BAD_CONFIG, &why);
    }
    let ids = match asked.identity.map(Identities::from_file).transpose() {
        Ok(ids) => ids,
        Err(why) => return fail(exit::BAD_CONFIG, &why),
    };
    let bucket = match Bucket::of(cfg, ids) {
        None if asked.from_offsite => {
            return fail(
                exit::BAD_CONFIG,
                "the configuration has no offsite section: there is no bucket to export from",
            )
        }
        Some(Err(why)) if asked.from_offsite => return fail(exit::CANNOT_RUN, &why),
        Some(Err(why)) => {
            eprintln!("note: the offsite bucket cannot be used ({why}): the backup alone");
            None
        }
        Some(Ok(b)) => Some(b),
        None => None,
    };
    let cameras = match gather(cfg, bucket.as_ref(), asked, range) {
        Ok(c) => c,
        Err(why) => return fail(exit::CANNOT_RUN, &why),
    };
    let tolerance = i64::from(cfg.gap_tolerance_secs);
    let Some((camera, found, chosen)) = choose_in(&cameras, asked.camera, range, tolerance) else {
        let known: Vec<&str> = cameras.keys().map(|c| &**c).collect();
        let known = if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        };
        let place = if asked.from_offsite { "bucket" } else { "backup" };
        return fail(
            exit::BAD_CONFIG,
            &format!("the {place} has no camera {:?}; its cameras: {known}", asked.camera),
        );
    };
    let locked = chosen
        .files
        .iter()
        .filter_map(|(rel, _)| found.get(rel.as_path()))
        .any(|f| f.key.as_deref().and_then(plain_key).is_some());
    if locked && bucket.as_ref().is_some_and(|b| b.ids.is_none()) {
        return fail(
            exit::BAD_CONFIG,
            &format!(
                "the bucket's recordings are encrypted: {}",
                crate::offsite::identity::WANTED
            ),
        );
    }
    // From here each line also goes to a log file of `log_dir`.
    if let Err(e) = runlog::init(false).start(&cfg.log_dir, Local::now()) {
        eprintln!("note: no log file in {}: {e}", cfg.log_dir.display());
    }
    tracing::info!(camera, from = %range.from, to = %range.to, output = %asked.output.display(), "export started");
    match export(cfg, bucket.as_ref(), (camera, range), (&chosen, &found), asked.output) {
        Ok(doc) if doc.complete => {
            tracing::info!(output = %asked.output.display(), "export finished: {}", doc.sentence);
            ExitCode::from(exit::OK)
        }
        Ok(doc) => {
            tracing::warn!(output = %asked.output.display(), "export finished: {}", doc.sentence);
            ExitCode::from(exit::PROBLEMS)
        }
        Err(why) => fail(exit::CANNOT_RUN, &why),
    }
}

fn fail(code: u8, why: &str) -> ExitCode {
    eprintln!("error: {why}");
    ExitCode::from(code)
}

/// The recordings to choose from: the bucket's with `--from-offsite`; else the
/// backup's, and the bucket's too when the backup lacks the camera or part of the range.
fn gather(cfg: &Config, bucket: Option<&Bucket>, asked: &Asked, range: Range) -> Result<Cameras, String> {
    if asked.from_offsite {
        return bucket.map_or_else(|| Ok(Cameras::new()), Bucket::cameras);
    }
    let backup = found::in_backup(cfg).map_err(|why| match bucket {
        Some(_) => format!("{why} (--from-offsite takes the recordings from the bucket)"),
        None => why,
    })?;
    let tolerance = i64::from(cfg.gap_tolerance_secs);
    let whole =
        choose_in(&backup, asked.camera, range, tolerance).is_some_and(|(_, _, s)| s.gaps.is_empty() && s.undated == 0);
    let Some(bucket) = bucket.filter(|_| !whole) else {
        return Ok(backup);
    };
    match bucket.cameras() {
        Ok(more) => Ok(found::merged(backup, more)),
        Err(why) => {
            eprintln!("note: {why}: what the backup lacks cannot be taken from the bucket");
            Ok(backup)
        }
    }
}

/// The camera named `asked` (as written, else the one that differs only in case: an
/// operator typing `CH03` for `ch03`), its recordings by path, and the selection.
fn choose_in<'a>(
    cameras: &'a Cameras,
    asked: &str,
    range: Range,
    tolerance: i64,
) -> Option<(&'a str, HashMap<&'a Path, &'a Found>, Selection)> {
    let (name, recs) = cameras.get_key_value(asked).or_else(|| {
        let mut alike = cameras.iter().filter(|(name, _)| name.eq_ignore_ascii_case(asked));
        match (alike.next(), alike.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    })?;
    let chosen = choose::select(recs.iter().map(|f| (f.rel.as_path(), f.span, f.date)), range, tolerance);
    let by_path = recs.iter().map(|f| (f.rel.as_path(), f)).collect();
    Some((name, by_path, chosen))
}

/// Copies the chosen recordings into `output` and writes the proof beside them.
fn export(
    cfg: &Config,
    bucket: Option<&Bucket>,
    (camera, range): (&str, Range),
    (chosen, found): (&Selection, &HashMap<&Path, &Found>),
    output: &Path,
) -> Result<Document, String> {
    std::fs::create_dir_all(output).map_err(|e| format!("cannot create {}: {e}", output.display()))?;
    let keys: HashSet<String> = chosen.files.iter().map(|(rel, _)| manifest::key(rel)).collect();
    let in_backup = chosen
        .files
        .iter()
        .any(|(rel, _)| found.get(rel.as_path()).is_some_and(|f| f.origin == Origin::Backup));
    let hashes = match in_backup.then(|| manifest::load_where(&cfg.backup_dir, |k| keys.contains(k))) {
        Some(Ok((entries, _))) => entries,
        Some(Err(e)) => {
            tracing::warn!("the backup's manifest cannot be read ({e}): no file of the backup can be proven");
            HashMap::new()
        }
        None => HashMap::new(),
    };
    let files = chosen
        .files
        .iter()
        .map(|(rel, span)| {
            let f = found[rel.as_path()];
            let entry = blank(rel, *span, f.origin);
            match (&f.key, bucket) {
                (Some(key), Some(b)) => from_bucket(entry, b, key, &output.join(rel)),
                _ => from_backup(entry, cfg, (rel, output), hashes.get(&manifest::key(rel))),
            }
        })
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
        bucket: bucket.map(|b| b.place.as_str()),
        gap_tolerance_secs: i64::from(cfg.gap_tolerance_secs),
    };
    let doc = Document::new(&heading, files, &chosen.gaps, chosen.undated, Local::now());
    doc.write(output)
        .map_err(|e| format!("cannot write the proof into {}: {e}", output.display()))?;
    Ok(doc)
}

/// A file's entry before its copy.
fn blank(rel: &Path, span: Span, origin: Origin) -> FileEntry {
    FileEntry {
        name: manifest::key(rel),
        start: span.start,
        end: span.end,
        origin,
        size: 0,
        blake3: String::new(),
        sha256: String::new(),
        check: Check::NotCopied,
        error: None,
    }
}

/// One recording copied out of the backup, hashed, and checked against its manifest
/// entry.
fn from_backup(mut entry: FileEntry, cfg: &Config, (rel, output): (&Path, &Path), known: Option<&Entry>) -> FileEntry {
    match out::copy_out(&cfg.backup_dir.join(rel), &output.join(rel)) {
        Ok(c) => {
            entry.check = match known.filter(|k| !k.gone && !k.blake3.is_empty()) {
                None => Check::NotInManifest,
                Some(k) if k.size == c.size && k.blake3 == c.blake3 => Check::MatchesManifest,
                Some(_) => Check::DiffersFromManifest,
            };
            (entry.size, entry.blake3, entry.sha256) = (c.size, c.blake3, c.sha256);
            said(&entry);
        }
        Err(e) => not_copied(&mut entry, e.to_string()),
    }
    entry
}

/// One recording fetched from the bucket, checked against the hash recorded at upload
/// (the manifest's at the time), then hashed for the proof.
fn from_bucket(mut entry: FileEntry, bucket: &Bucket, key: &str, to: &Path) -> FileEntry {
    let fetched = recorded(&bucket.client, key)
        .and_then(|want| fetch(&bucket.client, (key, bucket.ids.as_ref()), &want, to, &mut |_| {}).map(|_| want))
        .map_err(|e| e.to_string())
        .and_then(|want| out::hashes_of(to).map(|c| (want, c)).map_err(|e| e.to_string()));
    match fetched {
        Ok((want, c)) => {
            entry.check = if c.size == want.size && c.blake3 == want.blake3 {
                Check::MatchesManifest
            } else {
                Check::DiffersFromManifest
            };
            (entry.size, entry.blake3, entry.sha256) = (c.size, c.blake3, c.sha256);
            said(&entry);
        }
        Err(why) => not_copied(&mut entry, why),
    }
    entry
}

fn said(entry: &FileEntry) {
    let (path, bytes, check) = (&entry.name, entry.size, entry.check.words());
    if entry.check.proven() {
        tracing::info!(path, bytes, "exported from the {}: {check}", entry.origin.words());
    } else {
        tracing::warn!(path, bytes, "exported from the {}: {check}", entry.origin.words());
    }
}

fn not_copied(entry: &mut FileEntry, why: String) {
    tracing::warn!(path = entry.name, "not exported: {why}");
    entry.error = Some(why);
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
