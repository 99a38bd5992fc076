//! The channels a message goes out through, each delivered in one blocking attempt
//! with a time limit: a webhook (10 s), e-mail over SMTP (10 s), a command (killed
//! after 30 s). A channel's name is unique and says where it goes without a secret (a
//! webhook shows its number and host only: Telegram's and Slack's URLs carry tokens),
//! and an error never carries the URL or a password.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::format;
use super::message::Message;
use config::notify::{Email, Notify, Security, Webhook, PASSWORD_KEYS};

pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// The webhook and its number in the config (1, 2, …), which keeps two webhooks
    /// to one host apart.
    Webhook(usize, Webhook),
    Email(Email),
    Command(Vec<String>),
}

impl Channel {
    /// Every configured channel, in the config's order.
    pub fn all(n: &Notify) -> Vec<Channel> {
        let mut out: Vec<Channel> = (1..)
            .zip(n.webhooks.iter().cloned())
            .map(|(i, w)| Channel::Webhook(i, w))
            .collect();
        out.extend(n.email.iter().cloned().map(Channel::Email));
        out.extend(n.command.iter().cloned().map(Channel::Command));
        out
    }

    /// Where it goes, without secrets: `webhook 1 hooks.slack.com (slack)`.
    pub fn name(&self) -> String {
        match self {
            Channel::Webhook(i, w) => format!("webhook {i} {} ({})", host_of(&w.url), w.format.as_str()),
            Channel::Email(e) => format!("email {} via {}", e.to.join(", "), e.smtp_host),
            Channel::Command(argv) => format!("command {}", argv[0]),
        }
    }

    /// What would stop this channel on this machine, found without sending: a
    /// command that is not there, a password variable or file that is missing.
    pub fn readiness(&self) -> Result<(), String> {
        match self {
            Channel::Webhook(..) => Ok(()),
            Channel::Email(e) => e
                .password
                .as_ref()
                .map_or(Ok(()), |s| s.read(PASSWORD_KEYS).map(|_| ())),
            Channel::Command(argv) => {
                if program_exists(&argv[0]) {
                    Ok(())
                } else {
                    Err(format!("{} does not exist (or is not on PATH)", argv[0]))
                }
            }
        }
    }

    pub fn deliver(&self, m: &Message) -> Result<(), String> {
        match self {
            Channel::Webhook(_, w) => {
                let b = format::body(w.format, m, w.chat_id.as_deref());
                post(&w.url, b.content_type, &b.headers, &b.bytes)
            }
            Channel::Email(e) => send_mail(e, m),
            Channel::Command(argv) => run_command(argv, m),
        }
    }
}

/// A program named by a path, or found on PATH (with Windows' extensions).
fn program_exists(program: &str) -> bool {
    let p = std::path::Path::new(program);
    if p.components().count() > 1 || p.is_absolute() {
        return p.is_file();
    }
    let exts: &[&str] = if cfg!(windows) {
        &["", ".exe", ".cmd", ".bat", ".com"]
    } else {
        &[""]
    };
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| exts.iter().any(|e| dir.join(format!("{program}{e}")).is_file()))
    })
}

/// `https://hooks.slack.com/services/T0/B0/XXX` → `hooks.slack.com`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
}

/// An error in the operator's words, with no URL in it.
pub fn http_error(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", HTTP_TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        ureq::Error::ConnectionFailed => "cannot connect (refused or unreachable)".into(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "cannot connect: connection refused".into()
        }
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::Tls(t) => format!("TLS failed: {t}"),
        other => format!(
            "request failed ({})",
            other.to_string().split(':').next().unwrap_or("error")
        ),
    }
}

fn answer(status: u16) -> Result<(), String> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the server answered HTTP {status}"))
    }
}

pub fn post(url: &str, content_type: &str, headers: &[(&str, String)], body: &[u8]) -> Result<(), String> {
    let mut req = agent().post(url).header("Content-Type", content_type);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let res = req.send(body).map_err(http_error)?;
    answer(res.status().as_u16())
}

/// A heartbeat: one GET.
pub fn get(url: &str) -> Result<(), String> {
    let res = agent().get(url).call().map_err(http_error)?;
    answer(res.status().as_u16())
}

fn send_mail(e: &Email, m: &Message) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{SmtpTransport, Transport};

    let to_err = |what: &str, err: &dyn std::fmt::Display| format!("{what}: {err}");
    let mut mail = lettre::Message::builder()
        .from(e.from.parse().map_err(|err| to_err("bad from address", &err))?)
        .subject(m.title())
        .header(ContentType::TEXT_PLAIN);
    for to in &e.to {
        mail = mail.to(to.parse().map_err(|err| to_err("bad to address", &err))?);
    }
    let mail = mail
        .body(m.text())
        .map_err(|err| to_err("cannot build the e-mail", &err))?;
    let builder = match e.security {
        Security::StartTls => SmtpTransport::starttls_relay(&e.smtp_host),
        Security::Tls => SmtpTransport::relay(&e.smtp_host),
        Security::None => Ok(SmtpTransport::builder_dangerous(&e.smtp_host)),
    }
    .map_err(|err| to_err("cannot set up SMTP", &err))?;
    let mut builder = builder.port(e.smtp_port).timeout(Some(HTTP_TIMEOUT));
    if let (Some(user), Some(secret)) = (&e.username, &e.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            secret.read(PASSWORD_KEYS)?.expose().to_string(),
        ));
    }
    builder
        .build()
        .send(&mail)
        .map(|_| ())
        .map_err(|err| format!("SMTP {}:{} refused or failed: {err}", e.smtp_host, e.smtp_port))
}

/// Runs the command without a shell: the JSON body on stdin, the event in its
/// environment; killed after `COMMAND_TIMEOUT`; a non-zero exit is a failure.
fn run_command(argv: &[String], m: &Message) -> Result<(), String> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .env("CCTV_EVENT", &m.event)
        .env("CCTV_ALERT_KIND", m.kind.as_deref().unwrap_or(""))
        .env("CCTV_ALERT_MESSAGE", &m.message)
        .env("CCTV_SITE", &m.site)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is fine.
        let _ = stdin.write_all(&m.json());
    }
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) if st.success() => return Ok(()),
            Some(st) => return Err(format!("{} exited with {st}", argv[0])),
            None if started.elapsed() > COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} was killed after {} s", argv[0], COMMAND_TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_webhooks_to_one_host_have_their_own_names() {
        let hook = |url: &str| Webhook {
            url: url.into(),
            format: config::notify::Format::Slack,
            chat_id: None,
        };
        let n = Notify {
            webhooks: vec![
                hook("https://hooks.slack.com/services/A"),
                hook("https://hooks.slack.com/services/B"),
            ],
            ..Notify::default()
        };
        let names: Vec<String> = Channel::all(&n).iter().map(Channel::name).collect();
        assert_eq!(
            names,
            ["webhook 1 hooks.slack.com (slack)", "webhook 2 hooks.slack.com (slack)"]
        );
    }

    #[test]
    fn names_never_show_a_token() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/SECRET"),
            "hooks.slack.com"
        );
        assert_eq!(
            host_of("https://api.telegram.org/bot123:SECRET/sendMessage"),
            "api.telegram.org"
        );
        assert_eq!(host_of("https://user:pw@ntfy.sh/topic?x=1"), "ntfy.sh");
        assert_eq!(host_of("http://127.0.0.1:8080/hook"), "127.0.0.1:8080");
    }
}
