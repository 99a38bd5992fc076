//! The rig: the backup disk, the S3 server, the receiver and the daemon, and the fault
//! executor that plays the plan against them, counting each fault and keeping when
//! each lasted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::check::Outage;
use super::clock::{pause, sim_start, Clock};
use super::daemon::Daemon;
use super::disk::Disk;
use super::faults::{Fault, Kind, Step};
use super::proxy::S3;
use super::receiver::Receiver;
use super::recorder::Order;
use super::sampler::{self, Sample};
use super::switch::Mode;

/// The run's folders.
#[derive(Debug, Clone)]
pub struct Paths {
    pub out: PathBuf,
    pub source: PathBuf,
    pub backup: PathBuf,
    pub disk: PathBuf,
    pub logs: PathBuf,
    pub config: PathBuf,
}

impl Paths {
    pub fn under(out: &std::path::Path) -> Paths {
        Paths {
            out: out.into(),
            source: out.join("source"),
            backup: out.join("backup"),
            disk: out.join("disk"),
            logs: out.join("logs"),
            config: out.join("config.json"),
        }
    }
}

pub struct Rig {
    pub clock: Clock,
    pub disk: Disk,
    pub s3: S3,
    pub receiver: Receiver,
    pub daemon: Daemon,
    pub paths: Paths,
    pub recorder: Sender<Order>,
    /// Faults of each kind in effect now.
    active: HashMap<Kind, u32>,
    open: Vec<(Fault, Instant)>,
    pub outages: Vec<Outage>,
    /// Fault counts by kind.
    pub struck: HashMap<Kind, u32>,
    /// Broken promises seen during the run (a file written at a bare mount point).
    pub violations: Vec<String>,
    pub samples: Vec<Sample>,
    last_sample: Option<Instant>,
}

impl Rig {
    pub fn new(
        clock: Clock,
        disk: Disk,
        s3: S3,
        receiver: Receiver,
        daemon: Daemon,
        paths: Paths,
        recorder: Sender<Order>,
    ) -> Rig {
        Rig {
            clock,
            disk,
            s3,
            receiver,
            daemon,
            paths,
            recorder,
            active: HashMap::new(),
            open: vec![],
            outages: vec![],
            struck: HashMap::new(),
            violations: vec![],
            samples: vec![],
            last_sample: None,
        }
    }

    /// Plays `steps` from `t0` until `length` has passed, then ends what is left.
    pub fn play(&mut self, steps: &[(Duration, Step)], t0: Instant, length: Duration) {
        let mut next = 0;
        while t0.elapsed() < length {
            while next < steps.len() && steps[next].0 <= t0.elapsed() {
                self.apply(steps[next].1);
                next += 1;
            }
            self.daemon.watch();
            self.sample();
            pause(Duration::from_millis(20));
        }
        for (_, step) in &steps[next..] {
            if let Step::End(_) = step {
                self.apply(*step);
            }
        }
    }

    /// Keeps the daemon running and sampled for `d`.
    pub fn idle(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            self.daemon.watch();
            self.sample();
            pause(Duration::from_millis(50));
        }
    }

    fn apply(&mut self, step: Step) {
        match step {
            Step::Begin(f) => {
                *self.struck.entry(f.kind).or_default() += 1;
                let first = self.bump(f.kind, 1) == 1;
                self.open.push((f, Instant::now()));
                self.begin(f, first);
            }
            Step::End(f) => {
                let last = self.bump(f.kind, -1) == 0;
                if let Some(i) = self.open.iter().position(|(o, _)| *o == f) {
                    let (_, from) = self.open.remove(i);
                    self.outages.push(Outage {
                        kind: f.kind,
                        from,
                        to: Instant::now(),
                    });
                }
                self.end(f, last);
            }
        }
        self.switches();
    }

    fn bump(&mut self, k: Kind, by: i32) -> u32 {
        let n = self.active.entry(k).or_default();
        *n = n.saturating_add_signed(by);
        *n
    }

    fn begin(&mut self, f: Fault, first: bool) {
        match f.kind {
            Kind::Kill if first => self.daemon.kill(),
            Kind::Pause if first => self.daemon.signal(libc::SIGSTOP),
            Kind::Unmount if first => {
                let r = self.disk.detach();
                self.note(r);
            }
            Kind::DiskFull if first => self.note(self.disk.fill()),
            Kind::Wipe => self.note(self.recorder.send(Order::Wipe).map_err(|e| e.to_string())),
            Kind::ClockAhead => self.clock.shift(f.shift),
            Kind::ClockBack => self.clock.shift(-f.shift),
            _ => {}
        }
    }

    fn end(&mut self, f: Fault, last: bool) {
        match f.kind {
            Kind::Kill if last => self.daemon.start(),
            Kind::Pause if last => self.daemon.signal(libc::SIGCONT),
            Kind::Unmount if last => {
                self.bare_mount_point_is_empty();
                let r = self.disk.attach();
                self.note(r);
            }
            Kind::DiskFull if last => self.note(self.disk.grow()),
            Kind::ClockAhead => self.clock.shift(-f.shift),
            Kind::ClockBack => self.clock.shift(f.shift),
            _ => {}
        }
    }

    fn note(&mut self, done: Result<(), String>) {
        if let Err(e) = done {
            self.violations.push(format!("the rig failed: {e}"));
        }
    }

    /// Invariant 5: while the volume was away, nothing was written at its path.
    fn bare_mount_point_is_empty(&mut self) {
        let found: Vec<String> = std::fs::read_dir(&self.paths.backup)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if !found.is_empty() {
            self.violations.push(format!(
                "written at the bare mount point while the disk was away: {found:?}"
            ));
        }
    }

    /// The S3 and receiver switches follow the faults in effect.
    fn switches(&self) {
        let on = |k| self.active.get(&k).copied().unwrap_or(0) > 0;
        let s3 = if on(Kind::S3Down) {
            Mode::Down
        } else if on(Kind::S3Stall) {
            Mode::Stalled
        } else {
            Mode::Up
        };
        self.s3.switch.set(s3);
        self.receiver
            .switch
            .set(if on(Kind::ReceiverDown) { Mode::Down } else { Mode::Up });
    }

    fn sample(&mut self) {
        if self.last_sample.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        self.last_sample = Some(Instant::now());
        let day = (self.clock.now() - sim_start()).num_days().max(0) as u32;
        if let Some(s) = self.daemon.pid().and_then(|p| sampler::read(p, day, &self.paths.logs)) {
            self.samples.push(s);
        }
    }
}
