//! Replacing a small JSON file in `log_dir` so a reader never sees half of it: write a
//! hidden temporary beside it, fsync, rename. `status.json`, `alerts.json` and the
//! notification outbox are written this way.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

pub fn replace(dir: &Path, name: &str, value: &impl Serialize) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    serde_json::to_writer_pretty(&mut f, value)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))
}
