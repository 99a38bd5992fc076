//! Removing the folders that deletions left empty: every folder on the way to a
//! deleted file, deepest first, so a folder is tried after its subfolders.
//! `remove_dir` refuses a folder that still holds anything (an operator's file
//! included), which is exactly the rule; the root itself is never removed. Used by
//! retention (the backup) and by pass-log pruning (`log_dir`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Removes the emptied folders of `deleted` (paths relative to `root`) for which
/// `may_remove` holds; returns how many were removed.
pub fn remove_emptied<'a>(
    root: &Path,
    deleted: impl IntoIterator<Item = &'a Path>,
    may_remove: impl Fn(&Path) -> bool,
) -> usize {
    let mut folders = BTreeSet::new();
    for rel in deleted {
        let mut parent = rel.parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            folders.insert(dir.to_path_buf());
            parent = dir.parent();
        }
    }
    let mut folders: Vec<PathBuf> = folders.into_iter().collect();
    folders.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    folders
        .into_iter()
        .filter(|dir| may_remove(dir) && fs::remove_dir(root.join(dir)).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_folders_go_deepest_first_and_others_stay() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("2026/10/01")).unwrap();
        fs::create_dir_all(root.join("2026/10/02")).unwrap();
        fs::write(root.join("2026/10/02/notes.txt"), b"mine").unwrap();
        let deleted = [Path::new("2026/10/01/a.dav"), Path::new("2026/10/02/b.dav")];
        assert_eq!(remove_emptied(root, deleted, |_| true), 1);
        assert!(!root.join("2026/10/01").exists());
        assert!(root.join("2026/10/02/notes.txt").exists() && root.exists());
        assert_eq!(remove_emptied(root, [Path::new("2026/10/02/x")], |_| false), 0);
    }
}
