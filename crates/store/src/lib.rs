//! The only code that touches the source and backup trees: walking them, copying into
//! the backup, deleting from it, and the backup volume's guard.

pub mod append;
pub mod batch;
pub mod chunks;
pub mod copy;
pub mod copy_error;
pub mod create;
pub mod delete;
pub mod durable;
pub mod emptied;
pub mod export;
#[cfg(any(test, feature = "testing"))]
pub mod faults;
pub mod manifest;
pub mod outcome;
pub mod probe;
pub mod readback;
pub mod rename;
pub mod running;
pub mod scan;
pub mod spans;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod verify;
pub mod volume;
pub mod whereis;
