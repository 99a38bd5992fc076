//! Deletes from the backup exactly what a retention plan lists: only regular files that
//! the OS places exactly where the plan says, inside the real backup folder (no link of
//! any kind on the way: symlinks, junctions, mount points), then the folders it
//! emptied. Nothing else in the program deletes recordings from the backup.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::emptied::remove_emptied;
use crate::whereis::{device_of, same_place, Opened};
use rules::retention::Deletion;

/// What `apply` did.
#[derive(Debug, Default)]
pub struct Applied {
    pub deleted: Vec<(Deletion, u64)>,
    pub folders_removed: usize,
    pub errors: Vec<(PathBuf, String)>,
}

/// Deletes the planned files under `root`, then the folders that became empty; nothing
/// at all when `root` lacks its marker (the volume is not there).
pub fn apply(root: &Path, deletions: Vec<Deletion>) -> Applied {
    let mut out = Applied::default();
    if !crate::volume::marked(root) {
        let why = format!("refused: {} has no {} marker", root.display(), crate::volume::MARKER);
        out.errors = deletions.into_iter().map(|d| (d.rel, why.clone())).collect();
        return out;
    }
    let real_root = match fs::canonicalize(root).and_then(|r| Ok((r, device_of(root)?))) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("refused: cannot tell where {} really is: {e}", root.display());
            out.errors = deletions.into_iter().map(|d| (d.rel, why.clone())).collect();
            return out;
        }
    };
    for d in deletions {
        match remove_inside(root, &real_root, &d.rel) {
            Ok(bytes) => out.deleted.push((d, bytes)),
            Err(e) => out.errors.push((d.rel, e)),
        }
    }
    // Only folders that are really where they seem: no link on the way.
    let really_here = |dir: &Path| {
        is_plain_dir(root, dir)
            && fs::canonicalize(root.join(dir)).is_ok_and(|real| same_place(&real, &real_root.0.join(dir)))
    };
    let deleted = out.deleted.iter().map(|(d, _)| d.rel.as_path());
    out.folders_removed = remove_emptied(root, deleted, really_here);
    out
}

/// Removes one regular file, refusing paths that leave `root` or pass through a link:
/// the file is opened without following a final link, and the OS must place the opened
/// file exactly at `real_root/rel` (Wine, for one, shows a Unix folder link as a plain
/// folder; only the opened file's real path tells), on the backup's own device (a
/// disk mounted on a folder inside the backup is not the backup).
fn remove_inside(root: &Path, (real_root, device): &(PathBuf, Option<u64>), rel: &Path) -> Result<u64, String> {
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err("refused: the path is not plainly inside the backup".into());
    }
    if let Some(parent) = rel.parent() {
        if !is_plain_dir(root, parent) {
            return Err("refused: a folder on the way is a link or gone".into());
        }
    }
    let path = root.join(rel);
    let meta = fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("refused: not a regular file (a link or a folder)".into());
    }
    let opened = Opened::open(&path).map_err(|e| format!("refused: cannot open it to see where it is: {e}"))?;
    let expected = real_root.join(rel);
    match opened.real_path() {
        Ok(real) if same_place(&real, &expected) => {}
        Ok(real) => {
            return Err(format!(
                "refused: it is really {} (reached through a link), not inside the backup folder {}",
                real.display(),
                real_root.display()
            ))
        }
        Err(e) => return Err(format!("refused: cannot tell where it really is: {e}")),
    }
    if device.is_some() && opened.device().ok().flatten() != *device {
        return Err("refused: it is on another disk mounted inside the backup folder".into());
    }
    let len = opened.size().map_err(|e| e.to_string())?;
    opened.delete().map_err(|e| e.to_string())?;
    Ok(len)
}

/// True when every folder from `root` down to `rel` is a real folder, not a link.
fn is_plain_dir(root: &Path, rel: &Path) -> bool {
    let mut p = root.to_path_buf();
    rel.components().all(|c| {
        p.push(c);
        fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_dir())
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_deletes_nothing_without_the_marker() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("b");
        fs::create_dir_all(root.join("2026/10/01")).unwrap();
        fs::write(root.join("2026/10/01/a.dav"), b"x").unwrap();
        let applied = apply(
            &root,
            vec![Deletion {
                rel: PathBuf::from("2026/10/01/a.dav"),
                reason: "test".into(),
                bytes: 0,
            }],
        );
        assert!(applied.deleted.is_empty());
        assert!(root.join("2026/10/01/a.dav").exists());
    }

    #[test]
    fn apply_refuses_links_and_removes_emptied_folders() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("b");
        let outside = t.path().join("outside");
        fs::create_dir_all(root.join("2026/10/01")).unwrap();
        fs::create_dir_all(root.join("2026/10/02")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root.join("2026/10/01/a.dav"), b"x").unwrap();
        fs::write(root.join("2026/10/02/a.dav"), b"x").unwrap();
        fs::write(root.join("2026/10/02/notes.txt"), b"x").unwrap();
        fs::write(outside.join("a.dav"), b"x").unwrap();
        crate::volume::mark(&root, &t.path().join("logs")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("2026/10/03")).unwrap();
        let del = |p: &str| Deletion {
            rel: PathBuf::from(p),
            reason: "test".into(),
            bytes: 0,
        };
        let applied = apply(
            &root,
            vec![
                del("2026/10/01/a.dav"),
                del("2026/10/02/a.dav"),
                del("2026/10/03/a.dav"),
                del("../outside/a.dav"),
            ],
        );
        assert_eq!(applied.deleted.len(), 2);
        assert_eq!(applied.errors.len(), 2, "{:?}", applied.errors);
        assert!(outside.join("a.dav").exists());
        assert!(!root.join("2026/10/01").exists(), "emptied folder removed");
        assert!(root.join("2026/10/02/notes.txt").exists(), "other files kept");
        assert!(root.exists());
    }
}
