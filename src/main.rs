//! The `cctv-mirror` command: parse the command line, load the configuration, set up
//! logging, hand over to the library, and turn the result into an exit code.

use std::process::ExitCode;

use cctv_mirror::app::{self, Mode};
use cctv_mirror::cli::{Command, Opts};
use cctv_mirror::config::Config;
use cctv_mirror::{check, exit, runlog, shutdown, volume};
use clap::Parser;

fn main() -> ExitCode {
    let opts = Opts::parse();
    let (config_path, run) = match &opts.command {
        Command::Run {
            config,
            once,
            no_watch,
            verbose,
            allow_mass_delete,
        } => (config, Some((*once, *no_watch, *verbose, *allow_mass_delete))),
        Command::Check { config } | Command::AdoptBackup { config } => (config, None),
    };
    let mut cfg = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::BAD_CONFIG);
        }
    };
    let Some((once, no_watch, verbose, allow_mass_delete)) = run else {
        let ok = match opts.command {
            Command::AdoptBackup { .. } => match volume::adopt(&cfg.backup_dir, &cfg.log_dir) {
                Ok(done) => {
                    println!("{done}");
                    true
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    false
                }
            },
            _ => check::check(&cfg),
        };
        return ExitCode::from(if ok { exit::OK } else { exit::BAD_CONFIG });
    };
    cfg.allow_mass_delete = allow_mass_delete;
    let log = runlog::init(verbose);
    let mode = if once {
        Mode::Once
    } else {
        Mode::Daemon { watch: !no_watch }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    };
    let stop = async {
        if let Err(e) = shutdown::signalled().await {
            tracing::error!("cannot listen for stop signals ({e}); stop the process by other means");
            std::future::pending::<()>().await;
        }
    };
    match runtime.block_on(app::run(cfg, mode, log, stop)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::CANNOT_RUN)
        }
    }
}
