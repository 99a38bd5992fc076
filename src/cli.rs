//! The command line, as clap types only: what an operator can type, and its help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Keeps a second, safe copy of CCTV recordings (.dav) for a fixed number of days.
///
/// Copies new and growing recordings from the recorder's folder to a backup disk,
/// keeping the YYYY/MM/DD layout; deletes backups older than the retention period;
/// never deletes a backup because its source vanished; warns when space runs low.
#[derive(Debug, Parser)]
#[command(name = "cctv-mirror", version, about, long_about)]
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
    /// Check the configuration and the folders, print the settings in effect, and exit:
    /// 0 when everything is ready, 2 when something must be fixed.
    Check {
        /// The configuration file; relative paths in it are relative to its folder.
        #[arg(long, short, value_name = "PATH", default_value = "config.json")]
        config: PathBuf,
    },
}
