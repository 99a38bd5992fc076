//! `cctv-mirror service …` where systemd manages services: writes the unit for the
//! given config to `/etc/systemd/system/NAME.service` and drives `systemctl`. Where
//! systemd is not running (a container, another init), prints the unit and the
//! commands an operator would run instead, and succeeds.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::unit::{render, UnitFacts};
use super::{Account, Failed, ServiceResult};
use crate::config::Config;

fn unit_path(name: &str) -> PathBuf {
    PathBuf::from(format!("/etc/systemd/system/{name}.service"))
}

/// True when systemd is the running service manager (what `sd_booted()` checks).
fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn systemctl(args: &[&str]) -> Result<String, String> {
    let out = Command::new("systemctl")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run systemctl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Ok(text)
    } else {
        let err = String::from_utf8_lossy(&out.stderr).trim().replace('\n', " ");
        Err(format!("systemctl {} failed: {err}", args.join(" ")))
    }
}

pub fn install(cfg: &Config, name: &str, account: &Account) -> ServiceResult {
    if account.password.is_some() {
        return Err(Failed::bad_usage(
            "--password-env is for Windows; systemd runs the unit as its User= without a password",
        ));
    }
    let exe =
        std::env::current_exe().map_err(|e| Failed::cannot_run(format!("cannot find this program's path: {e}")))?;
    let unit = render(&UnitFacts {
        exe: &exe,
        config: &cfg.file,
        backup_dir: &cfg.backup_dir,
        log_dir: &cfg.log_dir,
        user: account.name.as_deref(),
    });
    let path = unit_path(name);
    if !systemd_running() {
        return Ok(format!(
            "systemd is not running here, so nothing was installed. To install by hand, save this as {}:\n\n{unit}\nthen run:\n  systemctl daemon-reload\n  systemctl enable --now {name}",
            path.display()
        ));
    }
    if path.exists() {
        return Err(Failed::bad_usage(format!(
            "{} is already installed ({}); run `cctv-mirror service uninstall --name {name}` first",
            name,
            path.display()
        )));
    }
    std::fs::write(&path, unit).map_err(|e| Failed::cannot_run(format!("cannot write {}: {e}", path.display())))?;
    systemctl(&["daemon-reload"]).map_err(Failed::cannot_run)?;
    systemctl(&["enable", "--now", name]).map_err(Failed::cannot_run)?;
    Ok(format!(
        "installed and started {name} ({}); it starts at boot and restarts after a failure. Logs: journalctl -u {name}",
        path.display()
    ))
}

pub fn uninstall(name: &str) -> ServiceResult {
    let path = unit_path(name);
    if !systemd_running() {
        return Ok(format!(
            "systemd is not running here. To remove the service by hand:\n  systemctl disable --now {name}\n  rm {}\n  systemctl daemon-reload",
            path.display()
        ));
    }
    if !path.exists() {
        return Err(Failed::bad_usage(format!(
            "{name} is not installed ({} does not exist)",
            path.display()
        )));
    }
    systemctl(&["disable", "--now", name]).map_err(Failed::cannot_run)?;
    std::fs::remove_file(&path).map_err(|e| Failed::cannot_run(format!("cannot remove {}: {e}", path.display())))?;
    systemctl(&["daemon-reload"]).map_err(Failed::cannot_run)?;
    Ok(format!("stopped and removed {name}"))
}

/// `start` or `stop`.
pub fn control(name: &str, verb: &str) -> ServiceResult {
    if !systemd_running() {
        return Ok(format!(
            "systemd is not running here; the command would be: systemctl {verb} {name}"
        ));
    }
    if !unit_path(name).exists() {
        return Err(Failed::bad_usage(format!("{name} is not installed")));
    }
    systemctl(&[verb, name]).map_err(Failed::cannot_run)?;
    Ok(format!("{name}: {verb} done"))
}

pub fn status(name: &str) -> ServiceResult {
    if !systemd_running() {
        return Err(Failed::problems(format!(
            "systemd is not running here; {name} is not running as a service"
        )));
    }
    if !unit_path(name).exists() {
        return Err(Failed::problems(format!("{name} is not installed")));
    }
    match systemctl(&["is-active", name]) {
        Ok(state) => Ok(format!("{name}: {state}")),
        Err(_) => Err(Failed::problems(format!(
            "{name}: not running (journalctl -u {name} says why)"
        ))),
    }
}
