//! Whether cctv-mirror is doing its job, from what `status.json` says and `now`: the
//! one rule behind `status`'s exit code. Pure. Healthy means: a status was written, the
//! daemon (or the scheduled `--once`) has passed within twice the interval, and no
//! alert is active. Each problem is a sentence an operator can act on.

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
    if s.mode == RunMode::Daemon && s.state != RunState::Running {
        out.push(format!(
            "the daemon is not running (it {} at {})",
            s.state,
            s.updated_at.format("%Y-%m-%d %H:%M:%S")
        ));
    } else if s.mode == RunMode::Daemon && age(s.updated_at) > limit {
        out.push(format!(
            "the daemon has said nothing since {} ({} ago): it is probably not running",
            s.updated_at.format("%Y-%m-%d %H:%M:%S"),
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
        }
    }

    #[test]
    fn a_fresh_running_daemon_without_alerts_is_healthy() {
        let now = Local::now();
        let interval = Duration::from_secs(600);
        let s = status(RunMode::Daemon, RunState::Running, now - TimeDelta::seconds(700));
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
    fn durations_read_as_people_say_them() {
        assert_eq!(ago(TimeDelta::seconds(42)), "42 s");
        assert_eq!(ago(TimeDelta::seconds(185)), "3 min");
        assert_eq!(ago(TimeDelta::seconds(7500)), "2 h 05 min");
        assert_eq!(ago(TimeDelta::seconds(4 * 86_400 + 7300)), "4 d 02 h");
    }
}
