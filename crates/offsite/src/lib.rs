//! The offsite tier: every finished recording of the backup also in S3-compatible
//! object storage. `client` speaks S3, `probe` answers `check` (`conditional` too: whether the bucket refuses a write
//! over an object already there), `upload` sends one recording (resumable), `backlog`
//! holds what waits, `gate` paces the uploads behind the local copies (asked through
//! `turns` as the bytes go) and `background` lowers their threads' priority, `worker`
//! and `sweep` do the uploads and the offsite retention (once `site` knows the prefix
//! is this site's), `state` records it all, and `tier` starts and stops it for the daemon.

pub mod background;
pub mod backlog;
pub mod client;
pub mod conditional;
pub mod digest;
pub mod gate;
pub mod probe;
pub mod site;
pub mod state;
pub mod sweep;
pub mod tier;
pub mod turns;
pub mod upload;
pub mod worker;
