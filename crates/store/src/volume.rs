//! Facts about the backup volume: whether the backup folder is really the backup (its
//! marker file), whether it is there to write into, and how much room the disk holding
//! it has left.

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

/// The file that marks a folder as cctv-mirror's backup, in the spirit of Syncthing's
/// `.stfolder`: where it is missing, the folder is not the backup volume (an unmounted
/// iSCSI disk leaves a bare, empty mount point on the system disk), and nothing is
/// written or deleted there.
pub const MARKER: &str = ".cctv-mirror-backup";

/// In `log_dir` (on the system disk, so it survives the backup disk going away): the
/// backup folder that has been marked, one line. Once it names `backup_dir`, a missing
/// marker means "volume gone", never "first use".
pub const MARKED: &str = "backup-marked";

/// Where the backup stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Ready {
    /// Marked and reachable.
    Yes,
    /// Marked just now: `why` says what was found (a new folder, or an existing backup
    /// adopted, e.g. one written by the old scripts).
    Marked { why: String },
}

/// True when the backup folder carries its marker: the one check before every copy
/// and every deletion.
pub fn marked(backup_dir: &Path) -> bool {
    std::fs::symlink_metadata(backup_dir.join(MARKER)).is_ok_and(|m| m.is_file())
}

/// True for an existing, empty folder: what the mount point of a disk that is not
/// mounted looks like. Without its marker, only the operator (`adopt-backup`) may say
/// it is the backup; a pass never adopts it, and `check` says so.
pub fn looks_like_a_bare_mount_point(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// True once `backup_dir` has been marked (as recorded in `log_dir`).
pub fn was_marked(backup_dir: &Path, log_dir: &Path) -> bool {
    std::fs::read_to_string(log_dir.join(MARKED))
        .is_ok_and(|s| Path::new(s.trim_end_matches(['\r', '\n'])) == backup_dir)
}

/// Writes the marker into `backup_dir` and remembers in `log_dir` that it was marked.
pub fn mark(backup_dir: &Path, log_dir: &Path) -> io::Result<()> {
    let text = format!(
        "This folder is a cctv-mirror backup. cctv-mirror writes and deletes here only while this file is present.\nmarked {}\n",
        chrono::Local::now().to_rfc3339()
    );
    std::fs::write(backup_dir.join(MARKER), text)?;
    std::fs::create_dir_all(log_dir)?;
    std::fs::write(log_dir.join(MARKED), format!("{}\n", backup_dir.display()))
}

/// What the backup folder is now: the one reading that the pass's guard
/// (`ensure_backup_dir`) and `check` both act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupState {
    /// Carries its marker: the backup, there to write into. `recorded`: `log_dir`
    /// already remembers it as marked.
    Marked { recorded: bool },
    /// Was marked and has lost its marker: the backup disk is not mounted (or was
    /// replaced).
    LostMarker,
    /// Was marked and is gone: the backup disk is not connected.
    Missing,
    /// An empty folder, never marked: what the mount point of a disk that is not
    /// mounted looks like; only `adopt-backup` makes it the backup.
    BareMountPoint,
    /// A folder holding something, never marked (an old backup): the first pass
    /// adopts it.
    Unmarked,
    /// Not there, never marked, and the folder holding it exists: the first pass
    /// creates it.
    ToCreate,
    /// Neither it nor the folder holding it exists.
    NoParent,
    /// Something that is not a folder is there.
    NotAFolder,
    /// It cannot be looked at; the reason.
    Unreachable(String),
}

/// Reads the backup folder's state (a few `stat`s; nothing is written).
pub fn backup_state(dir: &Path, log_dir: &Path) -> BackupState {
    let before = was_marked(dir, log_dir);
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            if marked(dir) {
                BackupState::Marked { recorded: before }
            } else if before {
                BackupState::LostMarker
            } else if looks_like_a_bare_mount_point(dir) {
                BackupState::BareMountPoint
            } else {
                BackupState::Unmarked
            }
        }
        Ok(_) => BackupState::NotAFolder,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if before {
                BackupState::Missing
            } else if dir.parent().is_some_and(|p| p.is_dir()) {
                BackupState::ToCreate
            } else {
                BackupState::NoParent
            }
        }
        Err(e) => BackupState::Unreachable(e.to_string()),
    }
}

/// Whether the backup folder may be written into, marking it on first use. A missing
/// folder is created (and marked) only on first use and only when the folder holding
/// it exists; an existing folder is adopted on first use only when it holds something
/// (an old backup), never when empty (a bare mount point looks the same); a folder that
/// lost its marker after it was marked is a volume that is not there. The last two
/// stay untouched until `adopt-backup`.
pub fn ensure_backup_dir(dir: &Path, log_dir: &Path) -> Result<Ready, String> {
    let gone = |what: &str| {
        format!(
            "{} {what}: the backup disk is probably not connected or not mounted; nothing is written there until it is back (to start a new backup disk on purpose, run `cctv-mirror adopt-backup`)",
            dir.display()
        )
    };
    let marking = |why: &str| {
        mark(dir, log_dir)
            .map(|()| Ready::Marked { why: why.into() })
            .map_err(|e| format!("cannot mark {} as the backup: {e}", dir.display()))
    };
    match backup_state(dir, log_dir) {
        BackupState::Marked { recorded: true } => Ok(Ready::Yes),
        BackupState::Marked { recorded: false } => mark(dir, log_dir)
            .map(|()| Ready::Yes)
            .map_err(|e| format!("cannot record the marked backup in {}: {e}", log_dir.display())),
        BackupState::LostMarker => Err(gone(&format!("has lost its marker {MARKER}"))),
        BackupState::Missing => Err(gone("is missing")),
        BackupState::BareMountPoint => Err(format!(
            "{} is an empty folder without the marker {MARKER}: it may be the mount point of a backup disk that is not mounted, so nothing is written there; if it is the new backup disk, run `cctv-mirror adopt-backup`",
            dir.display()
        )),
        BackupState::Unmarked => marking("adopted the existing folder as the backup (marker written)"),
        BackupState::ToCreate => {
            std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            marking("created the backup folder (marker written)")
        }
        BackupState::NoParent => Err(format!(
            "{} does not exist and neither does the folder holding it (is the backup disk connected?)",
            dir.display()
        )),
        BackupState::NotAFolder => Err(format!("{} exists but is not a folder", dir.display())),
        BackupState::Unreachable(e) => Err(format!("cannot reach {}: {e}", dir.display())),
    }
}

/// `cctv-mirror adopt-backup`: marks `backup_dir` as the backup on purpose (a new or
/// moved disk), creating the folder when the folder holding it exists. What it did, or
/// why it could not.
pub fn adopt(backup_dir: &Path, log_dir: &Path) -> Result<String, String> {
    if marked(backup_dir) {
        mark(backup_dir, log_dir).map_err(|e| format!("cannot record the backup in {}: {e}", log_dir.display()))?;
        return Ok(format!("{} is already marked as the backup", backup_dir.display()));
    }
    if !backup_dir.is_dir() {
        if !backup_dir.parent().is_some_and(|p| p.is_dir()) {
            return Err(format!(
                "{} does not exist and neither does the folder holding it (is the backup disk connected?)",
                backup_dir.display()
            ));
        }
        std::fs::create_dir(backup_dir).map_err(|e| format!("cannot create {}: {e}", backup_dir.display()))?;
    }
    mark(backup_dir, log_dir).map_err(|e| format!("cannot mark {}: {e}", backup_dir.display()))?;
    Ok(format!(
        "{} is now the backup (marker {MARKER} written); the next pass fills it",
        backup_dir.display()
    ))
}

/// I/O errors that mean the backup volume itself is failing or gone (the device, the
/// iSCSI session, a network share), not one file.
pub fn is_volume_error(e: &io::Error) -> bool {
    #[cfg(unix)]
    const CODES: &[i32] = &[
        5,   /* EIO */
        6,   /* ENXIO */
        19,  /* ENODEV */
        107, /* ENOTCONN */
        116, /* ESTALE */
    ];
    #[cfg(windows)]
    const CODES: &[i32] = &[
        21,   /* ERROR_NOT_READY */
        55,   /* ERROR_DEV_NOT_EXIST */
        64,   /* ERROR_NETNAME_DELETED */
        1167, /* ERROR_DEVICE_NOT_CONNECTED */
    ];
    #[cfg(not(any(unix, windows)))]
    const CODES: &[i32] = &[];
    e.raw_os_error().is_some_and(|c| CODES.contains(&c))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state the guard and `check` act on, read from real folders.
    #[test]
    fn the_backup_folder_is_read_as_one_state() {
        let t = tempfile::tempdir().unwrap();
        let (b, logs) = (t.path().join("backup"), t.path().join("logs"));
        let state = || backup_state(&b, &logs);
        assert_eq!(state(), BackupState::ToCreate);
        assert_eq!(backup_state(&t.path().join("no/backup"), &logs), BackupState::NoParent);
        std::fs::create_dir(&b).unwrap();
        assert_eq!(state(), BackupState::BareMountPoint);
        std::fs::write(b.join("old.dav"), b"x").unwrap();
        assert_eq!(state(), BackupState::Unmarked);
        mark(&b, &logs).unwrap();
        assert_eq!(state(), BackupState::Marked { recorded: true });
        std::fs::remove_file(b.join(MARKER)).unwrap();
        assert_eq!(state(), BackupState::LostMarker);
        std::fs::remove_dir_all(&b).unwrap();
        assert_eq!(state(), BackupState::Missing);
        std::fs::write(&b, b"a file").unwrap();
        assert_eq!(state(), BackupState::NotAFolder);
        assert!(ensure_backup_dir(&b, &logs).is_err());
    }
}
