//! What an upload waits for: before each request, the local backup first (while the
//! copy queue has more work than its workers can take at once, uploads hold back), and
//! as its bytes go, their turn under `max_mbps` (one budget shared by all upload
//! workers). Stop ends the wait; the rest is then not sent.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::turns::Turns;

/// How often a waiting upload looks again.
const LOOK: Duration = Duration::from_millis(200);

pub struct Gate {
    /// The tier's end: a child of the daemon's stop, also cancelled by `end`.
    stop: CancellationToken,
    /// True while local copies have a backlog.
    local_busy: Box<dyn Fn() -> bool + Send + Sync>,
    /// Bytes per second for all workers together; None: unlimited.
    rate: Option<f64>,
    /// When the shared budget is next free.
    next: Mutex<Instant>,
}

impl Gate {
    pub fn new(
        stop: &CancellationToken,
        max_mbps: Option<f64>,
        local_busy: Box<dyn Fn() -> bool + Send + Sync>,
    ) -> Gate {
        Gate {
            stop: stop.child_token(),
            local_busy,
            rate: max_mbps.map(|m| m * 1_000_000.0 / 8.0),
            next: Mutex::new(Instant::now()),
        }
    }

    pub fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Stops every wait, as a stop request does.
    pub fn end(&self) {
        self.stop.cancel();
    }

    /// Waits until the local copies have no backlog; false when stopped meanwhile.
    pub fn local_first(&self) -> bool {
        while (self.local_busy)() {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(LOOK);
        }
        !self.stopped()
    }

    /// Waits until `bytes` may be sent under the shared budget; false when stopped
    /// meanwhile.
    pub fn budget(&self, bytes: u64) -> bool {
        let Some(rate) = self.rate else {
            return !self.stopped();
        };
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let start = (*next).max(Instant::now());
            *next = start + Duration::from_secs_f64(bytes as f64 / rate);
            start
        };
        self.sleep_until(start)
    }

    /// Sleeps until `at` in short naps; false when stopped meanwhile.
    pub fn sleep_until(&self, at: Instant) -> bool {
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            std::thread::sleep((at - now).min(LOOK));
        }
    }
}

/// A request waits for the local copies; its bytes, for the budget. Within a request
/// it never waits for the local copies: a request held open would time out.
impl Turns for Gate {
    fn part(&self, _: u64) -> bool {
        self.local_first()
    }
    fn bytes(&self, n: u64) -> bool {
        self.budget(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_budget_is_shared_and_spent_in_order() {
        // 8 Mbit/s: one megabyte a second.
        let gate = Gate::new(&CancellationToken::new(), Some(8.0), Box::new(|| false));
        let started = Instant::now();
        assert!(gate.bytes(500_000));
        assert!(gate.bytes(500_000));
        assert!(gate.bytes(1));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(950),
            "the third send waited a second: {took:?}"
        );
    }

    #[test]
    fn stop_ends_a_wait_for_the_local_copies() {
        let stop = CancellationToken::new();
        let gate = Arc::new(Gate::new(&stop, None, Box::new(|| true)));
        let g = gate.clone();
        let waiting = std::thread::spawn(move || g.part(1));
        std::thread::sleep(Duration::from_millis(300));
        stop.cancel();
        assert!(!waiting.join().unwrap(), "stopped: not sent");
    }

    #[test]
    fn uploads_wait_while_local_copies_have_a_backlog() {
        let busy = Arc::new(AtomicBool::new(true));
        let b = busy.clone();
        let gate = Arc::new(Gate::new(
            &CancellationToken::new(),
            None,
            Box::new(move || b.load(Ordering::Relaxed)),
        ));
        let g = gate.clone();
        let started = Instant::now();
        let waiting = std::thread::spawn(move || (g.part(1), Instant::now()));
        std::thread::sleep(Duration::from_millis(500));
        assert!(!waiting.is_finished(), "held back while local copies wait");
        let freed = Instant::now();
        busy.store(false, Ordering::Relaxed);
        let (sent, at) = waiting.join().unwrap();
        assert!(sent);
        assert!(at >= freed && at - started >= Duration::from_millis(500));
    }
}
