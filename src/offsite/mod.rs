//! The offsite tier: every finished recording of the backup also in S3-compatible
//! object storage. So far `client`, which speaks S3; the uploads, their queue and the
//! offsite retention come next (issue 12).

pub mod client;
