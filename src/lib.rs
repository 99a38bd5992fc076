//! cctv-mirror keeps a second, safe copy of CCTV recordings for a fixed number of days,
//! for recorders (Intelbras/Dahua) that may delete all their own recordings after an
//! error. The backup grows only by copies and shrinks only by retention.
//!
//! # Layout
//! Data flows one way: source tree → (`watch` events | `store::scan` → `rules::plan`)
//! → `engine::queue` → `store::copy` → backup tree; then retention and the disk check.
//! Pure decisions live in `rules` and take `today`/`now` as arguments; side effects on
//! the trees live in `store` (`copy` is the only writer of recordings, `delete` the only
//! deleter); what is told and kept about a run lives in `report`.
//!
//! - `cli`: the command line (clap types only); `config`: `config.json` → `Config`;
//!   `exit`: exit codes
//! - `rules`: names and dates, paths compared the OS's way, the window and copy plan,
//!   the retention plan
//! - `store`: scan, copy, delete, emptied folders, the volume guard, where things are
//! - `engine`: wiring and the daemon (`app`), one pass, the copy queue, shutdown
//! - `watch`: the real-time watcher → jobs; overflow or errors → a pass
//! - `report`: console and pass logs, `status.json`, live activity, log pruning
//! - `alert`: alert kinds, their life cycle, and `notify/` the channels that carry them
//! - `supervisor`: what the daemon tells a service manager (a port)
//! - `service`: Windows service and Event Log, systemd's sd_notify and unit, installing
//! - `offsite`: the S3-compatible object storage tier (`client` speaks S3)
//! - `demo`: the simulated recorder of `cctv-mirror demo`, with planted gaps
//! - `commands`: what each command does (`main.rs` and `cctv-mirrorw` only parse)

/// Alerts kept and sent, a crate of its own (`crates/alert`).
pub use cctv_mirror_alert as alert;
pub mod cli;
pub mod commands;
/// `config.json`, a crate of its own (`crates/config`).
pub use cctv_mirror_config as config;
pub mod demo;
pub mod engine;
pub mod exit;
/// The offsite tier, a crate of its own (`crates/offsite`).
pub use cctv_mirror_offsite as offsite;
/// What is told and kept in `log_dir`, a crate of its own (`crates/report`).
pub use cctv_mirror_report as report;
/// The pure rules, a crate of their own (`crates/rules`).
pub use cctv_mirror_rules as rules;
pub mod service;
/// The trees, a crate of their own (`crates/store`).
pub use cctv_mirror_store as store;
pub mod supervisor;
pub mod watch;
