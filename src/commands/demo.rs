//! `cctv-mirror demo`: writes a simulated recorder's site (recordings of valid DHAV
//! frames with a few planted gaps, and a `config.json` for it) to try cctv-mirror
//! without a recorder, says what to try next, and with `--live` keeps recording until
//! stopped. The work is `crate::demo`'s; this file checks the options and prints.

use std::process::ExitCode;

use chrono::{Local, SubsecRound};

use crate::demo::site::{self, Site};
use crate::demo::write::{self, WrittenTotals};
use crate::demo::{live, say, say_err, Failure};
use crate::store::volume::human;

/// What `demo` was asked for: the command line's options.
pub use crate::cli::DemoArgs as Options;

/// Exit 0 when written (and, with `--live`, stopped on request); 2 on bad input (one
/// line on stderr); 1 when a file could not be written.
pub fn run(opts: &Options) -> ExitCode {
    match demo(opts) {
        Ok(()) => ExitCode::from(crate::engine::exit::OK),
        Err(failure) => {
            say_err(format_args!("error: {failure}"));
            failure.exit_code()
        }
    }
}

fn demo(opts: &Options) -> Result<(), Failure> {
    check(opts)?;
    let now = Local::now().naive_local().trunc_subsecs(0);
    let site = site::plan(now, opts.cameras, opts.days);
    write::prepare(&opts.dir)?;
    let written = write::write_site(&opts.dir, &site)?;
    print_site(opts, &site, written);
    print_next(opts);
    if opts.live {
        let settings = live::Settings {
            cameras: opts.cameras,
            segment_secs: opts.segment_secs,
            wipe_after: opts.wipe_after,
        };
        live::run(&opts.dir, settings, site.until)?;
    }
    Ok(())
}

/// The options' ranges (the command line checks them too; `run` may be called without
/// it).
fn check(opts: &Options) -> Result<(), Failure> {
    let range = |name: &str, v: u64, min: u64, max: u64| {
        if (min..=max).contains(&v) {
            Ok(())
        } else {
            Err(Failure::Refused(format!(
                "--{name} must be between {min} and {max} (got {v})"
            )))
        }
    };
    range("cameras", opts.cameras.into(), 1, 64)?;
    range("days", opts.days.into(), 1, 400)?;
    range("segment-secs", opts.segment_secs, 2, 3600)?;
    if opts.wipe_after.is_some() && !opts.live {
        return Err(Failure::Refused("--wipe-after needs --live".into()));
    }
    if opts.dir.as_os_str().is_empty() {
        return Err(Failure::Refused("--dir must not be empty".into()));
    }
    Ok(())
}

/// What was written and the planted gaps.
fn print_site(opts: &Options, site: &Site, written: WrittenTotals) {
    say(format_args!(
        "wrote a demo site to {}: {} cameras, {} to {}, {} recordings ({})",
        opts.dir.display(),
        opts.cameras,
        site.from.format("%Y-%m-%d %H:%M"),
        site.until.format("%Y-%m-%d %H:%M"),
        written.files,
        human(written.bytes)
    ));
    let planted = opts.dir.join("planted-gaps.json");
    if site.gaps.is_empty() {
        say(format_args!(
            "no gap planted: too few hours so far today (try --days 2)"
        ));
    } else {
        say(format_args!("planted gaps ({}):", planted.display()));
    }
    for g in &site.gaps {
        say(format_args!(
            "  {}  {} to {}  {:>5} s  {}",
            site::camera_name(g.camera),
            g.from.format("%Y-%m-%d %H:%M:%S"),
            g.to.format("%H:%M:%S"),
            g.secs(),
            g.kind.describe()
        ));
    }
}

/// The commands to try on it.
fn print_next(opts: &Options) {
    let cfg = opts.dir.join("config.json");
    let cfg = cfg.display();
    let days = opts.days;
    say(format_args!("try next:"));
    say(format_args!("  cctv-mirror check --config {cfg}"));
    say(format_args!(
        "  cctv-mirror run --config {cfg} --once        copy the recordings to the backup"
    ));
    say(format_args!(
        "  cctv-mirror report --config {cfg} --days {days}    the coverage: the planted gaps and no others"
    ));
    say(format_args!(
        "  cctv-mirror report --config {cfg} --days {days} --format html --output report.html"
    ));
    say(format_args!("  cctv-mirror verify --config {cfg}"));
    say(format_args!("  cctv-mirror status --config {cfg}"));
    if !opts.live {
        say(format_args!(
            "  cctv-mirror run --config {cfg}   and, in another console:   cctv-mirror demo --dir {} --live --wipe-after 300",
            opts.dir.display()
        ));
    }
}
