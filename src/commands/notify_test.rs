//! `cctv-mirror notify-test`: a `test` message through every configured channel, sent
//! at once (not queued), one line per channel; the heartbeat URL is pinged too (never
//! the fail URL, which would mark the site failed). Exit 0 when everything was
//! delivered, 3 otherwise.

use std::process::ExitCode;

use chrono::Local;

use crate::alert::notify::channel::{self, Channel};
use crate::alert::notify::message::Message;
use crate::config::Config;
use crate::engine::exit;

pub fn run(cfg: &Config) -> ExitCode {
    let channels = Channel::all(&cfg.notify);
    if channels.is_empty() && cfg.notify.heartbeat_url.is_none() {
        println!("no notification channel is configured (see docs/notifications.md)");
        return ExitCode::from(exit::PROBLEMS);
    }
    let text = format!(
        "A test from cctv-mirror {} at {}: if you read this, alerts reach you.",
        crate::engine::version::VERSION,
        cfg.site_name
    );
    let m = Message::plain("test", text, &cfg.site_name, &crate::config::host_name(), Local::now());
    let mut failed = 0;
    let mut say = |name: String, outcome: Result<(), String>| match outcome {
        Ok(()) => println!("{name}: delivered"),
        Err(why) => {
            failed += 1;
            println!("{name}: NOT delivered: {why}");
        }
    };
    for c in &channels {
        say(c.name(), c.readiness().and_then(|()| c.deliver(&m)));
    }
    if let Some(url) = &cfg.notify.heartbeat_url {
        say(format!("heartbeat {}", channel::host_of(url)), channel::get(url));
    }
    ExitCode::from(if failed == 0 { exit::OK } else { exit::PROBLEMS })
}
