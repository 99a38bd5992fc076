//! The daemon's footprint over time: resident memory, open files and threads, read
//! from /proc once a second with the simulated day, beside what it holds in its
//! queues (from its `status.json`), which memory follows.

use std::fs;
use std::path::Path;

/// One reading.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Simulated days since the start.
    pub day: u32,
    pub rss_kib: u64,
    pub files: u64,
    pub threads: u64,
    /// Threads of tokio's runtime: its two workers and its blocking pool.
    pub runtime_threads: u64,
    /// Recordings waiting for the bucket.
    pub offsite_pending: u64,
}

/// Reads process `pid` and the status in `logs` now; None when it is gone.
pub fn read(pid: i32, day: u32, logs: &Path) -> Option<Sample> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let files = fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some(Sample {
        day,
        rss_kib: field("VmRSS:")?,
        files,
        threads: field("Threads:")?,
        runtime_threads: runtime_threads(pid),
        offsite_pending: offsite_pending(logs).unwrap_or(0),
    })
}

fn runtime_threads(pid: i32) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("tokio-r")))
        .count() as u64
}

fn offsite_pending(logs: &Path) -> Option<u64> {
    let text = fs::read(logs.join("status.json")).ok()?;
    let status: serde_json::Value = serde_json::from_slice(&text).ok()?;
    status.pointer("/offsite/pending_files")?.as_u64()
}

/// The median of each figure over the samples of days `from..to`.
pub fn median(samples: &[Sample], from: u32, to: u32) -> Option<Medians> {
    let of = |f: fn(&Sample) -> u64| {
        let mut v: Vec<u64> = samples.iter().filter(|s| s.day >= from && s.day < to).map(f).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    Some(Medians {
        rss_kib: of(|s| s.rss_kib)?,
        files: of(|s| s.files)?,
        threads: of(|s| s.threads)?,
        runtime_threads: of(|s| s.runtime_threads)?,
        other_threads: of(|s| s.threads.saturating_sub(s.runtime_threads))?,
        offsite_pending: of(|s| s.offsite_pending)?,
    })
}

/// The medians of a span of days.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Medians {
    pub rss_kib: u64,
    pub files: u64,
    pub threads: u64,
    pub runtime_threads: u64,
    /// Threads outside tokio's runtime.
    pub other_threads: u64,
    pub offsite_pending: u64,
}
