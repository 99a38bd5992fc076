//! The command line, as clap types only: what an operator can type, and its help text.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use clap::{Parser, Subcommand};

/// Keeps a second, safe copy of CCTV recordings (.dav) for a fixed number of days.
///
/// Copies new and growing recordings from the recorder's folder to a backup disk,
/// keeping the YYYY/MM/DD layout; deletes backups older than the retention period;
/// never deletes a backup because its source vanished; warns when space runs low.
#[derive(Debug, Parser)]
#[command(name = "cctv-mirror", version = env!("CCTV_MIRROR_LONG_VERSION"), about, long_about)]
pub struct Opts {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mirror the recordings: a pass at start, then one every reconcile_interval_secs
    /// until stopped with Ctrl-C (or SIGTERM, or closing the console).
    Run {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// Run one pass and exit (for Windows Task Scheduler or cron).
        #[arg(long)]
        once: bool,
        /// Do not watch the source folder in real time; only run the periodic passes.
        #[arg(long)]
        no_watch: bool,
        /// Also log the details (every file found current, ...).
        #[arg(long, short)]
        verbose: bool,
        /// Let retention delete more than half of the backup's recordings at once
        /// (refused otherwise, with the alert retention_refused). Use with --once.
        #[arg(long)]
        allow_mass_delete: bool,
    },
    /// Mark backup_dir as the backup: after replacing or moving the backup disk on
    /// purpose. Until then cctv-mirror refuses to write into a backup folder that lost
    /// its marker, taking it for a disk that is not mounted.
    AdoptBackup {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
    },
    /// Install, remove, start, stop or query cctv-mirror as a service that starts at
    /// boot and restarts after a failure (Windows service; systemd on Linux).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Send a `test` notification through every configured channel (and ping the
    /// heartbeat URL), one line each: delivered, or why not. Exit 0 when all were
    /// delivered, 3 otherwise.
    NotifyTest {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
    },
    /// Check the configuration and the folders, print the settings in effect, and exit:
    /// 0 when everything is ready, 2 when something must be fixed.
    Check {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
    },
    /// Prove the backup's coverage: per camera and day, the seconds recorded and the
    /// gaps, and a verdict (complete only when every camera covers every day).
    Report {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// How many days, ending today (default: retention_days).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_500))]
        days: Option<u32>,
        /// text (for a console), json (docs/report.md) or html (one file to print or send).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of the console.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// One screen on the daemon's health: alive or not, last pass, alerts, free space,
    /// coverage. Exit 0 healthy, 3 when something needs attention, 2 bad config.
    Status {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// Print the same as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Re-read the backup's recordings and check them against the manifest (bit rot)
    /// and their DHAV frames (truncation). Exit 0 clean, 3 problems found.
    Verify {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// Only recordings of the last N days (default: all).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_500))]
        days: Option<u32>,
        /// Only the K-th of N disjoint slices (e.g. 3/7); every recording is in exactly one.
        #[arg(long, value_name = "K/N")]
        slice: Option<String>,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Copy one camera's recordings of a time range out of the backup as evidence, each
    /// checked against the hash taken at backup, with export.json, export.html and
    /// SHA256SUMS beside them. Exit 0 complete, 3 gaps or a file not proven, 2 bad input.
    Export {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// The camera, as `report` names it (ch03, NVR1/001).
        #[arg(long, value_name = "CAM")]
        camera: String,
        /// The range's start, local time: "YYYY-MM-DD HH:MM[:SS]".
        #[arg(long, value_name = "TIME", value_parser = local_time)]
        from: NaiveDateTime,
        /// The range's end (not included), local time: "YYYY-MM-DD HH:MM[:SS]".
        #[arg(long, value_name = "TIME", value_parser = local_time)]
        to: NaiveDateTime,
        /// The folder to write to: new, or empty; outside the source and backup folders.
        #[arg(long, short, value_name = "DIR")]
        output: PathBuf,
        /// Take the recordings from the offsite bucket, not the backup (without it, the
        /// bucket gives only what the backup lacks).
        #[arg(long)]
        from_offsite: bool,
        /// The age identity file that opens encrypted objects (age-keygen's output);
        /// keep it off the server.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Bring recordings back from the offsite bucket into the backup's layout (to
    /// rebuild a lost backup disk, then `adopt-backup`). Each is checked against the
    /// hash recorded at upload; a file already there is never overwritten. Exit 0 all
    /// restored, 3 something not restored, 2 bad input, 1 the bucket cannot be read.
    Restore {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        /// Take the recordings from the offsite bucket (the one source restore has).
        #[arg(long)]
        from_offsite: bool,
        /// The age identity file that opens encrypted objects (age-keygen's output);
        /// keep it off the server.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// The folder to restore into. With --from, a second --to gives the range's
        /// end, local time "YYYY-MM-DD HH:MM[:SS]" (not included).
        #[arg(long, value_name = "DIR|TIME", required = true, action = clap::ArgAction::Append)]
        to: Vec<PathBuf>,
        /// Only the recordings of the last N days (today is the first).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        days: Option<u32>,
        /// Only this camera, as `report` names it (ch03, NVR1/001).
        #[arg(long, value_name = "CAM")]
        camera: Option<String>,
        /// Only the recordings from this local time on: "YYYY-MM-DD HH:MM[:SS]".
        #[arg(long, value_name = "TIME", value_parser = local_time)]
        from: Option<NaiveDateTime>,
    },
    /// Write a simulated recorder's site (recordings of valid DHAV frames, a few gaps,
    /// and a config.json for it) to try cctv-mirror without a recorder.
    Demo(DemoArgs),
    /// Write a first configuration file from a few values, only where none exists (an
    /// existing file is never touched); the values are checked as `check` reads them.
    /// Exit 0 written or already there, 2 a value missing or refused.
    InitConfig(InitConfigArgs),
}

/// `cctv-mirror demo …`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where to write it.
    #[arg(long, value_name = "DIR", default_value = "demo")]
    pub dir: PathBuf,
    /// How many cameras.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cameras: u32,
    /// How many days of past recordings, ending today.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub days: u32,
    /// Keep recording until stopped: one growing file per camera.
    #[arg(long)]
    pub live: bool,
    /// With --live: delete the whole source tree after SECS, as the platform does
    /// after an error.
    #[arg(long, value_name = "SECS", requires = "live")]
    pub wipe_after: Option<u64>,
    /// With --live: a new segment every SECS.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub segment_secs: u64,
}

/// What `init-config` was given; an empty value counts as not given (the installer
/// passes its unset properties as "").
#[derive(Debug, Clone, clap::Args)]
pub struct InitConfigArgs {
    /// The configuration file to write.
    #[arg(long, short, value_name = "PATH")]
    pub config: PathBuf,
    /// The recorder's folder (read only).
    #[arg(long, value_name = "DIR")]
    pub source_dir: Option<OsString>,
    /// The backup folder, on the backup disk.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<OsString>,
    /// The log folder (default: `logs` beside the configuration file).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<OsString>,
    /// How many days the backup keeps (default 31).
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
}

/// The forms `report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Html,
}

/// `cctv-mirror service …`. Exit codes: 0 done (for `status`: running), 1 the service
/// manager refused (e.g. not an administrator) or the service stopped at once, 2 bad
/// usage, a config or folder that is not ready, `install` of an installed service, or
/// `uninstall`/`start`/`stop` of one that is not installed, 3 (`status`) not running
/// or not installed.
#[derive(Debug, Subcommand)]
pub enum ServiceAction {
    /// Check the config and the folders as `check` does, then register the service:
    /// automatic start at boot, restarted after a failure, the absolute config path
    /// in its command line, and (Windows) the Event Log source. On Linux, writes the
    /// systemd unit and enables and starts it (where systemd is not running, prints
    /// the unit and the commands instead).
    Install {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
        #[command(flatten)]
        name: ServiceName,
        /// The account the service runs as (Windows: e.g. `.\cctvbackup` or
        /// `NT AUTHORITY\NetworkService`; Linux: the unit's `User=`). Default: LocalSystem
        /// on Windows, root on Linux.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
        /// Windows: the environment variable holding that account's password (never
        /// typed on the command line, where it would stay in the shell's history).
        #[arg(long, value_name = "VAR", requires = "account")]
        password_env: Option<String>,
    },
    /// Stop the service if it runs, and remove it (and its Event Log source).
    Uninstall {
        #[command(flatten)]
        name: ServiceName,
    },
    /// Start the installed service and wait until it runs.
    Start {
        #[command(flatten)]
        name: ServiceName,
    },
    /// Stop the service and wait until it has stopped (a copy in flight is finished
    /// or discarded first, never left half-written).
    Stop {
        #[command(flatten)]
        name: ServiceName,
    },
    /// Say whether the service is installed and running (exit 0 running, 3 not).
    Status {
        #[command(flatten)]
        name: ServiceName,
    },
    /// What the Windows service manager starts: the daemon of `run`, stopped by the
    /// service manager. Not for a console: use `run` there.
    Run {
        /// The configuration file (absolute, as `service install` wrote it).
        #[arg(long, short, value_name = "PATH")]
        config: PathBuf,
        #[command(flatten)]
        name: ServiceName,
        /// Also log the details.
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServiceName {
    /// The service's name (also its Event Log source, or its systemd unit's name).
    #[arg(long, value_name = "NAME", default_value = crate::service::DEFAULT_NAME)]
    pub name: String,
}

/// A local time as an operator types it: `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS`
/// (a `T` between them too).
pub fn local_time(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim().replacen('T', " ", 1);
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())
        .ok_or_else(|| format!("{s:?} is not a local time: write YYYY-MM-DD HH:MM[:SS], e.g. \"2026-12-02 14:00\""))
}
