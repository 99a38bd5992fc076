//! `demo --live`: keeps recording after the past is written, until Ctrl-C, SIGTERM or
//! the console is closed. Each second every camera's growing file gets a frame; at the
//! end of each segment (`schedule::segment_end`) the file is renamed to `.dav`, a line
//! says so, and the next one begins. With `--wipe-after SECS` the whole source folder
//! is deleted once, SECS after the live recording began, as the recorder does after an
//! error; recording then goes on in a fresh tree, as the recorder's does when it comes
//! back. On a stop, each growing file is closed under the name of what it holds.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Local, NaiveDateTime, SubsecRound};

use crate::demo::recorder::{retrying, Close, LiveSegment};
use crate::demo::schedule::{catch_up, segment_end};
use crate::demo::write::{self, SOURCE};
use crate::demo::{say, say_err, Failure};
use crate::engine::shutdown;

/// What the live recording was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub cameras: u32,
    pub segment_secs: u64,
    pub wipe_after: Option<u64>,
}

/// Records into `dir`'s source folder, whose past ends at `past_until`, until a stop.
pub fn run(dir: &Path, settings: Settings, past_until: NaiveDateTime) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Io(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(record(dir, settings, past_until))
}

/// The loop: a tick at each second, until the stop signal.
async fn record(dir: &Path, settings: Settings, past_until: NaiveDateTime) -> Result<(), Failure> {
    let source = dir.join(SOURCE);
    let mut stop = Box::pin(stop_requested());
    let first = now_second();
    fill_in(&source, settings.cameras, past_until, first)?;
    let wipe_at = settings.wipe_after.map(|s| Instant::now() + Duration::from_secs(s));
    let wipe_note = settings
        .wipe_after
        .map_or(String::new(), |s| format!("; the source is wiped after {s} s"));
    say(format_args!(
        "recording live into {}: {} cameras, a new segment every {} s{wipe_note}; Ctrl-C to stop",
        source.display(),
        settings.cameras,
        settings.segment_secs
    ));
    let mut recordings: Vec<LiveSegment> = Vec::new();
    let mut wiped = false;
    loop {
        if !wiped && wipe_at.is_some_and(|w| Instant::now() >= w) {
            wipe(&source)?;
            recordings.clear();
            wiped = true;
        }
        tick(&source, &mut recordings, now_second(), settings)?;
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(to_next_second()) => {}
        }
    }
    for rec in recordings {
        let secs = rec.secs();
        if let Some(rel) = rec.finish(Close::AsItIs)? {
            say(format_args!("recorded {rel} ({secs} s, stopped)"));
        }
    }
    say(format_args!("stopped"));
    Ok(())
}

/// One second: each camera's recording ends if its segment is over, then gets a frame.
fn tick(source: &Path, recordings: &mut Vec<LiveSegment>, t: NaiveDateTime, settings: Settings) -> Result<(), Failure> {
    if recordings.is_empty() {
        let end = segment_end(t, settings.segment_secs);
        *recordings = (1..=settings.cameras)
            .map(|c| LiveSegment::new(source, c, t, end))
            .collect();
    }
    for rec in recordings.iter_mut() {
        if rec.is_over_at(t) {
            let next = LiveSegment::new(source, rec.camera, t, segment_end(t, settings.segment_secs));
            let done = std::mem::replace(rec, next);
            let (close, secs) = if t >= done.end {
                (Close::Planned, (done.end - done.start).num_seconds())
            } else {
                (Close::AsItIs, done.secs())
            };
            if let Some(rel) = done.finish(close)? {
                say(format_args!("recorded {rel} ({secs} s)"));
            }
        }
        rec.append(t)?;
    }
    Ok(())
}

/// Finished recordings from the end of the written past up to the first live second.
fn fill_in(source: &Path, cameras: u32, from: NaiveDateTime, to: NaiveDateTime) -> Result<(), Failure> {
    let pieces = catch_up(from, to);
    for &(start, last) in &pieces {
        for camera in 1..=cameras {
            write::write_recording(source, camera, start, last)?;
        }
    }
    if !pieces.is_empty() {
        say(format_args!(
            "caught up from {} to {}: {} recordings",
            from.format("%H:%M:%S"),
            to.format("%H:%M:%S"),
            pieces.len() as u64 * u64::from(cameras)
        ));
    }
    Ok(())
}

/// Deletes the whole source folder, as the recorder does after an error.
fn wipe(source: &Path) -> Result<(), Failure> {
    retrying(|| std::fs::remove_dir_all(source))
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })
        .map_err(|e| Failure::io("wipe", source, &e))?;
    say(format_args!(
        "wiped {} (every recording deleted, as the recorder does after an error); recording goes on in a fresh tree",
        source.display()
    ));
    Ok(())
}

/// Resolves on the console's stop signals; never, after one line, if they cannot be
/// listened for.
async fn stop_requested() {
    if let Err(e) = shutdown::signalled().await {
        say_err(format_args!(
            "warning: cannot listen for Ctrl-C ({e}); stop the demo by other means"
        ));
        std::future::pending::<()>().await;
    }
}

/// The local time, to the second.
fn now_second() -> NaiveDateTime {
    Local::now().naive_local().trunc_subsecs(0)
}

/// How long until just after the next whole second.
fn to_next_second() -> Duration {
    let nanos = u64::from(Local::now().timestamp_subsec_nanos().min(999_999_999));
    Duration::from_nanos(1_000_000_000 - nanos) + Duration::from_millis(5)
}
