//! How recordings are recognised and named, as pure functions: which files are
//! recordings (finished, or still being recorded), the day a recording belongs to, and
//! the names cctv-mirror gives its own files in the backup (temporaries, in-progress
//! copies, copies kept beside a changed original). Nothing here touches the disk, so
//! every rule can be tested on plain strings.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Local, NaiveDate};

use crate::fit;

/// Suffix of our temporary files. It never matches a configured extension (the config
/// refuses it), so a temporary is never mistaken for a recording.
pub const TEMP_SUFFIX: &str = ".cctv-tmp";

/// How many differing versions of one recording are kept beside the original before
/// cctv-mirror stops storing more and only alerts.
pub const MAX_KEPT_BESIDE: u32 = 9;

/// Suffix of our in-progress copies: `NAME.EXT.partial` holds the first bytes of a
/// recording still being written. It ends in no recording extension (the config refuses
/// `partial`), so no player or operator takes it for a finished recording; once the
/// recording is finished it is completed and renamed to `NAME.EXT`.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// What a file is to cctv-mirror, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A recording under its final name.
    Recording,
    /// A recording still being written, under a name that says so: the recorder's own
    /// (`NAME.dav_`) in the source, or our in-progress copy (`NAME.dav.partial`) in the
    /// backup. `final_name` is the name it has once finished.
    InProgress { final_name: String },
    /// One of our temporaries.
    Temp,
}

/// The names that count: recording extensions and the recorder's in-progress suffixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Lower-case, without the leading dot (`dav`).
    pub extensions: Vec<String>,
    /// Lower-case, with the dot, each starting with `.EXT` of an extension (`.dav_`).
    pub in_progress_suffixes: Vec<String>,
}

impl Names {
    /// What `name` is, or None when cctv-mirror has nothing to do with it.
    pub fn classify(&self, name: &OsStr) -> Option<Kind> {
        let name = name.to_str()?;
        if is_temp(OsStr::new(name)) {
            return Some(Kind::Temp);
        }
        if is_recording(OsStr::new(name), &self.extensions) {
            return Some(Kind::Recording);
        }
        if let Some(stem) = strip_suffix_ignore_case(name, PARTIAL_SUFFIX) {
            return is_recording(OsStr::new(stem), &self.extensions).then(|| Kind::InProgress {
                final_name: stem.to_string(),
            });
        }
        for suffix in &self.in_progress_suffixes {
            let Some(stem) = strip_suffix_ignore_case(name, suffix) else {
                continue;
            };
            // `.dav_` → keep `.dav`: the extension is the suffix's start, in the
            // recorder's own case.
            let ext_len = self
                .extensions
                .iter()
                .filter(|e| suffix[1..].starts_with(e.as_str()))
                .map(|e| e.len() + 1)
                .max()?;
            let final_name = &name[..stem.len() + ext_len];
            if !stem.is_empty() && is_recording(OsStr::new(final_name), &self.extensions) {
                return Some(Kind::InProgress {
                    final_name: final_name.to_string(),
                });
            }
        }
        None
    }

    /// For a recording in any form, the path of its finished version and whether `rel`
    /// names it as still in progress; None for anything else.
    pub fn final_rel(&self, rel: &Path) -> Option<(PathBuf, bool)> {
        match self.classify(rel.file_name()?)? {
            Kind::Recording => Some((rel.to_path_buf(), false)),
            Kind::InProgress { final_name } => Some((rel.with_file_name(final_name), true)),
            Kind::Temp => None,
        }
    }

    /// The key a recording in any form is serialized on in the copy queue: its finished
    /// path (`final_rel`), as `fit::key_of` gives it. None for anything else.
    pub fn key(&self, rel: &Path) -> Option<PathBuf> {
        let (rel, _) = self.final_rel(rel)?;
        Some(fit::key_of(&rel).into_owned())
    }

    /// The key of the source recording a backup file stands for (`fit::key_of`: its
    /// path, unless its name is too long to leave room for ours), which is also the key
    /// the copy queue serializes on: a temporary, an in-progress copy and a version kept
    /// beside all lead back to the recording they were made from.
    pub fn origin(&self, backup_rel: &Path) -> Option<PathBuf> {
        let rel = final_of_temp(backup_rel).unwrap_or_else(|| backup_rel.to_path_buf());
        let (rel, _) = self.final_rel(&rel)?;
        let rel = unkept(&rel).unwrap_or(rel);
        Some(fit::key_of(&rel).into_owned())
    }
}

fn strip_suffix_ignore_case<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(suffix)).then(|| &name[..cut])
}

/// Where the in-progress copy of the recording `rel` is kept: `rel` + `.partial`.
/// A name too long for that gets its short form (`fit::within`); look it up with
/// `partial_key`.
pub fn partial_of(rel: &Path) -> PathBuf {
    let mut name = match rel.file_name().map(|n| n.to_str().ok_or(n)) {
        Some(Ok(n)) => std::ffi::OsString::from(fit::within(n, fit::PARTIAL_ROOM).as_ref()),
        Some(Err(n)) => n.to_os_string(),
        None => Default::default(),
    };
    name.push(PARTIAL_SUFFIX);
    rel.with_file_name(name)
}

/// The name under which a scan lists the in-progress copy of the recording `rel`: `rel`,
/// or its short form when `rel` is too long (see `partial_of`).
pub fn partial_key(rel: &Path) -> std::borrow::Cow<'_, Path> {
    fit::rel_within(rel, fit::PARTIAL_ROOM)
}

/// True when `name` ends in one of `extensions` (lower-case, no dot), ignoring case.
pub fn is_recording(name: &OsStr, extensions: &[String]) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    if is_temp(OsStr::new(name)) {
        return false;
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

/// The day a recording belongs to according to its folders: three consecutive folders
/// `YYYY/MM/DD` (the Intelbras layout) or one folder `YYYY-MM-DD` (Dahua's FTP/NVR
/// export layout). The outermost match wins; the file name itself is not read.
pub fn date_from_path(rel: &Path) -> Option<NaiveDate> {
    date_of_folder(rel.parent()?)
}

/// The day the recordings directly inside `folder` belong to (see `date_from_path`):
/// a scan works it out once per folder.
pub fn date_of_folder(folder: &Path) -> Option<NaiveDate> {
    day_in(&folder_names(folder)).map(|(date, _)| date)
}

/// The plain names of `path`'s parts, in order (`.`, `..`, roots and prefixes left
/// out; a part that is not UTF-8 too).
pub fn folder_names(path: &Path) -> Vec<&str> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect()
}

/// The day these folders give (see `date_from_path`), with the index just after the
/// folders that give it.
pub fn day_in(folders: &[&str]) -> Option<(NaiveDate, usize)> {
    for (i, f) in folders.iter().enumerate() {
        if let Some(d) = dashed_date(f) {
            return Some((d, i + 1));
        }
        if let [y, m, d] = folders.get(i..i + 3).unwrap_or(&[]) {
            if let Some(date) = ymd(y, m, d) {
                return Some((date, i + 3));
            }
        }
    }
    None
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(digits(y, 4)? as i32, digits(m, 2)?, digits(d, 2)?)
}

fn dashed_date(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    ymd(y, m, d)
}

/// The day a recording belongs to: its folders when they say, else its modification
/// time in local time (the recorder names folders by local time too); None when
/// neither says (a file time outside the calendar).
pub fn recording_date(rel: &Path, mtime: SystemTime) -> Option<NaiveDate> {
    date_from_path(rel).or_else(|| local_time(mtime).map(|t| t.date_naive()))
}

/// The years a file time is read within; a file system can hold times far beyond
/// them (tmpfs, ext4 and NTFS store 64-bit times), which are read as unknown.
pub const YEARS: std::ops::RangeInclusive<i32> = -200_000..=200_000;

/// A file time in local time; None outside `YEARS`, never a panic.
pub fn local_time(t: SystemTime) -> Option<DateTime<Local>> {
    let (secs, nanos) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).ok()?;
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    };
    let utc = DateTime::from_timestamp(secs, nanos)?;
    YEARS
        .contains(&chrono::Datelike::year(&utc))
        .then(|| utc.with_timezone(&Local))
}

/// The temporary a copy of `final_name` is written to, in the same folder (so the final
/// rename never crosses a file system). It is hidden, and never a recording. A name
/// too long for it is shortened to its recording's key (`fit::base`).
pub fn temp_name(final_name: &OsStr) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(".");
    match final_name.to_str() {
        Some(n) => s.push(fit::within(n, fit::TEMP_ROOM).as_ref()),
        None => s.push(final_name),
    }
    s.push(TEMP_SUFFIX);
    s
}

/// True for our own temporaries.
pub fn is_temp(name: &OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX) && n.len() > TEMP_SUFFIX.len() + 1)
}

/// The final name a temporary stands for (same folder), or None if `rel` is not one.
pub fn final_of_temp(rel: &Path) -> Option<PathBuf> {
    let name = rel.file_name()?.to_str()?;
    if !is_temp(OsStr::new(name)) {
        return None;
    }
    Some(rel.with_file_name(&name[1..name.len() - TEMP_SUFFIX.len()]))
}

/// Where version `n` (1..=MAX_KEPT_BESIDE) of a recording whose source changed is kept
/// beside the original: `STEM.changed-N.EXT`. It stays a recording (same extension),
/// so retention dates and removes it like the original.
pub fn kept_beside(rel: &Path, n: u32) -> PathBuf {
    let name = fit::base(rel.file_name().and_then(OsStr::to_str).unwrap_or_default());
    let new = match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.changed-{n}.{ext}"),
        None => format!("{name}.changed-{n}"),
    };
    rel.with_file_name(new)
}

/// True for a name made by `kept_beside`: such files have no counterpart in the source.
pub fn is_kept_beside(rel: &Path) -> bool {
    unkept(rel).is_some()
}

/// The original a name made by `kept_beside` was made from.
pub fn unkept(rel: &Path) -> Option<PathBuf> {
    let name = rel.file_name()?.to_str()?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s, Some(e)),
        None => (name, None),
    };
    let (orig, n) = stem.rsplit_once(".changed-")?;
    n.parse::<u32>().ok()?;
    Some(rel.with_file_name(match ext {
        Some(e) => format!("{orig}.{e}"),
        None => orig.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exts() -> Vec<String> {
        vec!["dav".into()]
    }

    #[test]
    fn recordings_by_extension_any_case() {
        assert!(is_recording(OsStr::new("10.00.00-11.00.00[R][0@0][0].dav"), &exts()));
        assert!(is_recording(
            OsStr::new("NVR_ch1_main_20261126100000_20261126110000.DAV"),
            &exts()
        ));
        assert!(!is_recording(OsStr::new("x.dav_"), &exts()));
        assert!(!is_recording(OsStr::new(".dav"), &exts()));
        assert!(!is_recording(OsStr::new("dav"), &exts()));
        assert!(!is_recording(OsStr::new("x.idx"), &exts()));
        assert!(!is_recording(&temp_name(OsStr::new("x.dav")), &exts()));
    }

    #[test]
    fn date_from_ymd_folders() {
        let d = |s: &str| date_from_path(Path::new(s));
        assert_eq!(d("2026/11/26/ch1/a.dav"), NaiveDate::from_ymd_opt(2026, 11, 26));
        assert_eq!(d("cam/2026/01/02/a.dav"), NaiveDate::from_ymd_opt(2026, 1, 2));
        assert_eq!(d("2026-11-26/001/dav/10/a.dav"), NaiveDate::from_ymd_opt(2026, 11, 26));
        assert_eq!(d("2026/02/30/a.dav"), None, "no such day");
        assert_eq!(d("2026/11/a.dav"), None);
        assert_eq!(d("2026/11/26"), None, "the file's own name is not a folder");
        assert_eq!(d("26/11/2026/a.dav"), None);
        assert_eq!(d("a.dav"), None);
        assert_eq!(d("2026/1/26/a.dav"), None, "months are two digits");
    }

    #[test]
    fn date_falls_back_to_mtime() {
        let t = SystemTime::now();
        assert_eq!(
            recording_date(Path::new("cam/a.dav"), t),
            Some(DateTime::<Local>::from(t).date_naive())
        );
        assert_eq!(
            recording_date(Path::new("2020/05/06/a.dav"), t).unwrap(),
            NaiveDate::from_ymd_opt(2020, 5, 6).unwrap()
        );
    }

    #[test]
    fn temp_and_kept_names() {
        let t = temp_name(OsStr::new("a.dav"));
        assert_eq!(t, ".a.dav.cctv-tmp");
        assert!(is_temp(&t));
        assert_eq!(final_of_temp(&Path::new("d").join(&t)), Some(PathBuf::from("d/a.dav")));
        assert_eq!(final_of_temp(Path::new("d/a.dav")), None);
        assert!(!is_temp(OsStr::new("a.dav")));
        assert!(!is_temp(OsStr::new(".cctv-tmp")));
        let kept = kept_beside(Path::new("2026/11/26/a.b.dav"), 2);
        assert_eq!(kept, PathBuf::from("2026/11/26/a.b.changed-2.dav"));
        assert!(is_kept_beside(&kept));
        assert!(!is_kept_beside(Path::new("2026/11/26/a.b.dav")));
    }

    fn names() -> Names {
        Names {
            extensions: exts(),
            in_progress_suffixes: vec![".dav_".into()],
        }
    }

    #[test]
    fn in_progress_names() {
        let n = names();
        let kind = |s: &str| n.classify(OsStr::new(s));
        let in_progress = |f: &str| {
            Some(Kind::InProgress {
                final_name: f.to_string(),
            })
        };
        assert_eq!(kind("a.dav"), Some(Kind::Recording));
        assert_eq!(kind("a.dav_"), in_progress("a.dav"));
        assert_eq!(kind("A.DAV_"), in_progress("A.DAV"));
        assert_eq!(kind("a.dav.partial"), in_progress("a.dav"));
        assert_eq!(kind("a.changed-2.dav.partial"), in_progress("a.changed-2.dav"));
        assert_eq!(kind(".dav_"), None);
        assert_eq!(kind("a.idx.partial"), None);
        assert_eq!(kind(".partial"), None);
        assert_eq!(kind("a.dav_x"), None);
        assert_eq!(kind(".a.dav.partial.cctv-tmp"), Some(Kind::Temp));
        assert_eq!(kind("ação.dav_"), in_progress("ação.dav"));
        assert_eq!(partial_of(Path::new("d/a.dav")), PathBuf::from("d/a.dav.partial"));
        assert_eq!(
            n.final_rel(Path::new("d/a.dav_")),
            Some((PathBuf::from("d/a.dav"), true))
        );
        assert_eq!(
            n.final_rel(Path::new("d/a.dav")),
            Some((PathBuf::from("d/a.dav"), false))
        );
        assert_eq!(n.final_rel(Path::new("d/a.txt")), None);
    }

    #[test]
    fn every_backup_file_leads_back_to_its_origin() {
        let n = names();
        let origin = |s: &str| n.origin(Path::new(s));
        let a = Some(PathBuf::from("d/a.dav"));
        assert_eq!(origin("d/a.dav"), a);
        assert_eq!(origin("d/a.dav.partial"), a);
        assert_eq!(origin("d/.a.dav.partial.cctv-tmp"), a);
        assert_eq!(origin("d/.a.dav.cctv-tmp"), a);
        assert_eq!(origin("d/a.changed-3.dav"), a);
        assert_eq!(origin("d/.a.changed-3.dav.partial.cctv-tmp"), a);
        assert_eq!(origin("d/notes.txt"), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No path, however odd (any characters, `..`, empty parts, no name),
            /// makes a naming rule panic.
            #[test]
            fn no_file_time_panics(secs in any::<i64>(), nanos in 0u32..1_000_000_000) {
                let d = std::time::Duration::new(secs.unsigned_abs(), nanos);
                let t = if secs >= 0 { SystemTime::UNIX_EPOCH.checked_add(d) } else { SystemTime::UNIX_EPOCH.checked_sub(d) };
                if let Some(t) = t {
                    let date = recording_date(Path::new("cam/a.dav"), t);
                    let in_range = (YEARS.start() * 365 + 1000) as i64 * 86_400 <= secs && secs <= (YEARS.end() * 365 - 1000) as i64 * 86_400;
                    prop_assert!(!in_range || date.is_some(), "a time within the calendar has a date");
                    prop_assert_eq!(recording_date(Path::new("2020/05/06/a.dav"), t), NaiveDate::from_ymd_opt(2020, 5, 6));
                }
            }

            #[test]
            fn no_path_panics(parts in proptest::collection::vec("[0-9a-zA-Z._\\-\\[\\]@ çã]{0,12}|\\.\\.|\\PC{0,6}", 0..8)) {
                let rel: PathBuf = parts.iter().collect();
                let n = names();
                let _ = date_from_path(&rel);
                let _ = recording_date(&rel, SystemTime::UNIX_EPOCH);
                if let Some(name) = rel.file_name() {
                    let _ = n.classify(name);
                    let _ = is_temp(name);
                }
                let _ = n.final_rel(&rel);
                let _ = n.origin(&rel);
                let _ = final_of_temp(&rel);
                let _ = kept_beside(&rel, 3);
                let _ = is_kept_beside(&rel);
                let _ = partial_of(&rel);
            }

            /// Every real day written the recorder's way reads back as that day,
            /// wherever the folders sit and whatever the file is called.
            #[test]
            fn recorder_folders_give_their_day(days in 0i64..200_000, prefix in "[a-z]{0,6}", name in "[0-9a-z\\[\\]@][0-9a-z.\\[\\]@]{0,19}") {
                let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(days as u64);
                let mut rel = PathBuf::new();
                if !prefix.is_empty() {
                    rel.push(&prefix);
                }
                let ymd = rel.join(d.format("%Y/%m/%d").to_string()).join(&name);
                prop_assert_eq!(date_from_path(&ymd), Some(d));
                let dashed = rel.join(d.format("%Y-%m-%d").to_string()).join(&name);
                prop_assert_eq!(date_from_path(&dashed), Some(d));
            }
        }
    }
}
