//! How the process runs: one pass, or a daemon with or without the watcher.

use rules::run::RunMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One pass, then exit (for a scheduler).
    Once,
    /// Passes on a tick until stopped; with `watch`, the real-time watcher too.
    Daemon { watch: bool },
}

impl Mode {
    /// What `status.json` calls it.
    pub fn run_mode(self) -> RunMode {
        match self {
            Mode::Once => RunMode::Once,
            Mode::Daemon { .. } => RunMode::Daemon,
        }
    }
}
