//! Whether cctv-mirror is doing its job, from what `status.json` says, whether a run
//! holds the log folder's lock, and `now`: the one rule behind `status`'s exit code.
//! Pure. Healthy means: a status was written; a daemon holds the lock and proved it is
//! alive within three beats (`proof_every`); the daemon (or the scheduled `--once`)
//! has passed within twice the interval; and no alert is active. Each problem is a
//! sentence an operator can act on.

use std::time::Duration;

use chrono::{DateTime, Local, TimeDelta};

use crate::alert::Alert;
use crate::run::{RunMode, RunState};

/// What `status.json` says, as far as health goes.
#[derive(Debug, Clone)]
pub struct Seen {
    pub mode: RunMode,
    pub state: RunState,
    pub updated_at: DateTime<Local>,
    pub last_pass_at: Option<DateTime<Local>>,
    pub last_copy_at: Option<DateTime<Local>>,
    /// The active alerts.
    pub alerts: Vec<Alert>,
    /// Whether a run holds the log folder's lock; None when it cannot be told.
    pub held: Option<bool>,
}

/// How often a running daemon proves it is alive in `status.json`.
pub fn proof_every(interval: Duration) -> Duration {
    interval.min(Duration::from_secs(30))
}

/// A daemon silent this long has missed three proofs (with a third of one, at most
/// 2 s, for the write itself).
pub fn silent_limit(interval: Duration) -> Duration {
    let every = proof_every(interval);
    every * 3 + (every / 3).min(Duration::from_secs(2))
}

/// What is wrong, one sentence each; empty when healthy.
pub fn problems(status: Option<&Seen>, now: DateTime<Local>, interval: Duration) -> Vec<String> {
    let Some(s) = status else {
        return vec!["no status.json: cctv-mirror has not run with this configuration yet".into()];
    };
    let limit = TimeDelta::from_std(interval.saturating_mul(2))
        .ok()
        .and_then(|d| d.checked_add(&TimeDelta::seconds(60)))
        .unwrap_or(TimeDelta::MAX);
    let age = |t: DateTime<Local>| now.signed_duration_since(t);
    let mut out = Vec::new();
    let silent = TimeDelta::from_std(silent_limit(interval)).unwrap_or(TimeDelta::MAX);
    let said = s.updated_at.format("%Y-%m-%d %H:%M:%S");
    if s.mode == RunMode::Daemon && s.state == RunState::Stopped {
        out.push(format!("the daemon is not running (it stopped at {said})"));
    } else if s.mode == RunMode::Daemon && s.held == Some(false) {
        out.push(format!(
            "the daemon is not running: it ended without stopping (killed, crashed or the machine went off); its last word was at {said}"
        ));
    } else if s.mode == RunMode::Daemon && age(s.updated_at) > silent {
        out.push(format!(
            "the daemon has not proved it is alive since {said} ({} ago): it hangs or is not running",
            ago(age(s.updated_at))
        ));
    }
    let busy = s.last_copy_at.is_some_and(|t| age(t) <= limit);
    match s.last_pass_at {
        Some(t) if age(t) > limit && !busy => out.push(format!(
            "the last pass finished {} ago, more than twice reconcile_interval_secs",
            ago(age(t))
        )),
        None if !busy => out.push("no pass has finished yet".into()),
        _ => {}
    }
    for a in &s.alerts {
        out.push(format!(
            "alert {} since {}: {}",
            a.kind,
            a.since.format("%Y-%m-%d %H:%M"),
            a.message
        ));
    }
    out
}

/// A duration as people say it: `3 min`, `2 h 05 min`, `4 d 02 h`.
pub fn ago(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (days, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, h) {
        (0, 0) if m == 0 => format!("{secs} s"),
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m:02} min"),
        _ => format!("{days} d {h:02} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(mode: RunMode, state: RunState, updated: DateTime<Local>) -> Seen {
        Seen {
            mode,
            state,
            updated_at: updated,
            last_pass_at: Some(updated),
            last_copy_at: None,
            alerts: Vec::new(),
            held: Some(true),
        }
    }

    #[test]
    fn a_daemon_that_proves_it_is_alive_without_alerts_is_healthy() {
        let now = Local::now();
        let interval = Duration::from_secs(600);
        let mut s = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(20));
        s.last_pass_at = Some(now - TimeDelta::seconds(700));
        assert!(problems(Some(&s), now, interval).is_empty());
        let stale = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(1300));
        assert_eq!(
            problems(Some(&stale), now, interval).len(),
            2,
            "silent, and its pass is old"
        );
        let stopped = status(RunMode::Daemon, RunState::Stopped, now);
        assert!(problems(Some(&stopped), now, interval)[0].contains("not running"));
        assert_eq!(problems(None, now, interval).len(), 1);
        let once = status(RunMode::Once, RunState::Finished, now - TimeDelta::seconds(60));
        assert!(problems(Some(&once), now, interval).is_empty());
    }

    #[test]
    fn three_missed_proofs_or_a_free_lock_mean_not_running() {
        let now = Local::now();
        let default = Duration::from_secs(600);
        assert_eq!(silent_limit(default), Duration::from_secs(92), "under 100 s");
        assert_eq!(
            silent_limit(Duration::from_secs(3)),
            Duration::from_secs(10),
            "under 11 s"
        );
        let quiet = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(93));
        assert!(problems(Some(&quiet), now, default)[0].contains("has not proved it is alive"));
        let talking = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(91));
        assert!(problems(Some(&talking), now, default).is_empty());
        let mut gone = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(2));
        gone.held = Some(false);
        assert!(problems(Some(&gone), now, default)[0].contains("ended without stopping"));
        gone.held = None;
        assert!(
            problems(Some(&gone), now, default).is_empty(),
            "no lock to look at: its word counts"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(ago(TimeDelta::seconds(42)), "42 s");
        assert_eq!(ago(TimeDelta::seconds(185)), "3 min");
        assert_eq!(ago(TimeDelta::seconds(7500)), "2 h 05 min");
        assert_eq!(ago(TimeDelta::seconds(4 * 86_400 + 7300)), "4 d 02 h");
    }
}
