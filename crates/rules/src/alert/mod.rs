//! Alerts as the rules see them: the kinds of condition that need a person (`kind`)
//! and their life cycle (`lifecycle`).

pub mod kind;
pub mod lifecycle;

pub use kind::{AlertKind, Raised};
pub use lifecycle::{Alert, Change, Event};
