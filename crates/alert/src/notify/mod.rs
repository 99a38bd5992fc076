//! Getting alerts to a person: `message` (the one body every channel is built from), `format` (each webhook
//! service's shape), the channels (`webhook`, `email`, `command`, `heartbeat`), and
//! `outbox` + `worker`: delivery on a thread of its own with a bounded queue, retried
//! with back-off and kept in `log_dir` across runs, so a slow or dead channel never
//! costs a copy.

pub mod channel;
pub mod format;
pub mod message;
pub mod outbox;
pub mod summary;
pub mod worker;
