//! The one message every channel is built from, and its JSON body, which is a
//! documented contract: exactly `{"event", "kind", "message", "since", "site", "host",
//! "time"}`, `event` one of raised, cleared, reminder, summary, test; times RFC 3339.

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use rules::alert::{Change, Event};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// raised | cleared | reminder | summary | test
    pub event: String,
    /// The alert kind (`source_wipe`), or null for a summary or a test.
    pub kind: Option<String>,
    pub message: String,
    /// When the alert began; null for a summary or a test.
    pub since: Option<String>,
    pub site: String,
    pub host: String,
    pub time: String,
}

impl Message {
    pub fn of_event(e: &Event, site: &str, host: &str) -> Message {
        Message {
            event: e.change.as_str().into(),
            kind: Some(e.alert.kind.as_str().into()),
            message: e.alert.message.clone(),
            since: Some(e.alert.since.to_rfc3339()),
            site: site.into(),
            host: host.into(),
            time: e.at.to_rfc3339(),
        }
    }

    /// A message that is about no alert (`summary`, `test`).
    pub fn plain(event: &str, message: String, site: &str, host: &str, at: DateTime<Local>) -> Message {
        Message {
            event: event.into(),
            kind: None,
            message,
            since: None,
            site: site.into(),
            host: host.into(),
            time: at.to_rfc3339(),
        }
    }

    /// One line a person reads first: `[cctv-mirror] SITE: source_wipe raised`.
    pub fn title(&self) -> String {
        match (&self.kind, self.event.as_str()) {
            (Some(kind), "raised") => format!("[cctv-mirror] {}: ALERT {kind}", self.site),
            (Some(kind), "reminder") => format!("[cctv-mirror] {}: still {kind}", self.site),
            (Some(kind), "cleared") => format!("[cctv-mirror] {}: cleared {kind}", self.site),
            (Some(kind), other) => format!("[cctv-mirror] {}: {kind} {other}", self.site),
            (None, "summary") => format!("[cctv-mirror] {}: daily summary", self.site),
            (None, other) => format!("[cctv-mirror] {}: {other}", self.site),
        }
    }

    /// The title, the words, and since when, for channels that show plain text.
    pub fn text(&self) -> String {
        let since = self
            .since
            .as_deref()
            .map(|s| format!("\nsince {s}"))
            .unwrap_or_default();
        format!("{}\n{}{since}\nhost {}", self.title(), self.message, self.host)
    }

    pub fn json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a message serializes")
    }

    pub fn is_alert(&self) -> bool {
        self.kind.is_some() && self.event != Change::Cleared.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules::alert::{Alert, AlertKind};

    #[test]
    fn the_json_body_has_exactly_the_documented_keys() {
        let at: DateTime<Local> = "2026-11-27T03:00:00-03:00".parse().unwrap();
        let e = Event {
            change: Change::Raised,
            alert: Alert {
                kind: AlertKind::SourceWipe,
                message: "the platform deleted its recordings".into(),
                since: at,
                reminded_at: None,
            },
            at,
        };
        let m = Message::of_event(&e, "Cliente X", "srv01");
        let v: serde_json::Value = serde_json::from_slice(&m.json()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["event", "host", "kind", "message", "since", "site", "time"]);
        assert_eq!(v["event"], "raised");
        assert_eq!(v["kind"], "source_wipe");
        assert_eq!(v["since"], at.to_rfc3339(), "RFC 3339, in local time");
        assert_eq!(m.title(), "[cctv-mirror] Cliente X: ALERT source_wipe");
    }
}
