//! The daemon's moving parts: the wiring and its run to an exit code (`app`), one
//! reconciliation pass (`pass`), the shared copy queue and its workers (`queue`), and
//! the stop signals (`shutdown`).

pub mod app;
pub mod pass;
pub mod queue;
pub mod shutdown;
