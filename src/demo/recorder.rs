//! One camera's live recording: a file under its final-looking name with the `.dav_`
//! in-progress suffix (`14.03.00-14.03.59[R][0@0][0].dav_`), a frame appended at each
//! second, renamed to `.dav` when its segment ends. The file is opened for each frame
//! and closed again, as a reader (cctv-mirror's watcher) may look at it at any time; an
//! open, rename or delete that a reader blocks for a moment is tried again.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};

use crate::demo::{frames, site, Failure};

/// The suffix of a recording being written (the config's `in_progress_suffixes`).
pub const IN_PROGRESS: &str = "_";

/// How a recording is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Its segment is over: it gets a last frame at its last second if it lacks one,
    /// and keeps the name it was started under.
    Planned,
    /// Stopped before its end (Ctrl-C, a clock set back): named after what it holds.
    AsItIs,
}

/// A camera's recording in progress.
#[derive(Debug)]
pub struct LiveSegment {
    pub camera: u32,
    pub start: NaiveDateTime,
    /// The end of its segment (not included), which its name says.
    pub end: NaiveDateTime,
    /// The time of its last frame, once it has one.
    last: Option<NaiveDateTime>,
    seq: u32,
    source: PathBuf,
}

impl LiveSegment {
    /// A recording of `camera` under `source` for `start` up to `end`; its file is
    /// made by the first frame.
    pub fn new(source: &Path, camera: u32, start: NaiveDateTime, end: NaiveDateTime) -> LiveSegment {
        LiveSegment {
            camera,
            start,
            end: end.max(start + TimeDelta::seconds(1)),
            last: None,
            seq: 0,
            source: source.to_path_buf(),
        }
    }

    /// Whether a frame at `t` no longer belongs here: its segment is over, or the clock
    /// went back before it began.
    pub fn is_over_at(&self, t: NaiveDateTime) -> bool {
        t >= self.end || t < self.start
    }

    /// Appends the frame of second `t` (none when `t` is not after the last frame).
    pub fn append(&mut self, t: NaiveDateTime) -> Result<(), Failure> {
        if self.last.is_some_and(|l| t <= l) {
            return Ok(());
        }
        let path = self.growing();
        if self.last.is_none() {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| Failure::io("create", parent, &e))?;
            }
        }
        let frame = frames::frame(self.camera, self.seq, t);
        retrying(|| {
            let mut f = fs::OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(&frame)
        })
        .map_err(|e| Failure::io("write", &path, &e))?;
        self.seq = self.seq.wrapping_add(1);
        self.last = Some(t);
        Ok(())
    }

    /// Closes the recording; returns its finished path relative to the source with `/`,
    /// or None when it never got a frame.
    pub fn finish(mut self, close: Close) -> Result<Option<String>, Failure> {
        let Some(mut last) = self.last else {
            return Ok(None);
        };
        let planned_last = self.end - TimeDelta::seconds(1);
        if close == Close::Planned && last < planned_last {
            self.append(planned_last)?;
            last = planned_last;
        }
        let last = if close == Close::Planned { planned_last } else { last };
        let from = self.growing();
        let rel = site::rel_text(self.camera, self.start, last);
        let to = self.source.join(site::rel_path(self.camera, self.start, last));
        retrying(|| fs::rename(&from, &to)).map_err(|e| Failure::io("rename", &from, &e))?;
        Ok(Some(rel))
    }

    /// The seconds it holds, from its first frame to its last.
    pub fn secs(&self) -> i64 {
        self.last.map_or(0, |l| (l - self.start).num_seconds() + 1)
    }

    /// The file being written: its planned name with the in-progress suffix.
    fn growing(&self) -> PathBuf {
        let planned = site::rel_path(self.camera, self.start, self.end - TimeDelta::seconds(1));
        let mut name = OsString::from(self.source.join(planned));
        name.push(IN_PROGRESS);
        PathBuf::from(name)
    }
}

/// `op`, tried again for about a second while it fails: a reader may hold the file for
/// a moment (on Windows an open file cannot always be written, renamed or deleted).
pub fn retrying<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut tries = 0;
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) if tries >= 20 || e.kind() == io::ErrorKind::NotFound => return Err(e),
            Err(_) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::span::{from_frames, from_name};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn check(source: &Path, rel: &str) -> (NaiveDateTime, NaiveDateTime) {
        let bytes = fs::read(source.join(rel)).unwrap();
        let span = from_frames(&bytes, &bytes).unwrap();
        assert_eq!(from_name(Path::new(rel)), Some(span), "{rel}");
        (span.start, span.end)
    }

    #[test]
    fn a_recording_grows_as_dav_underscore_then_takes_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = LiveSegment::new(dir.path(), 1, at("2026-11-29 14:03:00"), at("2026-11-29 14:04:00"));
        rec.append(at("2026-11-29 14:03:00")).unwrap();
        rec.append(at("2026-11-29 14:03:01")).unwrap();
        rec.append(at("2026-11-29 14:03:01")).unwrap();
        let growing = dir.path().join("2026/11/29/ch01/14.03.00-14.03.59[R][0@0][0].dav_");
        assert!(growing.is_file());
        assert!(rec.is_over_at(at("2026-11-29 14:04:00")) && !rec.is_over_at(at("2026-11-29 14:03:59")));
        let rel = rec.finish(Close::Planned).unwrap().unwrap();
        assert_eq!(rel, "2026/11/29/ch01/14.03.00-14.03.59[R][0@0][0].dav");
        assert!(!growing.exists());
        let (start, end) = check(dir.path(), &rel);
        assert_eq!((start, end), (at("2026-11-29 14:03:00"), at("2026-11-29 14:04:00")));
    }

    #[test]
    fn a_stopped_recording_is_named_after_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = LiveSegment::new(dir.path(), 2, at("2026-11-29 14:03:00"), at("2026-11-29 14:04:00"));
        for s in 0..5 {
            rec.append(at("2026-11-29 14:03:00") + TimeDelta::seconds(s)).unwrap();
        }
        assert_eq!(rec.secs(), 5);
        let rel = rec.finish(Close::AsItIs).unwrap().unwrap();
        assert_eq!(rel, "2026/11/29/ch02/14.03.00-14.03.04[R][0@0][0].dav");
        check(dir.path(), &rel);
        let empty = LiveSegment::new(dir.path(), 3, at("2026-11-29 14:03:00"), at("2026-11-29 14:04:00"));
        assert_eq!(empty.finish(Close::Planned).unwrap(), None);
    }
}
