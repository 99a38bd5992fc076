//! What an upload asks before it sends, and the reader that asks it as the bytes go:
//! `part` once before each request (it may wait, for the local copies first; false
//! stops the upload there), `bytes` before each slice of a request's body (it waits
//! its turn in the bandwidth budget; false stops). The body is read from the file as
//! it is sent, never held whole in memory; why a send was cut short (a stop, or the
//! file) is kept, so a local problem is never taken for the server's.

use std::cell::RefCell;
use std::io::{self, Read};

/// How much of a body is read between two questions.
const SLICE: usize = 256 * 1024;

pub trait Turns {
    /// Before a request of `len` bytes: false stops the upload.
    fn part(&self, len: u64) -> bool;
    /// Before `n` more bytes of it: false stops the upload.
    fn bytes(&self, n: u64) -> bool;
}

/// A plain function asked before each request, never within one (for tests and tools).
impl<F: Fn(u64) -> bool> Turns for F {
    fn part(&self, len: u64) -> bool {
        self(len)
    }
    fn bytes(&self, _: u64) -> bool {
        true
    }
}

/// Why a body was not read to its end.
#[derive(Debug)]
pub enum Cut {
    Stopped,
    Local(io::Error),
}

/// Reads `len` bytes of `inner` in slices, asking `turns` before each.
pub struct Paced<'a, R> {
    inner: R,
    left: u64,
    turns: &'a dyn Turns,
    cut: RefCell<Option<Cut>>,
}

impl<'a, R: Read> Paced<'a, R> {
    pub fn new(inner: R, len: u64, turns: &'a dyn Turns) -> Paced<'a, R> {
        Paced {
            inner,
            left: len,
            turns,
            cut: RefCell::new(None),
        }
    }

    /// Why it stopped early, if it did.
    pub fn cut(self) -> Option<Cut> {
        self.cut.into_inner()
    }

    fn fail(&self, cut: Cut) -> io::Error {
        let e = io::Error::other(format!("{cut:?}"));
        *self.cut.borrow_mut() = Some(cut);
        e
    }
}

impl<R: Read> Read for Paced<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(SLICE).min(self.left as usize);
        if !self.turns.bytes(n as u64) {
            return Err(self.fail(Cut::Stopped));
        }
        match self.inner.read(&mut buf[..n]) {
            Ok(0) => Err(self.fail(Cut::Local(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the file ended {} bytes early", self.left),
            )))),
            Ok(got) => {
                self.left -= got as u64;
                Ok(got)
            }
            Err(e) => Err(self.fail(Cut::Local(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Count(Cell<u64>, u64);
    impl Turns for Count {
        fn part(&self, _: u64) -> bool {
            true
        }
        fn bytes(&self, n: u64) -> bool {
            self.0.set(self.0.get() + n);
            self.0.get() <= self.1
        }
    }

    #[test]
    fn reads_the_length_asking_before_each_slice() {
        let data = vec![7u8; 600 * 1024];
        let turns = Count(Cell::new(0), u64::MAX);
        let mut r = Paced::new(&data[..], 500 * 1024, &turns);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 500 * 1024, "no more than its length");
        assert_eq!(turns.0.get(), 500 * 1024, "every byte asked for");
        assert!(r.cut().is_none());
    }

    #[test]
    fn a_stop_and_a_short_file_are_told_apart() {
        let data = vec![7u8; 600 * 1024];
        let turns = Count(Cell::new(0), 300 * 1024);
        let mut r = Paced::new(&data[..], 600 * 1024, &turns);
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        assert!(matches!(r.cut(), Some(Cut::Stopped)));
        let go = |_: u64| true;
        let mut r = Paced::new(&data[..10], 20, &go);
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        assert!(matches!(r.cut(), Some(Cut::Local(_))));
    }
}
