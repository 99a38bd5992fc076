//! The simulated recorder: N cameras, each writing one segment at a time under the
//! platform's names, a DHAV frame every `FRAME_SECS` of simulated time, through one
//! open handle, with the file's time set to the simulated clock after each write.
//! Even cameras write `NAME.dav_` and rename it to `NAME.dav` at the end; odd cameras
//! write `NAME.dav` and close it. A segment ends at the next hour; a clock set back
//! before its start ends it early, named after what it holds. A wipe deletes the whole
//! source, as the platform does after an error.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime};

use cctv_mirror::demo::{frames, site};
use chrono::{NaiveDateTime, TimeDelta, Timelike};

use super::clock::pause;
use super::ledger::{Cut, Finished, Shared};

/// Simulated seconds between two frames.
pub const FRAME_SECS: i64 = 20;

/// What the rig asks of the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Wipe,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `.dav_` while written, renamed at the end.
    Rename,
    /// `.dav` from the start, closed at the end.
    Close,
}

struct Segment {
    start: NaiveDateTime,
    /// Its planned end (excluded): the next hour.
    end: NaiveDateTime,
    last: NaiveDateTime,
    seq: u32,
    file: File,
    path: PathBuf,
    hash: blake3::Hasher,
    size: u64,
    /// Size and hash after each frame: what a copy of it may hold.
    prefixes: Vec<(u64, blake3::Hash)>,
}

struct Camera {
    n: u32,
    style: Style,
    seg: Option<Segment>,
}

/// Records into `source` until `Order::Stop`, then closes every segment.
pub fn run(
    source: &Path,
    cameras: u32,
    ledger: Shared,
    orders: Receiver<Order>,
    done: std::sync::mpsc::Sender<Finished>,
) {
    let mut rec = Recorder {
        source: source.to_path_buf(),
        cams: (1..=cameras)
            .map(|n| Camera {
                n,
                style: if n % 2 == 0 { Style::Rename } else { Style::Close },
                seg: None,
            })
            .collect(),
        used: HashSet::new(),
        ledger,
        done,
    };
    loop {
        match orders.try_recv() {
            Ok(Order::Wipe) => rec.wipe(),
            Ok(Order::Stop) | Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {}
        }
        rec.tick(now());
        pause(Duration::from_millis(10));
    }
    for i in 0..rec.cams.len() {
        rec.finish(i, false);
    }
    rec.ledger.lock().unwrap().stopped = Some(Instant::now());
}

fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local().with_nanosecond(0).unwrap()
}

struct Recorder {
    source: PathBuf,
    cams: Vec<Camera>,
    /// (camera, start) pairs taken, so a clock set back never reuses a name.
    used: HashSet<(u32, NaiveDateTime)>,
    ledger: Shared,
    done: std::sync::mpsc::Sender<Finished>,
}

impl Recorder {
    fn tick(&mut self, t: NaiveDateTime) {
        for i in 0..self.cams.len() {
            let Some(seg) = &self.cams[i].seg else {
                self.begin(i, t);
                continue;
            };
            if t < seg.start {
                self.finish(i, false);
                self.begin(i, t);
            } else if t >= seg.end {
                self.finish(i, true);
                self.begin(i, t);
            } else {
                self.frames_until(i, t);
            }
        }
    }

    /// Starts camera `i`'s next segment at `t`, up to the next hour.
    fn begin(&mut self, i: usize, mut t: NaiveDateTime) {
        let cam = self.cams[i].n;
        while !self.used.insert((cam, t)) {
            t += TimeDelta::seconds(1);
        }
        let end = site::hour_start(t) + TimeDelta::hours(1);
        let mut path = self.source.join(site::rel_path(cam, t, end - TimeDelta::seconds(1)));
        if self.cams[i].style == Style::Rename {
            path.as_mut_os_string().push("_");
        }
        let opened = fs::create_dir_all(path.parent().unwrap())
            .and_then(|_| fs::OpenOptions::new().create_new(true).write(true).open(&path));
        let Ok(file) = opened else { return };
        self.ledger.lock().unwrap().started += 1;
        let mut seg = Segment {
            start: t,
            end,
            last: t,
            seq: 0,
            file,
            path,
            hash: blake3::Hasher::new(),
            size: 0,
            prefixes: vec![],
        };
        write_frame(&mut seg, cam, t);
        self.cams[i].seg = Some(seg);
    }

    /// Appends the frames due up to `t` (at most a few after a long pause).
    fn frames_until(&mut self, i: usize, t: NaiveDateTime) {
        let cam = self.cams[i].n;
        let seg = self.cams[i].seg.as_mut().unwrap();
        let mut next = seg.last + TimeDelta::seconds(FRAME_SECS);
        if t - next > TimeDelta::seconds(FRAME_SECS * 5) {
            next = t;
        }
        while next <= t && next < seg.end {
            write_frame(seg, cam, next);
            next += TimeDelta::seconds(FRAME_SECS);
        }
    }

    /// Ends camera `i`'s segment; `planned` gives it a last frame at its last second.
    fn finish(&mut self, i: usize, planned: bool) {
        let cam = self.cams[i].n;
        let style = self.cams[i].style;
        let Some(mut seg) = self.cams[i].seg.take() else { return };
        let last_second = seg.end - TimeDelta::seconds(1);
        if planned && seg.last < last_second {
            write_frame(&mut seg, cam, last_second);
        }
        let final_path = match style {
            Style::Close => seg.path.clone(),
            Style::Rename => self.source.join(site::rel_path(cam, seg.start, seg.last)),
        };
        let Segment {
            file,
            path,
            hash,
            size,
            start,
            prefixes,
            ..
        } = seg;
        drop(file);
        if style == Style::Rename && fs::rename(&path, &final_path).is_err() {
            return; // wiped under it
        }
        if !final_path.is_file() {
            return;
        }
        let rel = final_path
            .strip_prefix(&self.source)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let f = Finished {
            rel,
            date: start.date(),
            size,
            blake3: hash.finalize(),
            at: Instant::now(),
        };
        let mut ledger = self.ledger.lock().unwrap();
        ledger.unsaved.insert(f.rel.clone(), prefixes);
        ledger.finished.push(f.clone());
        drop(ledger);
        let _ = self.done.send(f);
    }

    /// Deletes the whole source, segments being written included (deleted under
    /// their open handles, which close after).
    fn wipe(&mut self) {
        let _ = fs::remove_dir_all(&self.source);
        let mut cut = vec![];
        for cam in &mut self.cams {
            if let Some(seg) = cam.seg.take() {
                let rel = seg
                    .path
                    .strip_prefix(&self.source)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                cut.push(Cut {
                    rel,
                    prefixes: seg.prefixes,
                });
            }
        }
        self.ledger.lock().unwrap().cut.extend(cut);
        let _ = fs::create_dir_all(&self.source);
        self.ledger.lock().unwrap().wipes.push(Instant::now());
    }
}

/// Writes the frame of second `t` and sets the file's time to the simulated clock.
fn write_frame(seg: &mut Segment, cam: u32, t: NaiveDateTime) {
    let frame = frames::frame(cam, seg.seq, t);
    if seg.file.write_all(&frame).is_err() {
        return;
    }
    seg.hash.update(&frame);
    seg.size += frame.len() as u64;
    seg.prefixes.push((seg.size, seg.hash.finalize()));
    seg.seq = seg.seq.wrapping_add(1);
    seg.last = t;
    let _ = seg.file.set_modified(SystemTime::now());
}
