//! The demo site on disk: the folder's checks and marker, the recordings of the past,
//! `planted-gaps.json` and `config.json`. The only side effects of writing the site;
//! what to write comes from `site` and `frames`.
//!
//! A folder is written only when it does not exist, is empty, or holds `MARKER` (a
//! previous demo): then its `source/` is deleted and written again, while its
//! `config.json` (perhaps edited), `backup/` and `logs/` are left as they are.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use chrono::{Local, NaiveDateTime, TimeZone};

use crate::demo::site::{self, Site};
use crate::demo::{frames, Failure};

/// The file that marks a folder as a demo's, which `demo` may write again.
pub const MARKER: &str = ".cctv-mirror-demo";
/// The simulated recorder's folder, inside the demo folder.
pub const SOURCE: &str = "source";

/// The demo's `config.json`: paths relative to it, a short reconcile interval.
pub const CONFIG: &str = r#"{
  "source_dir": "source",
  "backup_dir": "backup",
  "log_dir": "logs",
  "retention_days": 31,
  "reconcile_interval_secs": 30,
  "settle_secs": 5,
  "live_sync_secs": 10,
  "site_name": "cctv-mirror demo",
  "in_progress_suffixes": [".dav_"]
}
"#;

const MARKER_TEXT: &str =
    "This folder was written by `cctv-mirror demo`, which may delete and write its source/ folder again.\n";

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WrittenTotals {
    pub files: u64,
    pub bytes: u64,
}

/// Makes sure `dir` may hold the demo (see the module's doc) and marks it.
pub fn prepare(dir: &Path) -> Result<(), Failure> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| Failure::io("create", dir, &e))?;
        }
        Err(e) => return Err(Failure::io("read", dir, &e)),
        Ok(m) if !m.is_dir() => {
            return Err(Failure::Refused(format!(
                "{} exists and is not a folder",
                dir.display()
            )));
        }
        Ok(_) if dir.join(MARKER).is_file() => {}
        Ok(_) => {
            let mut entries = fs::read_dir(dir).map_err(|e| Failure::io("read", dir, &e))?;
            if entries.next().is_some() {
                return Err(Failure::Refused(format!(
                    "{} is not empty and is not a demo folder (it has no {MARKER}): choose another --dir",
                    dir.display()
                )));
            }
        }
    }
    let marker = dir.join(MARKER);
    fs::write(&marker, MARKER_TEXT).map_err(|e| Failure::io("write", &marker, &e))
}

/// Writes the site's past into `dir` (prepared), its `planted-gaps.json`, and its
/// `config.json` unless there is one.
pub fn write_site(dir: &Path, site: &Site) -> Result<WrittenTotals, Failure> {
    let source = dir.join(SOURCE);
    clear(&source)?;
    fs::create_dir_all(&source).map_err(|e| Failure::io("create", &source, &e))?;
    let mut written = WrittenTotals::default();
    for s in &site.segments {
        written.bytes += write_recording(&source, s.camera, s.start, s.last)?;
        written.files += 1;
    }
    let planted = dir.join("planted-gaps.json");
    fs::write(&planted, site::planted_json(&site.gaps)).map_err(|e| Failure::io("write", &planted, &e))?;
    let config = dir.join("config.json");
    if !config.exists() {
        fs::write(&config, CONFIG).map_err(|e| Failure::io("write", &config, &e))?;
    }
    Ok(written)
}

/// Deletes a previous demo's source folder; refuses one that is a link or a file
/// (deleting through it could reach what is not the demo's).
fn clear(source: &Path) -> Result<(), Failure> {
    match fs::symlink_metadata(source) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::io("read", source, &e)),
        Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {
            fs::remove_dir_all(source).map_err(|e| Failure::io("delete", source, &e))
        }
        Ok(_) => Err(Failure::Refused(format!(
            "{} is not a plain folder: move it away, then run demo again",
            source.display()
        ))),
    }
}

/// Writes one finished recording of `camera` from `start` to `last` under `source`,
/// its time set to its end; returns its size.
pub fn write_recording(source: &Path, camera: u32, start: NaiveDateTime, last: NaiveDateTime) -> Result<u64, Failure> {
    let path = source.join(site::rel_path(camera, start, last));
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Failure::io("create", parent, &e))?;
    }
    let bytes = frames::segment(camera, start, last);
    let write = || -> io::Result<()> {
        let mut f = fs::File::create(&path)?;
        f.write_all(&bytes)?;
        if let Some(t) = system_time(last + chrono::TimeDelta::seconds(1)) {
            f.set_modified(t)?;
        }
        Ok(())
    };
    write().map_err(|e| Failure::io("write", &path, &e))?;
    Ok(bytes.len() as u64)
}

/// A local naive time as the OS's time; None for a time the clock skips (the hour a
/// daylight-saving change leaves out).
pub fn system_time(t: NaiveDateTime) -> Option<SystemTime> {
    Local.from_local_datetime(&t).earliest().map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys;

    #[test]
    fn the_config_uses_only_known_keys() {
        let cfg: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
        for (k, _) in cfg.as_object().unwrap() {
            assert!(keys::KEYS.iter().any(|key| key.name == k), "{k} is not a config key");
        }
    }
}
