//! The `offsite` section of `config.json`: what serde reads (`RawOffsite`) and what the
//! tier may trust (`Offsite`). Syntax and ranges are checked here, each failure naming
//! its key (`offsite.bucket`); whether the server answers and the credentials work is
//! `check`'s to find out. The secret is never in the file: only the name of the
//! environment variable or file holding it, read when it is needed.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::invalid::Invalid;
use crate::secret::{Keys, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOffsite {
    endpoint: String,
    region: Option<String>,
    bucket: String,
    prefix: Option<String>,
    #[serde(default = "yes")]
    path_style: bool,
    access_key_id: String,
    secret_access_key_env: Option<String>,
    secret_access_key_file: Option<PathBuf>,
    retention_days: Option<i64>,
    #[serde(default = "two")]
    upload_workers: i64,
    #[serde(default)]
    max_mbps: f64,
    #[serde(default = "sixty_four")]
    part_size_mib: i64,
    #[serde(default = "six")]
    max_lag_hours: i64,
    object_lock: Option<RawLock>,
    encryption: Option<RawEncryption>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEncryption {
    recipient: OneOrMany,
}

/// One recipient, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLock {
    mode: String,
}

/// `offsite.object_lock.mode`: how the bucket holds each object until its retention
/// ends. Compliance: nobody can shorten it. Governance: an account with the
/// `s3:BypassGovernanceRetention` permission can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Compliance,
    Governance,
}

impl LockMode {
    /// As S3's `x-amz-object-lock-mode` says it.
    pub fn header(self) -> &'static str {
        match self {
            LockMode::Compliance => "COMPLIANCE",
            LockMode::Governance => "GOVERNANCE",
        }
    }

    /// As the config says it.
    pub fn word(self) -> &'static str {
        match self {
            LockMode::Compliance => "compliance",
            LockMode::Governance => "governance",
        }
    }
}

fn yes() -> bool {
    true
}
fn two() -> i64 {
    2
}
fn sixty_four() -> i64 {
    64
}
fn six() -> i64 {
    6
}

/// The validated section.
#[derive(Debug, Clone, PartialEq)]
pub struct Offsite {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Empty (the whole bucket, only when set so), or ends with `/`; never starts
    /// with one. Without a `prefix` key: the site's name made key-safe (`site_prefix`).
    pub prefix: String,
    pub path_style: bool,
    pub access_key_id: String,
    pub secret: Secret,
    pub retention_days: u32,
    pub upload_workers: usize,
    /// Total upload bandwidth in megabits per second; None: unlimited.
    pub max_mbps: Option<f64>,
    pub part_size: u64,
    /// `offsite_lagging` when the oldest pending recording is older than this.
    pub max_lag: Duration,
    /// Every object kept by the bucket until its retention ends.
    pub object_lock: Option<LockMode>,
    /// The age recipients every object is encrypted to; empty: objects in clear.
    pub recipients: Vec<age::x25519::Recipient>,
}

fn bad(key: &str, problem: impl Into<String>) -> Invalid {
    Invalid::at(format!("offsite.{key}"), problem)
}

/// The keys the secret key is given by.
pub const SECRET_KEYS: Keys = Keys {
    env: "offsite.secret_access_key_env",
    file: "offsite.secret_access_key_file",
};

/// Validates the section (None: no offsite tier); `retention_days` defaults to the
/// main one, `prefix` to the site's name made key-safe.
pub fn validate(
    raw: Option<RawOffsite>,
    base: &std::path::Path,
    main_retention: u32,
    site_name: &str,
) -> Result<Option<Offsite>, Invalid> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let endpoint = endpoint(&raw.endpoint)?;
    bucket_name(&raw.bucket)?;
    let secret = Secret::from_keys(SECRET_KEYS, raw.secret_access_key_env, raw.secret_access_key_file, base)?
        .ok_or_else(|| {
            bad(
                "secret_access_key_env",
                "required: the name of the environment variable holding the secret (or secret_access_key_file)",
            )
        })?;
    if raw.access_key_id.trim().is_empty() {
        return Err(bad("access_key_id", "must not be empty"));
    }
    let retention_days = raw.retention_days.unwrap_or(main_retention.into());
    range("retention_days", retention_days as f64, 1.0, 36_500.0)?;
    range("upload_workers", raw.upload_workers as f64, 1.0, 16.0)?;
    range("max_mbps", raw.max_mbps, 0.0, 100_000.0)?;
    range("part_size_mib", raw.part_size_mib as f64, 5.0, 5120.0)?;
    range("max_lag_hours", raw.max_lag_hours as f64, 1.0, 720.0)?;
    Ok(Some(Offsite {
        endpoint,
        region: raw.region.unwrap_or_else(|| "us-east-1".into()),
        bucket: raw.bucket,
        prefix: match &raw.prefix {
            Some(p) => prefix(p)?,
            None => site_prefix(site_name),
        },
        path_style: raw.path_style,
        access_key_id: raw.access_key_id.trim().to_string(),
        secret,
        retention_days: retention_days as u32,
        upload_workers: raw.upload_workers as usize,
        max_mbps: (raw.max_mbps > 0.0).then_some(raw.max_mbps),
        part_size: raw.part_size_mib as u64 * 1024 * 1024,
        max_lag: Duration::from_secs(raw.max_lag_hours as u64 * 3600),
        object_lock: raw.object_lock.map(|l| lock_mode(&l.mode)).transpose()?,
        recipients: raw.encryption.map_or(Ok(Vec::new()), |e| recipients(e.recipient))?,
    }))
}

/// The recipients of `offsite.encryption.recipient`. A bad one is named by its place,
/// never by its text: an operator may have pasted the secret identity there.
fn recipients(given: OneOrMany) -> Result<Vec<age::x25519::Recipient>, Invalid> {
    let list = match given {
        OneOrMany::One(r) => vec![r],
        OneOrMany::Many(list) => list,
    };
    if list.is_empty() {
        return Err(bad("encryption.recipient", "give at least one age recipient (age1…)"));
    }
    let place = |i: usize| {
        if list.len() == 1 {
            String::new()
        } else {
            format!(" (number {})", i + 1)
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let r = r.trim();
            if r.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
                return Err(bad(
                    "encryption.recipient",
                    format!("the value{} is a secret identity, not a recipient: remove it from this server and give its public key (age-keygen -y)", place(i)),
                ));
            }
            r.parse().map_err(|e| {
                bad(
                    "encryption.recipient",
                    format!("the value{} is not an age X25519 recipient (age1…, 62 characters): {e}", place(i)),
                )
            })
        })
        .collect()
}

fn lock_mode(s: &str) -> Result<LockMode, Invalid> {
    match s.trim().to_ascii_lowercase().as_str() {
        "compliance" => Ok(LockMode::Compliance),
        "governance" => Ok(LockMode::Governance),
        _ => Err(bad(
            "object_lock.mode",
            format!("must be \"compliance\" or \"governance\" (got {s:?})"),
        )),
    }
}

fn range(key: &str, v: f64, min: f64, max: f64) -> Result<(), Invalid> {
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(bad(key, format!("must be from {min} to {max} (got {v})")))
    }
}

/// `http://` or `https://` and a host, without a trailing slash.
fn endpoint(s: &str) -> Result<String, Invalid> {
    let s = s.trim().trim_end_matches('/');
    let host = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(['/', ' ', '?', '#']) => Ok(s.to_string()),
        _ => Err(bad(
            "endpoint",
            format!("{s:?} is not an http:// or https:// address of a server (e.g. https://s3.example.com)"),
        )),
    }
}

/// S3's rule: 3 to 63 lower-case letters, digits, dots and hyphens, starting and
/// ending with a letter or digit.
fn bucket_name(b: &str) -> Result<(), Invalid> {
    let ok_chars = b
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-');
    let ends = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if (3..=63).contains(&b.len()) && ok_chars && ends(b.bytes().next()) && ends(b.bytes().last()) {
        Ok(())
    } else {
        Err(bad(
            "bucket",
            format!("{b:?} is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"),
        ))
    }
}

/// The default prefix: the site's name made key-safe, `/` at the end. Lower-case ASCII
/// letters and digits are kept, accented Latin letters lose their accents, every other
/// run of characters becomes one `-`: "São Paulo - Loja 2" → `sao-paulo-loja-2/`. At
/// most 63 characters; `site/` when nothing is left.
pub fn site_prefix(site_name: &str) -> String {
    let mut out = String::new();
    for c in site_name.chars().flat_map(char::to_lowercase) {
        match plain(c) {
            Some(p) => out.push(p),
            None if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            None => {}
        }
    }
    let mut name: String = out.trim_end_matches('-').chars().take(63).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        name.push_str("site");
    }
    name.push('/');
    name
}

/// `c` as a key-safe character: itself when an ASCII letter or digit, its base letter
/// when an accented Latin one (Portuguese and Spanish names), else None.
fn plain(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c);
    }
    const ACCENTED: [(&str, char); 7] = [
        ("àáâãäå", 'a'),
        ("èéêë", 'e'),
        ("ìíîï", 'i'),
        ("òóôõöø", 'o'),
        ("ùúûü", 'u'),
        ("ç", 'c'),
        ("ñ", 'n'),
    ];
    ACCENTED.iter().find(|(set, _)| set.contains(c)).map(|(_, base)| *base)
}

/// `cliente-x/` form: no leading slash, no `..`, no empty part; a slash added at the end.
fn prefix(p: &str) -> Result<String, Invalid> {
    let p = p.trim();
    if p.is_empty() {
        return Ok(String::new());
    }
    let inner = p.trim_end_matches('/');
    if p.starts_with('/')
        || inner
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        || p.contains('\\')
    {
        return Err(bad(
            "prefix",
            format!("{p:?} must be a relative path like cliente-x/ (no leading /, no .., no \\\\)"),
        ));
    }
    Ok(format!("{inner}/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(json: &str) -> Result<Option<Offsite>, Invalid> {
        let raw: RawOffsite = serde_json::from_str(json).map_err(|e| Invalid::whole(e.to_string()))?;
        validate(Some(raw), Path::new("/etc/cctv"), 31, "Loja Centro")
    }

    const BASE: &str = r#""endpoint": "https://s3.example.com/", "bucket": "cctv", "access_key_id": "AK", "secret_access_key_env": "CCTV_S3_SECRET""#;

    #[test]
    fn a_minimal_section_gets_the_defaults() {
        let o = parse(&format!("{{{BASE}}}")).unwrap().unwrap();
        assert_eq!(o.endpoint, "https://s3.example.com");
        assert_eq!(
            (o.region.as_str(), o.prefix.as_str(), o.path_style),
            ("us-east-1", "loja-centro/", true)
        );
        assert_eq!(o.secret, Secret::Env("CCTV_S3_SECRET".into()));
        assert_eq!((o.retention_days, o.upload_workers, o.max_mbps), (31, 2, None));
        assert_eq!((o.part_size, o.max_lag), (64 << 20, Duration::from_secs(6 * 3600)));
        let o = parse(&format!(
            r#"{{{BASE}, "prefix": "cliente-x", "max_mbps": 40, "retention_days": 90}}"#
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (o.prefix.as_str(), o.max_mbps, o.retention_days),
            ("cliente-x/", Some(40.0), 90)
        );
        assert_eq!(validate(None, Path::new("/"), 31, "x"), Ok(None));
        let whole = parse(&format!(r#"{{{BASE}, "prefix": ""}}"#)).unwrap().unwrap();
        assert_eq!(whole.prefix, "", "the whole bucket only when set so");
    }

    #[test]
    fn encryption_takes_one_recipient_or_many_and_never_echoes_a_bad_one() {
        // age-keygen's recipients (their identities are not kept anywhere).
        let a = "age10snja0zmv4tppw0rzer6a4ag7scnpcn998tmsa32xwh7ul2w4c0swtumdf";
        let b = "age18xmrdyfe077nkmmz54vf8gl0afmfc8f0mw9cfr2gncz7x3ggz55s55nl50";
        let o = parse(&format!(r#"{{{BASE}, "encryption": {{"recipient": "{a}"}}}}"#))
            .unwrap()
            .unwrap();
        assert_eq!(o.recipients.len(), 1);
        assert_eq!(o.recipients[0].to_string(), a);
        let o = parse(&format!(
            r#"{{{BASE}, "encryption": {{"recipient": ["{a}", " {b} "]}}}}"#
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.recipients.len(), 2);
        assert!(parse(&format!("{{{BASE}}}")).unwrap().unwrap().recipients.is_empty());
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        for (given, says) in [
            (format!(r#"["{a}", "{secret}"]"#), "(number 2) is a secret identity"),
            (format!(r#""{secret}""#), "is a secret identity, not a recipient"),
            (
                r#""age1nottherightlength""#.to_string(),
                "is not an age X25519 recipient",
            ),
            ("[]".to_string(), "give at least one"),
        ] {
            let e = parse(&format!(r#"{{{BASE}, "encryption": {{"recipient": {given}}}}}"#)).unwrap_err();
            let line = e.to_string();
            assert!(
                line.contains("offsite.encryption.recipient") && line.contains(says),
                "{line}"
            );
            assert!(
                !line.contains("QQQQ") && !line.contains("nottheright"),
                "the value is not echoed: {line}"
            );
        }
    }

    #[test]
    fn the_default_prefix_is_the_site_name_made_key_safe() {
        for (site, prefix) in [
            ("Loja Centro", "loja-centro/"),
            ("São João - Câmeras (CFTV)", "sao-joao-cameras-cftv/"),
            ("cliente_x.servidor", "cliente-x-servidor/"),
            ("../..//", "site/"),
            ("監視", "site/"),
            ("  DESKTOP-7Q2 ", "desktop-7q2/"),
        ] {
            assert_eq!(site_prefix(site), prefix, "{site}");
        }
        let long = site_prefix(&"a-".repeat(100));
        assert!(long.len() <= 64 && long.ends_with("a/"), "{long}");
        // Whatever the name, the default is a valid prefix.
        assert_eq!(prefix(&site_prefix("Ótica Ñandú /x/")), Ok("otica-nandu-x/".into()));
    }

    #[test]
    fn each_bad_key_is_named() {
        let key = |extra: &str| parse(&format!("{{{BASE}, {extra}}}")).unwrap_err().key;
        assert_eq!(key(r#""upload_workers": 0"#).as_deref(), Some("offsite.upload_workers"));
        assert_eq!(key(r#""part_size_mib": 4"#).as_deref(), Some("offsite.part_size_mib"));
        assert_eq!(key(r#""prefix": "/abs/""#).as_deref(), Some("offsite.prefix"));
        assert_eq!(key(r#""prefix": "a/../b""#).as_deref(), Some("offsite.prefix"));
        assert_eq!(
            key(r#""secret_access_key_file": "s""#).as_deref(),
            Some("offsite.secret_access_key_env")
        );
        let bad_bucket = parse(
            r#"{"endpoint": "https://h", "bucket": "Bad_Name", "access_key_id": "A", "secret_access_key_env": "S"}"#,
        );
        assert_eq!(bad_bucket.unwrap_err().key.as_deref(), Some("offsite.bucket"));
        let bad_url = parse(
            r#"{"endpoint": "s3.example.com", "bucket": "cctv", "access_key_id": "A", "secret_access_key_env": "S"}"#,
        );
        assert_eq!(bad_url.unwrap_err().key.as_deref(), Some("offsite.endpoint"));
        let inline = serde_json::from_str::<RawOffsite>(&format!(r#"{{{BASE}, "secret_access_key": "x"}}"#));
        assert!(inline.is_err(), "a secret in the file is an unknown key");
    }
}
