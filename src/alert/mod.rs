//! Alerts: the kinds of condition that need a person (`kind`), and their life cycle
//! (`lifecycle`: raised once, cleared once, reminded every `remind_hours`), kept across
//! restarts and `--once` runs in `log_dir/alerts.json` (`state`). `status.json`, the
//! pass log, the Event Log and the notifiers all read the life cycle's events.

pub mod kind;
pub mod lifecycle;
pub mod notify;
pub mod state;

pub use kind::{AlertKind, Raised};
pub use lifecycle::{Alert, Change, Event};
