//! The bytes of a demo recording: DHAV frames, each carrying its own local time, laid
//! out as `rules::span` (and FFmpeg's `dhav.c`) reads them. Pure: the same camera and
//! times always give the same bytes.
//!
//! A frame is a 24-byte header (`DHAV`, type, channel, sequence number, its length at
//! byte 12, its packed local time at byte 16), a payload of 128 to 256 bytes, and an
//! 8-byte trailer (`dhav` and its length again). Payload bytes all have their high bit
//! set, so no payload can be mistaken for a `DHAV`/`dhav` marker.

use chrono::{NaiveDateTime, TimeDelta};

use crate::rules::span::pack_time;

/// The header's and trailer's lengths.
pub const HEADER: usize = 24;
pub const TRAILER: usize = 8;
/// The seconds between two frames of a past recording.
pub const EVERY_SECS: i64 = 10;

/// Frame `seq` of `camera` (1-based), stamped `t`.
pub fn frame(camera: u32, seq: u32, t: NaiveDateTime) -> Vec<u8> {
    let time = pack_time(t);
    let mut state = mix(time ^ camera.wrapping_mul(0x9E37_79B9) ^ seq.rotate_left(13));
    let payload = 128 + (state % 129) as usize;
    let len = HEADER + payload + TRAILER;
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(b"DHAV");
    // A key frame now and then, the others plain video frames.
    f.push(if seq.is_multiple_of(25) { 0xFD } else { 0xFC });
    f.push(0);
    f.push(camera.saturating_sub(1).min(255) as u8);
    f.push(0);
    f.extend_from_slice(&seq.to_le_bytes());
    f.extend_from_slice(&(len as u32).to_le_bytes());
    f.extend_from_slice(&time.to_le_bytes());
    f.extend_from_slice(&[0, 0, 0]);
    let sum = f.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    f.push(sum);
    for _ in 0..payload {
        state = mix(state);
        f.push((state as u8) | 0x80);
    }
    f.extend_from_slice(b"dhav");
    f.extend_from_slice(&(len as u32).to_le_bytes());
    f
}

/// A whole recording of `camera` from `start` to `last` (both seconds included): a
/// frame every `EVERY_SECS` from `start`, and one at `last`, so its frames give the
/// same span as its name.
pub fn segment(camera: u32, start: NaiveDateTime, last: NaiveDateTime) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut seq = 0u32;
    let mut t = start;
    while t < last {
        bytes.extend(frame(camera, seq, t));
        seq = seq.wrapping_add(1);
        t += TimeDelta::seconds(EVERY_SECS);
    }
    bytes.extend(frame(camera, seq, last));
    bytes
}

/// A step of a small, fixed pseudo-random sequence (xorshift), never stuck at zero.
fn mix(x: u32) -> u32 {
    let mut x = x ^ 0xA5A5_5A5A;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if x == 0 {
        0x1234_5678
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::span::{from_frames, Span, PROBE_BYTES};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn read_back(bytes: &[u8]) -> Option<Span> {
        let head = &bytes[..bytes.len().min(PROBE_BYTES)];
        let tail = &bytes[bytes.len().saturating_sub(PROBE_BYTES)..];
        from_frames(head, tail)
    }

    #[test]
    fn a_segment_reads_back_as_its_span() {
        for (a, b) in [
            ("2026-11-27 08:00:00", "2026-11-27 08:59:59"),
            ("2026-11-27 08:00:00", "2026-11-27 08:49:59"),
            ("2026-11-27 23:59:58", "2026-11-27 23:59:59"),
            ("2026-11-27 10:00:00", "2026-11-27 10:00:00"),
        ] {
            let bytes = segment(3, at(a), at(b));
            let want = Span {
                start: at(a),
                end: at(b) + TimeDelta::seconds(1),
            };
            assert_eq!(read_back(&bytes), Some(want), "{a} to {b}");
        }
    }

    #[test]
    fn frames_have_the_layout_and_size_asked_for() {
        let t = at("2026-11-27 08:00:10");
        for seq in 0..50 {
            let f = frame(2, seq, t);
            let len = f.len();
            assert!((HEADER + 128 + TRAILER..=HEADER + 256 + TRAILER).contains(&len));
            assert_eq!(&f[..4], b"DHAV");
            assert_eq!(f[12..16], (len as u32).to_le_bytes());
            assert_eq!(f[16..20], pack_time(t).to_le_bytes());
            assert_eq!(&f[len - 8..len - 4], b"dhav");
            assert_eq!(f[len - 4..], (len as u32).to_le_bytes());
            assert!(f[HEADER..len - TRAILER].iter().all(|&b| b >= 0x80));
        }
        assert_eq!(frame(2, 7, t), frame(2, 7, t), "the same input, the same bytes");
        assert_ne!(frame(2, 7, t), frame(3, 7, t));
    }

    #[test]
    fn an_hour_is_small() {
        let bytes = segment(1, at("2026-11-27 08:00:00"), at("2026-11-27 08:59:59"));
        assert!(bytes.len() < 100 * 1024, "{} bytes", bytes.len());
    }
}
