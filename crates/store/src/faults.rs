//! Faults for tests: damage injected before read-backs, and a step run just before a
//! copy creates its first file (to take the volume away there). Built with the
//! `testing` feature, which only dev-dependencies turn on.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

/// Damage for tests: each of the next `armed` read-backs first finds one byte of the
/// range it reads flipped on the disk, as a copy damaged between its read and its
/// write. Also the ranges read back, in order.
#[derive(Debug, Default)]
pub struct Faults {
    armed: std::sync::atomic::AtomicU32,
    ranges: Mutex<Vec<(u64, u64)>>,
    before_create: Step,
}

/// A step to run once.
#[derive(Default)]
struct Step(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Step")
    }
}

impl Faults {
    /// Runs `step` once, the next time a copy is about to create its first file in the
    /// backup (after its check of the volume's marker).
    pub fn before_create(&self, step: impl FnOnce() + Send + 'static) {
        *self.before_create.0.lock().unwrap() = Some(Box::new(step));
    }

    pub(super) fn creating(&self) {
        let step = self.before_create.0.lock().unwrap().take();
        if let Some(step) = step {
            step();
        }
    }

    pub fn arm(&self, n: u32) {
        self.armed.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// The ranges read back since the last call.
    pub fn read_back(&self) -> Vec<(u64, u64)> {
        std::mem::take(&mut *self.ranges.lock().unwrap())
    }

    pub(super) fn strike(&self, path: &Path, from: u64, to: u64) {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        self.ranges.lock().unwrap().push((from, to));
        let armed = self
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if armed.is_err() || from == to {
            return;
        }
        let at = from + (to - from) / 2;
        let mut f = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
        let mut byte = [0u8];
        f.seek(SeekFrom::Start(at)).unwrap();
        f.read_exact(&mut byte).unwrap();
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&[byte[0] ^ 0x5a]).unwrap();
        f.sync_all().unwrap();
    }
}
