//! Integration tests: the built `cctv-mirror` binary on real folders.

mod common;

mod config;
mod daemon;
mod disk;
mod live;
mod logs;
mod pass;
mod paths;
mod retention;
#[cfg(unix)]
mod systemd;
mod volume;
mod watch;
