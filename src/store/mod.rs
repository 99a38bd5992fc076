//! The code that touches the trees. For now it holds `whereis`, the one place that
//! asks the OS where a path or an opened file really is, and `emptied`, which removes
//! the folders deletions left empty. `scan`, `copy`, the deleter and
//! `volume` move here with the restructuring.

pub mod emptied;
pub mod whereis;
