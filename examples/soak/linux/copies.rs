//! How soon each finished recording is whole in the backup: a thread that looks for
//! the recordings not yet seen there (by path and size) every 25 ms of real time.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use super::clock::pause;
use super::ledger::{Finished, Shared};
use crate::shared::take_whole;

/// Watches `backup` for what the recorder finishes, until the channel closes and
/// nothing is left to find, or `give_up` says so.
pub fn watch(backup: PathBuf, finished: Receiver<Finished>, ledger: Shared, give_up: impl Fn() -> bool) {
    let mut waiting: Vec<Finished> = Vec::new();
    let mut open = true;
    while (open || !waiting.is_empty()) && !give_up() {
        loop {
            match finished.try_recv() {
                Ok(f) => waiting.push(f),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let now = Instant::now();
        take_whole(&backup, &mut waiting, |f| {
            let mut ledger = ledger.lock().unwrap();
            ledger.seen.insert(f.rel.clone(), now);
            ledger.unsaved.remove(&f.rel);
        });
        pause(Duration::from_millis(25));
    }
}
