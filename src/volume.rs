//! Facts about the backup volume: whether the backup folder is there to write into,
//! and how much room the disk holding it has left.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Space on the disk holding the backup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    /// Bytes this process may still write (what a copy can use).
    pub free_bytes: u64,
    pub total_bytes: u64,
    /// free_bytes / total_bytes, in percent, rounded to 0.01.
    pub free_percent: f64,
}

pub fn disk_of(path: &Path) -> io::Result<Disk> {
    let s = fs4::statvfs(path)?;
    let (free, total) = (s.available_space(), s.total_space());
    let pct = if total == 0 {
        0.0
    } else {
        free as f64 * 100.0 / total as f64
    };
    Ok(Disk {
        free_bytes: free,
        total_bytes: total,
        free_percent: (pct * 100.0).round() / 100.0,
    })
}

/// Whether the backup folder can be written into, creating it when only the last
/// folder is missing (a first run). A missing parent means the disk itself is missing
/// (an unmounted `D:`), and nothing is created then.
pub fn ensure_backup_dir(dir: &Path) -> Result<bool, String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(false),
        Ok(_) => Err(format!("{} exists but is not a folder", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent_ok = dir.parent().is_some_and(|p| p.is_dir());
            if !parent_ok {
                return Err(format!(
                    "{} does not exist and neither does the folder holding it (is the backup disk connected?)",
                    dir.display()
                ));
            }
            std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            Ok(true)
        }
        Err(e) => Err(format!("cannot reach {}: {e}", dir.display())),
    }
}

/// Human-readable size, for logs and `check`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
