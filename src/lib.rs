//! cctv-mirror keeps a second, safe copy of CCTV recordings for a fixed number of days,
//! for recorders (Intelbras/Dahua) that may delete all their own recordings after an
//! error. The backup grows only by copies and shrinks only by retention.
//!
//! # Layout
//! Data flows one way: source tree → (`watch` events | scan → `plan`) → `queue` →
//! `copy` → backup tree;
//! then `retention` and the disk check. Pure decisions (`layout`, `plan`, `retention`'s
//! planner) take `today` as an argument; side effects live in `copy` (the only writer
//! of recordings), `retention::apply` (the only deleter), `status` and `runlog`.
//!
//! - `cli`: the command line (clap types only)
//! - `config`: `config.json` → validated `Config`
//! - `layout`: what is a recording, its date, our own file names
//! - `scan`: one walk of a tree → `Listing`
//! - `plan`: the window, what to copy, the wipe and clock alerts
//! - `retention`: what to delete, and deleting it
//! - `copy`: bring one backup file up to date (temporary, fsync, rename; append)
//! - `queue`: the shared job queue and its workers, one job per recording at a time
//! - `reconcile`: one pass
//! - `volume`: the backup folder and its disk space
//! - `alert`, `status`: alert kinds and `status.json`
//! - `activity`: the daemon's live state (watcher, last copy, totals) for `status.json`
//! - `runlog`: console and per-pass log files
//! - `shutdown`: stop signals
//! - `check`: the `check` command
//! - `watch`: the real-time watcher → jobs (finished recordings, and in-progress
//!   copies of growing ones); overflow or errors → a pass
//! - `app`: wiring, the tick, the pass the watcher asks for, and running it to an exit code
//! - `exit`: exit codes
//! - `commands`: what each command does (`main.rs` and `cctv-mirrorw` only parse)
//! - `supervisor`: what the daemon tells a service manager (a port)
//! - `service`: Windows service and Event Log, systemd's sd_notify and unit, installing
//! - `rules`: pure rules (for now: comparing paths the OS's way)
//! - `store`: where a path or an opened file really is (links, junctions, mounts)
//! - `report`: pruning of old pass logs

pub mod activity;
pub mod alert;
pub mod app;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod copy;
pub mod exit;
pub mod layout;
pub mod plan;
pub mod queue;
pub mod reconcile;
pub mod report;
pub mod retention;
pub mod rules;
pub mod runlog;
pub mod scan;
pub mod service;
pub mod shutdown;
pub mod status;
pub mod store;
pub mod supervisor;
pub mod volume;
pub mod watch;
