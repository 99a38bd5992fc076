//! Delivery on a thread of its own, so a slow, failing or unreachable channel never
//! delays a copy or a pass. Who sends: the daemon loop (`Notifier::send`, `ping`)
//! through a bounded queue (`try_send`: a full queue drops the message with a log
//! line, never blocks); `finish` sends the last word and waits a bounded time. The
//! thread ends when the `Notifier` is finished or dropped. Per channel, messages go in
//! order: a failing one is retried (`outbox::retry_after`) before the next is tried.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Local;

use super::channel::{self, Channel};
use super::message::Message;
use super::outbox::{self, Pending};
use config::notify::Notify;
use report::status::ChannelState;

const QUEUE: usize = 1024;

enum Work {
    Send(Message),
    Ping(String),
    /// Try everything waiting once more, until done or the deadline; then answer.
    Flush(Instant, SyncSender<()>),
}

/// The daemon's handle on the delivery thread.
pub struct Notifier {
    tx: Option<SyncSender<Work>>,
    states: Arc<Mutex<Vec<ChannelState>>>,
    thread: Option<JoinHandle<()>>,
}

impl Notifier {
    /// Starts the thread, which first takes up what an earlier run left undelivered in
    /// `log_dir`.
    pub fn start(notify: &Notify, log_dir: &Path) -> Notifier {
        let channels = Channel::all(notify);
        let mut names: Vec<String> = channels.iter().map(Channel::name).collect();
        for url in [&notify.heartbeat_url, &notify.heartbeat_fail_url]
            .into_iter()
            .flatten()
        {
            names.push(heartbeat_name(url));
        }
        names.dedup();
        let states = Arc::new(Mutex::new(
            names
                .into_iter()
                .map(|channel| ChannelState {
                    channel,
                    ..Default::default()
                })
                .collect(),
        ));
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let mut w = Delivery {
            rx,
            channels,
            pending: Vec::new(),
            log_dir: log_dir.to_path_buf(),
            states: states.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || w.run())
            .ok();
        Notifier {
            tx: Some(tx),
            states,
            thread,
        }
    }

    pub fn send(&self, m: Message) {
        self.put(Work::Send(m));
    }

    /// A heartbeat GET (not retried: the next pass pings again).
    pub fn ping(&self, url: &str) {
        self.put(Work::Ping(url.to_string()));
    }

    fn put(&self, w: Work) {
        if let Some(tx) = &self.tx {
            if tx.try_send(w).is_err() {
                tracing::warn!("the notification queue is full; a notification was dropped");
            }
        }
    }

    /// A view of the channels' records that does not keep the thread alive.
    pub fn states_probe(&self) -> impl Fn() -> Vec<ChannelState> + Send + Sync + 'static {
        let states = self.states.clone();
        move || states.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Tries what is waiting once more for at most `wait`, keeps the rest in
    /// `log_dir` for the next run, and ends the thread.
    pub fn finish(mut self, wait: Duration) {
        if let Some(tx) = self.tx.take() {
            let (done, answered) = mpsc::sync_channel(1);
            if tx.try_send(Work::Flush(Instant::now() + wait, done)).is_ok() {
                let _ = answered.recv_timeout(wait + Duration::from_secs(1));
            }
        }
        if let Some(t) = self.thread.take() {
            // The thread ends once it sees the queue closed; a delivery in flight
            // takes at most its own time limit.
            let _ = t.join();
        }
    }
}

fn heartbeat_name(url: &str) -> String {
    format!("heartbeat {}", channel::host_of(url))
}

struct Delivery {
    rx: Receiver<Work>,
    channels: Vec<Channel>,
    pending: Vec<Pending>,
    log_dir: PathBuf,
    states: Arc<Mutex<Vec<ChannelState>>>,
}

impl Delivery {
    fn run(&mut self) {
        // Read here, not by the caller: `start` runs on the daemon's async threads.
        self.pending = outbox::load(&self.log_dir);
        let known: Vec<String> = self.channels.iter().map(Channel::name).collect();
        let before = self.pending.len();
        self.pending.retain(|p| known.contains(&p.channel));
        if self.pending.len() != before {
            tracing::warn!(
                dropped = before - self.pending.len(),
                "undelivered notifications for channels no longer configured were dropped"
            );
        }
        if !self.pending.is_empty() {
            tracing::info!(
                pending = self.pending.len(),
                "notifications left by the last run will be sent"
            );
        }
        loop {
            self.deliver_due(None);
            let wait = self.next_due().unwrap_or(Duration::from_secs(3600));
            match self.rx.recv_timeout(wait) {
                Ok(Work::Send(m)) => self.enqueue(m),
                Ok(Work::Ping(url)) => self.ping(&url),
                Ok(Work::Flush(deadline, done)) => {
                    self.deliver_due(Some(deadline));
                    self.save();
                    let _ = done.send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.save();
                    return;
                }
            }
        }
    }

    fn enqueue(&mut self, m: Message) {
        let now = Local::now();
        for c in &self.channels {
            self.pending.push(Pending {
                channel: c.name(),
                message: m.clone(),
                attempts: 0,
                first_at: now,
                next_at: now,
            });
        }
        self.save();
    }

    /// How long until the earliest retry.
    fn next_due(&self) -> Option<Duration> {
        let now = Local::now();
        self.pending
            .iter()
            .map(|p| (p.next_at - now).to_std().unwrap_or(Duration::ZERO))
            .min()
    }

    /// Delivers, per channel in order, every message that is due; with a deadline
    /// (the last word of a run), each channel's messages are tried once whatever
    /// their retry time, until the deadline.
    fn deliver_due(&mut self, deadline: Option<Instant>) {
        let mut blocked: HashSet<String> = HashSet::new();
        let mut i = 0;
        let mut changed = false;
        while i < self.pending.len() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let p = &self.pending[i];
            let due = deadline.is_some() || p.next_at <= Local::now();
            if blocked.contains(&p.channel) || !due {
                blocked.insert(p.channel.clone());
                i += 1;
                continue;
            }
            let Some(ch) = self.channels.iter().find(|c| c.name() == p.channel) else {
                self.pending.remove(i);
                continue;
            };
            changed = true;
            match ch.deliver(&p.message) {
                Ok(()) => {
                    tracing::info!(channel = %p.channel, event = %p.message.event, kind = p.message.kind.as_deref().unwrap_or("-"), "notification delivered");
                    self.record(&p.channel.clone(), Ok(()));
                    self.pending.remove(i);
                }
                Err(why) => {
                    let channel = p.channel.clone();
                    self.failed(i, &why);
                    self.record(&channel, Err(why));
                    blocked.insert(channel);
                    i += 1;
                }
            }
        }
        if changed {
            self.retain_given_up();
            self.save();
        }
        self.count_pending();
    }

    /// Counts a failed attempt of message `i` and sets its next try (or gives up).
    fn failed(&mut self, i: usize, why: &str) {
        let p = &mut self.pending[i];
        p.attempts += 1;
        let age = (Local::now() - p.first_at).to_std().unwrap_or_default();
        match outbox::retry_after(p.attempts, age) {
            Some(d) => {
                p.next_at = Local::now() + chrono::Duration::from_std(d).unwrap_or_default();
                tracing::warn!(channel = %p.channel, attempt = p.attempts, retry_in_secs = d.as_secs(), "notification not delivered: {why}");
            }
            None => {
                tracing::error!(channel = %p.channel, attempts = p.attempts, event = %p.message.event, "notification given up after 24 h: {why}");
                p.attempts = u32::MAX;
            }
        }
    }

    fn retain_given_up(&mut self) {
        self.pending.retain(|p| p.attempts != u32::MAX);
    }

    fn ping(&mut self, url: &str) {
        let name = heartbeat_name(url);
        match channel::get(url) {
            Ok(()) => self.record(&name, Ok(())),
            Err(why) => {
                tracing::warn!(channel = %name, "heartbeat not delivered: {why}");
                self.record(&name, Err(why));
            }
        }
    }

    fn record(&self, channel: &str, outcome: Result<(), String>) {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = states.iter_mut().find(|s| s.channel == channel) {
            match outcome {
                Ok(()) => s.last_success = Some(Local::now()),
                Err(why) => {
                    s.last_error = Some(why);
                    s.last_error_at = Some(Local::now());
                }
            }
        }
    }

    fn count_pending(&self) {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        for s in states.iter_mut() {
            s.pending = self.pending.iter().filter(|p| p.channel == s.channel).count();
        }
    }

    fn save(&self) {
        if let Err(e) = outbox::save(&self.log_dir, &self.pending) {
            tracing::error!(
                "cannot keep undelivered notifications in {}: {e}",
                self.log_dir.display()
            );
        }
    }
}
