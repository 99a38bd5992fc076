//! Pure decisions: rules that take their facts as arguments (names and paths as text,
//! listings, `now`) and touch no file, so they are unit- and property-tested on any OS.

pub mod batches;
pub mod fit;
pub mod names;
pub mod paths;
pub mod plan;
pub mod retention;
pub mod window;
