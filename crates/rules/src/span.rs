//! A recording's time span, camera and type, read without guessing, from its name, its
//! folders, or its first and last DHAV frames (docs/report.md, "How a recording's time
//! is read"). Pure: path, head and tail are arguments, and no input can make it panic.

use std::ffi::OsStr;
use std::path::Path;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use crate::names::{date_from_path, day_in, folder_names};

/// From `start` up to (not including) `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

impl Span {
    /// Its length in whole seconds.
    pub fn secs(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

/// The span its path says, if it says one (forms 1 and 2).
pub fn from_name(rel: &Path) -> Option<Span> {
    from_name_on(rel, None)
}

/// As `from_name`, with the day `fallback` for an `HH.MM.SS-HH.MM.SS` name whose
/// folders give none (a recorder that keeps no day folders: the day its scan gave it).
pub fn from_name_on(rel: &Path, fallback: Option<NaiveDate>) -> Option<Span> {
    let name = rel.file_name().and_then(OsStr::to_str)?;
    from_file_name(name, || date_from_path(rel).or(fallback))
}

/// The span of a recording called `name` whose day is known: a scan's
/// `Recording::date`, which is the day its folders give, or its own day where they
/// give none.
pub fn from_name_in(name: &str, day: NaiveDate) -> Option<Span> {
    from_file_name(name, || Some(day))
}

fn from_file_name(name: &str, day: impl FnOnce() -> Option<NaiveDate>) -> Option<Span> {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    if let Some(span) = from_nvr_name(stem) {
        return Some(span);
    }
    let day = day()?;
    let times = stem.split('[').next()?;
    let (from, to) = times.split_once('-')?;
    let (from, to) = (clock(from)?, clock(to)?);
    let start = day.and_time(from);
    let mut end = day.and_time(to) + TimeDelta::seconds(1);
    if to < from {
        end = end.checked_add_days(Days::new(1))?;
    }
    Some(Span { start, end })
}

/// `HH.MM.SS`.
fn clock(s: &str) -> Option<NaiveTime> {
    // The recorder's own form, read without splitting (a site has tens of thousands).
    if let [h1, h2, b'.', m1, m2, b'.', s1, s2] = *s.as_bytes() {
        let two = |a: u8, b: u8| {
            (a.is_ascii_digit() && b.is_ascii_digit()).then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        };
        return NaiveTime::from_hms_opt(two(h1, h2)?, two(m1, m2)?, two(s1, s2)?);
    }
    let mut parts = s.split('.');
    let mut next = || -> Option<u32> {
        let p = parts.next()?;
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())?
    };
    let (h, m, sec) = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, sec)
}

/// `…_YYYYMMDDhhmmss_YYYYMMDDhhmmss`.
fn from_nvr_name(stem: &str) -> Option<Span> {
    let mut parts = stem.rsplit('_');
    let (to, from) = (parts.next()?, parts.next()?);
    let (start, end) = (stamp(from)?, stamp(to)? + TimeDelta::seconds(1));
    (end > start).then_some(Span { start, end })
}

/// `YYYYMMDDhhmmss`.
fn stamp(s: &str) -> Option<NaiveDateTime> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    let day = NaiveDate::from_ymd_opt(n(0, 4)? as i32, n(4, 6)?, n(6, 8)?)?;
    Some(day.and_time(NaiveTime::from_hms_opt(n(8, 10)?, n(10, 12)?, n(12, 14)?)?))
}

/// The recording type its name gives in brackets: R regular, M motion, A alarm, I
/// intelligent event.
pub fn kind(rel: &Path) -> Option<char> {
    kind_of_name(rel.file_name().and_then(OsStr::to_str)?)
}

/// The same, from the file's name alone.
pub fn kind_of_name(name: &str) -> Option<char> {
    let inside = name.split_once('[')?.1.split_once(']')?.0;
    let mut chars = inside.chars();
    let c = chars.next()?;
    (chars.next().is_none() && "RMAI".contains(c)).then_some(c)
}

/// The camera a recording belongs to: the folders between its day and the file
/// (`ch07`, `NVR1/001`; all its folders when none is a day), without a recorder's
/// trailing `dav/HH` pair; for a `NAME_chN_…` name with no such folder, `NAME_chN`.
pub fn camera(rel: &Path) -> Option<String> {
    let parts = folder_names(rel);
    let (file, folders) = parts.split_last()?;
    let after_day = day_in(folders).map_or(folders, |(_, i)| &folders[i..]);
    let mut cam: Vec<&str> = after_day.to_vec();
    if let [.., d, h] = cam[..] {
        if d.eq_ignore_ascii_case("dav") && h.len() == 2 && h.bytes().all(|b| b.is_ascii_digit()) {
            cam.truncate(cam.len() - 2);
        }
    }
    if !cam.is_empty() {
        return Some(cam.join("/"));
    }
    let stem = file.rsplit_once('.').map_or(*file, |(s, _)| s);
    let ch = stem.find("_ch")?;
    let digits = stem[ch + 3..].bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| stem[..ch + 3 + digits].to_string())
}

/// How many bytes of a file's head and tail `from_frames` needs.
pub const PROBE_BYTES: usize = 64 * 1024;

/// The longest frame whose header the tail search follows its trailer back to, before
/// the tail's bytes: a 4K camera's key frames are 100–500 KB; 16 MiB leaves room.
pub const MAX_FRAME_BYTES: u64 = 16 << 20;

/// How many bytes of a frame's header hold what is read of it (its time).
pub const HEADER_BYTES: usize = 20;

/// The span the DHAV frames give: the first frame of `head`, the last whole frame of
/// `tail` (the file's last bytes), its header read within `tail`.
pub fn from_frames(head: &[u8], tail: &[u8]) -> Option<Span> {
    from_frames_reading(head, (tail, 0), |_| None)
}

/// `from_frames`, for a `tail` that starts at byte `tail_at` of the file: the header of
/// a last frame longer than the tail (up to `MAX_FRAME_BYTES`) is asked of `header_at`
/// (its first `HEADER_BYTES` at that offset of the file), so no frame is too big.
pub fn from_frames_reading(
    head: &[u8],
    (tail, tail_at): (&[u8], u64),
    header_at: impl FnMut(u64) -> Option<Vec<u8>>,
) -> Option<Span> {
    let first = find(head, b"DHAV").filter(|&i| i <= 1024 + 16)?;
    let start = packed_time(head.get(first + 16..first + 20)?)?;
    let end = last_frame_time(tail, tail_at, header_at)? + TimeDelta::seconds(1);
    (end > start).then_some(Span { start, end })
}

/// The time of the last whole frame in `tail`: a `dhav` trailer whose length leads back
/// to a `DHAV` header, in `tail` or, before it, read by `header_at`.
fn last_frame_time(
    tail: &[u8],
    tail_at: u64,
    mut header_at: impl FnMut(u64) -> Option<Vec<u8>>,
) -> Option<NaiveDateTime> {
    let mut at = tail.len();
    while let Some(i) = rfind(&tail[..at], b"dhav") {
        at = i;
        let Some(len) = tail.get(i + 4..i + 8).map(u32_le).map(u64::from) else {
            continue;
        };
        let Some(start) = (tail_at + i as u64 + 8).checked_sub(len) else {
            continue;
        };
        let header = match start.checked_sub(tail_at) {
            Some(inside) => tail.get(inside as usize..).map(<[u8]>::to_vec),
            None if len <= MAX_FRAME_BYTES => header_at(start),
            None => None,
        };
        if let Some(t) = header.as_deref().and_then(header_time) {
            return Some(t);
        }
    }
    None
}

/// The time in a frame's header, if these bytes start one.
fn header_time(h: &[u8]) -> Option<NaiveDateTime> {
    (h.get(..4) == Some(&b"DHAV"[..])).then_some(())?;
    packed_time(h.get(16..HEADER_BYTES)?)
}

/// The packed local time of a DHAV frame: year − 2000 in 6 bits, month 4, day 5,
/// hour 5, minute 6, second 6.
fn packed_time(b: &[u8]) -> Option<NaiveDateTime> {
    unpack_time(u32_le(b))
}

/// The time a packed DHAV date stands for, if it is one.
pub fn unpack_time(d: u32) -> Option<NaiveDateTime> {
    let date = NaiveDate::from_ymd_opt(2000 + ((d >> 26) & 0x3f) as i32, (d >> 22) & 0xf, (d >> 17) & 0x1f)?;
    Some(date.and_time(NaiveTime::from_hms_opt((d >> 12) & 0x1f, (d >> 6) & 0x3f, d & 0x3f)?))
}

/// The packed form of `t` (the inverse of `packed_time`, for making frames).
pub fn pack_time(t: NaiveDateTime) -> u32 {
    use chrono::{Datelike, Timelike};
    (((t.year() - 2000) as u32 & 0x3f) << 26)
        | (t.month() << 22)
        | (t.day() << 17)
        | (t.hour() << 12)
        | (t.minute() << 6)
        | t.second()
}

/// The barest DHAV frame these rules read, `len` bytes (at least 32) stamped `t`: a
/// header and a trailer around zeros. For tests of what reads frames.
pub fn blank_frame(t: NaiveDateTime, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..4].copy_from_slice(b"DHAV");
    f[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    f[16..20].copy_from_slice(&pack_time(t).to_le_bytes());
    f[len - 8..len - 4].copy_from_slice(b"dhav");
    f[len - 4..].copy_from_slice(&(len as u32).to_le_bytes());
    f
}

fn u32_le(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    u32::from_le_bytes(a)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn span(a: &str, b: &str) -> Option<Span> {
        Some(Span {
            start: at(a),
            end: at(b),
        })
    }

    use super::blank_frame as frame;

    #[test]
    fn intelbras_names_give_their_span_from_the_day_folders() {
        let p = |s: &str| from_name(Path::new(s));
        assert_eq!(
            p("2026/11/26/ch07/08.00.00-08.59.59[R][0@0][0].dav"),
            span("2026-11-26 08:00:00", "2026-11-26 09:00:00")
        );
        assert_eq!(
            p("2026-11-26/10.15.00-10.20.30.dav"),
            span("2026-11-26 10:15:00", "2026-11-26 10:20:31")
        );
        assert_eq!(
            p("2026/11/26/23.30.00-00.29.59[M][0@0][0].dav"),
            span("2026-11-26 23:30:00", "2026-11-27 00:30:00"),
            "crosses midnight"
        );
        assert_eq!(p("ch1/08.00.00-08.59.59[R].dav"), None, "no day folders");
        let day = NaiveDate::from_ymd_opt(2026, 11, 26);
        assert_eq!(
            from_name_on(Path::new("ch1/08.00.00-08.59.59[R].dav"), day),
            span("2026-11-26 08:00:00", "2026-11-26 09:00:00"),
            "the scan's day when the folders give none"
        );
        assert_eq!(p("2026/11/26/8.00.00-08.59.59.dav"), None);
        assert_eq!(p("2026/11/26/25.00.00-26.00.00.dav"), None);
        assert_eq!(p("2026/11/26/index.dav"), None);
    }

    #[test]
    fn nvr_names_carry_their_own_dates() {
        let p = |s: &str| from_name(Path::new(s));
        assert_eq!(
            p("x/NVR_ch2_main_20261126080000_20261126085959.dav"),
            span("2026-11-26 08:00:00", "2026-11-26 09:00:00")
        );
        assert_eq!(
            p("NVR_ch2_sub_20261126235500_20261127000459.dav"),
            span("2026-11-26 23:55:00", "2026-11-27 00:05:00")
        );
        assert_eq!(p("NVR_ch2_main_20261126080000_2026112608595.dav"), None);
        assert_eq!(
            p("NVR_ch2_main_20261126090000_20261126080000.dav"),
            None,
            "end before start"
        );
    }

    #[test]
    fn cameras_and_types() {
        let c = |s: &str| camera(Path::new(s));
        assert_eq!(
            c("2026/11/26/ch07/08.00.00-08.59.59[R][0@0][0].dav").as_deref(),
            Some("ch07")
        );
        assert_eq!(c("site/2026/11/26/NVR1/001/dav/08/a.dav").as_deref(), Some("NVR1/001"));
        assert_eq!(
            c("2026-11-26/NVR_ch12_main_20261126080000_20261126085959.dav").as_deref(),
            Some("NVR_ch12")
        );
        assert_eq!(c("2026/11/26/08.00.00-08.59.59.dav"), None);
        assert_eq!(c("camera-01/08.00.00-08.59.59.dav").as_deref(), Some("camera-01"));
        let k = |s: &str| kind(Path::new(s));
        assert_eq!(k("a/08.00.00-08.59.59[A][0@0][0].dav"), Some('A'));
        assert_eq!(k("a/08.00.00-08.59.59.dav"), None);
        assert_eq!(k("a/x[Q].dav"), None);
    }

    #[test]
    fn frames_give_the_span_when_the_name_does_not() {
        let (t0, t1) = (at("2026-11-26 08:00:00"), at("2026-11-26 08:59:58"));
        let mut file = b"DAHUA".to_vec();
        file.resize(1024, 0);
        file.extend(frame(t0, 64));
        file.extend(frame(at("2026-11-26 08:30:00"), 100));
        file.extend(frame(t1, 48));
        assert_eq!(
            from_frames(&file, &file),
            span("2026-11-26 08:00:00", "2026-11-26 08:59:59")
        );
        // Truncated mid-frame: the last whole frame counts.
        let cut = &file[..file.len() - 10];
        assert_eq!(
            from_frames(cut, cut),
            span("2026-11-26 08:00:00", "2026-11-26 08:30:01")
        );
        assert_eq!(from_frames(b"not a recording", b"at all"), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No name and no bytes make a rule panic.
            #[test]
            fn nothing_panics(
                parts in proptest::collection::vec("[0-9a-zA-Z._\\-\\[\\]@ ]{0,24}|\\PC{0,8}", 0..6),
                head in proptest::collection::vec(any::<u8>(), 0..300),
                tail in proptest::collection::vec(any::<u8>(), 0..300),
            ) {
                let rel: std::path::PathBuf = parts.iter().collect();
                let _ = from_name(&rel);
                let _ = camera(&rel);
                let _ = kind(&rel);
                let mut h = head.clone();
                h.splice(0..0, b"DHAV".iter().copied());
                let _ = from_frames(&h, &tail);
                let _ = from_frames(&head, &h);
            }

            /// A last frame of any size up to 4 MiB gives its time through its trailer,
            /// read from the last 64 KiB of the file and one header before them.
            #[test]
            fn frames_of_any_size_give_their_time(payload in 16usize..(4 << 20), before in 0usize..3) {
                let (t0, t1) = (at("2026-11-26 08:00:00"), at("2026-11-26 08:59:58"));
                let mut file = Vec::new();
                for k in 0..before {
                    file.extend(frame(t0 + TimeDelta::seconds(k as i64), 64));
                }
                if before == 0 {
                    file.extend(frame(t0, 64));
                }
                file.extend(frame(t1, 32 + payload));
                let tail_at = file.len().saturating_sub(PROBE_BYTES);
                let mut reads = 0;
                let span = from_frames_reading(&file[..PROBE_BYTES.min(file.len())], (&file[tail_at..], tail_at as u64), |at| {
                    reads += 1;
                    file.get(at as usize..at as usize + HEADER_BYTES).map(<[u8]>::to_vec)
                });
                prop_assert_eq!(span.map(|s| s.end), Some(t1 + TimeDelta::seconds(1)));
                prop_assert!(reads <= 1, "one header read at most");
            }

            /// A packed time reads back as itself.
            #[test]
            fn packed_times_round_trip(secs in 0i64..(60 * 365 * 86_400)) {
                let t = at("2000-01-01 00:00:00") + TimeDelta::seconds(secs);
                prop_assert_eq!(packed_time(&pack_time(t).to_le_bytes()), Some(t));
            }
        }
    }
}
