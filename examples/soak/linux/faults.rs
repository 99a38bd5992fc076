//! Which faults strike when: a pure plan drawn from the seed, so a run can be played
//! again. Every kind comes round in turn (each at least `count / KINDS.len()` times);
//! their times are drawn at random over the run, so they overlap as they fall.

use std::time::Duration;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `kill -9` of the daemon; the service manager starts it again after `hold`.
    Kill,
    /// SIGSTOP, then SIGCONT after `hold`.
    Pause,
    /// The backup volume unmounted (lazily), mounted again after `hold`.
    Unmount,
    /// The backup disk shrunk to what it holds (full), grown back after `hold`.
    DiskFull,
    /// The platform deletes its whole recording folder.
    Wipe,
    /// The wall clock jumps ahead by `shift`, and back after `hold`.
    ClockAhead,
    /// The wall clock jumps back by `shift`, and ahead again after `hold`.
    ClockBack,
    /// The S3 server's port refuses connections; open again after `hold`.
    S3Down,
    /// The S3 server accepts but answers nothing; answers again after `hold`.
    S3Stall,
    /// The notification receiver is down; up again after `hold`.
    ReceiverDown,
}

pub const KINDS: [Kind; 10] = [
    Kind::Kill,
    Kind::Pause,
    Kind::Unmount,
    Kind::DiskFull,
    Kind::Wipe,
    Kind::ClockAhead,
    Kind::ClockBack,
    Kind::S3Down,
    Kind::S3Stall,
    Kind::ReceiverDown,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kill => "kill -9 and restart",
            Kind::Pause => "SIGSTOP and SIGCONT",
            Kind::Unmount => "backup volume unmounted",
            Kind::DiskFull => "backup disk full",
            Kind::Wipe => "source wiped by the platform",
            Kind::ClockAhead => "clock ahead, then back",
            Kind::ClockBack => "clock back, then ahead",
            Kind::S3Down => "S3 server stopped",
            Kind::S3Stall => "S3 server stalled",
            Kind::ReceiverDown => "notification receiver down",
        }
    }

    /// Whether it keeps recordings from reaching the local backup while it lasts.
    pub fn stops_local_copies(self) -> bool {
        matches!(self, Kind::Kill | Kind::Pause | Kind::Unmount | Kind::DiskFull)
    }

    /// How long it lasts, in real seconds, drawn from this range.
    fn holds(self) -> (u64, u64) {
        match self {
            Kind::Kill => (1, 3),
            Kind::Pause => (1, 8),
            Kind::Unmount | Kind::DiskFull => (2, 12),
            Kind::Wipe => (0, 0),
            Kind::ClockAhead | Kind::ClockBack => (2, 10),
            Kind::S3Down | Kind::S3Stall | Kind::ReceiverDown => (3, 20),
        }
    }
}

/// One fault: when it strikes (real time from the start), how long it lasts, and for a
/// clock jump how far (simulated seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub at: Duration,
    pub kind: Kind,
    pub hold: Duration,
    pub shift: i64,
}

/// What the executor does, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Begin(Fault),
    End(Fault),
}

/// `count` faults over a run of `length` real time, none in its first and last tenth.
pub fn plan(seed: u64, count: u32, length: Duration) -> Vec<Fault> {
    let mut rng = Rng(seed ^ 0x5eed_cc7f);
    let (from, to) = (length.as_millis() as u64 / 10, length.as_millis() as u64 * 9 / 10);
    let mut faults: Vec<Fault> = (0..count)
        .map(|i| {
            let kind = KINDS[i as usize % KINDS.len()];
            let (lo, hi) = kind.holds();
            Fault {
                at: Duration::from_millis(rng.between(from, to)),
                kind,
                hold: Duration::from_millis(rng.between(lo * 1000, hi * 1000)),
                shift: rng.between(30, 120) as i64 * 60,
            }
        })
        .collect();
    faults.sort_by_key(|f| f.at);
    faults
}

/// The plan as begin and end steps, in time order (a begin before an end at the same
/// moment).
pub fn steps(plan: &[Fault]) -> Vec<(Duration, Step)> {
    let mut v: Vec<(Duration, Step)> = plan
        .iter()
        .flat_map(|f| [(f.at, Step::Begin(*f)), (f.at + f.hold, Step::End(*f))])
        .collect();
    v.sort_by_key(|(t, s)| (*t, matches!(s, Step::End(_))));
    v
}

/// SplitMix64: small, good enough for a test plan, and the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number from `lo` to `hi`, both included.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan_and_every_kind_comes() {
        let a = plan(7, 30, Duration::from_secs(200));
        assert_eq!(a, plan(7, 30, Duration::from_secs(200)));
        assert_ne!(a, plan(8, 30, Duration::from_secs(200)));
        for k in KINDS {
            assert!(a.iter().filter(|f| f.kind == k).count() >= 3, "{k:?}");
        }
        assert!(a
            .iter()
            .all(|f| f.at >= Duration::from_secs(20) && f.at <= Duration::from_secs(180)));
        let s = steps(&a);
        assert_eq!(s.len(), 60);
        assert!(s.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
