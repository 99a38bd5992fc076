//! The coverage report as a document: the JSON schema of docs/report.md (version 1),
//! built from `rules::coverage`, and written as text (`text`), JSON or one
//! self-contained HTML page (`html`). The daemon keeps `log_dir/coverage.json` and
//! `coverage.html` with it after each pass; `report` and `status` show it.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use rules::coverage::{self, human_secs, Coverage};
use rules::listing::Listing;
use store::spans::{self, SpanCache};

pub mod html;
pub mod text;

/// What the document says it is; a reader checks both before trusting the rest.
pub const SCHEMA: &str = "cctv-mirror/coverage";
pub const VERSION: u32 = 1;
/// The daemon's copies in `log_dir`.
pub const JSON_FILE: &str = "coverage.json";
pub const HTML_FILE: &str = "coverage.html";

/// The whole report (docs/report.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    pub schema: String,
    pub version: u32,
    pub site: String,
    pub generated_at: DateTime<Local>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub backup_dir: String,
    /// The newest instant any camera has reached, in the backup or the source.
    pub newest: Option<NaiveDateTime>,
    pub gap_tolerance_secs: i64,
    /// Whether the source could be listed (else `source_only` is 0 for want of it).
    pub source_listed: bool,
    pub verdict: VerdictEntry,
    pub cameras: Vec<CameraEntry>,
}

/// The verdict: a sentence, and the counts it is made of (`rules::coverage::Verdict`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictEntry {
    pub sentence: String,
    #[serde(flatten)]
    pub counts: coverage::Verdict,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CameraEntry {
    pub camera: String,
    /// Where its history begins in the range: its first recording in either tree, or
    /// the range's start.
    pub since: NaiveDateTime,
    pub days: Vec<DayEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayEntry {
    pub date: NaiveDate,
    pub covered_secs: i64,
    pub expected_secs: i64,
    pub complete: bool,
    pub gaps: Vec<GapEntry>,
    pub recordings: u32,
    pub bytes: u64,
    /// Copies of growing recordings still being made.
    pub in_progress: u32,
    pub unknown_times: u32,
    pub source_only: u32,
    /// Recordings by type letter (R, M, A, I; `?` when the name gives none).
    pub types: BTreeMap<String, u32>,
    /// Of the day's finished backup copies, how many the offsite bucket holds
    /// (same key, same size); absent without an offsite tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsite: Option<u32>,
    /// Wholly before the camera's first recording: nothing expected, not in the verdict.
    pub before_first_recording: bool,
}

impl DayEntry {
    /// The day's finished backup copies (what the bucket should hold).
    pub fn finished(&self) -> u32 {
        self.recordings - self.in_progress
    }
}

/// What the offsite bucket is known to hold, for the report's offsite column.
pub struct Bucket {
    pub prefix: String,
    /// Keys and sizes.
    pub objects: std::collections::HashMap<String, u64>,
}

impl Bucket {
    /// Under its key, or beside another version there (`NAME.offsite-N.dav`).
    fn holds(&self, rel: &Path, size: u64) -> bool {
        let key = rules::offsite::key_of(&self.prefix, rel);
        rules::offsite::held(&key, size, |k| self.objects.get(k).copied())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapEntry {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub secs: i64,
}

/// Who the report is for and when it was made.
pub struct Heading<'a> {
    pub site: &'a str,
    pub backup_dir: &'a Path,
    pub generated_at: DateTime<Local>,
    pub source_listed: bool,
}

impl Document {
    pub fn new(heading: &Heading, c: &Coverage) -> Document {
        Document {
            schema: SCHEMA.into(),
            version: VERSION,
            site: heading.site.into(),
            generated_at: heading.generated_at,
            from: c.from,
            to: c.to,
            backup_dir: heading.backup_dir.display().to_string(),
            newest: c.newest,
            gap_tolerance_secs: c.tolerance_secs,
            source_listed: heading.source_listed,
            verdict: verdict(c),
            cameras: c.cameras.iter().map(camera).collect(),
        }
    }

    /// Reads a document written by `write_json`, if it is one this version understands.
    pub fn read(path: &Path) -> Option<Document> {
        let doc: Document = crate::json_file::read(path)?;
        (doc.schema == SCHEMA && doc.version == VERSION).then_some(doc)
    }

    /// All the gaps, camera by camera, a gap across midnight once.
    pub fn gaps(&self) -> Vec<(&str, GapEntry)> {
        let mut out: Vec<(&str, GapEntry)> = Vec::new();
        for c in &self.cameras {
            for g in c.days.iter().flat_map(|d| &d.gaps) {
                match out.last_mut() {
                    Some((cam, last)) if *cam == c.camera && last.to == g.from => {
                        last.to = g.to;
                        last.secs += g.secs;
                    }
                    _ => out.push((&c.camera, g.clone())),
                }
            }
        }
        out
    }
}

fn verdict(c: &Coverage) -> VerdictEntry {
    let v = &c.verdict;
    let mut sentence = if v.complete {
        format!(
            "Complete: {} camera(s), {} camera-day(s), every expected second is in the backup.",
            v.cameras, v.camera_days
        )
    } else if v.cameras == 0 {
        "Not complete: the backup holds no recording of these days.".to_string()
    } else {
        format!(
            "Not complete: {} gap(s), {} missing, on {} of {} camera-days.",
            v.gaps,
            human_secs(v.missing_secs),
            v.camera_days - v.complete_camera_days,
            v.camera_days
        )
    };
    if let Some(on) = v.history_full_on {
        let days = (c.to - c.from).num_days() + 1;
        sentence.push_str(&format!(" {days} days of history on {on}."));
    }
    VerdictEntry {
        sentence,
        counts: v.clone(),
    }
}

fn camera(c: &coverage::Camera) -> CameraEntry {
    CameraEntry {
        camera: c.camera.clone(),
        since: c.since,
        days: c
            .days
            .iter()
            .map(|d| DayEntry {
                date: d.date,
                covered_secs: d.covered_secs,
                expected_secs: d.expected_secs,
                complete: d.complete(),
                gaps: d
                    .gaps
                    .iter()
                    .map(|g| GapEntry {
                        from: g.from,
                        to: g.to,
                        secs: g.secs(),
                    })
                    .collect(),
                recordings: d.recordings,
                bytes: d.bytes,
                in_progress: d.copying,
                unknown_times: d.unknown_times,
                source_only: d.source_only,
                types: d.types.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                offsite: d.offsite,
                before_first_recording: d.before_first,
            })
            .collect(),
    }
}

/// Writes the document as JSON (pretty, one trailing newline).
pub fn to_json(doc: &Document) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Replaces `log_dir/coverage.json` and `coverage.html` (each written whole, then renamed).
pub fn write_files(log_dir: &Path, doc: &Document) -> io::Result<()> {
    crate::json_file::replace(log_dir, JSON_FILE, doc)?;
    crate::json_file::replace_text(log_dir, HTML_FILE, &html::page(doc))
}

/// The report on the `days` days ending `now`'s day, from the listings a scan made
/// (`source`: None when it could not be listed). Reads frames only of backup
/// recordings whose names give no times, once per file thanks to `cache`.
pub fn build(
    cfg: &config::Config,
    listings: (&Listing, Option<&Listing>),
    cache: &mut SpanCache,
    now: DateTime<Local>,
    (days, bucket): (u32, Option<&Bucket>),
) -> Document {
    let (backup, source) = listings;
    let today = now.date_naive();
    let from = today
        .checked_sub_days(chrono::Days::new(u64::from(days.max(1) - 1)))
        .unwrap_or(today);
    let mut tally = coverage::Tally::new(from, today, today, cfg.gap_tolerance_secs.into());
    spans::pieces(&cfg.backup_dir, (backup, source), cache, &mut |rel, mut p| {
        if p.held == coverage::Held::Backup {
            p.offsite = bucket.map(|b| b.holds(rel, p.bytes));
        }
        tally.add(p)
    });
    let c = tally.finish();
    let heading = Heading {
        site: &cfg.site_name,
        backup_dir: &cfg.backup_dir,
        generated_at: now,
        source_listed: source.is_some(),
    };
    Document::new(&heading, &c)
}
