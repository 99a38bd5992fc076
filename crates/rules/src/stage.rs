//! Whether a source is still being recorded or finished.

/// What is believed of a source: still being recorded, or finished. A recording's copy
/// takes its final name only once it is finished; until then it grows as
/// `NAME.partial`. Ordered: asking for both means `Finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Recording,
    Finished,
}
