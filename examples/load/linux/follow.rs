//! Watches the backup: when each finished recording is whole there (the protection
//! lag), and how old the oldest byte missing from each in-progress copy is. Deletes a
//! recording from both sides once its copy is whole, so a long run fits on the disk.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::camera::{Finished, Site};
use crate::shared::take_whole;

#[derive(Debug, Default)]
pub struct Followed {
    pub finished: usize,
    /// Sorted.
    pub lags_ms: Vec<u64>,
    /// Sorted.
    pub behind_ms: Vec<u64>,
    /// The worst look: how far behind, the seconds into the run and into its segment.
    pub worst: Worst,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Worst {
    pub behind_ms: u64,
    pub run_secs: f64,
    pub segment_secs: f64,
}

/// Runs until `stop` and nothing is left to wait for (at most 60 s after the stop).
pub fn run(
    site: &Site,
    source: &Path,
    backup: &Path,
    done: Receiver<Finished>,
    watching: bool,
    stop: &AtomicBool,
) -> Followed {
    let mut f = Followed::default();
    let started = Instant::now();
    let mut waiting: Vec<Finished> = vec![];
    let mut last_look = Instant::now();
    let mut stopped_at: Option<Instant> = None;
    loop {
        while let Ok(r) = done.try_recv() {
            f.finished += 1;
            if watching {
                waiting.push(r);
            } else {
                let _ = std::fs::remove_file(source.join(&r.rel));
            }
        }
        let now = Instant::now();
        take_whole(backup, &mut waiting, |r| {
            f.lags_ms.push(now.duration_since(r.at).as_millis() as u64);
            let _ = std::fs::remove_file(source.join(&r.rel));
            let _ = std::fs::remove_file(backup.join(&r.rel));
        });
        if watching && last_look.elapsed() >= Duration::from_millis(250) {
            last_look = Instant::now();
            behind(site, backup, started, &mut f);
        }
        if stop.load(Ordering::SeqCst) {
            let at = *stopped_at.get_or_insert(now);
            if waiting.is_empty() || at.elapsed() > Duration::from_secs(60) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f.lags_ms.sort_unstable();
    f.behind_ms.sort_unstable();
    f
}

/// For each segment being written: how long the oldest byte its in-progress copy
/// (`NAME.dav.partial`) lacks has waited.
fn behind(site: &Site, backup: &Path, started: Instant, f: &mut Followed) {
    for cam in site.growing.iter() {
        let Some(g) = cam.lock().unwrap().clone() else { continue };
        let copied = std::fs::metadata(backup.join(format!("{}.partial", g.final_rel))).map_or(0, |m| m.len());
        let oldest_missing = g.history.iter().find(|(_, size)| *size > copied).map(|(t, _)| *t);
        let ms = oldest_missing.map_or(0, |t| t.elapsed().as_millis() as u64);
        if ms > f.worst.behind_ms {
            f.worst = Worst {
                behind_ms: ms,
                run_secs: started.elapsed().as_secs_f64(),
                segment_secs: g.history.first().map_or(0.0, |(t, _)| t.elapsed().as_secs_f64()),
            };
        }
        f.behind_ms.push(ms);
    }
}
