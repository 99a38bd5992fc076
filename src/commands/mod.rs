//! The commands an operator types, each turned into an exit code: `run`, `check`,
//! `adopt-backup`, `init-config` and `service …`. `main.rs` (and the windowless `cctv-mirrorw`)
//! parse the command line and call `dispatch`.

use std::process::ExitCode;

use crate::cli::{Command, Opts};
use crate::config::Config;
use crate::engine::app;
use crate::engine::mode::Mode;
use crate::engine::{exit, shutdown};
use crate::store::volume;

pub mod check;
pub mod demo;
pub mod export;
pub mod init_config;
pub mod notify_test;
pub mod progress;
pub mod report;
pub mod restore;
pub mod service;
pub mod status;
pub mod verify;

/// Runs the parsed command line.
pub fn dispatch(opts: Opts) -> ExitCode {
    match opts.command {
        Command::Run {
            config,
            once,
            no_watch,
            verbose,
            allow_mass_delete,
        } => {
            let Some(mut cfg) = load(&config) else {
                return ExitCode::from(exit::BAD_CONFIG);
            };
            cfg.allow_mass_delete = allow_mass_delete;
            let mode = if once {
                Mode::Once
            } else {
                Mode::Daemon { watch: !no_watch }
            };
            ExitCode::from(app::run_to_end(
                cfg,
                mode,
                verbose,
                console_stop(),
                crate::service::of_run(),
            ))
        }
        Command::Check { config } => match load(&config) {
            Some(cfg) if check::check(&cfg) => ExitCode::from(exit::OK),
            _ => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::AdoptBackup { config } => {
            let Some(cfg) = load(&config) else {
                return ExitCode::from(exit::BAD_CONFIG);
            };
            match volume::adopt(&cfg.backup_dir, &cfg.log_dir) {
                Ok(done) => {
                    println!("{done}");
                    ExitCode::from(exit::OK)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(exit::BAD_CONFIG)
                }
            }
        }
        Command::Service { action } => service::dispatch(action),
        Command::NotifyTest { config } => match load(&config) {
            Some(cfg) => notify_test::run(&cfg),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Report {
            config,
            days,
            format,
            output,
        } => match load(&config) {
            Some(cfg) => report::run(&cfg, days, format, output.as_deref()),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Status { config, json } => match load(&config) {
            Some(cfg) => status::run(&cfg, json),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Verify {
            config,
            days,
            slice,
            json,
        } => match load(&config) {
            Some(cfg) => verify::run(&cfg, days, slice.as_deref(), json),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Export {
            config,
            camera,
            from,
            to,
            output,
            from_offsite,
            identity,
        } => match load(&config) {
            Some(cfg) => export::run(
                &cfg,
                &export::Asked {
                    camera: &camera,
                    from,
                    to,
                    output: &output,
                    from_offsite,
                    identity: identity.as_deref(),
                },
            ),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Restore {
            config,
            from_offsite,
            identity,
            to,
            days,
            camera,
            from,
        } => match load(&config) {
            Some(cfg) => restore::run(
                &cfg,
                &restore::Asked {
                    from_offsite,
                    identity,
                    to,
                    days,
                    camera,
                    from,
                },
            ),
            None => ExitCode::from(exit::BAD_CONFIG),
        },
        Command::Demo(opts) => demo::run(&opts),
        Command::InitConfig(args) => init_config::run(&args),
    }
}

/// Whether the backup folder can be read as the backup, for the commands that only
/// read it (`report`, `verify`): Ok(false) when the first pass has yet to create it;
/// Err when it is not there or not the backup.
pub fn backup_readable(cfg: &Config) -> Result<bool, String> {
    use volume::BackupState;
    let dir = cfg.backup_dir.display();
    match volume::backup_state(&cfg.backup_dir, &cfg.log_dir) {
        BackupState::Marked { .. } | BackupState::Unmarked => Ok(true),
        BackupState::ToCreate => Ok(false),
        BackupState::LostMarker => Err(format!("{dir} has lost its marker: is the backup disk mounted?")),
        BackupState::Missing | BackupState::NoParent => Err(format!("{dir} is missing: is the backup disk connected?")),
        BackupState::BareMountPoint => Err(format!(
            "{dir} is an empty, unmarked folder: is the backup disk mounted?"
        )),
        BackupState::NotAFolder => Err(format!("{dir} is not a folder")),
        BackupState::Unreachable(e) => Err(format!("cannot reach {dir}: {e}")),
    }
}

/// The validated config, or None after one line on stderr.
pub fn load(path: &std::path::Path) -> Option<Config> {
    Config::load(path).map_err(|e| eprintln!("error: {e}")).ok()
}

/// Resolves on the console's stop signals (Ctrl-C, SIGTERM, console closed).
async fn console_stop() {
    if let Err(e) = shutdown::signalled().await {
        tracing::error!("cannot listen for stop signals ({e}); stop the process by other means");
        std::future::pending::<()>().await;
    }
}
