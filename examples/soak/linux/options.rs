//! What a soak run is asked for: the presets `--quick` and `--full`, each value
//! overridable, and the seed everything random is drawn from.

use std::path::PathBuf;

/// One run's settings. Times named `_real` are wall seconds of the machine; the rest
/// are simulated, on the clock the recorder and the daemon share.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub cameras: u32,
    pub days: u32,
    /// How many simulated seconds pass in one real second.
    pub speed: u32,
    pub retention_days: u32,
    /// How many faults to inject, spread over the run.
    pub faults: u32,
    /// The daemon's `offsite.upload_workers`.
    pub upload_workers: u32,
    /// Where the run's folders, logs and figures go.
    pub out: PathBuf,
    /// The daemon to run.
    pub daemon: PathBuf,
    /// Inside the fast clock already (set by the outer run, never by hand).
    pub inner: bool,
}

impl Options {
    /// The CI preset: 8 cameras, 3 days, 24 faults, about 4 minutes.
    fn quick() -> Options {
        Options {
            seed: 1,
            cameras: 8,
            days: 3,
            speed: 1440,
            retention_days: 1,
            faults: 24,
            upload_workers: 2,
            out: PathBuf::from("/tmp/cctv-mirror-soak"),
            daemon: PathBuf::from("target/release/cctv-mirror"),
            inner: false,
        }
    }

    /// The hand-run preset: 32 cameras, 36 days, 540 faults, about 40 minutes. A
    /// week's retention, so retention deletes on 28 of its days and the footprint is
    /// compared over four weeks of a full window.
    fn full() -> Options {
        Options {
            cameras: 32,
            days: 36,
            retention_days: 7,
            faults: 540,
            ..Options::quick()
        }
    }

    /// Reads `--quick`/`--full` first, then single values (`--seed 7`).
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = if args.iter().any(|a| a == "--full") {
            Options::full()
        } else {
            Options::quick()
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
            match a.as_str() {
                "--quick" | "--full" => {}
                "--inner" => o.inner = true,
                "--seed" => o.seed = number(&value()?)?,
                "--cameras" => o.cameras = number(&value()?)? as u32,
                "--days" => o.days = number(&value()?)? as u32,
                "--speed" => o.speed = number(&value()?)? as u32,
                "--retention-days" => o.retention_days = number(&value()?)? as u32,
                "--faults" => o.faults = number(&value()?)? as u32,
                "--upload-workers" => o.upload_workers = number(&value()?)? as u32,
                "--out" => o.out = PathBuf::from(value()?),
                "--daemon" => o.daemon = PathBuf::from(value()?),
                other => return Err(format!("unknown option {other} (see scripts/soak.sh --help)")),
            }
        }
        if o.cameras == 0 || o.days == 0 || o.speed == 0 || o.retention_days == 0 {
            return Err("cameras, days, speed and retention days must be at least 1".into());
        }
        Ok(o)
    }

    /// The arguments that give these options again, for the run inside the clock.
    pub fn to_args(&self) -> Vec<String> {
        let mut v = vec!["--inner".to_string()];
        for (k, n) in [
            ("--seed", self.seed),
            ("--cameras", self.cameras.into()),
            ("--days", self.days.into()),
            ("--speed", self.speed.into()),
            ("--retention-days", self.retention_days.into()),
            ("--faults", self.faults.into()),
            ("--upload-workers", self.upload_workers.into()),
        ] {
            v.extend([k.to_string(), n.to_string()]);
        }
        v.extend(["--out".into(), self.out.display().to_string()]);
        v.extend(["--daemon".into(), self.daemon.display().to_string()]);
        v
    }

    /// The simulated seconds the recording lasts.
    pub fn sim_secs(&self) -> i64 {
        i64::from(self.days) * 86_400
    }
}

fn number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("{s:?} is not a whole number"))
}
