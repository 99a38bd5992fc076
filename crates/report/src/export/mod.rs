//! The proof that goes with exported recordings: `export.json` (schema
//! `cctv-mirror/export`), `export.html` to read and print, and `SHA256SUMS` for
//! `sha256sum -c` (docs/evidence.md).

pub mod html;

use std::io;
use std::path::Path;

use chrono::{DateTime, Local, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::json_file;
use rules::coverage::{human_secs, Gap};

/// What the document says it is; a reader checks both before trusting the rest.
pub const SCHEMA: &str = "cctv-mirror/export";
pub const VERSION: u32 = 1;
pub const JSON_FILE: &str = "export.json";
pub const HTML_FILE: &str = "export.html";
pub const SUMS_FILE: &str = "SHA256SUMS";

/// The whole export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    pub schema: String,
    pub version: u32,
    pub site: String,
    pub host: String,
    pub camera: String,
    /// The range asked for, local time as the recorder writes it.
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub made_at: DateTime<Local>,
    /// The program and version that made it.
    pub made_by: String,
    pub backup_dir: String,
    /// The offsite bucket, when a file came from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    pub gap_tolerance_secs: i64,
    /// No gap, and every file copied and matching its manifest hash.
    pub complete: bool,
    pub sentence: String,
    pub files: Vec<FileEntry>,
    pub gaps: Vec<GapEntry>,
    /// The camera's recordings on the range's days whose times are unknown: not taken.
    pub undated: usize,
}

/// One exported recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its path inside the export folder, `/`-separated: the backup's own.
    pub name: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub origin: Origin,
    pub size: u64,
    pub blake3: String,
    pub sha256: String,
    pub check: Check,
    /// Why it could not be copied (`check` is `not_copied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where an exported file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The backup folder.
    Backup,
    /// The offsite bucket: `--from-offsite`, or a recording the backup lacks.
    Offsite,
}

impl Origin {
    pub fn words(self) -> &'static str {
        match self {
            Origin::Backup => "backup",
            Origin::Offsite => "offsite bucket",
        }
    }
}

/// What the copy's bytes proved against the manifest, the hash taken when the
/// recording was backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Same size and BLAKE3 as the manifest's entry.
    MatchesManifest,
    /// The manifest has no hash for it: exported, unproven.
    NotInManifest,
    /// Not the bytes that were backed up: exported as found, to be examined.
    DiffersFromManifest,
    /// It could not be read or written (`error` says why).
    NotCopied,
}

impl Check {
    pub fn proven(self) -> bool {
        self == Check::MatchesManifest
    }

    /// What it means, in a few words.
    pub fn words(self) -> &'static str {
        match self {
            Check::MatchesManifest => "matches the hash taken at backup",
            Check::NotInManifest => "no hash from the backup to compare",
            Check::DiffersFromManifest => "DIFFERS from the hash taken at backup",
            Check::NotCopied => "NOT COPIED",
        }
    }
}

/// A stretch of the range no exported recording covers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GapEntry {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub secs: i64,
}

impl From<&Gap> for GapEntry {
    fn from(g: &Gap) -> GapEntry {
        GapEntry {
            from: g.from,
            to: g.to,
            secs: g.secs(),
        }
    }
}

/// Who asked for what, and when.
pub struct Heading<'a> {
    pub site: &'a str,
    pub host: &'a str,
    pub camera: &'a str,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub made_by: &'a str,
    pub backup_dir: &'a Path,
    /// The offsite bucket's place (`s3://bucket/prefix at endpoint`), when one is used.
    pub bucket: Option<&'a str>,
    pub gap_tolerance_secs: i64,
}

impl Document {
    pub fn new(h: &Heading, files: Vec<FileEntry>, gaps: &[Gap], undated: usize, made_at: DateTime<Local>) -> Document {
        let gaps: Vec<GapEntry> = gaps.iter().map(GapEntry::from).collect();
        let unproven = files.iter().filter(|f| !f.check.proven()).count();
        let sentence = sentence(h, files.len(), &gaps, unproven);
        Document {
            schema: SCHEMA.into(),
            version: VERSION,
            site: h.site.into(),
            host: h.host.into(),
            camera: h.camera.into(),
            from: h.from,
            to: h.to,
            made_at,
            made_by: h.made_by.into(),
            backup_dir: h.backup_dir.display().to_string(),
            bucket: files
                .iter()
                .any(|f| f.origin == Origin::Offsite)
                .then(|| h.bucket.unwrap_or_default().to_string()),
            gap_tolerance_secs: h.gap_tolerance_secs,
            complete: gaps.is_empty() && unproven == 0,
            sentence,
            files,
            gaps,
            undated,
        }
    }

    /// Writes `export.json`, `export.html` and `SHA256SUMS` into `dir`.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        json_file::replace(dir, JSON_FILE, self)?;
        json_file::replace_text(dir, HTML_FILE, &html::page(self))?;
        json_file::replace_text(dir, SUMS_FILE, &self.sums())
    }

    /// `sha256sum`'s own format: the hash, two spaces, the file's path.
    pub fn sums(&self) -> String {
        self.files
            .iter()
            .filter(|f| f.check != Check::NotCopied)
            .map(|f| format!("{}  {}\n", f.sha256, f.name))
            .collect()
    }
}

/// The verdict in one sentence.
fn sentence(h: &Heading, files: usize, gaps: &[GapEntry], unproven: usize) -> String {
    let range = format!("{} from {} to {}", h.camera, h.from, h.to);
    if gaps.is_empty() && unproven == 0 {
        return format!("Complete: {files} recording(s) cover {range}, each matching the hash taken at backup.");
    }
    let mut why = Vec::new();
    if !gaps.is_empty() {
        let secs: i64 = gaps.iter().map(|g| g.secs).sum();
        why.push(format!("{} gap(s), {} in all", gaps.len(), human_secs(secs)));
    }
    if unproven > 0 {
        why.push(format!("{unproven} recording(s) not proven by the backup's hash"));
    }
    format!(
        "Not complete: {range} has {}; {files} recording(s) exported.",
        why.join(" and ")
    )
}
