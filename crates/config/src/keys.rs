//! `config.json`'s keys, each declared once (`config_keys!`): name, type, default, range
//! and a one-line doc. Serde reads the file into the fields it declares, with their
//! defaults; validation checks the numbers against the ranges; `check` prints the keys
//! in its order; the unknown-key message lists them; a test holds
//! docs/configuration.md to them.

use std::path::PathBuf;

use crate::notify::RawNotify;
use crate::offsite::RawOffsite;

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyType {
    Path,
    /// Whole numbers from `min` to `max`: every number has a bound, so no key can
    /// overflow the arithmetic it goes into.
    Integer {
        min: i64,
        max: i64,
    },
    /// Numbers from `min` to `max`.
    Number {
        min: f64,
        max: f64,
    },
    Strings,
    Text,
    Object,
}

/// One key of `config.json`.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub kind: KeyType,
    /// As the docs show it: JSON between backticks, or words (`required`).
    pub default: &'static str,
    /// What 0 means, where it means something of its own.
    pub zero: Option<&'static str>,
    /// The first sentence of its description in docs/configuration.md.
    pub doc: &'static str,
}

const fn int(min: i64, max: i64) -> KeyType {
    KeyType::Integer { min, max }
}

/// Declares each top-level key once: its field in `RawConfig` (what serde reads, with
/// the key's default when left out), its row in `KEYS` (type, default as the docs show
/// it, what 0 means, the docs' first sentence), and its number for the range check.
///
/// A default is JSON (`31`, `["dav"]`), parsed into the field's type; `required` and
/// `none("as the docs say it")` leave the field `None` for `validate` to decide.
macro_rules! config_keys {
    ($( $(#[$attr:meta])* $name:ident: $raw:ty = $default:tt $(($shown:literal))?, $kind:expr,
        zero $zero:expr, $doc:literal; )*) => {
        /// What the file says, before any check beyond JSON types.
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub(crate) struct RawConfig {
            $( $(#[$attr])* pub $name: $raw, )*
        }

        impl Default for RawConfig {
            fn default() -> Self {
                RawConfig { $( $name: default_of!($default), )* }
            }
        }

        impl RawConfig {
            /// Each numeric key's value, to hold to its range.
            pub(crate) fn numbers(&self) -> Vec<(&'static str, f64)> {
                let mut out = Vec::new();
                $( if let Some(v) = AsNumber::as_number(&self.$name) {
                    out.push((stringify!($name), v));
                } )*
                out
            }
        }

        /// Every top-level key, in the order the docs and `check` list them.
        pub const KEYS: &[Key] = &[
            $( Key {
                name: stringify!($name),
                kind: $kind,
                default: shown_default!($default $(($shown))?),
                zero: $zero,
                doc: $doc,
            }, )*
        ];
    };
}

macro_rules! default_of {
    (required) => {
        None
    };
    (none) => {
        None
    };
    ($json:tt) => {
        serde_json::from_str(stringify!($json)).expect("a key's default is JSON of its type")
    };
}

macro_rules! shown_default {
    (required) => {
        "required"
    };
    (none($shown:literal)) => {
        $shown
    };
    ($json:tt) => {
        concat!("`", stringify!($json), "`")
    };
}

/// A key's value as a number, for the range check; None for what is not a number.
pub(crate) trait AsNumber {
    fn as_number(&self) -> Option<f64>;
}

impl AsNumber for i64 {
    fn as_number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

impl AsNumber for f64 {
    fn as_number(&self) -> Option<f64> {
        Some(*self)
    }
}

macro_rules! not_numbers {
    ($($t:ty),*) => {$(
        impl AsNumber for $t {
            fn as_number(&self) -> Option<f64> {
                None
            }
        }
    )*};
}
not_numbers!(
    Option<PathBuf>,
    Vec<String>,
    Option<Vec<String>>,
    Option<String>,
    Option<RawNotify>,
    Option<RawOffsite>
);

config_keys! {
    source_dir: Option<PathBuf> = required, KeyType::Path, zero None,
        "The recorder's folder, e.g. `E:\\Intelbras\\LocalRecording`.";
    backup_dir: Option<PathBuf> = required, KeyType::Path, zero None,
        "Where the copies go, e.g. `D:\\cctv-backup`.";
    log_dir: Option<PathBuf> = required, KeyType::Path, zero None,
        "Per-pass logs (`YYYY/MM/DD/HH-MM-SS.log`) and `status.json`.";
    retention_days: i64 = 31, int(1, 36_500), zero None,
        "How many days the backup keeps.";
    extensions: Vec<String> = ["dav"], KeyType::Strings, zero None,
        "Which files are recordings, by extension, case-insensitive, with or without the dot.";
    reconcile_interval_secs: i64 = 600, int(1, 86_400), zero None,
        "In the long-running mode, the time between the end of a pass and the start of the next.";
    min_free_percent: f64 = 10.0, KeyType::Number { min: 0.0, max: 100.0 }, zero None,
        "Below this share of free space on the backup disk, each pass raises `low_disk_space`.";
    copy_workers: i64 = 2, int(1, 64), zero None,
        "How many files are copied at once.";
    debounce_ms: i64 = 1000, int(50, 60_000), zero None,
        "A file being written reports every write; the watcher takes note of it at most once per `debounce_ms`.";
    settle_secs: i64 = 5, int(1, 3600), zero None,
        "Where the OS reports no close (Windows) and cannot say whether a writer still holds a recording, it counts as finished once its size and time have not changed for this long and it opens for reading.";
    live_sync_secs: i64 = 60, int(0, 86_400), zero Some("in-progress copies updated by passes only"),
        "While a recording is being written, the watcher brings its in-progress copy (`NAME.dav.partial` in the backup) up to date at least this often, appending only the new bytes: a platform wipe then loses at most this many seconds of that recording.";
    log_retention_days: i64 = 90, int(0, 36_500), zero Some("pass logs kept forever"),
        "How many days of pass logs (`log_dir/YYYY/MM/DD/HH-MM-SS.log`) to keep.";
    gap_tolerance_secs: i64 = 60, int(0, 86_400), zero None,
        "In the coverage report, a stretch of a camera's time no recording covers counts as a gap only when longer than this.";
    scrub_days: i64 = 7, int(0, 366), zero Some("no nightly verification"),
        "The daemon re-reads one of this many slices of the backup each night, so the whole backup is verified every `scrub_days` days (`verify --slice K/N`).";
    /// None: this machine's name.
    site_name: Option<String> = none("the host name"), KeyType::Text, zero None,
        "The site's name in every notification (`\"Cliente X - servidor CFTV\"`).";
    notify: Option<RawNotify> = none("none"), KeyType::Object, zero None,
        "Where alerts go besides the logs: webhooks, e-mail, a command, heartbeat URLs, reminders and a daily summary.";
    /// None: no endpoint.
    http_listen: Option<String> = none("none"), KeyType::Text, zero None,
        "The address and port of a read-only HTTP endpoint for monitoring (`\"127.0.0.1:9721\"`).";
    offsite: Option<RawOffsite> = none("none"), KeyType::Object, zero None,
        "Also keep every finished recording in S3-compatible object storage, with its own retention.";
    /// None: `.dav_` where `dav` is an extension.
    in_progress_suffixes: Option<Vec<String>> = none("`[\".dav_\"]`"), KeyType::Strings, zero None,
        "Names a recorder gives a recording while it writes it, renaming it at the end: `NAME.dav_` becomes `NAME.dav`.";
}

/// The key called `name`; a name missing from the table is a bug, caught by the tests.
pub fn key(name: &str) -> &'static Key {
    KEYS.iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the key table"))
}

/// Every key's name, for the unknown-key message.
pub fn names() -> String {
    KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

impl Key {
    /// The type column of the docs: `integer 1–64`, `path`, ….
    pub fn kind_text(&self) -> String {
        match self.kind {
            KeyType::Path => "path".into(),
            KeyType::Integer { min, max } => format!("integer {min}–{max}"),
            KeyType::Number { min, max } => format!("number {min}–{max}"),
            KeyType::Strings => "list of strings".into(),
            KeyType::Text => "string".into(),
            KeyType::Object => "object".into(),
        }
    }

    /// None when `v` is inside the key's range, else the problem in the operator's
    /// words.
    pub fn check(&self, v: f64) -> Option<String> {
        let zero = |n: f64| match (n == 0.0, self.zero) {
            (true, Some(means)) => format!("0 ({means})"),
            _ => n.to_string(),
        };
        let (min, max) = match self.kind {
            KeyType::Integer { min, max } => (min as f64, max as f64),
            KeyType::Number { min, max } => (min, max),
            _ => return None,
        };
        let inside = v >= min && v <= max;
        (!inside).then(|| format!("must be between {} and {max} (got {v})", zero(min)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_what_is_wrong() {
        assert_eq!(key("copy_workers").check(2.0), None);
        assert_eq!(
            key("copy_workers").check(0.0).unwrap(),
            "must be between 1 and 64 (got 0)"
        );
        assert_eq!(
            key("reconcile_interval_secs").check(90_000.0).unwrap(),
            "must be between 1 and 86400 (got 90000)"
        );
        assert_eq!(
            key("live_sync_secs").check(-1.0).unwrap(),
            "must be between 0 (in-progress copies updated by passes only) and 86400 (got -1)"
        );
        assert_eq!(
            key("min_free_percent").check(100.5).unwrap(),
            "must be between 0 and 100 (got 100.5)"
        );
        assert_eq!(key("retention_days").default, "`31`");
        let d = RawConfig::default();
        assert_eq!((d.retention_days, d.min_free_percent), (31, 10.0));
        assert_eq!(d.extensions, ["dav"]);
        assert_eq!(d.source_dir, None);
    }

    /// docs/configuration.md lists every key of the table, and only those, with the
    /// table's type and default, and a description that starts with its one-line doc.
    #[test]
    fn the_configuration_doc_matches_the_table() {
        let doc = include_str!("../../../docs/configuration.md");
        let rows: Vec<Vec<&str>> = doc
            .lines()
            .filter(|l| l.starts_with("| `"))
            .take_while(|_| true)
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let documented: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
        let table: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        assert_eq!(documented, table, "the keys, in order");
        for (row, k) in rows.iter().zip(KEYS) {
            assert_eq!(row[1], k.kind_text(), "{}: type", k.name);
            assert_eq!(row[2], k.default, "{}: default", k.name);
            assert!(
                row[3].starts_with(k.doc),
                "{}: the doc starts {:?}, the table says {:?}",
                k.name,
                &row[3][..k.doc.len().min(row[3].len())],
                k.doc
            );
        }
    }
}
