//! Running under systemd: the sd_notify messages on a real datagram socket, console
//! lines for the journal, and the unit through `systemd-analyze verify`.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

tests![
    ready_status_watchdog_and_stopping_reach_systemd,
    an_abstract_socket_works_and_no_socket_means_silence,
    journal_lines_carry_priorities_and_no_timestamp,
    the_units_pass_systemd_analyze_verify,
    install_runs_as_the_account_asked_for_and_never_takes_a_password_on_linux,
    install_refuses_a_config_that_is_not_ready,
    a_hung_backup_disk_stops_the_watchdog,
];

/// Every message received until `secs` have passed or `done` holds for the list.
fn receive(sock: &UnixDatagram, secs: u64, mut done: impl FnMut(&[String]) -> bool) -> Vec<String> {
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !done(&got) {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

/// Discards the messages already waiting.
fn drain(sock: &UnixDatagram) {
    sock.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    while sock.recv(&mut buf).is_ok() {}
    sock.set_nonblocking(false).unwrap();
}

fn notify_daemon(env: &Env, socket: Option<&std::path::Path>, watchdog_usec: Option<u64>) -> Daemon {
    let mut c = env.command(&["run"]);
    c.env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID");
    if let Some(s) = socket {
        c.env("NOTIFY_SOCKET", s);
    }
    if let Some(u) = watchdog_usec {
        c.env("WATCHDOG_USEC", u.to_string());
    }
    Daemon(c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

fn ready_status_watchdog_and_stopping_reach_systemd() {
    let env = Env::new(json!({ "reconcile_interval_secs": 2 }));
    env.record(&dated(today(), "a.dav"), b"a");
    let path = env.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let started = Instant::now();
    let mut daemon = notify_daemon(&env, Some(&path), Some(2_000_000));

    let first = receive(&sock, 60, |m| m.iter().any(|m| m.contains("READY=1")));
    let ready = first.iter().find(|m| m.contains("READY=1")).expect("READY=1");
    assert!(
        env.logs.join("status.json").exists(),
        "READY=1 comes after the first pass"
    );
    assert!(
        ready.contains("STATUS=last pass") && ready.contains("1 copied"),
        "{ready}"
    );
    assert!(env.backup.join(dated(today(), "a.dav")).exists());
    println!("READY=1 after {:?}", started.elapsed());

    // The watchdog at half of WATCHDOG_USEC (1 s), and a STATUS= line after each pass.
    let window = Instant::now();
    let later = receive(&sock, 6, |_| false);
    let pings = later.iter().filter(|m| *m == "WATCHDOG=1").count();
    let secs = window.elapsed().as_secs_f64();
    assert!(
        (3..=9).contains(&pings),
        "{pings} pings in {secs:.1} s, want about one a second: {later:?}"
    );
    assert!(later.iter().any(|m| m.starts_with("STATUS=last pass")), "{later:?}");
    assert!(!later.iter().any(|m| m.contains("READY=1")), "READY=1 is said once");

    signal(&daemon, "TERM");
    let end = receive(&sock, 30, |m| m.iter().any(|m| m == "STOPPING=1"));
    assert!(end.iter().any(|m| m == "STOPPING=1"), "{end:?}");
    assert_eq!(exit_code(&mut daemon, 60), Some(0));
}

fn an_abstract_socket_works_and_no_socket_means_silence() {
    let env = Env::new(json!({}));
    let name = format!("@cctv-mirror-test-{}", std::process::id());
    let sock = {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap();
        UnixDatagram::bind_addr(&addr).unwrap()
    };
    let daemon = notify_daemon(&env, Some(std::path::Path::new(&name)), None);
    let got = receive(&sock, 60, |m| m.iter().any(|m| m.contains("READY=1")));
    assert!(got.iter().any(|m| m.contains("READY=1")), "{got:?}");
    assert!(
        !got.iter().any(|m| m.contains("WATCHDOG")),
        "no watchdog asked for: {got:?}"
    );
    drop(daemon);

    // Without NOTIFY_SOCKET the daemon says nothing, even with a socket listening.
    let path = env.dir.path().join("quiet.sock");
    let quiet = UnixDatagram::bind(&path).unwrap();
    let _daemon = notify_daemon(&env, None, Some(2_000_000));
    wait_until(60, "a pass", || env.logs_text().matches("pass finished").count() >= 2);
    assert!(receive(&quiet, 3, |_| false).is_empty());
}

fn journal_lines_carry_priorities_and_no_timestamp() {
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"a");
    let out = env
        .command(&["run", "--once"])
        .env("JOURNAL_STREAM", "8:12345")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() > 2, "{text}");
    for line in text.lines() {
        assert!(
            line.starts_with("<6>") || line.starts_with("<4>") || line.starts_with("<3>"),
            "{line}"
        );
        assert!(!line.contains('\u{1b}'), "no colour: {line}");
        assert!(!line[3..].starts_with("20"), "no timestamp: {line}");
    }
    assert!(text.contains("<6>pass finished"), "{text}");
    // Outside the journal: timestamps as before.
    let plain = env
        .command(&["run", "--once"])
        .env_remove("JOURNAL_STREAM")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&plain.stdout).starts_with("20"));
}

fn verify_unit(unit: &str, dir: &std::path::Path) -> Outcome {
    let Ok(v) = Command::new("systemd-analyze").arg("--version").output() else {
        return missing("systemd-analyze: apt-get install systemd");
    };
    assert!(v.status.success());
    let path = dir.join("cctv-mirror.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{unit}", show(&out));
    let noise = String::from_utf8_lossy(&out.stderr);
    assert!(
        !noise.contains("cctv-mirror.service"),
        "warnings about the unit: {noise}"
    );
    Ok(())
}

fn the_units_pass_systemd_analyze_verify() -> Outcome {
    let env = Env::new(json!({}));
    let packaged = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/systemd/cctv-mirror.service"
    ))
    .unwrap()
    .replace("/usr/local/bin/cctv-mirror", BIN);
    verify_unit(&packaged, env.dir.path())?;

    // Where systemd is not running, `service install` prints the unit for this config.
    if std::path::Path::new("/run/systemd/system").is_dir() {
        return not_applicable(
            "systemd runs here: the packaged unit passed, but `service install` would install a real service",
        );
    }
    let out = env.command(&["service", "install"]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find("# cctv-mirror:").expect("the unit is printed");
    let end = text.find("then run:").unwrap();
    let unit = &text[start..end];
    assert!(unit.contains(&format!("--config {}", env.config.display())), "{unit}");
    assert!(
        unit.contains(&format!(
            "ReadWritePaths=-{} {}",
            env.backup.display(),
            env.logs.display()
        )),
        "{unit}"
    );
    assert!(text.contains("systemctl enable --now cctv-mirror"), "{text}");
    verify_unit(unit, env.dir.path())
}

fn install_runs_as_the_account_asked_for_and_never_takes_a_password_on_linux() -> Outcome {
    if std::path::Path::new("/run/systemd/system").is_dir() {
        return not_applicable("systemd runs here: `service install` would install a real service");
    }
    let env = Env::new(json!({}));
    let out = env
        .command(&["service", "install", "--account", "cctv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\nUser=cctv\nExecStart="),
        "{}",
        show(&out)
    );
    let with_password = |var: &str| env.command(&["service", "install", "--account", "cctv", "--password-env", var]);
    let out = with_password("CCTV_TEST_UNSET_VAR")
        .env_remove("CCTV_TEST_UNSET_VAR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CCTV_TEST_UNSET_VAR is not set"));
    let out = with_password("CCTV_TEST_PW")
        .env("CCTV_TEST_PW", "s3cret-value")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a password means nothing to systemd: {}",
        show(&out)
    );
    assert!(!show(&out).contains("s3cret-value"), "the password never appears");
    Ok(())
}

fn install_refuses_a_config_that_is_not_ready() {
    let env = Env::new(json!({ "backup_dir": "/nonexistent-disk/cctv/backup" }));
    let out = env.command(&["service", "install"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not ready") && err.contains("backup_dir"), "{err}");
    let out = env.command(&["service", "run"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "`service run` is for Windows: {}",
        show(&out)
    );
}

/// A backup disk that hangs (a frozen file system: every write waits, as on a dead
/// iSCSI session) stops the watchdog's pings while a copy is stuck on it, and they
/// resume once it moves again: the proof of life comes from the work, not a timer.
fn a_hung_backup_disk_stops_the_watchdog() -> Outcome {
    need_root()?;
    if Command::new("fsfreeze").arg("--version").output().is_err() {
        return missing("fsfreeze: apt-get install util-linux");
    }
    let env = Env::new(json!({ "reconcile_interval_secs": 3600 }));
    let disk = FrozenDisk::mount(&env.dir.path().join("disk.img"), &env.dir.path().join("mnt"));
    let Some(disk) = disk else {
        return missing("an ext4 file system on a loop device: mkfs.ext4 or mount -o loop failed");
    };
    env.write_config(json!({ "reconcile_interval_secs": 3600, "backup_dir": disk.mnt.join("backup") }));
    std::fs::create_dir_all(disk.mnt.join("backup")).unwrap();
    env.adopt_backup();
    // Today's folder exists before the watch, as on a recorder mid-day: the close of
    // a new recording is then reported at once.
    std::fs::create_dir_all(env.source.join(today().format("%Y/%m/%d").to_string())).unwrap();
    let path = env.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut c = env.command(&["run"]);
    c.env("NOTIFY_SOCKET", &path).env("WATCHDOG_USEC", "1000000");
    let daemon = Daemon(c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let ready = receive(&sock, 60, |m| m.iter().any(|m| m.contains("READY=1")));
    assert!(ready.iter().any(|m| m.contains("READY=1")), "{ready:?}");
    let idle = receive(&sock, 3, |_| false);
    assert!(
        idle.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "idle pings: {idle:?}"
    );

    disk.freeze();
    env.record(&dated(today(), "stuck.dav"), &payload(8 << 20, 3));
    std::thread::sleep(Duration::from_secs(3)); // the watcher queues it; the copy hangs
    drain(&sock); // what was sent before the copy was queued
    let hung = receive(&sock, 4, |_| false);
    let pings = hung.iter().filter(|m| *m == "WATCHDOG=1").count();
    disk.thaw();
    assert_eq!(pings, 0, "pings while a copy hung on the disk: {hung:?}");
    let back = receive(&sock, 30, |m| m.iter().filter(|m| *m == "WATCHDOG=1").count() >= 2);
    assert!(back.iter().filter(|m| *m == "WATCHDOG=1").count() >= 2, "{back:?}");
    wait_until(60, "the copy to finish", || {
        disk.mnt.join("backup").join(dated(today(), "stuck.dav")).exists()
    });
    drop(daemon);
    Ok(())
}

/// An ext4 image on a loop device that can be frozen; thawed and unmounted on drop.
struct FrozenDisk {
    mnt: std::path::PathBuf,
}

impl FrozenDisk {
    fn mount(img: &std::path::Path, mnt: &std::path::Path) -> Option<FrozenDisk> {
        let run = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
        std::fs::create_dir_all(mnt).unwrap();
        let ok = run(Command::new("truncate").args(["-s", "64M"]).arg(img))
            && run(Command::new("mkfs.ext4").arg("-q").arg(img))
            && run(Command::new("mount").args(["-o", "loop"]).arg(img).arg(mnt));
        ok.then(|| FrozenDisk { mnt: mnt.to_path_buf() })
    }
    fn freeze(&self) {
        assert!(Command::new("fsfreeze")
            .arg("-f")
            .arg(&self.mnt)
            .status()
            .unwrap()
            .success());
    }
    fn thaw(&self) {
        let _ = Command::new("fsfreeze").arg("-u").arg(&self.mnt).status();
    }
}

impl Drop for FrozenDisk {
    fn drop(&mut self) {
        self.thaw();
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
    }
}
