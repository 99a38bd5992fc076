//! Messages not yet delivered, per channel and in order, with their retry times:
//! `retry_after` (pure) is the back-off: 10 s, 30 s, 1 min, 5 min, then every 15 min,
//! given up 24 h after the first try. Kept in `log_dir/notify-outbox.json` (replaced
//! atomically) whenever it changes, so what one run could not deliver (a `--once` pass,
//! a restart) the next run sends.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use super::message::Message;

pub const FILE_NAME: &str = "notify-outbox.json";

/// One message waiting for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The channel's name (`Channel::name`): a channel removed from the config drops
    /// its messages.
    pub channel: String,
    pub message: Message,
    /// Failed attempts so far.
    pub attempts: u32,
    pub first_at: DateTime<Local>,
    pub next_at: DateTime<Local>,
}

/// How long to wait after `attempts` failures, the first `age` ago; None: give up.
pub fn retry_after(attempts: u32, age: Duration) -> Option<Duration> {
    const STEPS: [u64; 4] = [10, 30, 60, 300];
    if age >= Duration::from_secs(24 * 3600) {
        return None;
    }
    let i = attempts.saturating_sub(1) as usize;
    Some(Duration::from_secs(STEPS.get(i).copied().unwrap_or(900)))
}

pub fn load(log_dir: &Path) -> Vec<Pending> {
    report::json_file::read(&log_dir.join(FILE_NAME)).unwrap_or_default()
}

pub fn save(log_dir: &Path, pending: &[Pending]) -> io::Result<()> {
    let path = log_dir.join(FILE_NAME);
    if pending.is_empty() {
        return match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    report::json_file::replace(log_dir, FILE_NAME, &pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_then_every_15_minutes_for_a_day() {
        let s = |a, age| retry_after(a, Duration::from_secs(age)).map(|d| d.as_secs());
        assert_eq!(
            [s(1, 0), s(2, 10), s(3, 40), s(4, 100), s(5, 400), s(40, 9000)],
            [Some(10), Some(30), Some(60), Some(300), Some(900), Some(900)]
        );
        assert_eq!(s(90, 24 * 3600), None, "given up after a day");
    }
}
