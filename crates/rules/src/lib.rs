//! Pure decisions: rules that take their facts as arguments (names and paths as text,
//! listings, bytes, `now`) and touch no file, so they are unit- and property-tested on
//! any OS.

pub mod alert;
pub mod batches;
pub mod chain;
pub mod coverage;
pub mod export;
pub mod fit;
pub mod health;
pub mod listing;
pub mod names;
pub mod offsite;
pub mod paths;
pub mod plan;
pub mod restore;
pub mod retention;
pub mod run;
pub mod scrub;
pub mod sealed;
pub mod slice;
pub mod span;
pub mod stage;
pub mod window;
