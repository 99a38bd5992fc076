//! cctv-mirror keeps a second, safe copy of CCTV recordings for a fixed number of days,
//! for recorders (Intelbras/Dahua) that may delete all their own recordings after an
//! error. This package is the program: the command line (`cli`), what each command
//! does (`commands`), the service glue (`service`) and the demo recorder (`demo`). The
//! layers below are crates of their own, named here as the code uses them
//! (docs/architecture.md).

pub mod cli;
pub mod commands;
pub mod demo;
pub mod service;

pub use cctv_mirror_alert as alert;
pub use cctv_mirror_config as config;
pub use cctv_mirror_engine as engine;
pub use cctv_mirror_offsite as offsite;
pub use cctv_mirror_report as report;
pub use cctv_mirror_rules as rules;
pub use cctv_mirror_store as store;
