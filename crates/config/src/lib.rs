//! The configuration file: `RawConfig` is exactly what serde reads from `config.json`
//! (unknown keys rejected, defaults filled in); `Config` is what the rest of the program
//! may trust — absolute paths, normalized extensions, folders that cannot contain each
//! other. Every error names the key it is about, so an operator can fix it from one line.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::keys::RawConfig;
use crate::notify::{self as settings, Notify};

mod invalid;
pub mod keys;
pub mod notify;
pub mod offsite;
pub mod secret;
mod serde_error;

pub use invalid::Invalid;

use rules::names::Names;
use serde_error::describe_serde_error;
use store::whereis::really_within;

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file these settings came from (absolute).
    pub file: PathBuf,
    pub source_dir: PathBuf,
    pub backup_dir: PathBuf,
    pub log_dir: PathBuf,
    pub retention_days: u32,
    /// Recording extensions and the recorder's in-progress suffixes.
    pub names: Names,
    pub reconcile_interval: Duration,
    pub min_free_percent: f64,
    pub copy_workers: usize,
    /// How long the watcher gathers events about a path before acting on them.
    pub debounce: Duration,
    /// How long a file with no close event must hold still before it is copied; also
    /// how recently a file must have changed for a pass to treat it as still recording.
    pub settle: Duration,
    /// How far the in-progress copy of a growing recording may fall behind it while
    /// the watcher follows it; None: only passes update in-progress copies.
    pub live_sync: Option<Duration>,
    /// How many days of pass logs to keep; 0 keeps them all.
    pub log_retention_days: u32,
    /// Coverage: uncovered stretches up to this long are not gaps.
    pub gap_tolerance_secs: u32,
    /// The nightly verification's slices (0: none).
    pub scrub_days: u32,
    /// The site's name in every notification (default: the host name).
    pub site_name: String,
    /// Where alerts go besides the logs.
    pub notify: Notify,
    /// The S3 tier, when configured.
    pub offsite: Option<crate::offsite::Offsite>,
    /// Where the daemon serves `/metrics`, its page and its JSON files; None: nowhere.
    pub http_listen: Option<std::net::SocketAddr>,
    /// From the command line, never the file: this run may delete more than half of
    /// the backup at once (`retention::mass_delete`).
    pub allow_mass_delete: bool,
    /// Each numeric key as the file gave it (or its default), for `check` to show.
    pub numbers: Vec<(&'static str, f64)>,
}

/// A configuration problem: which key (if one is to blame) and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub invalid: Invalid,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.invalid)
    }
}

impl std::error::Error for ConfigError {}

/// The suffixes of our own temporaries and in-progress copies; an extension equal to
/// one would make them look like finished recordings, so they are refused.
pub const RESERVED_EXTENSIONS: [&str; 2] = ["cctv-tmp", "partial"];

impl Config {
    /// Reads and validates the file. Relative paths inside it resolve against the
    /// folder that holds the file, not the current folder, so a scheduled task started
    /// from `C:\Windows\System32` finds the same folders as a console in the project.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let file = absolute(file);
        let err = |invalid: Invalid| ConfigError {
            file: file.clone(),
            invalid,
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| err(Invalid::whole(format!("cannot read the configuration file: {e}"))))?;
        let base = file.parent().unwrap_or(Path::new("/")).to_path_buf();
        // Windows Notepad (before 2019) saves UTF-8 with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let config = Config::parse(text, &base).map_err(err)?;
        Ok(Config { file, ..config })
    }

    /// Validates configuration text; `base` is the folder relative paths resolve against.
    pub fn parse(text: &str, base: &Path) -> Result<Config, Invalid> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(describe_serde_error)?;
        validate(raw, base)
    }
}

fn validate(raw: RawConfig, base: &Path) -> Result<Config, Invalid> {
    let numbers = raw.numbers();
    for &(name, v) in &numbers {
        if let Some(problem) = keys::key(name).check(v) {
            return bad(name, problem);
        }
    }
    let (source_dir, backup_dir, log_dir) = folders(&raw, base)?;
    let extensions = extensions(&raw.extensions)?;
    let in_progress_suffixes = suffixes(raw.in_progress_suffixes, &extensions)?;
    let site_name = match raw.site_name {
        Some(s) if s.trim().is_empty() => return bad("site_name", "must not be empty".to_string()),
        Some(s) => s.trim().to_string(),
        None => host_name(),
    };
    let notify = settings::validate(raw.notify, base)?;
    let http_listen = raw.http_listen.as_deref().map(listen_address).transpose()?;
    let offsite = crate::offsite::validate(raw.offsite, base, raw.retention_days as u32, &site_name)?;
    Ok(Config {
        file: PathBuf::new(),
        source_dir,
        backup_dir,
        log_dir,
        retention_days: raw.retention_days as u32,
        names: Names {
            extensions,
            in_progress_suffixes,
        },
        reconcile_interval: Duration::from_secs(raw.reconcile_interval_secs as u64),
        min_free_percent: raw.min_free_percent,
        copy_workers: raw.copy_workers as usize,
        debounce: Duration::from_millis(raw.debounce_ms as u64),
        settle: Duration::from_secs(raw.settle_secs as u64),
        live_sync: (raw.live_sync_secs > 0).then(|| Duration::from_secs(raw.live_sync_secs as u64)),
        log_retention_days: raw.log_retention_days as u32,
        gap_tolerance_secs: raw.gap_tolerance_secs as u32,
        scrub_days: raw.scrub_days as u32,
        site_name,
        notify,
        offsite,
        http_listen,
        allow_mass_delete: false,
        numbers,
    })
}

/// `http_listen`: an IP address and a port (a name would need a lookup at each start).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, Invalid> {
    match text.trim().parse::<std::net::SocketAddr>() {
        Ok(a) if a.port() != 0 => Ok(a),
        _ => bad(
            "http_listen",
            format!("must be an IP address and a port, such as \"127.0.0.1:9721\" (got {text:?})"),
        ),
    }
}

fn bad<T>(key: &str, problem: String) -> Result<T, Invalid> {
    Err(Invalid::at(key, problem))
}

/// `extensions`, lower-case, without the dot, each once; the reserved ones refused.
fn extensions(raw: &[String]) -> Result<Vec<String>, Invalid> {
    let mut extensions = Vec::new();
    for ext in raw {
        let e = ext.trim().trim_start_matches('.').to_lowercase();
        if e.is_empty() || e.contains(['/', '\\']) {
            return bad("extensions", format!("{ext:?} is not a file extension"));
        }
        if RESERVED_EXTENSIONS.contains(&e.as_str()) {
            return bad(
                "extensions",
                format!("{ext:?} is reserved for cctv-mirror's own temporary and in-progress files"),
            );
        }
        if !extensions.contains(&e) {
            extensions.push(e);
        }
    }
    if extensions.is_empty() {
        return bad(
            "extensions",
            "must name at least one extension, such as \"dav\"".to_string(),
        );
    }
    Ok(extensions)
}

/// `in_progress_suffixes`, or its default for `extensions`.
fn suffixes(raw: Option<Vec<String>>, extensions: &[String]) -> Result<Vec<String>, Invalid> {
    Ok(match raw {
        None => extensions
            .iter()
            .filter(|e| *e == "dav")
            .map(|e| format!(".{e}_"))
            .collect(),
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for raw_suffix in list {
                let s = raw_suffix.trim().to_lowercase();
                let fits = s.starts_with('.')
                    && !s.contains(['/', '\\'])
                    && extensions
                        .iter()
                        .any(|e| s[1..].starts_with(e.as_str()) && s.len() > e.len() + 1);
                if !fits {
                    return bad(
                        "in_progress_suffixes",
                        format!(
                            "{raw_suffix:?} must be a recording extension followed by what the recorder adds while \
                             recording, such as \".dav_\" (extensions: {})",
                            extensions.join(", ")
                        ),
                    );
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
    })
}

/// The three folders, absolute, none inside another where that would do harm.
fn folders(raw: &RawConfig, base: &Path) -> Result<(PathBuf, PathBuf, PathBuf), Invalid> {
    let mut dirs = Vec::new();
    for (key, p) in [
        ("source_dir", &raw.source_dir),
        ("backup_dir", &raw.backup_dir),
        ("log_dir", &raw.log_dir),
    ] {
        let Some(p) = p else {
            return bad(key, "is required but missing".to_string());
        };
        if p.as_os_str().is_empty() {
            return bad(key, "must not be empty".to_string());
        }
        dirs.push(resolve(base, p));
    }
    let (source_dir, backup_dir, log_dir) = (dirs[0].clone(), dirs[1].clone(), dirs[2].clone());
    let inside = |a: &Path, b: &Path| really_within(a, b);
    let (s, b, l) = (source_dir.as_path(), backup_dir.as_path(), log_dir.as_path());
    if inside(s, b) && inside(b, s) {
        return bad("backup_dir", "is the same folder as source_dir".to_string());
    }
    if inside(b, s) {
        return bad(
            "backup_dir",
            "is inside source_dir; the backup must be a separate folder".to_string(),
        );
    }
    if inside(s, b) {
        return bad(
            "source_dir",
            "is inside backup_dir; the backup must be a separate folder".to_string(),
        );
    }
    if inside(l, s) {
        return bad(
            "log_dir",
            "is inside source_dir; logs must not mix with recordings".to_string(),
        );
    }
    if inside(l, b) {
        return bad(
            "log_dir",
            "is inside backup_dir; logs must still be written when the backup disk is gone".to_string(),
        );
    }
    Ok((source_dir, backup_dir, log_dir))
}

impl Config {
    /// The value of the plain key `name` as `check` shows it; None for the folders and
    /// the sections, which `check` shows with what it finds there.
    pub fn shown(&self, name: &str) -> Option<String> {
        if let Some(&(_, v)) = self.numbers.iter().find(|(n, _)| *n == name) {
            return Some(match (v == 0.0, keys::key(name).zero) {
                (true, Some(means)) => format!("0 ({means})"),
                _ => v.to_string(),
            });
        }
        let list = |l: &[String]| {
            if l.is_empty() {
                "(none)".to_string()
            } else {
                l.join(", ")
            }
        };
        Some(match name {
            "extensions" => list(&self.names.extensions),
            "in_progress_suffixes" => list(&self.names.in_progress_suffixes),
            "site_name" => self.site_name.clone(),
            "http_listen" => self.http_listen.map_or("none".into(), |a| a.to_string()),
            _ => return None,
        })
    }
}

/// How many days the backup keeps when `retention_days` is left out.
pub fn default_retention_days() -> u32 {
    RawConfig::default().retention_days as u32
}

/// This machine's name, for `site_name`'s default and every notification; looked up
/// once per process.
pub fn host_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        ["COMPUTERNAME", "HOSTNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|s| s.trim().to_string())
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cctv-mirror".into())
    })
    .clone()
}

/// An absolute form of `p` without touching the disk.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `p` resolved against `base`, with `.` and `..` folded away (lexically: the folders
/// may not exist yet, e.g. an iSCSI disk that mounts later).
fn resolve(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    let mut out = PathBuf::new();
    for c in absolute(&joined).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Invalid> {
        Config::parse(text, Path::new("/base"))
    }

    mod extremes {
        use super::*;
        use proptest::prelude::*;

        /// A value for a numeric key: anything at all, or at and just beyond its range.
        fn value(key: &'static keys::Key) -> BoxedStrategy<serde_json::Value> {
            let (min, max) = match key.kind {
                keys::KeyType::Integer { min, max } => (min as f64, max as f64),
                keys::KeyType::Number { min, max } => (min, max),
                _ => unreachable!(),
            };
            prop_oneof![
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                Just(serde_json::json!(u64::MAX)),
                Just(serde_json::json!(1e300)),
                prop_oneof![Just(min), Just(max), Just(min - 1.0), Just(max + 1.0), Just(max + 0.5)]
                    .prop_map(serde_json::Value::from),
            ]
            .boxed()
        }

        fn numeric() -> impl Strategy<Value = &'static keys::Key> {
            let keys: Vec<&'static keys::Key> = keys::KEYS
                .iter()
                .filter(|k| matches!(k.kind, keys::KeyType::Integer { .. } | keys::KeyType::Number { .. }))
                .collect();
            proptest::sample::select(keys)
        }

        proptest! {
            /// Every numeric key, fed anything: one error naming it, or a config whose
            /// times the daemon and `status` compute with, never a panic.
            #[test]
            fn no_number_panics((key, v) in numeric().prop_flat_map(|k| (Just(k), value(k)))) {
                let mut cfg = serde_json::json!({"source_dir": "s", "backup_dir": "b", "log_dir": "l"});
                cfg[key.name] = v.clone();
                match parse(&cfg.to_string()) {
                    Ok(c) => {
                        prop_assert!(key.check(v.as_f64().unwrap()).is_none(), "{} = {v} taken", key.name);
                        let now = chrono::Local::now();
                        let seen = rules::health::Seen {
                            mode: rules::run::RunMode::Daemon,
                            state: rules::run::RunState::Running,
                            updated_at: now,
                            last_pass_at: Some(now),
                            last_copy_at: None,
                            alerts: Vec::new(),
                            held: Some(true),
                        };
                        let _ = rules::health::problems(Some(&seen), now, c.reconcile_interval);
                    }
                    Err(named) => prop_assert_eq!(named.key.as_deref(), Some(key.name)),
                }
            }
        }
    }

    #[test]
    fn defaults_and_relative_paths() {
        let c = parse(r#"{"source_dir":"src","backup_dir":"/b","log_dir":"../logs"}"#).unwrap();
        // Absolute the OS's way: on Windows `/b` is on the current drive.
        assert_eq!(c.source_dir, absolute(Path::new("/base/src")));
        assert_eq!(c.backup_dir, absolute(Path::new("/b")));
        assert_eq!(c.log_dir, absolute(Path::new("/logs")));
        assert_eq!(c.retention_days, 31);
        assert_eq!(c.names.extensions, vec!["dav"]);
        assert_eq!(c.names.in_progress_suffixes, vec![".dav_"]);
        assert_eq!(c.live_sync, Some(Duration::from_secs(60)));
        assert_eq!(c.reconcile_interval, Duration::from_secs(600));
        assert_eq!(c.min_free_percent, 10.0);
        assert_eq!(c.copy_workers, 2);
        assert_eq!(c.log_retention_days, 90);
    }

    #[test]
    fn check_shows_every_plain_key_of_the_table() {
        let c = parse(r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","live_sync_secs":0}"#).unwrap();
        for k in keys::KEYS {
            let plain = !matches!(k.kind, keys::KeyType::Path | keys::KeyType::Object);
            assert_eq!(c.shown(k.name).is_some(), plain, "{}", k.name);
        }
        assert_eq!(
            c.shown("live_sync_secs").unwrap(),
            "0 (in-progress copies updated by passes only)"
        );
    }

    #[test]
    fn extensions_are_normalized() {
        let c =
            parse(r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","extensions":[".DAV","mp4","dav"]}"#).unwrap();
        assert_eq!(c.names.extensions, vec!["dav", "mp4"]);
        let c = parse(r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","extensions":["mp4"],"live_sync_secs":0}"#)
            .unwrap();
        assert_eq!(c.names.in_progress_suffixes, Vec::<String>::new());
        assert_eq!(c.live_sync, None);
        let c =
            parse(r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","in_progress_suffixes":[".DAV.tmp"]}"#).unwrap();
        assert_eq!(c.names.in_progress_suffixes, vec![".dav.tmp"]);
    }

    #[test]
    fn each_error_names_its_key() {
        let cases = [
            (r#"{"source_dir":"s","backup_dir":"b"}"#, "log_dir"),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","retention_dayz":3}"#,
                "retention_dayz",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","retention_days":"x"}"#,
                "retention_days",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","retention_days":0}"#,
                "retention_days",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","copy_workers":0}"#,
                "copy_workers",
            ),
            (r#"{"source_dir":"s","backup_dir":"s","log_dir":"l"}"#, "backup_dir"),
            (r#"{"source_dir":"s","backup_dir":"s/b","log_dir":"l"}"#, "backup_dir"),
            (r#"{"source_dir":"b/s","backup_dir":"b","log_dir":"l"}"#, "source_dir"),
            (r#"{"source_dir":"s","backup_dir":"b","log_dir":"s/logs"}"#, "log_dir"),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","extensions":[]}"#,
                "extensions",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","min_free_percent":120}"#,
                "min_free_percent",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","reconcile_interval_secs":0}"#,
                "reconcile_interval_secs",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","live_sync_secs":-1}"#,
                "live_sync_secs",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","in_progress_suffixes":[".tmp"]}"#,
                "in_progress_suffixes",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","in_progress_suffixes":[".dav"]}"#,
                "in_progress_suffixes",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","extensions":["partial"]}"#,
                "extensions",
            ),
            (
                r#"{"source_dir":"s","backup_dir":"b","log_dir":"l","log_retention_days":-1}"#,
                "log_retention_days",
            ),
        ];
        for (text, key) in cases {
            let Invalid { key: got, problem } = parse(text).unwrap_err();
            assert_eq!(got.as_deref(), Some(key), "{text} -> {problem}");
        }
    }

    /// The example shipped in the Windows zip (a real site's paths) is a valid config.
    #[test]
    fn the_packaged_example_parses() {
        let text = include_str!("../../../packaging/config.example.json");
        let c = Config::parse(text, Path::new("/base")).unwrap();
        assert_eq!(c.retention_days, 31);
        let source = c.source_dir.to_string_lossy();
        assert!(source.ends_with(r"Intelbras\LocalRecording"), "{source}");
    }

    #[test]
    fn syntax_error_gives_line_and_column() {
        let Invalid { key, problem } = parse("{\n  \"source_dir\": \"s\",,\n}").unwrap_err();
        assert_eq!(key, None);
        assert!(problem.contains("line 2"), "{problem}");
        assert!(problem.contains("column"), "{problem}");
    }
}
