//! The recording site: one thread a camera, writing its bit rate in tenth-of-a-second
//! chunks into `NAME.dav_` through one open handle, renamed to `NAME.dav` at each
//! segment boundary (the same instant for every camera, as the platform rolls over).
//! Each write's latency is kept; so is each segment's growth, to tell how far its
//! in-progress copy is behind.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cctv_mirror::demo::{frames, site};
use chrono::{Local, NaiveDateTime, TimeDelta, Timelike};

use super::options::Options;

/// A finished recording: its path under the source, size, and when it was renamed.
#[derive(Debug, Clone)]
pub struct Finished {
    pub rel: String,
    pub size: u64,
    pub at: Instant,
}

impl crate::shared::Awaited for Finished {
    fn rel(&self) -> &str {
        &self.rel
    }
    fn size(&self) -> u64 {
        self.size
    }
}

/// The segment a camera is writing: its final name and (time, size) after each write.
#[derive(Debug, Clone, Default)]
pub struct Growing {
    pub final_rel: String,
    pub history: Vec<(Instant, u64)>,
}

/// What the whole site wrote.
#[derive(Debug, Default)]
pub struct Recorded {
    pub bytes: u64,
    /// Every write's latency, sorted.
    pub latencies_us: Vec<u64>,
}

#[derive(Clone)]
pub struct Site {
    pub growing: Arc<Vec<Mutex<Option<Growing>>>>,
    threads: Arc<Mutex<Vec<JoinHandle<Recorded>>>>,
}

impl Site {
    pub fn start(o: &Options, source: &Path, done: Sender<Finished>, stop: Arc<AtomicBool>) -> Site {
        let growing: Arc<Vec<Mutex<Option<Growing>>>> = Arc::new((0..o.cameras).map(|_| Mutex::new(None)).collect());
        let chunk = (o.mbps * 1e6 / 8.0 / 10.0) as usize;
        let threads = (1..=o.cameras)
            .map(|cam| {
                let cam_state = Camera {
                    n: cam,
                    source: source.to_path_buf(),
                    chunk,
                    segment: o.segment_secs as i64,
                    done: done.clone(),
                    stop: stop.clone(),
                    growing: growing.clone(),
                };
                std::thread::spawn(move || cam_state.run())
            })
            .collect();
        Site {
            growing,
            threads: Arc::new(Mutex::new(threads)),
        }
    }

    /// Waits for every camera to stop; what they wrote together.
    pub fn join(&self) -> Recorded {
        let mut all = Recorded::default();
        for t in self.threads.lock().unwrap().drain(..) {
            let r = t.join().unwrap_or_default();
            all.bytes += r.bytes;
            all.latencies_us.extend(r.latencies_us);
        }
        all.latencies_us.sort_unstable();
        all
    }
}

struct Camera {
    n: u32,
    source: PathBuf,
    chunk: usize,
    segment: i64,
    done: Sender<Finished>,
    stop: Arc<AtomicBool>,
    growing: Arc<Vec<Mutex<Option<Growing>>>>,
}

impl Camera {
    fn run(self) -> Recorded {
        let mut rec = Recorded::default();
        let filler: Vec<u8> = (0..self.chunk).map(|i| 0x80 | (i as u8 ^ self.n as u8)).collect();
        let tick = Duration::from_millis(100);
        let mut next = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            let start = boundary(Local::now().naive_local(), self.segment);
            let end = start + TimeDelta::seconds(self.segment);
            let rel = site::rel_text(self.n, start, end - TimeDelta::seconds(1));
            let path = self.source.join(&rel);
            let growing = PathBuf::from(format!("{}_", path.display()));
            let _ = fs::create_dir_all(path.parent().unwrap());
            let Ok(mut f) = File::create(&growing) else { return rec };
            *self.growing[self.n as usize - 1].lock().unwrap() = Some(Growing {
                final_rel: rel.clone(),
                history: vec![],
            });
            let mut size = 0u64;
            let mut first = frames::frame(self.n, 0, start);
            first.extend_from_slice(&filler[first.len().min(filler.len())..]);
            let mut body: &[u8] = &first;
            while Local::now().naive_local() < end && !self.stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                if f.write_all(body).is_err() {
                    break;
                }
                rec.latencies_us.push(t.elapsed().as_micros() as u64);
                size += body.len() as u64;
                rec.bytes += body.len() as u64;
                if let Some(g) = self.growing[self.n as usize - 1].lock().unwrap().as_mut() {
                    g.history.push((Instant::now(), size));
                }
                body = &filler;
                next += tick;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            drop(f);
            *self.growing[self.n as usize - 1].lock().unwrap() = None;
            if fs::rename(&growing, &path).is_ok() {
                let _ = self.done.send(Finished {
                    rel,
                    size,
                    at: Instant::now(),
                });
            }
        }
        rec
    }
}

/// The segment boundary at or before `t`.
fn boundary(t: NaiveDateTime, segment: i64) -> NaiveDateTime {
    let day = t.date().and_hms_opt(0, 0, 0).unwrap();
    let secs = i64::from(t.num_seconds_from_midnight());
    day + TimeDelta::seconds(secs - secs % segment)
}
