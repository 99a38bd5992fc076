//! What tests above the store need of it: a mirror between two fresh folders, and
//! (`faults::Faults`) damage injected before read-backs. Built with the `testing`
//! feature, which only dev-dependencies turn on.

use std::fs;

use rules::names::Names;

use crate::copy::Mirror;
use crate::volume;

/// A mirror from `s` to `b` inside a fresh temporary folder, the backup marked.
pub fn setup() -> (tempfile::TempDir, Mirror) {
    let t = tempfile::tempdir().unwrap();
    let names = Names {
        extensions: vec!["dav".into()],
        in_progress_suffixes: vec![".dav_".into()],
    };
    let m = Mirror::new(t.path().join("s"), t.path().join("b"), names);
    fs::create_dir_all(&m.source_dir).unwrap();
    fs::create_dir_all(&m.backup_dir).unwrap();
    volume::mark(&m.backup_dir, &t.path().join("logs")).unwrap();
    (t, m)
}
