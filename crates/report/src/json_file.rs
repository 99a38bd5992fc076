//! The small JSON files in `log_dir` (`status.json`, `alerts.json`, the notification
//! outbox, `scrub.json`, `coverage.json`): read, or replaced so a reader never sees half
//! of one (a hidden temporary beside it, fsync, rename).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The value in the file; None when it is missing or holds no such value.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

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
