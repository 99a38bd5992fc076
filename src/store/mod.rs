//! The only code that touches the source and backup trees: walking them (`scan`),
//! copying into the backup (`copy`), deleting from it (`delete`, `emptied`), the backup
//! volume's guard and disk space (`volume`), and where a path or an opened file really
//! is (`whereis`).

pub mod append;
pub mod batch;
pub mod copy;
pub mod copy_error;
pub mod delete;
pub mod durable;
pub mod emptied;
pub mod probe;
pub mod scan;
pub mod volume;
pub mod whereis;
