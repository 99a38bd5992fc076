//! Pure decisions: rules that take their facts as arguments (names and paths as text,
//! listings, bytes, `now`) and touch no file, so they are unit- and property-tested on
//! any OS: names and dates (`names`), names that fit the disk (`fit`), paths compared
//! the OS's way (`paths`), the window (`window`), the copy plan (`plan`) and its
//! batches (`batches`), the retention plan (`retention`), and a recording's time span
//! and camera (`span`), the coverage they add up to (`coverage`),
//! whether cctv-mirror is doing its job (`health`), and whether a
//! recording's DHAV frames still form an unbroken chain (`chain`), `verify`'s
//! slices (`slice`) and when the daemon verifies one (`scrub`), and what the offsite
//! tier uploads and expires (`offsite`).

pub mod alert;
pub mod batches;
pub mod chain;
pub mod coverage;
pub mod fit;
pub mod health;
pub mod listing;
pub mod names;
pub mod offsite;
pub mod paths;
pub mod plan;
pub mod retention;
pub mod run;
pub mod scrub;
pub mod slice;
pub mod span;
pub mod stage;
pub mod window;
