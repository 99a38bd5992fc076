//! Pure decisions: rules that take their facts as arguments (paths as text, `now`) and
//! touch no file, so they are unit- and property-tested on any OS. The older pure
//! modules (`layout`, `plan`, `retention`'s planner) move here with the restructuring.

pub mod paths;
