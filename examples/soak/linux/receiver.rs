//! The notification receiver: a webhook endpoint (`format: json`) that keeps every
//! alert event it gets, and that the soak takes down now and then.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::switch::{free_port, listen, Switch};

/// One message received: its event (`raised`, `cleared`, …) and alert kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: String,
    pub kind: Option<String>,
}

pub struct Receiver {
    pub url: String,
    pub switch: Switch,
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let (port, switch) = (free_port(), Switch::default());
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let kept = events.clone();
        listen(port, switch.clone(), move |s, _| {
            if let Some(e) = take(s) {
                kept.lock().unwrap().push(e);
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/alerts"),
            switch,
            events,
        }
    }
}

/// Reads one request, answers 200, and returns its event.
fn take(s: TcpStream) -> Option<Event> {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    let mut s = s;
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(Event {
        event: v["event"].as_str()?.to_string(),
        kind: v["kind"].as_str().map(str::to_string),
    })
}
