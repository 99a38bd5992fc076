//! Each webhook service's message shape, pure: the body, its content type and any
//! headers, from one `Message`. `json` is the documented contract; `slack` (also
//! Mattermost and Rocket.Chat: `{"text"}`), `discord` (`{"content"}`), `ntfy` (plain
//! text with a Title, Priority and Tags header) and `telegram` (`sendMessage`'s
//! `{"chat_id", "text"}`) are readable on a phone and name the site and the alert kind.

use serde_json::json;

use super::message::Message;
use config::notify::Format;

/// What to POST.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookBody {
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub bytes: Vec<u8>,
}

fn json_body(v: serde_json::Value) -> WebhookBody {
    WebhookBody {
        content_type: "application/json",
        headers: Vec::new(),
        bytes: serde_json::to_vec(&v).expect("json"),
    }
}

/// Keeps at most `n` characters (Discord refuses more than 2,000).
fn cut(s: String, n: usize) -> String {
    if s.chars().count() <= n {
        return s;
    }
    s.chars().take(n - 1).chain(['…']).collect()
}

pub fn body(format: Format, m: &Message, chat_id: Option<&str>) -> WebhookBody {
    match format {
        Format::Json => WebhookBody {
            content_type: "application/json",
            headers: Vec::new(),
            bytes: m.json(),
        },
        Format::Slack => json_body(json!({ "text": format!("*{}*\n{}", m.title(), rest(m)) })),
        Format::Discord => json_body(json!({ "content": cut(format!("**{}**\n{}", m.title(), rest(m)), 2000) })),
        Format::Telegram => json_body(json!({
            "chat_id": chat_id.unwrap_or_default(),
            "text": cut(m.text(), 4000),
            "disable_web_page_preview": true,
        })),
        Format::Ntfy => WebhookBody {
            content_type: "text/plain; charset=utf-8",
            headers: vec![
                // HTTP headers carry ASCII: the title names the site as far as it is ASCII.
                (
                    "Title",
                    m.title()
                        .chars()
                        .map(|c| if c.is_ascii() && !c.is_control() { c } else { '?' })
                        .collect(),
                ),
                ("Priority", if m.is_alert() { "high" } else { "default" }.into()),
                ("Tags", if m.is_alert() { "warning" } else { "white_check_mark" }.into()),
            ],
            bytes: rest(m).into_bytes(),
        },
    }
}

/// The words under the title: the message, since when, and the host.
fn rest(m: &Message) -> String {
    let since = m.since.as_deref().map(|s| format!(" (since {s})")).unwrap_or_default();
    format!("{}{since}\nhost {}", m.message, m.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            event: "raised".into(),
            kind: Some("backup_unavailable".into()),
            message: "D:\\cctv-backup lost its marker".into(),
            since: Some("2026-11-27T03:00:00-03:00".into()),
            site: "Cliente São João".into(),
            host: "srv01".into(),
            time: "2026-11-27T03:00:05-03:00".into(),
        }
    }

    fn json_of(b: &WebhookBody) -> serde_json::Value {
        serde_json::from_slice(&b.bytes).unwrap()
    }

    #[test]
    fn every_format_names_the_site_and_the_kind() {
        let m = msg();
        let slack = json_of(&body(Format::Slack, &m, None));
        assert!(slack["text"]
            .as_str()
            .unwrap()
            .contains("Cliente São João: ALERT backup_unavailable"));
        let discord = json_of(&body(Format::Discord, &m, None));
        assert!(discord["content"].as_str().unwrap().contains("backup_unavailable"));
        let tg = json_of(&body(Format::Telegram, &m, Some("-100123")));
        assert_eq!(tg["chat_id"], "-100123");
        assert!(tg["text"].as_str().unwrap().contains("Cliente São João"));
        let ntfy = body(Format::Ntfy, &m, None);
        let title = &ntfy.headers.iter().find(|(k, _)| *k == "Title").unwrap().1;
        assert_eq!(title, "[cctv-mirror] Cliente S?o Jo?o: ALERT backup_unavailable");
        assert!(String::from_utf8(ntfy.bytes).unwrap().contains("lost its marker"));
        assert_eq!(json_of(&body(Format::Json, &m, None))["kind"], "backup_unavailable");
    }

    #[test]
    fn discord_is_cut_to_its_limit() {
        let mut m = msg();
        m.message = "x".repeat(5000);
        let d = json_of(&body(Format::Discord, &m, None));
        assert_eq!(d["content"].as_str().unwrap().chars().count(), 2000);
    }
}
