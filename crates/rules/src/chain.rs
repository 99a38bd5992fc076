//! Whether a recording's DHAV frames still form an unbroken chain, read as a stream
//! (the bytes come in chunks of any size, once, beside the hash): each frame starts
//! `DHAV` with its length at byte 12 and its packed time at byte 16, ends `dhav` and
//! that length, and the next frame starts right after it; the first may follow a 1 KiB
//! `DAHUA` header. A file that ends inside a frame was truncated; a frame whose end
//! does not match its start was damaged. Pure: no file is touched here.

use chrono::NaiveDateTime;

use crate::span;

/// Frame lengths outside this are damage, not frames.
const MIN_FRAME: u32 = 32;
const MAX_FRAME: u32 = 64 * 1024 * 1024;
/// Where the first frame must start by.
const FIRST_BY: usize = 1024 + 16;

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chain {
    /// Every byte is in a whole frame.
    Whole { frames: u64, last: Option<NaiveDateTime> },
    /// Not a DHAV recording (no frame at its start): its frames are not checked.
    NotDhav,
    /// The chain breaks at byte `at`: why, and the time of the last whole frame.
    Broken {
        at: u64,
        why: String,
        frames: u64,
        last_good: Option<NaiveDateTime>,
    },
}

/// The walk, fed chunk by chunk.
#[derive(Debug, Default)]
pub struct Walk {
    /// Bytes walked so far.
    seen: u64,
    /// The first bytes, gathered until the first frame can be looked for.
    head: Vec<u8>,
    /// Where the next frame starts; None before the first is found.
    next: Option<u64>,
    /// The frame whose end (`dhav` + length) is awaited: where that end starts, and
    /// the length it must repeat.
    end_of: Option<(u64, u32)>,
    /// Bytes gathered for the header or end being read across chunks.
    partial: Vec<u8>,
    frames: u64,
    last: Option<NaiveDateTime>,
    pending_time: Option<NaiveDateTime>,
    broken: Option<(u64, String)>,
    not_dhav: bool,
}

impl Walk {
    pub fn new() -> Walk {
        Walk::default()
    }

    /// The next bytes of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.broken.is_some() || self.not_dhav {
            self.seen += chunk.len() as u64;
            return;
        }
        if self.next.is_none() {
            // The first frame is looked for in the first FIRST_BY + 4 bytes, however
            // they come.
            self.head.extend_from_slice(chunk);
            if self.head.len() >= FIRST_BY + 4 {
                self.start_walk();
            }
            return;
        }
        let start = self.seen;
        self.seen += chunk.len() as u64;
        self.walk(chunk, start);
    }

    /// Finds the first frame in the head gathered so far and walks the head.
    fn start_walk(&mut self) {
        let head = std::mem::take(&mut self.head);
        match find(&head, b"DHAV").filter(|&i| i <= FIRST_BY) {
            Some(i) => {
                self.next = Some(i as u64);
                self.seen = head.len() as u64;
                self.walk(&head, 0);
            }
            None => {
                self.not_dhav = true;
                self.seen = head.len() as u64;
            }
        }
    }

    fn walk(&mut self, chunk: &[u8], start: u64) {
        while self.broken.is_none() {
            let (at, want) = match self.end_of {
                Some((at, _)) => (at, 8),
                None => (self.next.unwrap_or(0), 20),
            };
            if !self.gather(chunk, start, at, want) {
                return;
            }
            let bytes = std::mem::take(&mut self.partial);
            match self.end_of.take() {
                Some((at, len)) => self.check_end(at, len, &bytes),
                None => self.check_start(at, &bytes),
            }
        }
    }

    /// Gathers `want` bytes at offset `at` from `chunk` (which starts at `start`) into
    /// `partial`; true once they are all there.
    fn gather(&mut self, chunk: &[u8], start: u64, at: u64, want: usize) -> bool {
        let from = at + self.partial.len() as u64;
        if from < start {
            // Already passed: cannot happen while offsets only grow.
            return false;
        }
        let i = (from - start) as usize;
        if i >= chunk.len() {
            return false;
        }
        let take = (want - self.partial.len()).min(chunk.len() - i);
        self.partial.extend_from_slice(&chunk[i..i + take]);
        self.partial.len() == want
    }

    fn check_start(&mut self, at: u64, h: &[u8]) {
        let len = u32_le(&h[12..16]);
        if &h[..4] != b"DHAV" {
            self.broken = Some((at, "no frame where the previous one ends".into()));
        } else if !(MIN_FRAME..=MAX_FRAME).contains(&len) {
            self.broken = Some((at, format!("a frame claims {len} bytes")));
        } else {
            self.pending_time = span::unpack_time(u32_le(&h[16..20]));
            self.end_of = Some((at + u64::from(len) - 8, len));
        }
    }

    fn check_end(&mut self, at: u64, len: u32, e: &[u8]) {
        if &e[..4] != b"dhav" || u32_le(&e[4..8]) != len {
            self.broken = Some((at + 8 - u64::from(len), "a frame's end does not match its start".into()));
            return;
        }
        self.frames += 1;
        self.last = self.pending_time.or(self.last);
        self.next = Some(at + 8);
    }

    /// The verdict once every byte was fed.
    pub fn finish(mut self) -> Chain {
        if self.next.is_none() && !self.not_dhav {
            self.start_walk();
        }
        if self.not_dhav || (self.next.is_none() && self.broken.is_none()) {
            return Chain::NotDhav;
        }
        let (frames, last_good) = (self.frames, self.last);
        if let Some((at, why)) = self.broken {
            return Chain::Broken {
                at,
                why,
                frames,
                last_good,
            };
        }
        let next = self.next.unwrap_or(0);
        if next != self.seen || self.end_of.is_some() {
            return Chain::Broken {
                at: next,
                why: format!("the file ends inside a frame ({} bytes)", self.seen),
                frames,
                last_good,
            };
        }
        Chain::Whole {
            frames,
            last: last_good,
        }
    }
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::blank_frame as frame;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn file() -> Vec<u8> {
        let mut f = b"DAHUA".to_vec();
        f.resize(1024, 0);
        for i in 0..50 {
            f.extend(frame(
                at("2026-11-26 08:00:00") + chrono::TimeDelta::seconds(i),
                40 + i as usize,
            ));
        }
        f
    }

    fn walk(bytes: &[u8], chunk: usize) -> Chain {
        let mut w = Walk::new();
        for c in bytes.chunks(chunk.max(1)) {
            w.feed(c);
        }
        w.finish()
    }

    #[test]
    fn a_whole_file_is_whole_in_chunks_of_any_size() {
        let f = file();
        for chunk in [1, 3, 7, 64, 1100, 1 << 20] {
            assert_eq!(
                walk(&f, chunk),
                Chain::Whole {
                    frames: 50,
                    last: Some(at("2026-11-26 08:00:49"))
                },
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn truncation_and_damage_break_the_chain_with_the_last_good_time() {
        let f = file();
        let cut = &f[..f.len() - 10];
        let Chain::Broken { last_good, frames, .. } = walk(cut, 4096) else {
            panic!("a cut file must be broken");
        };
        assert_eq!((frames, last_good), (49, Some(at("2026-11-26 08:00:48"))));
        let mut bad = f.clone();
        bad[1024 + 40 + 41 + 12] ^= 0x55; // the third frame's length
        let Chain::Broken { at: pos, last_good, .. } = walk(&bad, 500) else {
            panic!("a damaged length must break the chain");
        };
        assert_eq!(pos, 1024 + 40 + 41);
        assert_eq!(last_good, Some(at("2026-11-26 08:00:01")));
        assert_eq!(walk(b"not a recording at all", 4), Chain::NotDhav);
        assert_eq!(walk(b"", 4), Chain::NotDhav);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No bytes make the walk panic, whatever the chunk size.
            #[test]
            fn nothing_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), chunk in 1usize..50, cut in 0usize..3000) {
                let _ = walk(&bytes, chunk);
                let mut f = file();
                f.truncate(cut);
                f.extend(&bytes);
                let _ = walk(&f, chunk);
            }
        }
    }
}
