//! How two folders are compared before one is refused inside another: the way the
//! OS that will use them compares them. On Windows names ignore case, `\` and `/` are
//! both separators, `C:` names a drive and `\\?\` (or `\\?\UNC\`) merely prefixes a long
//! path; `.` and `..` fold away. Pure: the same rules run on Linux, so the Windows
//! cases are unit-tested everywhere. `real_form` (in `store::whereis`) resolves links
//! first where the folders exist. Also the one written form of a relative path that
//! names the same file on every OS (`slashed`).

use std::path::Path;

/// A relative path with `/` between its parts, whatever the OS: how the manifest, the
/// slices and the bucket's keys name a recording.
pub fn slashed(rel: &Path) -> String {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    parts.join("/")
}

/// The comparison rules of an OS's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Case-sensitive, `/` only.
    Unix,
    /// Case-insensitive, `\` or `/`, drive letters, `\\?\` and UNC prefixes.
    Windows,
}

impl Style {
    /// The rules of the OS this program was built for.
    pub const fn native() -> Style {
        if cfg!(windows) {
            Style::Windows
        } else {
            Style::Unix
        }
    }
}

/// A path reduced to what decides identity under `style`: its parts, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathKey(Vec<String>);

impl PathKey {
    pub fn of(path: &str, style: Style) -> PathKey {
        match style {
            Style::Unix => PathKey(fold_parts(path.split('/'), false, String::new())),
            Style::Windows => windows_key(path),
        }
    }

    /// True when `self` is `outer` or lies inside it.
    pub fn within(&self, outer: &PathKey) -> bool {
        self.0.len() >= outer.0.len() && self.0[..outer.0.len()] == outer.0[..]
    }
}

/// Windows: strip `\\?\` (`\\?\UNC\server` is `\\server`), `\\.\`, unify separators,
/// fold case. The first part is the root: `c:`, `\\server` or `\` (current drive).
fn windows_key(path: &str) -> PathKey {
    let unified = path.replace('/', "\\");
    let rest = if let Some(unc) = strip_prefix_ci(&unified, "\\\\?\\UNC\\") {
        format!("\\\\{unc}")
    } else if let Some(p) = unified
        .strip_prefix("\\\\?\\")
        .or_else(|| unified.strip_prefix("\\\\.\\"))
    {
        p.to_string()
    } else {
        unified
    };
    let (root, tail) = if let Some(unc) = rest.strip_prefix("\\\\") {
        let mut it = unc.splitn(2, '\\');
        let server = it.next().unwrap_or_default();
        (format!("\\\\{server}"), it.next().unwrap_or_default().to_string())
    } else if rest.len() >= 2 && rest.as_bytes()[1] == b':' && rest.as_bytes()[0].is_ascii_alphabetic() {
        (rest[..2].to_string(), rest[2..].to_string())
    } else if rest.starts_with('\\') {
        ("\\".to_string(), rest)
    } else {
        (String::new(), rest)
    };
    PathKey(fold_parts(tail.split('\\'), true, root.to_lowercase()))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Drops empty parts and `.`, lets `..` remove the part before it (never the root),
/// and folds case when asked; `root` (possibly empty) comes first.
fn fold_parts<'a>(parts: impl Iterator<Item = &'a str>, fold_case: bool, root: String) -> Vec<String> {
    let mut out = vec![root];
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            p => out.push(if fold_case { p.to_lowercase() } else { p.to_string() }),
        }
    }
    out
}

/// True when `inner` is `outer` or lies inside it, compared under the native rules.
pub fn within(inner: &Path, outer: &Path) -> bool {
    let style = Style::native();
    PathKey::of(&inner.to_string_lossy(), style).within(&PathKey::of(&outer.to_string_lossy(), style))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(a: &str, b: &str) -> bool {
        PathKey::of(a, Style::Windows).within(&PathKey::of(b, Style::Windows))
    }

    #[test]
    fn windows_ignores_case_and_separator() {
        assert!(win(
            r"E:\Intelbras\LocalRecording\backup",
            r"e:/intelbras/localrecording"
        ));
        assert!(win(r"E:\INTELBRAS\LocalRecording", r"e:\intelbras\localrecording\"));
        assert!(!win(r"D:\backup", r"E:\Intelbras"));
        assert!(
            !win(r"E:\IntelbrasBackup", r"E:\Intelbras"),
            "a longer name is not inside"
        );
    }

    #[test]
    fn windows_prefixes_and_relative_parts() {
        assert!(win(r"\\?\E:\Intelbras\Rec\b", r"E:\Intelbras\rec"));
        assert!(win(r"E:\Intelbras\x\..\Rec\.\b", r"\\?\e:\intelbras\REC"));
        assert!(win(r"\\?\UNC\nas\share\cctv\b", r"\\NAS\Share\CCTV"));
        assert!(win(r"\\.\E:\rec\b", r"E:\rec"));
        assert!(!win(r"\\nas\share\rec", r"E:\share\rec"), "a share is not a drive");
        assert!(win(r"E:\..\..\rec\b", r"E:\rec"), "`..` never climbs above the drive");
    }

    #[test]
    fn unix_is_case_sensitive() {
        let unix = |a: &str, b: &str| PathKey::of(a, Style::Unix).within(&PathKey::of(b, Style::Unix));
        assert!(unix("/srv/rec/b", "/srv/rec/"));
        assert!(!unix("/srv/REC/b", "/srv/rec"));
        assert!(unix("/srv/x/../rec/./b", "/srv/rec"));
        assert!(!unix("/srv/record", "/srv/rec"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No text makes the rules panic, and every path is within itself and
            /// within its own case- and separator-changed spelling on Windows.
            #[test]
            fn any_text_is_a_key(s in "\\PC{0,40}") {
                for style in [Style::Unix, Style::Windows] {
                    let k = PathKey::of(&s, style);
                    prop_assert!(k.within(&k));
                }
                let other = s.to_uppercase().replace('\\', "/");
                if other.to_lowercase() == s.to_lowercase().replace('\\', "/") {
                    prop_assert!(win(&s, &other));
                }
            }
        }
    }
}
