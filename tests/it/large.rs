//! A recording of many gigabytes, as a 4K camera writes in an hour: 6 GiB, followed
//! while it grows across the 4 GiB mark, completed, verified, and reported with the
//! span its frames give; and 6 GiB uploaded offsite in parts and read back whole. The
//! source is sparse (frames of 8 MiB whose payload is a hole), so it costs little to
//! write; the backup (and the S3 server) hold the real 6 GiB.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{json, Value};

use crate::common::*;

tests![
    a_6_gib_recording_is_followed_past_4_gib_completed_verified_and_reported,
    a_6_gib_recording_goes_offsite_in_parts_and_comes_back_whole,
];

const GIB: u64 = 1 << 30;
/// One frame: a 24-byte header, a payload left as a hole, an 8-byte trailer.
const FRAME: u64 = 8 << 20;
const SIZE: u64 = 6 * GIB;
/// The disk the test needs: the backup's copy, and room to spare.
const NEEDED: u64 = 8 * GIB;

/// Writes frames `from..to` of a recording of `camera` that starts at `start`, one
/// every `secs_per_frame` seconds.
fn write_frames(path: &Path, camera: u8, start: NaiveDateTime, frames: std::ops::Range<u64>) {
    let total = SIZE / FRAME;
    let mut f = OpenOptions::new().create(true).write(true).truncate(false).open(path).unwrap();
    for i in frames {
        // 3,599 s over the frames: the first at start, the last at start + 59:59.
        let t = start + TimeDelta::milliseconds((i * 3_599_000 / (total - 1)) as i64);
        f.seek(SeekFrom::Start(i * FRAME)).unwrap();
        f.write_all(&header(camera, i as u32, t)).unwrap();
        f.seek(SeekFrom::Start((i + 1) * FRAME - 8)).unwrap();
        f.write_all(b"dhav").unwrap();
        f.write_all(&(FRAME as u32).to_le_bytes()).unwrap();
    }
    f.sync_all().unwrap();
}

/// A DHAV frame header as `demo::frames` lays it out, for a frame of `FRAME` bytes.
fn header(camera: u8, seq: u32, t: NaiveDateTime) -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(b"DHAV");
    h.extend_from_slice(&[if seq.is_multiple_of(25) { 0xFD } else { 0xFC }, 0, camera, 0]);
    h.extend_from_slice(&seq.to_le_bytes());
    h.extend_from_slice(&(FRAME as u32).to_le_bytes());
    h.extend_from_slice(&cctv_mirror::rules::span::pack_time(t).to_le_bytes());
    h.extend_from_slice(&[0, 0, 0]);
    let sum = h.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    h.push(sum);
    h
}

/// BLAKE3 of a whole file, read in 8 MiB blocks.
fn hash(path: &Path) -> String {
    let mut f = File::open(path).unwrap();
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 8 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return hasher.finalize().to_hex().to_string();
        }
        hasher.update(&buf[..n]);
    }
}

/// BLAKE3 of what is written into it.
struct Hashing(blake3::Hasher);

impl Write for Hashing {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn a_6_gib_recording_is_followed_past_4_gib_completed_verified_and_reported() -> Outcome {
    let env = Env::new(json!({}));
    let free = fs4::available_space(env.dir.path()).unwrap_or(0);
    if free < NEEDED {
        return missing(format!("{} GiB free on the test folder's disk (it has {})", NEEDED / GIB, free / GIB));
    }
    env.write_config(json!({"live_sync_secs": 1, "reconcile_interval_secs": 5}));
    let day = days_ago(1);
    let start = day.and_hms_opt(10, 0, 0).unwrap();
    let rel = dated(day, "cam07/recording-0001.dav");
    let growing = env.source.join(format!("{rel}_"));
    std::fs::create_dir_all(growing.parent().unwrap()).unwrap();
    env.adopt_backup();
    let daemon = env.watching();

    // 3.5 GiB recorded: the in-progress copy follows.
    let first = (7 * GIB / 2) / FRAME;
    write_frames(&growing, 7, start, 0..first);
    let partial = env.backup.join(format!("{rel}.partial"));
    wait_until(600, "the in-progress copy at 3.5 GiB", || len(&partial) == first * FRAME);
    // On past 4 GiB to 6 GiB, then finished: renamed to its final name.
    write_frames(&growing, 7, start, first..SIZE / FRAME);
    wait_until(600, "the in-progress copy at 6 GiB", || len(&partial) == SIZE);
    let finished = env.source.join(&rel);
    std::fs::rename(&growing, &finished).unwrap();
    let copy = env.backup.join(&rel);
    wait_until(600, "the finished copy", || len(&copy) == SIZE && !partial.exists());
    let local = hash(&finished);
    assert_eq!(hash(&copy), local, "the backup is byte for byte the recording");

    stop(daemon);

    let out = env.command(&["verify", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["result"]["files"], 1, "{v}");
    assert_eq!(v["result"]["bytes"], SIZE, "{v}");

    // The span comes from its frames: the last one is past the 4 GiB mark.
    let out = env.command(&["report", "--days", "3", "--format", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
    assert_eq!(doc["verdict"]["unknown_times"], 0, "{doc}");
    let cam = &doc["cameras"][0];
    assert_eq!(cam["camera"], "cam07", "{doc}");
    assert_eq!(cam["since"], format!("{}T10:00:00", day.format("%Y-%m-%d")), "{doc}");
    let d = cam["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == day.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| panic!("{doc}"));
    let covered = d["covered_secs"].as_u64().unwrap();
    assert!((3599..=3600).contains(&covered), "an hour: {d}");
    assert_eq!(d["bytes"], SIZE, "{d}");
    Ok(())
}

fn a_6_gib_recording_goes_offsite_in_parts_and_comes_back_whole() -> Outcome {
    let env = Env::new(json!({}));
    let free = fs4::available_space(env.dir.path()).unwrap_or(0);
    // The backup's copy and the server's.
    if free < NEEDED + SIZE {
        return missing(format!("{} GiB free on the test folder's disk (it has {})", (NEEDED + SIZE) / GIB, free / GIB));
    }
    let _weed = crate::offsite::Weed::start()?;
    std::fs::write(env.dir.path().join("s3-secret.txt"), crate::offsite::SECRET).unwrap();
    let mut cfg = crate::offsite::section(json!({"secret_access_key_file": "s3-secret.txt", "part_size_mib": 64}));
    cfg["offsite"].as_object_mut().unwrap().remove("secret_access_key_env");
    cfg["reconcile_interval_secs"] = json!(5);
    env.write_config(cfg);
    let day = days_ago(1);
    let rel = dated(day, "cam07/recording-0002.dav");
    let source = env.source.join(&rel);
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    write_frames(&source, 7, day.and_hms_opt(11, 0, 0).unwrap(), 0..SIZE / FRAME);
    env.adopt_backup();
    let daemon = env.watching();

    let s3 = crate::offsite::client(crate::offsite::SECRET, crate::offsite::BUCKET);
    let key = format!("site/{rel}");
    let head = || s3.head(&key).ok().flatten().filter(|h| h.size == SIZE);
    wait_until(1800, "the 6 GiB object in the bucket", || head().is_some());
    stop(daemon);
    let etag = head().unwrap().etag.unwrap_or_default();
    assert!(etag.trim_matches('"').ends_with("-96"), "96 parts of 64 MiB: {etag}");
    let mut back = Hashing(blake3::Hasher::new());
    assert_eq!(s3.get_into(&key, &mut back).unwrap(), SIZE);
    assert_eq!(back.0.finalize().to_hex().to_string(), hash(&source), "read back whole, byte for byte");
    Ok(())
}
