//! Replacing a small JSON file in `log_dir` so a reader never sees half of it: write a
//! hidden temporary beside it, fsync, rename. `status.json`, `alerts.json` and the
//! notification outbox are written this way, and the coverage report's
//! `coverage.json` and `coverage.html`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

pub fn replace(dir: &Path, name: &str, value: &impl Serialize) -> io::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    replace_bytes(dir, name, &text)
}

/// The same for a text file (`coverage.html`).
pub fn replace_text(dir: &Path, name: &str, text: &str) -> io::Result<()> {
    replace_bytes(dir, name, text.as_bytes())
}

fn replace_bytes(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))
}
