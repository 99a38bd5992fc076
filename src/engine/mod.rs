//! The daemon's moving parts: the wiring and its run to an exit code (`app`), one
//! reconciliation pass (`pass`), the shared copy queue and its workers (`queue`), the
//! owner of `status.json` (`status_file`), the proof of life (`pulse`), the stop signals
//! (`shutdown`), the work after a pass on its listings (`upkeep`), handing freed
//! memory back after it (`heap`), and the offsite tier's place among them (`offsite`).

pub mod app;
pub mod heap;
pub mod mode;
pub mod offsite;
pub mod pass;
pub mod pulse;
pub mod queue;
pub mod shutdown;
pub mod status_file;
pub mod upkeep;
