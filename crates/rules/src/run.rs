//! How the program runs and where a run is, as `status.json` says them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One pass (`run --once`) or a daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    Once,
    Daemon,
}

/// What a run does when another already holds its log folder's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    /// A single pass beside a daemon, or beside another pass: the site is protected
    /// already; it ends at once, successfully.
    Skip,
    /// A daemon beside a single pass: it starts once that pass ends.
    Wait,
    /// A second daemon: refused.
    Refuse,
}

/// What a run in `mine` does beside the holder (`theirs`, when it named itself).
pub fn beside(mine: RunMode, theirs: Option<RunMode>) -> Beside {
    match (mine, theirs) {
        (RunMode::Once, _) => Beside::Skip,
        (RunMode::Daemon, Some(RunMode::Once)) => Beside::Wait,
        (RunMode::Daemon, _) => Beside::Refuse,
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Before the first pass.
    Starting,
    /// A daemon between passes.
    Running,
    /// A daemon that exited.
    Stopped,
    /// A `--once` run that ended.
    Finished,
}

/// The offsite tier's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsiteState {
    /// Before the bucket was first read.
    #[default]
    Starting,
    /// Nothing waits.
    Ok,
    /// Recordings wait.
    Uploading,
    /// The bucket cannot be used.
    Unavailable,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Once => "once",
            RunMode::Daemon => "daemon",
        }
    }
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Starting => "starting",
            RunState::Running => "running",
            RunState::Stopped => "stopped",
            RunState::Finished => "finished",
        }
    }
}

impl OffsiteState {
    pub fn as_str(self) -> &'static str {
        match self {
            OffsiteState::Starting => "starting",
            OffsiteState::Ok => "ok",
            OffsiteState::Uploading => "uploading",
            OffsiteState::Unavailable => "unavailable",
        }
    }
}

macro_rules! shown_as_its_word {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
shown_as_its_word!(RunMode, RunState, OffsiteState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_is_shown_as_the_word_serde_writes() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        fn back<T: for<'a> Deserialize<'a>>(w: &str) -> T {
            let d: StrDeserializer<'_, Error> = w.into_deserializer();
            T::deserialize(d).unwrap()
        }
        for m in [RunMode::Once, RunMode::Daemon] {
            assert_eq!(back::<RunMode>(m.as_str()), m);
        }
        for s in [
            RunState::Starting,
            RunState::Running,
            RunState::Stopped,
            RunState::Finished,
        ] {
            assert_eq!(back::<RunState>(s.as_str()), s);
        }
        for o in [
            OffsiteState::Starting,
            OffsiteState::Ok,
            OffsiteState::Uploading,
            OffsiteState::Unavailable,
        ] {
            assert_eq!(back::<OffsiteState>(o.as_str()), o);
        }
    }

    #[test]
    fn a_pass_beside_anything_skips_and_a_daemon_waits_only_for_a_pass() {
        assert_eq!(beside(RunMode::Once, Some(RunMode::Daemon)), Beside::Skip);
        assert_eq!(beside(RunMode::Once, None), Beside::Skip);
        assert_eq!(beside(RunMode::Daemon, Some(RunMode::Once)), Beside::Wait);
        assert_eq!(beside(RunMode::Daemon, Some(RunMode::Daemon)), Beside::Refuse);
        assert_eq!(beside(RunMode::Daemon, None), Beside::Refuse);
    }
}
