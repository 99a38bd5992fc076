//! Integration tests: the built `cctv-mirror` binary on real folders. They run on a
//! Linux host, driving either the native binary or the Windows build under Wine
//! (`scripts/wine-tests.sh`); built for Windows, this crate is empty.
#![cfg(unix)]

mod common;

mod alerts;
mod config;
mod coverage;
mod daemon;
mod demo;
mod disk;
mod init_config;
mod live;
mod logs;
mod names;
mod notify;
mod offsite;
mod offsite_daemon;
mod pass;
mod paths;
mod receiver;
mod relay;
mod retention;
mod service;
mod status;
#[cfg(unix)]
mod systemd;
mod verify;
mod version;
mod volume;
mod watch;
