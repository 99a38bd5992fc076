//! What the load benchmark is asked for.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Options {
    pub cameras: u32,
    /// Each camera's bit rate, in megabits a second.
    pub mbps: f64,
    /// How long the phase with cctv-mirror records (the one without: at most 180 s).
    pub secs: u64,
    /// A new segment every this many seconds (all cameras at once, as the platform does).
    pub segment_secs: u64,
    pub live_sync_secs: u64,
    pub out: PathBuf,
    pub daemon: PathBuf,
    /// The daemon is a Windows build, run through this `wine`.
    pub wine: Option<PathBuf>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            cameras: 64,
            mbps: 8.0,
            secs: 600,
            segment_secs: 60,
            live_sync_secs: 5,
            out: PathBuf::from("/tmp/cctv-mirror-load"),
            daemon: PathBuf::from("target/release/cctv-mirror"),
            wine: None,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
            let n = |s: String| s.parse::<f64>().map_err(|_| format!("{s:?} is not a number"));
            match a.as_str() {
                "--cameras" => o.cameras = n(value()?)? as u32,
                "--mbps" => o.mbps = n(value()?)?,
                "--secs" => o.secs = n(value()?)? as u64,
                "--segment-secs" => o.segment_secs = n(value()?)? as u64,
                "--live-sync-secs" => o.live_sync_secs = n(value()?)? as u64,
                "--out" => o.out = PathBuf::from(value()?),
                "--daemon" => o.daemon = PathBuf::from(value()?),
                "--wine" => o.wine = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown option {other} (see scripts/bench-load.sh)")),
            }
        }
        if o.cameras == 0 || o.mbps <= 0.0 || o.secs == 0 || o.segment_secs == 0 {
            return Err("cameras, mbps, secs and segment-secs must be above 0".into());
        }
        Ok(o)
    }
}
