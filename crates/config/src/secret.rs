//! Secrets (the SMTP password, the S3 secret key): where the config says to find one,
//! validated so that no value an operator writes is ever echoed, and the value itself,
//! read at use, in a type whose `Debug` and `Display` never show it.
//!
//! A config never holds a secret: `*_env` names an environment variable, `*_file` a
//! file. A `*_env` value that is not a variable's name is refused without being
//! repeated: it may be the secret itself, pasted into the wrong key. Errors reading a
//! secret name the config key, never the value written there.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::invalid::Invalid;

/// Where a secret is read from, at use.
#[derive(Debug, Clone, PartialEq)]
pub enum Secret {
    /// An environment variable, by a name checked to be one.
    Env(String),
    /// A file, its first line.
    File(PathBuf),
}

/// The longest variable name taken; longer is more likely a pasted secret.
pub const MAX_NAME: usize = 128;

/// The config keys a secret may be given by, for the errors: (`…_env`, `…_file`).
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    pub env: &'static str,
    pub file: &'static str,
}

impl Secret {
    /// The secret the two keys give (None when neither is set); else the key at fault
    /// and why, never repeating what was written there.
    pub fn from_keys(
        keys: Keys,
        env: Option<String>,
        file: Option<PathBuf>,
        base: &Path,
    ) -> Result<Option<Secret>, Invalid> {
        match (env, file) {
            (Some(_), Some(_)) => Err(Invalid::at(
                keys.env,
                format!("give {} or {}, not both", keys.env, keys.file),
            )),
            (None, None) => Ok(None),
            (Some(name), None) if is_variable_name(&name) => Ok(Some(Secret::Env(name))),
            (Some(_), None) => Err(Invalid::at(
                keys.env,
                format!(
                    "must name an environment variable (letters, digits and _, at most {MAX_NAME}); \
                     what is written there looks like the secret itself: put the secret in that variable, \
                     and its name here"
                ),
            )),
            (None, Some(f)) if f.as_os_str().is_empty() || f.to_string_lossy().chars().any(char::is_control) => {
                Err(Invalid::at(keys.file, "must be the path of a file holding the secret"))
            }
            (None, Some(f)) => Ok(Some(Secret::File(if f.is_absolute() { f } else { base.join(f) }))),
        }
    }

    /// Reads the secret now; the error says where it was looked for by `keys`' names
    /// (and the variable's checked name), never the value or the file's path.
    pub fn read(&self, keys: Keys) -> Result<Redacted, String> {
        match self {
            Secret::Env(var) => std::env::var(var)
                .map(Redacted)
                .map_err(|_| format!("{}: the variable {var} is not set", keys.env)),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| Redacted(s.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|e| format!("{}: cannot read the file it names: {}", keys.file, e.kind())),
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, at most `MAX_NAME` bytes.
pub fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && s.len() <= MAX_NAME && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A secret's value: shown as `«redacted»` by `Debug` and `Display`; `expose` is the
/// one way to the text, for the one call that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Redacted {
    fn from(s: &str) -> Redacted {
        Redacted(s.to_string())
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("«redacted»")
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("«redacted»")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: Keys = Keys {
        env: "offsite.secret_access_key_env",
        file: "offsite.secret_access_key_file",
    };

    fn from(env: Option<&str>, file: Option<&str>) -> Result<Option<Secret>, Invalid> {
        Secret::from_keys(KEYS, env.map(Into::into), file.map(Into::into), Path::new("/etc/cctv"))
    }

    #[test]
    fn a_variable_name_is_taken_and_anything_else_refused_without_being_repeated() {
        assert_eq!(
            from(Some("CCTV_S3_SECRET"), None),
            Ok(Some(Secret::Env("CCTV_S3_SECRET".into())))
        );
        assert_eq!(from(Some("_x1"), None), Ok(Some(Secret::Env("_x1".into()))));
        let pasted = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for bad in [pasted, "", " ", "1ABC", "A-B", "A B", "ÄB", &"A".repeat(MAX_NAME + 1)] {
            let Invalid { key, problem } = from(Some(bad), None).unwrap_err();
            assert_eq!(key.as_deref(), Some(KEYS.env));
            assert!(bad.trim().is_empty() || !problem.contains(bad), "{problem}");
        }
        assert!(from(Some("A"), Some("f")).is_err());
        assert_eq!(from(None, None), Ok(None));
    }

    #[test]
    fn a_file_is_a_path_relative_to_the_config() {
        assert_eq!(
            from(None, Some("s3.secret")),
            Ok(Some(Secret::File("/etc/cctv/s3.secret".into())))
        );
        assert_eq!(from(None, Some("")).unwrap_err().key.as_deref(), Some(KEYS.file));
        assert_eq!(from(None, Some("a\nb")).unwrap_err().key.as_deref(), Some(KEYS.file));
    }

    #[test]
    fn reading_names_the_key_never_the_value_or_the_path() {
        let pasted_path = "/no/such/wJalrXUtnFEMI-K7MDENG";
        let why = Secret::File(pasted_path.into()).read(KEYS).unwrap_err();
        assert!(why.contains(KEYS.file) && !why.contains("wJalr"), "{why}");
        let why = Secret::Env("CCTV_TEST_SURELY_UNSET_1234".into())
            .read(KEYS)
            .unwrap_err();
        assert!(
            why.contains("CCTV_TEST_SURELY_UNSET_1234") && why.contains(KEYS.env),
            "{why}"
        );
    }

    #[test]
    fn a_value_never_shows_in_debug_or_display() {
        let v = Redacted("hunter2".into());
        assert_eq!(format!("{v:?} {v}"), "«redacted» «redacted»");
        assert_eq!(v.expose(), "hunter2");
    }
}
