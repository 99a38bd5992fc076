//! What the offsite tier must do, decided from the backup's listing and the bucket's:
//! which finished recordings to upload (missing there, or there with another size:
//! never over it, beside it), and which objects offsite retention deletes, with a
//! reason each. Pure: the listings and `today` are arguments. Retention is anchored as
//! the local one is (the earlier of today and the newest recording, so a clock that
//! jumps ahead deletes nothing recent), refuses more than half of the prefix at once,
//! and never looks outside the prefix.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use md5::{Digest as _, Md5};

use crate::alert::{AlertKind, Raised};
use crate::names::date_from_path;
use crate::paths::slashed;
use crate::retention::{mass_delete, Amount};
use crate::window::Window;

/// An object of the bucket, by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

/// Why a recording is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The bucket does not have it.
    Missing,
    /// The bucket has another size under its name: the recording goes beside it.
    Differs,
}

/// One upload to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Relative to the backup folder.
    pub rel: String,
    /// Where it goes.
    pub key: String,
    pub why: Why,
}

/// The object key of a backup recording: the prefix, then its path with `/`.
pub fn key_of(prefix: &str, rel: &Path) -> String {
    format!("{prefix}{}", slashed(rel))
}

/// The key beside `key` for a version that differs: `NAME.offsite-N.dav`, the first N
/// not taken.
pub fn beside(key: &str, mut taken: impl FnMut(&str) -> bool) -> String {
    let (stem, ext) = split_ext(key);
    (1..)
        .map(|n| format!("{stem}.offsite-{n}{ext}"))
        .find(|k| !taken(k))
        .unwrap_or_else(|| key.to_string())
}

/// Whether the bucket holds a recording of `size` under `key`, beside another version
/// there (`NAME.offsite-N.dav`), or as its newest grown version (`NAME.grown-N.dav`);
/// `size_of` gives an object's size by key.
pub fn held(key: &str, size: u64, size_of: impl Fn(&str) -> Option<u64>) -> bool {
    if size_of(key) == Some(size) {
        return true;
    }
    let mut found = false;
    beside(key, |k| {
        let there = size_of(k);
        found = there == Some(size);
        there.is_some() && !found
    });
    found || (1..=MAX_GROWN).any(|n| size_of(&grown_key(key, n)) == Some(size))
}

/// The day (from 00:00 UTC) until which object lock keeps a recording dated `date`
/// and kept `retention_days` offsite: the day after offsite retention may delete it,
/// so retention never asks before the lock ends, in any time zone west of UTC.
pub fn retain_until(date: NaiveDate, retention_days: u32) -> NaiveDate {
    date + chrono::Days::new(u64::from(retention_days) + 1)
}

/// How many newer versions of one recording the bucket may take as it grows.
pub const MAX_GROWN: u32 = 32;

/// The key of the `n`th newer version of the recording at `key`, uploaded because the
/// recording grew after its upload: `NAME.grown-N.dav`. The older one is deleted once
/// this one is confirmed.
pub fn grown_key(key: &str, n: u32) -> String {
    let (stem, ext) = split_ext(key);
    format!("{stem}.grown-{n}{ext}")
}

/// For a grown version's key, the recording's own key and N.
pub fn grown_of(key: &str) -> Option<(String, u32)> {
    let (stem, ext) = split_ext(key);
    let (base, n) = stem.rsplit_once(".grown-")?;
    let n: u32 = n.parse().ok().filter(|n| (1..=MAX_GROWN).contains(n))?;
    Some((format!("{base}{ext}"), n))
}

/// `NAME` and `.dav` of `NAME.dav`; the whole key and nothing without an extension.
fn split_ext(key: &str) -> (&str, &str) {
    match key.rfind('.') {
        Some(i) if !key[i..].contains('/') => (&key[..i], &key[i..]),
        _ => (key, ""),
    }
}

/// Where a recording stands in the bucket, from a listing of its keys (`NAME.…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// Its current version: the newest grown one, else its own key; None when neither
    /// is there. With its size and N (0 for its own key).
    pub current: Option<(String, u64, u32)>,
    /// The older versions still there, superseded by `current`.
    pub older: Vec<String>,
}

/// The versions of the recording at `key` among `listed` (key, size).
pub fn versions(key: &str, listed: &[(String, u64)]) -> Versions {
    let mut found: Vec<(u32, &str, u64)> = listed
        .iter()
        .filter_map(|(k, size)| {
            if k == key {
                return Some((0, k.as_str(), *size));
            }
            grown_of(k)
                .filter(|(base, _)| base == key)
                .map(|(_, n)| (n, k.as_str(), *size))
        })
        .collect();
    found.sort();
    let current = found.pop().map(|(n, k, size)| (k.to_string(), size, n));
    Versions {
        current,
        older: found.into_iter().map(|(_, k, _)| k.to_string()).collect(),
    }
}

/// The older versions of recordings that grew, to delete now: those whose newest
/// version (`NAME.grown-N.dav`) has the size of the backup's recording (`local_size`
/// by key), so it is confirmed. Each with the key that superseded it.
pub fn superseded(remote: &[Object], local_size: impl Fn(&str) -> Option<u64>) -> Vec<(String, String)> {
    let mut by_recording: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for o in remote {
        if let Some((base, _)) = grown_of(&o.key) {
            by_recording.entry(base).or_default().push((o.key.clone(), o.size));
        }
    }
    let sizes: HashMap<&str, u64> = remote.iter().map(|o| (o.key.as_str(), o.size)).collect();
    let mut out = Vec::new();
    for (base, mut listed) in by_recording {
        if let Some(size) = sizes.get(base.as_str()) {
            listed.push((base.clone(), *size));
        }
        let v = versions(&base, &listed);
        let Some((newest, size, _)) = v.current else {
            continue;
        };
        if local_size(&base) == Some(size) {
            out.extend(v.older.into_iter().map(|old| (old, newest.clone())));
        }
    }
    out.sort();
    out
}

/// The uploads: each finished backup recording of the window (`rel`, size, day) that
/// the bucket lacks, or holds with another size (and not beside it).
pub fn uploads<'a>(
    local: impl IntoIterator<Item = (&'a Path, u64, NaiveDate)>,
    remote: &[Object],
    prefix: &str,
    window: &Window,
) -> Vec<Upload> {
    let there: HashMap<&str, u64> = remote.iter().map(|o| (o.key.as_str(), o.size)).collect();
    local
        .into_iter()
        .filter(|(_, _, day)| window.contains(*day))
        .filter_map(|(rel, size, _)| {
            let key = key_of(prefix, rel);
            if held(&key, size, |k| there.get(k).copied()) {
                return None;
            }
            let why = match there.get(key.as_str()) {
                None => Why::Missing,
                Some(_) => Why::Differs,
            };
            Some(Upload {
                rel: key[prefix.len()..].to_string(),
                key,
                why,
            })
        })
        .collect()
}

/// How the server answered when asked for the parts of a recorded multipart upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartsAnswer {
    /// `NoSuchUpload`: completed, aborted or expired.
    Gone,
    /// No answer, a 5xx or 429, refused credentials: the bucket is away.
    Outage,
    /// Any other answer: a 4xx, or one that cannot be read.
    Refused,
}

/// What to do with a recorded upload whose parts could not be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterResume {
    /// Start a new upload: nothing is left of the old one.
    Afresh,
    /// Abort the old upload (its parts are billed), then start a new one.
    AbortThenAfresh,
    /// Start nothing; keep the recorded id for the next try.
    Wait,
}

/// What to do after a failed `ListParts`, with the reason to log.
pub fn after_failed_resume(answer: PartsAnswer) -> (AfterResume, &'static str) {
    match answer {
        PartsAnswer::Gone => (AfterResume::Afresh, "the server no longer has it: started afresh"),
        PartsAnswer::Refused => (
            AfterResume::AbortThenAfresh,
            "the server refused to list its parts: aborted, then started afresh",
        ),
        PartsAnswer::Outage => (
            AfterResume::Wait,
            "the bucket is away: nothing started, resumed at the next try",
        ),
    }
}

/// The ETag S3 gives an object put whole: the hex MD5 of its bytes.
pub fn single_etag(md5: &[u8; 16]) -> String {
    hex(md5)
}

/// The ETag S3 gives an object completed from parts: the hex MD5 of the parts' MD5s
/// one after the other, then `-` and how many parts.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut all = Md5::new();
    for m in part_md5s {
        all.update(m);
    }
    format!("{}-{}", hex(&all.finalize().into()), part_md5s.len())
}

/// Whether a part the server lists is the one the file has there: its ETag is the
/// MD5 of the part's bytes.
pub fn same_part(listed_etag: &str, md5: &[u8; 16]) -> bool {
    bare(listed_etag).eq_ignore_ascii_case(&hex(md5))
}

/// What the server's ETag says of what it stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The ETag is the one the bytes sent give.
    Same,
    /// Another: the server holds other bytes.
    Differs,
    /// It cannot tell: no ETag, or an encrypted object (SSE-KMS, SSE-C), whose ETag
    /// is not an MD5 of its bytes.
    Unknown,
}

/// The server's ETag (`found`, quoted or not) against the `expected` one.
pub fn stored(expected: &str, found: Option<&str>, encrypted: bool) -> Stored {
    match found {
        _ if encrypted => Stored::Unknown,
        None => Stored::Unknown,
        Some(f) if bare(f).eq_ignore_ascii_case(expected) => Stored::Same,
        Some(_) => Stored::Differs,
    }
}

fn bare(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

fn hex(bytes: &[u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What offsite retention decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// Keys to delete, each with its reason.
    pub delete: Vec<(String, String)>,
    /// Why nothing was deleted, when the plan would take more than half the prefix.
    pub refused: Option<String>,
}

/// The objects under `prefix` dated before the window of `retention_days`, anchored at
/// the earlier of `today` and the newest dated object.
pub fn expiry(remote: &[Object], prefix: &str, today: NaiveDate, retention_days: u32, allow_mass: bool) -> Expiry {
    let dated: Vec<(&Object, NaiveDate)> = remote
        .iter()
        .filter_map(|o| Some((o, date_from_path(Path::new(o.key.strip_prefix(prefix)?))?)))
        .collect();
    let window = Window::new(today, retention_days, dated.iter().map(|(_, d)| *d).max());
    let delete: Vec<(String, String)> = dated
        .iter()
        .filter(|(_, d)| !window.contains(*d))
        .map(|(o, d)| {
            (
                o.key.clone(),
                format!(
                    "dated {d}, before {} ({retention_days} days before {})",
                    window.cutoff, window.reference
                ),
            )
        })
        .collect();
    // The local backup's guard, counted the same way: files and bytes, a single one too.
    let size_of: HashMap<&str, u64> = remote.iter().map(|o| (o.key.as_str(), o.size)).collect();
    let planned = Amount::of(
        delete
            .iter()
            .map(|(k, _)| size_of.get(k.as_str()).copied().unwrap_or(0)),
    );
    let held = Amount::of(remote.iter().filter(|o| o.key.starts_with(prefix)).map(|o| o.size));
    let place = format!("the offsite prefix {prefix:?}");
    match mass_delete(planned, held, &place).filter(|_| !allow_mass) {
        Some(why) => Expiry {
            refused: Some(format!("offsite {why}")),
            delete: Vec::new(),
        },
        None => Expiry { delete, refused: None },
    }
}

/// What the offsite tier is like at a pass, for its alerts.
#[derive(Debug, Clone, Default)]
pub struct Standing<'a> {
    /// Why the bucket cannot be used, if it cannot.
    pub unavailable: Option<&'a str>,
    pub pending_files: usize,
    /// The age of the oldest recording waiting.
    pub lag: Duration,
    /// Recordings that went beside another version since the last pass.
    pub conflicts: &'a [String],
    /// Why offsite retention did not run.
    pub refused: Option<&'a str>,
}

/// The alerts the offsite tier raises at a pass, each with its reason.
pub fn alerts(s: &Standing, max_lag: Duration) -> Vec<Raised> {
    let mut raised = Vec::new();
    if let Some(why) = s.unavailable {
        raised.push(Raised::new(
            AlertKind::OffsiteUnavailable,
            format!(
                "the offsite bucket cannot be used: {why}; {} recordings wait for it, local mirroring goes on",
                s.pending_files
            ),
        ));
    }
    if s.pending_files > 0 && s.lag > max_lag {
        raised.push(Raised::new(
            AlertKind::OffsiteLagging,
            format!(
                "the oldest of {} recordings waiting for the offsite bucket is {} old (more than {})",
                s.pending_files,
                hours(s.lag),
                hours(max_lag)
            ),
        ));
    }
    raised.extend(
        s.conflicts
            .iter()
            .map(|c| Raised::new(AlertKind::OffsiteConflict, c.clone())),
    );
    if let Some(why) = s.refused {
        raised.push(Raised::new(AlertKind::RetentionRefused, why.to_string()));
    }
    raised
}

fn hours(d: Duration) -> String {
    let h = d.as_secs_f64() / 3600.0;
    if h < 48.0 {
        format!("{h:.1} h")
    } else {
        format!("{:.1} days", h / 24.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn obj(key: &str, size: u64) -> Object {
        Object { key: key.into(), size }
    }

    #[test]
    fn missing_and_different_recordings_are_uploaded_the_same_skipped() {
        let window = Window::new(d("2026-11-28"), 31, Some(d("2026-11-28")));
        let a = Path::new("2026/11/27/ch01/a.dav");
        let b = Path::new("2026/11/27/ch01/b.dav");
        let c = Path::new("2026/11/27/ch01/c.dav");
        let old = Path::new("2026/09/01/ch01/old.dav");
        let remote = vec![
            obj("site/2026/11/27/ch01/a.dav", 10),
            obj("site/2026/11/27/ch01/b.dav", 5),
        ];
        let local = vec![
            (a, 10, d("2026-11-27")),
            (b, 7, d("2026-11-27")),
            (c, 3, d("2026-11-27")),
            (old, 3, d("2026-09-01")),
        ];
        let up = uploads(local, &remote, "site/", &window);
        assert_eq!(
            up,
            vec![
                Upload {
                    rel: "2026/11/27/ch01/b.dav".into(),
                    key: "site/2026/11/27/ch01/b.dav".into(),
                    why: Why::Differs
                },
                Upload {
                    rel: "2026/11/27/ch01/c.dav".into(),
                    key: "site/2026/11/27/ch01/c.dav".into(),
                    why: Why::Missing
                },
            ]
        );
        let taken = ["site/x.offsite-1.dav"];
        assert_eq!(beside("site/x.dav", |k| taken.contains(&k)), "site/x.offsite-2.dav");
        // Once beside the other version, it is there: not uploaded again.
        let mut remote = remote;
        remote.push(obj("site/2026/11/27/ch01/b.offsite-1.dav", 6));
        remote.push(obj("site/2026/11/27/ch01/b.offsite-2.dav", 7));
        let up = uploads(vec![(b, 7, d("2026-11-27"))], &remote, "site/", &window);
        assert!(up.is_empty(), "{up:?}");
    }

    #[test]
    fn a_failed_resume_aborts_only_what_the_server_still_holds_and_waits_out_an_outage() {
        assert_eq!(after_failed_resume(PartsAnswer::Gone).0, AfterResume::Afresh);
        assert_eq!(
            after_failed_resume(PartsAnswer::Refused).0,
            AfterResume::AbortThenAfresh
        );
        assert_eq!(after_failed_resume(PartsAnswer::Outage).0, AfterResume::Wait);
    }

    #[test]
    fn etags_are_the_md5_arithmetic_s3_does() {
        let md5 = |b: &[u8]| -> [u8; 16] { Md5::digest(b).into() };
        assert_eq!(single_etag(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        // openssl: (md5 -binary of "a"; of "b") | md5
        assert_eq!(
            multipart_etag(&[md5(b"a"), md5(b"b")]),
            "96e024ba2074fe77e8e965ba43a704be-2"
        );
        assert!(same_part("\"0cc175b9c0f1b6a831c399e269772661\"", &md5(b"a")));
        assert!(!same_part("\"0cc175b9c0f1b6a831c399e269772661\"", &md5(b"b")));
        let e = multipart_etag(&[md5(b"a"), md5(b"b")]);
        assert_eq!(
            stored(&e, Some("\"96E024BA2074FE77E8E965BA43A704BE-2\""), false),
            Stored::Same
        );
        assert_eq!(
            stored(&e, Some("96e024ba2074fe77e8e965ba43a704be-3"), false),
            Stored::Differs
        );
        assert_eq!(stored(&e, Some("anything"), true), Stored::Unknown);
        assert_eq!(stored(&e, None, false), Stored::Unknown);
    }

    #[test]
    fn retention_is_anchored_bounded_and_stays_in_its_prefix() {
        let remote: Vec<Object> = (0..40)
            .map(|i| {
                obj(
                    &format!(
                        "site/{}/ch01/a.dav",
                        (d("2026-11-28") - chrono::Days::new(i)).format("%Y/%m/%d")
                    ),
                    1,
                )
            })
            .chain([obj("other/2020/01/01/ch01/a.dav", 1), obj("site/notes.txt", 1)])
            .collect();
        let e = expiry(&remote, "site/", d("2026-11-28"), 31, false);
        assert_eq!(e.refused, None);
        assert_eq!(e.delete.len(), 8, "days 32 to 39 back");
        assert!(e.delete.iter().all(|(k, _)| k.starts_with("site/2026/10/")));
        // A clock a year ahead: anchored at the newest object, the same.
        assert_eq!(expiry(&remote, "site/", d("2027-11-28"), 31, false).delete.len(), 8);
        // Most of the prefix at once: refused unless allowed.
        let e = expiry(&remote, "site/", d("2026-11-28"), 5, false);
        assert!(e.delete.is_empty() && e.refused.is_some());
        assert_eq!(expiry(&remote, "site/", d("2026-11-28"), 5, true).delete.len(), 34);
    }

    #[test]
    fn one_deletion_counts_like_the_local_guard_and_bytes_too() {
        // A single deletion is no exception: one old object of 2 holding most of the
        // prefix's bytes is refused unasked.
        let two = [
            obj("site/2020/01/01/ch01/a.dav", 900),
            obj("site/2026/11/28/ch01/b.dav", 50),
        ];
        let e = expiry(&two, "site/", d("2026-11-28"), 31, false);
        assert!(e.delete.is_empty() && e.refused.is_some(), "{e:?}");
        assert_eq!(expiry(&two, "site/", d("2026-11-28"), 31, true).delete.len(), 1);
        // One old object of 3 holds most of the prefix's bytes.
        let mut three = vec![obj("site/2020/01/01/ch01/a.dav", 900)];
        three.extend([
            obj("site/2026/11/27/ch01/b.dav", 50),
            obj("site/2026/11/28/ch01/c.dav", 50),
        ]);
        let e = expiry(&three, "site/", d("2026-11-28"), 31, false);
        assert!(e.refused.as_deref().is_some_and(|r| r.contains("bytes")), "{e:?}");
    }

    #[test]
    fn alerts_say_why_and_lag_counts_only_with_something_waiting() {
        let max = Duration::from_secs(6 * 3600);
        assert!(alerts(&Standing::default(), max).is_empty());
        let late = Standing {
            pending_files: 3,
            lag: Duration::from_secs(7 * 3600),
            ..Standing::default()
        };
        let a = alerts(&late, max);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].kind, AlertKind::OffsiteLagging);
        assert!(
            a[0].message.contains("7.0 h") && a[0].message.contains("6.0 h"),
            "{}",
            a[0].message
        );
        let down = Standing {
            unavailable: Some("access denied"),
            conflicts: &["x went beside".to_string()],
            ..Standing::default()
        };
        let kinds: Vec<AlertKind> = alerts(&down, max).iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [AlertKind::OffsiteUnavailable, AlertKind::OffsiteConflict]);
        assert!(alerts(&down, max)[0].message.contains("access denied"));
    }

    #[test]
    fn a_grown_recording_has_numbered_versions_and_the_newest_is_current() {
        let key = "site/2026/11/27/ch01/10.00.00-10.59.59[R][0@0][0].dav";
        assert_eq!(
            grown_key(key, 2),
            "site/2026/11/27/ch01/10.00.00-10.59.59[R][0@0][0].grown-2.dav"
        );
        assert_eq!(grown_of(&grown_key(key, 2)), Some((key.to_string(), 2)));
        assert_eq!(grown_of(key), None);
        assert_eq!(grown_of("site/a.grown-x.dav"), None);
        assert_eq!(grown_of("site/a.grown-0.dav"), None);
        let listed = vec![
            (key.to_string(), 100),
            (grown_key(key, 1), 150),
            (grown_key(key, 3), 300),
            (grown_key("site/other.dav", 4), 999),
            (key.replace(".dav", ".offsite-1.dav"), 120),
        ];
        let v = versions(key, &listed);
        assert_eq!(v.current, Some((grown_key(key, 3), 300, 3)));
        assert_eq!(v.older, vec![key.to_string(), grown_key(key, 1)]);
        assert_eq!(versions(key, &[]).current, None);
        let size_of = |k: &str| listed.iter().find(|(x, _)| x == k).map(|(_, s)| *s);
        assert!(held(key, 300, size_of), "its newest grown version holds it");
        assert!(held(key, 120, size_of), "beside, as before");
        assert!(!held(key, 301, size_of));
    }

    #[test]
    fn older_versions_go_once_the_newest_is_the_backups_recording() {
        let key = "site/2026/11/27/ch01/a.dav";
        let obj = |k: &str, size: u64| Object { key: k.into(), size };
        let remote = vec![
            obj(key, 100),
            obj(&grown_key(key, 1), 150),
            obj(&grown_key(key, 2), 200),
            obj("site/2026/11/27/ch01/b.dav", 10),
            obj(&grown_key("site/2026/11/27/ch01/c.dav", 1), 50),
        ];
        let local = |k: &str| match k {
            "site/2026/11/27/ch01/a.dav" => Some(200),
            "site/2026/11/27/ch01/c.dav" => Some(60),
            _ => None,
        };
        assert_eq!(
            superseded(&remote, local),
            vec![
                (key.to_string(), grown_key(key, 2)),
                (grown_key(key, 1), grown_key(key, 2))
            ]
        );
        // Not before the newest is confirmed: the backup's recording is larger still.
        assert!(superseded(&remote, |_| Some(250)).is_empty());
    }
}
