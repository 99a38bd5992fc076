//! The offsite tier: every finished recording of the backup also in S3-compatible
//! object storage. So far `settings`, the `offsite` section of the config, `client`, which
//! speaks S3, `probe`, which `check` asks whether the bucket can be used, and
//! `upload`, one recording into the bucket, resumable; the uploads, their queue and the
//! offsite retention come next (issue 12).

pub mod client;
pub mod probe;
pub mod settings;
pub mod upload;
