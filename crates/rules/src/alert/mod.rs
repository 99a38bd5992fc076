//! Alerts as the rules see them: the kinds of condition that need a person, and their
//! life cycle.

pub mod kind;
pub mod lifecycle;

pub use kind::{AlertKind, Raised};
pub use lifecycle::{Alert, Change, Event};
