//! The daemon's footprint over time: resident memory, open files and threads, read
//! from /proc once a second with the simulated day.

use std::fs;

/// One reading.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Simulated days since the start.
    pub day: u32,
    pub rss_kib: u64,
    pub files: u64,
    pub threads: u64,
}

/// Reads process `pid` now; None when it is gone.
pub fn read(pid: i32, day: u32) -> Option<Sample> {
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
    })
}

/// The median of each figure over the samples of days `from..to`.
pub fn median(samples: &[Sample], from: u32, to: u32) -> Option<(u64, u64, u64)> {
    let of = |f: fn(&Sample) -> u64| {
        let mut v: Vec<u64> = samples.iter().filter(|s| s.day >= from && s.day < to).map(f).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    Some((of(|s| s.rss_kib)?, of(|s| s.files)?, of(|s| s.threads)?))
}
