//! The only code that touches the source and backup trees: walking them (`scan`),
//! copying into the backup (`copy`, with `append` for growing a copy in place and
//! `batch`/`durable` for many new copies made durable together, `readback` for
//! holding each to the source's bytes, `chunks` for reading files ahead; what a copy did is an
//! `outcome`, why it failed a `copy_error`), deleting from it (`delete`, `emptied`),
//! the backup folder's state, guard and disk space (`volume`), where a path or an
//! opened file really is (`whereis`), whether a writer still holds a file (`probe`), the time spans of the
//! recordings listed, from names or frames (`spans`), the content hashes kept on the
//! backup disk (`manifest`), and re-reading the backup against them (`verify`).

pub mod append;
pub mod batch;
pub mod chunks;
pub mod copy;
pub mod copy_error;
pub mod create;
pub mod delete;
pub mod durable;
pub mod emptied;
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
