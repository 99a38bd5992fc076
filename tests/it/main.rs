//! Integration tests: the built `cctv-mirror` binary on real folders. They run on a
//! Linux host, driving either the native binary or the Windows build under Wine
//! (`scripts/wine-tests.sh`); built for Windows, this program does nothing.
//!
//! The suite has its own harness (`harness.rs`, on libtest-mimic), so that a test that
//! cannot run here says so: it is shown as ignored, with its reason, and counted as
//! ignored in the closing line, never as passed. To add a test:
//!
//! - write it as a plain function in its module, without `#[test]` (this harness never
//!   runs a `#[test]` function, so `suite!` refuses one at compile time);
//! - name it in the module's `tests![...]` list, near the top: the harness runs it as
//!   `module::function`. A function left out of the list is dead code, and this crate
//!   denies dead code: it does not compile;
//! - if it can't always run, return `Outcome` and say why with `?` or `return`:
//!   `not_applicable("Windows build only")` when the test is not for what is under
//!   test here (always ignored), `missing("faketime: apt-get install faketime")` when
//!   a tool or a privilege is missing (ignored; a failure under `CI=true`). Helpers
//!   such as `need_faketime()?` and `Weed::start()?` do it for you. A test that always
//!   runs returns `()`.
//!
//! A new module goes in the `suite!` list below (which declares it too); its
//! `tests![...]` is then required, or the module does not compile. A module without
//! tests (helpers only) is a plain `mod`. Tests run in the order of their names, as
//! with libtest. The harness does not capture output: what a test prints shows as it
//! runs (as with `--nocapture`).
#![cfg_attr(unix, deny(dead_code))]

#[cfg(unix)]
#[macro_use]
mod harness;

#[cfg(unix)]
mod common;
#[cfg(unix)]
mod relay;

/// Declares each test module and collects its `tests()`; also checks at compile time
/// that no module marks a test libtest's way, which this harness would never run.
macro_rules! suite {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(unix)]
            mod $module;
            #[cfg(unix)]
            const _: () = assert!(
                harness::no_libtest_marks(include_str!(concat!(stringify!($module), ".rs"))),
                concat!(
                    "tests/it/", stringify!($module), ".rs marks a test with #[test], ",
                    "#[should_panic] or #[ignore]: name it in the module's tests![...] instead ",
                    "(see tests/it/main.rs)"
                )
            );
        )*
        #[cfg(unix)]
        fn all() -> Vec<libtest_mimic::Trial> {
            let mut all = harness::tests();
            $(all.extend($module::tests());)*
            all
        }
    };
}

suite![
    alerts,
    config,
    coverage,
    daemon,
    demo,
    disk,
    encrypted,
    export,
    init_config,
    live,
    liveness,
    monitoring,
    logs,
    names,
    notify,
    offsite,
    offsite_daemon,
    offsite_lock,
    offsite_site,
    large,
    pass,
    paths,
    receiver,
    restore,
    retention,
    sample,
    secrets,
    service,
    status,
    systemd,
    verify,
    version,
    volume,
    watch,
];

fn main() {
    #[cfg(unix)]
    harness::main(all());
}
