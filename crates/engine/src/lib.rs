//! The daemon: its passes, copy queue and watcher, `status.json`, what it tells a
//! service manager, and its run to an exit code.

pub mod app;
pub mod exit;
pub mod heap;
pub mod http;
pub mod lock;
pub mod mode;
pub mod offsite;
pub mod pass;
pub mod protection;
pub mod pulse;
pub mod queue;
pub mod shutdown;
pub mod status_file;
pub mod supervisor;
pub mod upkeep;
pub mod version;
pub mod watch;
