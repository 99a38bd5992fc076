//! Getting alerts to a person: one message shaped for each channel, delivered on a
//! thread of its own with a bounded queue, retried with back-off and kept in `log_dir`
//! across runs, so a slow or dead channel never costs a copy.

pub mod channel;
pub mod format;
pub mod message;
pub mod outbox;
pub mod summary;
pub mod worker;
