//! `cctv-mirror service …`: install, remove, start, stop and query the service on
//! this OS (Windows service control manager, or systemd), and `service run`, the
//! daemon as the Windows service manager starts it. Output: one line on stdout when
//! done, one line on stderr and the documented exit code when not.

use std::process::ExitCode;

use crate::cli::ServiceAction;
use crate::engine::exit;
use crate::service::{Account, Failed};

pub fn dispatch(action: ServiceAction) -> ExitCode {
    let outcome = match action {
        ServiceAction::Install {
            config,
            name,
            account,
            password_env,
        } => account_of(account, password_env).and_then(|account| {
            super::load(&config)
                .ok_or(Failed::bad_usage(String::new()))
                .and_then(|cfg| ready(&cfg).map(|()| cfg))
                .and_then(|cfg| os::install(&cfg, &name.name, &account))
        }),
        ServiceAction::Uninstall { name } => os::uninstall(&name.name),
        ServiceAction::Start { name } => os::control(&name.name, "start"),
        ServiceAction::Stop { name } => os::control(&name.name, "stop"),
        ServiceAction::Status { name } => os::status(&name.name),
        ServiceAction::Run { config, name, verbose } => return os::run(&config, &name.name, verbose),
    };
    match outcome {
        Ok(done) => {
            println!("{done}");
            ExitCode::from(exit::OK)
        }
        Err(Failed { code, why }) => {
            // An empty reason was already said (a config error's own line).
            if !why.is_empty() {
                eprintln!("error: {why}");
            }
            ExitCode::from(code)
        }
    }
}

/// The account to run as; its password from the named environment variable.
fn account_of(name: Option<String>, password_env: Option<String>) -> Result<Account, Failed> {
    let password = match password_env {
        None => None,
        Some(var) => Some(
            std::env::var(&var)
                .map_err(|_| Failed::bad_usage(format!("--password-env: the environment variable {var} is not set")))?,
        ),
    };
    Ok(Account { name, password })
}

/// Refuses to install what `check` would not pass, naming the first problem.
fn ready(cfg: &crate::config::Config) -> Result<(), Failed> {
    let problems = crate::commands::check::problems(cfg, false);
    match problems.first() {
        None => Ok(()),
        Some(first) => Err(Failed::bad_usage(format!(
            "not ready to run as a service: {first} (`cctv-mirror check --config {}` shows everything)",
            cfg.file.display()
        ))),
    }
}

#[cfg(unix)]
mod os {
    pub use crate::service::linux::{control, install, status, uninstall};

    pub fn run(_config: &std::path::Path, _name: &str, _verbose: bool) -> std::process::ExitCode {
        eprintln!("error: `service run` is for the Windows service manager; systemd starts `cctv-mirror run --config PATH` (see `cctv-mirror service install`)");
        std::process::ExitCode::from(crate::engine::exit::BAD_CONFIG)
    }
}

#[cfg(windows)]
mod os {
    pub use crate::service::windows::{control, install, run, status, uninstall};
}
