//! The Windows service under Wine's real service manager: install → start → a
//! recording copied → stop (with a 1 GiB copy in flight) → status.json says stopped →
//! uninstall → the service manager no longer knows it; the Event Log entries; and the
//! windowless `cctv-mirrorw.exe`. Runs only against the Windows build
//! (`scripts/wine-tests.sh`), which starts a persistent wineserver and boots the prefix
//! with the Event Log debug channel on, its output in `CCTV_MIRROR_TEST_WINE_EVENTS`.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::json;

use crate::common::*;

tests![
    the_windows_service_lives_and_dies_cleanly,
    service_run_from_a_console_says_to_use_run,
    the_windowless_twin_has_no_console_and_works,
    a_service_with_spaces_in_its_paths_starts_and_stops,
];

const NAME: &str = "cctv-mirror-test";

fn wine() -> Command {
    Command::new(std::env::var_os("CCTV_MIRROR_TEST_RUNNER").unwrap_or("wine".into()))
}

fn service(env: &Env, args: &[&str]) -> Output {
    let mut c = program();
    c.arg("service").args(args).args(["--name", NAME]);
    if args[0] == "install" {
        c.arg("--config").arg(&env.config);
    }
    c.output().unwrap()
}

fn events() -> String {
    std::env::var_os("CCTV_MIRROR_TEST_WINE_EVENTS")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
}

fn the_windows_service_lives_and_dies_cleanly() -> Outcome {
    if !windows_build() {
        return not_applicable("Windows build only: scripts/wine-tests.sh runs it");
    }
    let env = Env::new(json!({ "reconcile_interval_secs": 3600 }));
    let _ = service(&env, &["uninstall"]); // a previous run's leftover, if any
    env.record(&dated(today(), "before.dav"), b"recorded before the service");
    let tomorrow = today().succ_opt().unwrap();
    env.record(&dated(tomorrow, "odd.dav"), b"a recorder clock ahead");

    let out = service(&env, &["install"]);
    assert!(out.status.success(), "{}", show(&out));
    let again = service(&env, &["install"]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already installed"));
    let key = format!(r"HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\{NAME}");
    let reg = wine().args(["reg", "query", &key]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&reg.stdout).contains("EventMessageFile"),
        "{}",
        show(&reg)
    );

    let clock = Instant::now();
    let out = service(&env, &["start"]);
    assert!(out.status.success(), "{}", show(&out));
    wait_until(120, "the service to watch the source", || {
        env.logs.join("status.json").exists() && env.status()["daemon"]["watcher"] == "watching"
    });
    println!(
        "FIGURE service start -> watching: {:.2} s",
        clock.elapsed().as_secs_f64()
    );
    assert!(env.backup.join(dated(today(), "before.dav")).exists());
    let st = service(&env, &["status"]);
    assert!(
        st.status.success() && String::from_utf8_lossy(&st.stdout).contains("running"),
        "{}",
        show(&st)
    );

    env.record(&dated(today(), "during.dav"), b"recorded while the service runs");
    wait_until(120, "the watcher to copy a new recording", || {
        env.backup.join(dated(today(), "during.dav")).exists()
    });

    // A 1 GiB recording, renamed into place whole (written in place by a Linux
    // process, which Wine's sharing checks do not see, it would be copied piecemeal as
    // it grows): stop while its copy is in flight.
    let big = env.source.join(dated(today(), "big.dav"));
    let staged = env.dir.path().join("big.dav");
    write_big(&staged, 1 << 30);
    fs::rename(&staged, &big).unwrap();
    wait_until(300, "the 1 GiB copy to be in flight", || {
        env.backup_files()
            .iter()
            .any(|f| f.contains("big.dav") && f.ends_with(".cctv-tmp"))
    });
    let clock = Instant::now();
    let out = service(&env, &["stop"]);
    assert!(out.status.success(), "{}", show(&out));
    println!(
        "FIGURE service stop with a 1 GiB copy in flight: {:.2} s",
        clock.elapsed().as_secs_f64()
    );
    assert_eq!(env.status()["state"], "stopped");
    let final_big = env.backup.join(dated(today(), "big.dav"));
    assert!(
        !final_big.exists() || std::fs::metadata(&final_big).unwrap().len() == 1 << 30,
        "a partial copy under its final name"
    );
    let st = service(&env, &["status"]);
    assert_eq!(st.status.code(), Some(3), "stopped: {}", show(&st));

    let out = service(&env, &["uninstall"]);
    assert!(out.status.success(), "{}", show(&out));
    let st = service(&env, &["status"]);
    assert_eq!(st.status.code(), Some(3), "{}", show(&st));
    assert!(
        String::from_utf8_lossy(&st.stderr).contains("not installed"),
        "{}",
        show(&st)
    );
    let sc = wine().args(["sc", "query", NAME]).output().unwrap();
    assert!(
        !sc.status.success(),
        "the service manager still knows it: {}",
        show(&sc)
    );
    let reg = wine().args(["reg", "query", &key]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&reg.stdout).contains("EventMessageFile"),
        "the Event Log source stays"
    );

    let ev = events();
    if std::env::var_os("CCTV_MIRROR_TEST_WINE_EVENTS").is_some() {
        assert!(
            ev.contains(&format!("cctv-mirror {} started", env!("CARGO_PKG_VERSION"))),
            "{ev}"
        );
        assert!(
            ev.contains("warn:eventlog:ReportEventW L\"alert clock_suspect raised"),
            "{ev}"
        );
        assert!(ev.contains("cctv-mirror stopped"), "{ev}");
    }
    Ok(())
}

fn write_big(path: &std::path::Path, len: usize) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = payload(8 << 20, 7);
    for _ in 0..len / chunk.len() {
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
}

fn service_run_from_a_console_says_to_use_run() -> Outcome {
    if !windows_build() {
        return not_applicable("Windows build only: scripts/wine-tests.sh runs it");
    }
    let env = Env::new(json!({}));
    let out = env.command(&["service", "run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cctv-mirror run"),
        "{}",
        show(&out)
    );
    Ok(())
}

/// `cctv-mirrorw.exe` is a GUI-subsystem program (no console window for Task
/// Scheduler), `cctv-mirror.exe` a console one; the windowless one still does a pass.
fn the_windowless_twin_has_no_console_and_works() -> Outcome {
    let Some(exe) = std::env::var_os("CCTV_MIRROR_TEST_EXE").map(PathBuf::from) else {
        return not_applicable("Windows build only: scripts/wine-tests.sh runs it");
    };
    let twin = exe.with_file_name("cctv-mirrorw.exe");
    assert_eq!(pe_subsystem(&exe), 3, "console");
    assert_eq!(pe_subsystem(&twin), 2, "GUI: no console window");
    let env = Env::new(json!({}));
    env.record(&dated(today(), "a.dav"), b"a");
    let out = wine()
        .arg(&twin)
        .args(["run", "--once", "--config"])
        .arg(&env.config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(env.backup.join(dated(today(), "a.dav")).exists());
    Ok(())
}

/// The PE optional header's Subsystem field (2 GUI, 3 console).
fn pe_subsystem(path: &std::path::Path) -> u16 {
    let b = std::fs::read(path).unwrap();
    let pe = u32::from_le_bytes(b[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&b[pe..pe + 4], b"PE\0\0");
    let opt = pe + 4 + 20;
    u16::from_le_bytes(b[opt + 68..opt + 70].try_into().unwrap())
}

/// The program and its config in folders with spaces (`C:\Program Files\…`): the
/// service manager's command line quotes them, and the service starts and stops.
fn a_service_with_spaces_in_its_paths_starts_and_stops() -> Outcome {
    let Some(exe) = std::env::var_os("CCTV_MIRROR_TEST_EXE").map(PathBuf::from) else {
        return not_applicable("Windows build only: scripts/wine-tests.sh runs it");
    };
    let env = Env::new(json!({}));
    let programs = env.dir.path().join("Program Files/cctv mirror");
    std::fs::create_dir_all(&programs).unwrap();
    let copy = programs.join("cctv-mirror.exe");
    std::fs::copy(&exe, &copy).unwrap();
    let folder = env.dir.path().join("my config");
    std::fs::create_dir_all(folder.join("source")).unwrap();
    let config = folder.join("config.json");
    std::fs::write(
        &config,
        r#"{"source_dir":"source","backup_dir":"backup","log_dir":"logs"}"#,
    )
    .unwrap();
    let name = "cctv-mirror-test-spaces";
    let run = |args: &[&str]| {
        let mut c = wine();
        c.arg(&copy).arg("service").args(args).args(["--name", name]);
        c.output().unwrap()
    };
    let _ = run(&["uninstall"]);
    let mut install = wine();
    install
        .arg(&copy)
        .args(["service", "install", "--name", name, "--config"])
        .arg(&config);
    let out = install.output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let key = format!(r"HKLM\SYSTEM\CurrentControlSet\Services\{name}");
    let reg = wine().args(["reg", "query", &key]).output().unwrap();
    let image = String::from_utf8_lossy(&reg.stdout).into_owned();
    assert!(
        image.contains(r#""Z:"#) && image.contains(r#"cctv mirror\cctv-mirror.exe""#),
        "{image}"
    );
    let started = run(&["start"]);
    let stopped = run(&["stop"]);
    let removed = run(&["uninstall"]);
    assert!(started.status.success(), "{}", show(&started));
    assert!(stopped.status.success(), "{}", show(&stopped));
    assert!(removed.status.success(), "{}", show(&removed));
    assert!(
        folder.join("logs/status.json").exists(),
        "the service ran with its config"
    );
    Ok(())
}
