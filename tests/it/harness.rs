//! The suite's harness, on libtest-mimic: each module's registered tests become trials
//! named `module::function`, a test that cannot run here is shown as ignored with its
//! reason (or fails, under `CI=true`, when what it lacks is a tool or a privilege), and
//! the command line is libtest's, several filters included.

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Why a test did not run: what a test returns, as `Err`, instead of passing.
#[derive(Debug)]
pub enum Skip {
    /// The test is not for what is under test here: a Windows-build-only test on the
    /// native binary, a native-only one under Wine, a real service where systemd runs.
    /// Always shown as ignored, with the reason.
    NotApplicable(String),
    /// A tool or a privilege the test needs is missing here (faketime, weed, root, ...).
    /// Shown as ignored, naming it; under `CI=true` the test fails instead, since CI
    /// installs every tool the suite needs.
    Missing(String),
}

/// What a test that can be skipped returns; a test that always runs returns `()`.
pub type Outcome = Result<(), Skip>;

/// The test does not apply here; `reason` says why.
pub fn not_applicable<T>(reason: impl Into<String>) -> Result<T, Skip> {
    Err(Skip::NotApplicable(reason.into()))
}

/// The test needs `what` (a tool, with how to install it, or a privilege), not here.
pub fn missing<T>(what: impl Into<String>) -> Result<T, Skip> {
    Err(Skip::Missing(what.into()))
}

/// Whether this is CI (`CI=true`), where a missing tool is a failure, not a skip.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A test's return value: `()` or an [`Outcome`].
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Ok(())
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

/// The trial for `function` of the module at `module_path` (`it::watch`), named
/// `watch::function` as libtest named it.
pub fn trial<R: IntoOutcome + 'static>(module_path: &str, function: &str, test: fn() -> R) -> Trial {
    let module = module_path.split_once("::").map_or(module_path, |(_, m)| m);
    Trial::ignorable_test(format!("{module}::{function}"), move || {
        judge(test().into_outcome(), ci())
    })
}

fn judge(outcome: Outcome, ci: bool) -> Result<Completion, Failed> {
    match outcome {
        Ok(()) => Ok(Completion::Completed),
        Err(Skip::NotApplicable(reason)) => Ok(Completion::ignored_with(reason)),
        Err(Skip::Missing(what)) if ci => {
            Err(format!("could not run, missing {what} (under CI=true, a test that cannot run fails)").into())
        }
        Err(Skip::Missing(what)) => Ok(Completion::ignored_with(format!("missing {what}"))),
    }
}

/// Registers this module's tests: `tests![a_test, another_test];`, and those of its
/// inner modules, each with its own `tests![...]`: `tests![a_test; mod inner];`. It
/// defines the module's `tests()`, which `suite!` in main.rs collects. A test function
/// left out is never used, which this crate denies (`dead_code`): it does not compile.
macro_rules! tests {
    ($($test:ident),* $(,)? $(; mod $inner:ident)*) => {
        /// This module's tests, as the harness runs them.
        pub fn tests() -> Vec<libtest_mimic::Trial> {
            #[allow(unused_mut)]
            let mut all = vec![$($crate::harness::trial(module_path!(), stringify!($test), $test)),*];
            $(all.extend($inner::tests());)*
            all
        }
    };
}

/// Whether the module source `src` marks no test libtest's way (`#[test]`,
/// `#[should_panic]`, `#[ignore]` at the start of a line): under this harness such a
/// function is silently compiled out, so `suite!` refuses it at compile time.
pub const fn no_libtest_marks(src: &str) -> bool {
    const MARKS: [&[u8]; 3] = [b"#[test]", b"#[should_panic", b"#[ignore"];
    let s = src.as_bytes();
    let mut at = 0;
    while at < s.len() {
        while at < s.len() && (s[at] == b' ' || s[at] == b'\t') {
            at += 1;
        }
        let mut m = 0;
        while m < MARKS.len() {
            let mark = MARKS[m];
            let mut k = 0;
            while k < mark.len() && at + k < s.len() && s[at + k] == mark[k] {
                k += 1;
            }
            if k == mark.len() {
                return false;
            }
            m += 1;
        }
        while at < s.len() && s[at] != b'\n' {
            at += 1;
        }
        at += 1;
    }
    true
}

std::thread_local! {
    static EXPECTING_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, which must panic, and returns the panic's message; the panic is not
/// reported on stderr as a test's failure would be.
pub fn expect_panic<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> String {
    EXPECTING_PANIC.with(|e| e.set(true));
    let got = std::panic::catch_unwind(f);
    EXPECTING_PANIC.with(|e| e.set(false));
    let Err(panic) = got else {
        panic!("expected a panic, and there was none");
    };
    match panic.downcast::<String>() {
        Ok(msg) => *msg,
        Err(panic) => panic.downcast_ref::<&str>().map_or_else(String::new, |s| s.to_string()),
    }
}

/// Runs `trials` with this process's command line, as libtest would: in the order of
/// their names (tests that share a server, such as Wine's, meet it in the same state).
pub fn main(mut trials: Vec<Trial>) {
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !EXPECTING_PANIC.with(|e| e.get()) {
            report(info);
        }
    }));
    let (rest, filters) = split_filters(std::env::args().collect());
    let mut args = Arguments::from_iter(rest);
    if args.test_threads.is_none() {
        args.test_threads = std::env::var("RUST_TEST_THREADS").ok().and_then(|n| n.parse().ok());
    }
    select(&mut args, &filters, trials.iter().map(Trial::name));
    libtest_mimic::run(&args, trials).exit();
}

/// libtest's options that take a value, as separate arguments.
const VALUED: [&str; 6] = ["--test-threads", "--logfile", "--skip", "--color", "--format", "-Z"];

/// The command line without its filters, and the filters: libtest takes any number
/// (`watch:: live::` runs the tests whose names contain either), libtest-mimic one.
fn split_filters(args: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut rest = Vec::new();
    let mut filters = Vec::new();
    let mut args = args.into_iter();
    rest.extend(args.next()); // the program
    while let Some(a) = args.next() {
        if a == "--" {
            filters.extend(args.by_ref());
        } else if VALUED.contains(&a.as_str()) {
            rest.push(a);
            rest.extend(args.next());
        } else if a.starts_with('-') {
            rest.push(a);
        } else {
            filters.push(a);
        }
    }
    (rest, filters)
}

/// Applies libtest's selection (any filter matches, by substring or, with `--exact`,
/// whole; no `--skip` matches) by handing libtest-mimic the names left out as exact
/// skips, so its closing line counts them as filtered out.
fn select<'a>(args: &mut Arguments, filters: &[String], names: impl Iterator<Item = &'a str>) {
    if filters.is_empty() && args.skip.is_empty() {
        return;
    }
    let hits = |name: &str, f: &String| {
        if args.exact {
            name == f
        } else {
            name.contains(f.as_str())
        }
    };
    let out: Vec<String> = names
        .filter(|n| {
            let wanted = filters.is_empty() || filters.iter().any(|f| hits(n, f));
            !wanted || args.skip.iter().any(|f| hits(n, f))
        })
        .map(String::from)
        .collect();
    args.filter = None;
    args.skip = out;
    args.exact = true;
}

tests![
    several_filters_select_as_libtest_does,
    options_keep_their_values,
    a_skip_is_ignored_or_under_ci_a_missing_tool_fails,
    libtest_marks_are_found,
];

fn selected(line: &[&str], names: &[&str]) -> Vec<String> {
    let (rest, filters) = split_filters(line.iter().map(|s| s.to_string()).collect());
    let mut args = Arguments::from_iter(rest);
    select(&mut args, &filters, names.iter().copied());
    let tests: Vec<Trial> = names.iter().map(|n| Trial::test(*n, || Ok(()))).collect();
    tests
        .iter()
        .filter(|t| !args.is_filtered_out(t))
        .map(|t| t.name().to_string())
        .collect()
}

fn several_filters_select_as_libtest_does() {
    let names = [
        "watch::a",
        "watch::ab",
        "live::b",
        "offsite::check_reads",
        "offsite::other",
        "daemon::x",
    ];
    let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(selected(&["it"], &names), all);
    assert_eq!(
        selected(&["it", "--test-threads=1", "watch::", "offsite::check_reads"], &names),
        ["watch::a", "watch::ab", "offsite::check_reads"]
    );
    assert_eq!(
        selected(&["it", "--exact", "watch::a", "live::b"], &names),
        ["watch::a", "live::b"]
    );
    assert_eq!(selected(&["it", "watch::", "--skip", "ab"], &names), ["watch::a"]);
    assert_eq!(selected(&["it", "--skip", "offsite"], &names).len(), 4);
    assert_eq!(selected(&["it", "--", "daemon"], &names), ["daemon::x"]);
    assert!(selected(&["it", "nothing-matches"], &names).is_empty());
}

fn options_keep_their_values() {
    let line = [
        "it",
        "--test-threads",
        "1",
        "--nocapture",
        "watch::",
        "--color",
        "never",
        "live::",
    ];
    let (rest, filters) = split_filters(line.iter().map(|s| s.to_string()).collect());
    assert_eq!(rest, ["it", "--test-threads", "1", "--nocapture", "--color", "never"]);
    assert_eq!(filters, ["watch::", "live::"]);
    assert_eq!(Arguments::from_iter(rest).test_threads, Some(1));
}

fn a_skip_is_ignored_or_under_ci_a_missing_tool_fails() {
    let ignored = |c: Result<Completion, Failed>| match c {
        Ok(Completion::Ignored { reason }) => reason,
        _ => None,
    };
    assert!(matches!(judge(Ok(()), true), Ok(Completion::Completed)));
    for ci in [false, true] {
        let why = ignored(judge(not_applicable("Windows build only"), ci));
        assert_eq!(why.as_deref(), Some("Windows build only"));
    }
    let why = ignored(judge(missing("faketime"), false));
    assert_eq!(why.as_deref(), Some("missing faketime"));
    let failed = judge(missing("faketime"), true).err().expect("a failure under CI");
    assert!(failed.message().unwrap().contains("missing faketime"), "{failed:?}");
}

fn libtest_marks_are_found() {
    assert!(no_libtest_marks("fn a() {}\n// not #[test]\nlet s = \"#[test]\";\n"));
    assert!(!no_libtest_marks("use x;\n#[test]\nfn a() {}\n"));
    assert!(!no_libtest_marks("mod m {\n    #[should_panic(expected = \"x\")]\n}"));
    assert!(!no_libtest_marks("\t#[ignore]"));
}
