//! The one table of `config.json`'s keys: name, type, default, range and a one-line
//! doc. Validation checks numbers against it, serde takes its defaults from it, `check`
//! prints the keys in its order, the unknown-key message lists it, and a test holds
//! docs/configuration.md to it.

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
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
    pub kind: Kind,
    /// As the docs show it: JSON between backticks, or words (`required`).
    pub default: &'static str,
    /// What 0 means, where it means something of its own.
    pub zero: Option<&'static str>,
    /// The first sentence of its description in docs/configuration.md.
    pub doc: &'static str,
}

const fn int(min: i64, max: i64) -> Kind {
    Kind::Integer { min, max }
}

/// Every top-level key, in the order the docs and `check` list them.
pub const KEYS: &[Key] = &[
    Key { name: "source_dir", kind: Kind::Path, default: "required", zero: None,
        doc: "The recorder's folder, e.g. `E:\\Intelbras\\LocalRecording`." },
    Key { name: "backup_dir", kind: Kind::Path, default: "required", zero: None,
        doc: "Where the copies go, e.g. `D:\\cctv-backup`." },
    Key { name: "log_dir", kind: Kind::Path, default: "required", zero: None,
        doc: "Per-pass logs (`YYYY/MM/DD/HH-MM-SS.log`) and `status.json`." },
    Key { name: "retention_days", kind: int(1, 36_500), default: "`31`", zero: None,
        doc: "How many days the backup keeps." },
    Key { name: "extensions", kind: Kind::Strings, default: "`[\"dav\"]`", zero: None,
        doc: "Which files are recordings, by extension, case-insensitive, with or without the dot." },
    Key { name: "reconcile_interval_secs", kind: int(1, 86_400), default: "`600`", zero: None,
        doc: "In the long-running mode, the time between the end of a pass and the start of the next." },
    Key { name: "min_free_percent", kind: Kind::Number { min: 0.0, max: 100.0 }, default: "`10.0`", zero: None,
        doc: "Below this share of free space on the backup disk, each pass raises `low_disk_space`." },
    Key { name: "copy_workers", kind: int(1, 64), default: "`2`", zero: None,
        doc: "How many files are copied at once." },
    Key { name: "debounce_ms", kind: int(50, 60_000), default: "`1000`", zero: None,
        doc: "A file being written reports every write; the watcher takes note of it at most once per `debounce_ms`." },
    Key { name: "settle_secs", kind: int(1, 3600), default: "`5`", zero: None,
        doc: "Where the OS reports no close (Windows) and cannot say whether a writer still holds a recording, it counts as finished once its size and time have not changed for this long and it opens for reading." },
    Key { name: "live_sync_secs", kind: int(0, 86_400), default: "`60`",
        zero: Some("in-progress copies updated by passes only"),
        doc: "While a recording is being written, the watcher brings its in-progress copy (`NAME.dav.partial` in the backup) up to date at least this often, appending only the new bytes: a platform wipe then loses at most this many seconds of that recording." },
    Key { name: "log_retention_days", kind: int(0, 36_500), default: "`90`",
        zero: Some("pass logs kept forever"),
        doc: "How many days of pass logs (`log_dir/YYYY/MM/DD/HH-MM-SS.log`) to keep." },
    Key { name: "gap_tolerance_secs", kind: int(0, 86_400), default: "`60`", zero: None,
        doc: "In the coverage report, a stretch of a camera's time no recording covers counts as a gap only when longer than this." },
    Key { name: "scrub_days", kind: int(0, 366), default: "`7`",
        zero: Some("no nightly verification"),
        doc: "The daemon re-reads one of this many slices of the backup each night, so the whole backup is verified every `scrub_days` days (`verify --slice K/N`)." },
    Key { name: "site_name", kind: Kind::Text, default: "the host name", zero: None,
        doc: "The site's name in every notification (`\"Cliente X - servidor CFTV\"`)." },
    Key { name: "notify", kind: Kind::Object, default: "none", zero: None,
        doc: "Where alerts go besides the logs: webhooks, e-mail, a command, heartbeat URLs, reminders and a daily summary." },
    Key { name: "offsite", kind: Kind::Object, default: "none", zero: None,
        doc: "Also keep every finished recording in S3-compatible object storage, with its own retention." },
    Key { name: "in_progress_suffixes", kind: Kind::Strings, default: "`[\".dav_\"]`", zero: None,
        doc: "Names a recorder gives a recording while it writes it, renaming it at the end: `NAME.dav_` becomes `NAME.dav`." },
];

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
            Kind::Path => "path".into(),
            Kind::Integer { min, max } => format!("integer {min}–{max}"),
            Kind::Number { min, max } => format!("number {min}–{max}"),
            Kind::Strings => "list of strings".into(),
            Kind::Text => "string".into(),
            Kind::Object => "object".into(),
        }
    }

    /// The default as JSON text (`31`, `["dav"]`); None when it is words.
    pub fn default_json(&self) -> Option<&'static str> {
        self.default.strip_prefix('`')?.strip_suffix('`')
    }

    /// The default of an integer or number key.
    pub fn number(&self) -> f64 {
        self.default_json()
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("{} has no number as default", self.name))
    }

    /// None when `v` is inside the key's range, else the problem in the operator's
    /// words.
    pub fn check(&self, v: f64) -> Option<String> {
        let zero = |n: f64| match (n == 0.0, self.zero) {
            (true, Some(means)) => format!("0 ({means})"),
            _ => n.to_string(),
        };
        let (min, max) = match self.kind {
            Kind::Integer { min, max } => (min as f64, max as f64),
            Kind::Number { min, max } => (min, max),
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
        assert_eq!(key("retention_days").number(), 31.0);
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
