//! The offsite tier: every finished recording of the backup also in S3-compatible
//! object storage, uploaded behind the local copies, with its own retention.

pub mod background;
pub mod backlog;
pub mod client;
pub mod conditional;
pub mod digest;
pub mod gate;
pub mod identity;
pub mod lock;
pub mod probe;
pub mod restore;
pub mod retention;
pub mod sealed;
pub mod site;
pub mod state;
pub mod sweep;
pub mod tier;
pub mod turns;
pub mod upload;
pub mod view;
pub mod worker;
