//! Names that fit the disk. A recording's name may be as long as the file system allows
//! (255 bytes on Linux, 255 UTF-16 units on NTFS), but the names cctv-mirror derives
//! from it are longer: its temporary (`.NAME.cctv-tmp`), its in-progress copy
//! (`NAME.partial`) and the versions kept beside it (`STEM.changed-N.EXT`), with their
//! own temporaries, add up to `ROOM` more. A name with too little room for one of them
//! derives it from a short stand-in instead (`base`): the start of the name, `~`, a
//! hash of the whole name, and the extension, `LONGEST_BASE` long at most. The
//! stand-in is also the recording's key (`key_of`), so every derived name still leads
//! back to its recording. Names that leave room derive exactly as before. Pure.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::path::Path;

/// The longest file name, in the unit the OS counts (`name_len`).
pub const NAME_MAX: usize = 255;

/// What a temporary adds to a name: `.` + `.cctv-tmp`.
pub const TEMP_ROOM: usize = 1 + 9;

/// What an in-progress copy adds to a name, with its temporary: `.partial` + `TEMP_ROOM`.
pub const PARTIAL_ROOM: usize = 8 + TEMP_ROOM;

/// The most cctv-mirror adds to a name: `.changed-N` (a version kept beside it) +
/// `PARTIAL_ROOM`.
pub const ROOM: usize = 10 + PARTIAL_ROOM;

/// Names up to this long are their own base.
pub const LONGEST_BASE: usize = NAME_MAX - ROOM;

/// A name's length as the OS limits it: UTF-16 units on Windows, bytes elsewhere.
pub fn name_len(name: &str) -> usize {
    if cfg!(windows) {
        name.encode_utf16().count()
    } else {
        name.len()
    }
}

/// The name derived names are built from: `name` itself when it leaves `ROOM`, else
/// its short stand-in, `LONGEST_BASE` long at most.
pub fn base(name: &str) -> Cow<'_, str> {
    if name_len(name) <= LONGEST_BASE {
        return Cow::Borrowed(name);
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && name_len(e) <= 16 => (s, Some(e)),
        _ => (name, None),
    };
    let tag = format!("~{:016x}", fnv1a(name.as_bytes()));
    let tail = ext.map_or(0, |e| 1 + name_len(e));
    let mut budget = LONGEST_BASE - tag.len() - tail;
    let mut cut = 0;
    for (i, c) in stem.char_indices() {
        let w = if cfg!(windows) { c.len_utf16() } else { c.len_utf8() };
        if w > budget {
            break;
        }
        budget -= w;
        cut = i + c.len_utf8();
    }
    Cow::Owned(match ext {
        Some(e) => format!("{}{tag}.{e}", &stem[..cut]),
        None => format!("{}{tag}", &stem[..cut]),
    })
}

/// `name` when `room` more still fits beside it, else its base. A derived name built
/// on this, with no more than `room` added, always fits.
pub fn within(name: &str, room: usize) -> Cow<'_, str> {
    if name_len(name) + room <= NAME_MAX {
        Cow::Borrowed(name)
    } else {
        base(name)
    }
}

/// `rel` with its name `within(name, room)`.
pub fn rel_within(rel: &Path, room: usize) -> Cow<'_, Path> {
    let Some(name) = rel.file_name().and_then(OsStr::to_str) else {
        return Cow::Borrowed(rel);
    };
    match within(name, room) {
        Cow::Borrowed(_) => Cow::Borrowed(rel),
        Cow::Owned(short) => Cow::Owned(rel.with_file_name(short)),
    }
}

/// The key a recording `rel` is known by when only derived names are at hand: `rel`
/// itself, or, for a name too long to leave `ROOM`, `rel` with its base as name.
pub fn key_of(rel: &Path) -> Cow<'_, Path> {
    rel_within(rel, ROOM)
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the names on disk need.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{self, Kind, Names};
    use std::path::PathBuf;

    fn names() -> Names {
        Names {
            extensions: vec!["dav".into()],
            in_progress_suffixes: vec![".dav_".into()],
        }
    }

    fn long(len: usize) -> String {
        let stem = "NVR_ch1_main_20261126100000_20261126110000_".repeat(10);
        format!("{}.dav", &stem[..len - 4])
    }

    #[test]
    fn names_that_leave_room_are_their_own_base() {
        assert_eq!(base("a.dav"), "a.dav");
        assert_eq!(base(&long(LONGEST_BASE)), long(LONGEST_BASE));
        let short = base(&long(255)).into_owned();
        assert_eq!(name_len(&short), LONGEST_BASE);
        assert!(short.ends_with(".dav") && short.contains('~'), "{short}");
        assert_ne!(base(&long(254)), base(&long(255)));
        assert_eq!(key_of(Path::new("d/a.dav")), Path::new("d/a.dav"));
        assert_eq!(
            key_of(&PathBuf::from("d").join(long(255))),
            PathBuf::from("d").join(&short)
        );
    }

    /// Every name cctv-mirror derives from a recording name fits, and leads back to
    /// the recording's key.
    fn derived_names_fit_and_lead_back(name: &str) -> Result<(), String> {
        let n = names();
        let rel = PathBuf::from("2026/11/27").join(name);
        let key = key_of(&rel).into_owned();
        let temp = |p: &Path| p.with_file_name(names::temp_name(p.file_name().unwrap()));
        let partial = names::partial_of(&rel);
        let kept = names::kept_beside(&rel, 9);
        let kept_partial = names::partial_of(&kept);
        for p in [
            temp(&rel),
            partial.clone(),
            temp(&partial),
            kept.clone(),
            kept_partial.clone(),
            temp(&kept_partial),
        ] {
            let file = p.file_name().unwrap().to_str().unwrap();
            if name_len(file) > NAME_MAX {
                return Err(format!("{file} is {} long", name_len(file)));
            }
            if n.origin(&p).as_ref() != Some(&key) {
                return Err(format!(
                    "{} leads to {:?}, not {}",
                    p.display(),
                    n.origin(&p),
                    key.display()
                ));
            }
        }
        let kind = n.classify(partial.file_name().unwrap());
        let listed = names::partial_key(&rel);
        let want = Some(Kind::InProgress {
            final_name: listed.file_name().unwrap().to_str().unwrap().to_string(),
        });
        if kind != want {
            return Err(format!("{} classified {kind:?}", partial.display()));
        }
        Ok(())
    }

    #[test]
    fn a_name_at_the_limit_derives_names_that_fit() {
        for len in [5, LONGEST_BASE, LONGEST_BASE + 1, 245, 246, 254, 255] {
            derived_names_fit_and_lead_back(&long(len)).unwrap_or_else(|e| panic!("{len}: {e}"));
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            // Up to 255 bytes: ASCII, accented letters (2 bytes), and CJK (3 bytes).
            proptest::collection::vec(prop_oneof!["[A-Za-z0-9_\\[\\]@ -]", "[çãéõ]", "[監視録画]"], 1..200).prop_map(
                |cs| {
                    let mut s: String = cs.concat();
                    while s.len() > NAME_MAX - 4 {
                        s.pop();
                    }
                    s + ".dav"
                },
            )
        }

        proptest! {
            #[test]
            fn every_name_the_disk_accepts_derives_names_that_fit(name in name()) {
                prop_assert!(derived_names_fit_and_lead_back(&name).is_ok(), "{:?}", derived_names_fit_and_lead_back(&name));
            }

            #[test]
            fn two_long_names_keep_two_keys(a in name(), b in name()) {
                prop_assume!(a != b);
                prop_assert_ne!(base(&a), base(&b));
            }
        }
    }
}
