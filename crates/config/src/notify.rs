//! The `notify` section of `config.json` and `site_name`: what serde reads (`RawNotify`)
//! and what the channels may trust (`Notify`). Syntax is checked here (URLs, addresses,
//! times, formats); what depends on the machine (the command exists, the password is
//! set) is checked by `check` and at delivery. A password is never in the file: only
//! the name of the variable or file holding it.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use serde::Deserialize;

use crate::invalid::Invalid;
use crate::secret::{Keys, Secret};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    #[serde(default)]
    webhooks: Vec<RawWebhook>,
    email: Option<RawEmail>,
    command: Option<Vec<String>>,
    heartbeat_url: Option<String>,
    heartbeat_fail_url: Option<String>,
    remind_hours: Option<f64>,
    daily_summary_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    #[serde(default)]
    format: Option<String>,
    chat_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    smtp_host: String,
    smtp_port: Option<u16>,
    security: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    from: String,
    to: Vec<String>,
}

/// How a webhook's body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Slack,
    Discord,
    Ntfy,
    Telegram,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["json", "slack", "discord", "ntfy", "telegram"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Discord => "discord",
            Format::Ntfy => "ntfy",
            Format::Telegram => "telegram",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub format: Format,
    /// Telegram's chat to post to.
    pub chat_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

/// The keys the SMTP password is given by.
pub const PASSWORD_KEYS: Keys = Keys {
    env: "notify.email.password_env",
    file: "notify.email.password_file",
};

#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

/// The validated `notify` section; every channel optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notify {
    pub webhooks: Vec<Webhook>,
    pub email: Option<Email>,
    pub command: Option<Vec<String>>,
    pub heartbeat_url: Option<String>,
    pub heartbeat_fail_url: Option<String>,
    /// How often an alert that lasts is announced again; None: never.
    pub remind: Option<Duration>,
    pub daily_summary_at: Option<NaiveTime>,
}

impl Notify {
    /// True when there is somewhere to send messages (heartbeats aside).
    pub fn has_channels(&self) -> bool {
        !self.webhooks.is_empty() || self.email.is_some() || self.command.is_some()
    }
}

fn bad(key: &str, problem: impl Into<String>) -> Invalid {
    Invalid::at(format!("notify.{key}"), problem)
}

/// Validates the section; errors name the key (`notify.webhooks[0].url`).
pub fn validate(raw: Option<RawNotify>, base: &std::path::Path) -> Result<Notify, Invalid> {
    let Some(raw) = raw else {
        return Ok(Notify {
            remind: Some(Duration::from_secs(24 * 3600)),
            ..Notify::default()
        });
    };
    let mut webhooks = Vec::new();
    for (i, w) in raw.webhooks.into_iter().enumerate() {
        let key = |k: &str| format!("webhooks[{i}].{k}");
        check_url(&w.url).map_err(|p| bad(&key("url"), p))?;
        let format = match w.format.as_deref().unwrap_or("json") {
            "json" => Format::Json,
            "slack" => Format::Slack,
            "discord" => Format::Discord,
            "ntfy" => Format::Ntfy,
            "telegram" => Format::Telegram,
            other => {
                return Err(bad(
                    &key("format"),
                    format!("{other:?} is not one of {}", Format::NAMES.join(", ")),
                ))
            }
        };
        if format == Format::Telegram && w.chat_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(bad(&key("chat_id"), "is required with the telegram format"));
        }
        webhooks.push(Webhook {
            url: w.url,
            format,
            chat_id: w.chat_id,
        });
    }
    let email = raw.email.map(|e| email(e, base)).transpose()?;
    let command = match raw.command {
        Some(argv) if argv.is_empty() || argv[0].trim().is_empty() => {
            return Err(bad("command", "must name a program: [\"C:\\\\scripts\\\\alert.cmd\"]"))
        }
        other => other,
    };
    for (k, url) in [
        ("heartbeat_url", &raw.heartbeat_url),
        ("heartbeat_fail_url", &raw.heartbeat_fail_url),
    ] {
        if let Some(u) = url {
            check_url(u).map_err(|p| bad(k, p))?;
        }
    }
    let remind = match raw.remind_hours {
        None => Some(Duration::from_secs(24 * 3600)),
        Some(0.0) => None,
        Some(h) if (0.1..=8760.0).contains(&h) => Some(Duration::from_secs_f64(h * 3600.0)),
        Some(h) => {
            return Err(bad(
                "remind_hours",
                format!("must be 0 (never) or between 0.1 and 8760 (got {h})"),
            ))
        }
    };
    let daily_summary_at = match raw.daily_summary_at {
        None => None,
        Some(t) => Some(NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| {
            bad(
                "daily_summary_at",
                format!("{t:?} is not a local time such as \"07:30\""),
            )
        })?),
    };
    Ok(Notify {
        webhooks,
        email,
        command,
        heartbeat_url: raw.heartbeat_url,
        heartbeat_fail_url: raw.heartbeat_fail_url,
        remind,
        daily_summary_at,
    })
}

fn email(e: RawEmail, base: &std::path::Path) -> Result<Email, Invalid> {
    if e.smtp_host.trim().is_empty() || e.smtp_host.contains(['/', ' ', ':']) {
        return Err(bad("email.smtp_host", format!("{:?} is not a host name", e.smtp_host)));
    }
    let security = match e.security.as_deref().unwrap_or("starttls") {
        "starttls" => Security::StartTls,
        "tls" => Security::Tls,
        "none" => Security::None,
        other => {
            return Err(bad(
                "email.security",
                format!("{other:?} is not one of starttls, tls, none"),
            ))
        }
    };
    let smtp_port = e.smtp_port.unwrap_or(match security {
        Security::StartTls => 587,
        Security::Tls => 465,
        Security::None => 25,
    });
    let password = Secret::from_keys(PASSWORD_KEYS, e.password_env, e.password_file, base)?;
    if password.is_some() && e.username.is_none() {
        return Err(bad("email.username", "is required when a password is given"));
    }
    check_address(&e.from).map_err(|p| bad("email.from", p))?;
    if e.to.is_empty() {
        return Err(bad("email.to", "must list at least one address"));
    }
    for (i, to) in e.to.iter().enumerate() {
        check_address(to).map_err(|p| bad(&format!("email.to[{i}]"), p))?;
    }
    Ok(Email {
        smtp_host: e.smtp_host,
        smtp_port,
        security,
        username: e.username,
        password,
        from: e.from,
        to: e.to,
    })
}

/// An http(s) URL with a host, and nothing that would need escaping.
fn check_url(u: &str) -> Result<(), String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| format!("{u:?} must start with https:// or http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("{u:?} has no host"));
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{u:?} contains spaces; write them as %20"));
    }
    Ok(())
}

/// `local@domain`, or `Name <local@domain>`.
fn check_address(a: &str) -> Result<(), String> {
    let addr = match (a.find('<'), a.rfind('>')) {
        (Some(i), Some(j)) if i < j => &a[i + 1..j],
        _ => a,
    };
    let ok = addr.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !addr.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err(format!("{a:?} is not an e-mail address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Notify, Invalid> {
        validate(serde_json::from_str(json).unwrap(), std::path::Path::new("/base"))
    }

    #[test]
    fn the_example_of_the_docs_is_valid() {
        let n = parse(
            r#"{"webhooks": [{"url": "https://example.com/hook", "format": "json"}],
                "email": {"smtp_host": "smtp.example.com", "smtp_port": 587, "security": "starttls",
                          "username": "backup@example.com", "password_env": "CCTV_SMTP_PASSWORD",
                          "from": "backup@example.com", "to": ["ops@example.com"]},
                "command": ["C:\\scripts\\alert.cmd"],
                "heartbeat_url": "https://monitor.example.com/ping/abc",
                "heartbeat_fail_url": "https://monitor.example.com/ping/abc/fail",
                "remind_hours": 24, "daily_summary_at": "07:30"}"#,
        )
        .unwrap();
        assert_eq!(n.webhooks[0].format, Format::Json);
        assert_eq!(
            n.email.as_ref().unwrap().password,
            Some(Secret::Env("CCTV_SMTP_PASSWORD".into()))
        );
        assert_eq!(n.remind, Some(Duration::from_secs(86_400)));
        assert_eq!(n.daily_summary_at, NaiveTime::from_hms_opt(7, 30, 0));
    }

    #[test]
    fn each_error_names_its_key() {
        let cases = [
            (r#"{"webhooks": [{"url": "ftp://x"}]}"#, "notify.webhooks[0].url"),
            (r#"{"webhooks": [{"url": "https://"}]}"#, "notify.webhooks[0].url"),
            (
                r#"{"webhooks": [{"url": "https://x", "format": "teams"}]}"#,
                "notify.webhooks[0].format",
            ),
            (
                r#"{"webhooks": [{"url": "https://x", "format": "telegram"}]}"#,
                "notify.webhooks[0].chat_id",
            ),
            (r#"{"command": []}"#, "notify.command"),
            (r#"{"heartbeat_url": "monitor.example.com"}"#, "notify.heartbeat_url"),
            (r#"{"remind_hours": -1}"#, "notify.remind_hours"),
            (r#"{"daily_summary_at": "7h30"}"#, "notify.daily_summary_at"),
            (
                r#"{"email": {"smtp_host": "h.example.com", "from": "nobody", "to": ["a@b.c"]}}"#,
                "notify.email.from",
            ),
            (
                r#"{"email": {"smtp_host": "h.example.com", "from": "a@b.c", "to": []}}"#,
                "notify.email.to",
            ),
            (
                r#"{"email": {"smtp_host": "h.example.com", "from": "a@b.c", "to": ["x"], "security": "ssl"}}"#,
                "notify.email.security",
            ),
            (
                r#"{"email": {"smtp_host": "h.example.com", "from": "a@b.c", "to": ["a@b.c"], "password_env": "P"}}"#,
                "notify.email.username",
            ),
        ];
        for (json, key) in cases {
            let Invalid { key: got, problem } = parse(json).unwrap_err();
            assert_eq!(got.as_deref(), Some(key), "{json} -> {problem}");
        }
    }

    #[test]
    fn defaults() {
        let n = validate(None, std::path::Path::new("/")).unwrap();
        assert!(!n.has_channels());
        assert_eq!(n.remind, Some(Duration::from_secs(86_400)));
        assert_eq!(parse(r#"{"remind_hours": 0}"#).unwrap().remind, None);
        let e = parse(r#"{"email": {"smtp_host": "h.example.com", "security": "tls", "from": "Backup <a@b.c>", "to": ["a@b.c"]}}"#)
            .unwrap()
            .email
            .unwrap();
        assert_eq!(e.smtp_port, 465);
    }
}
