//! `cctv-mirror init-config`: writes a first `config.json` from a few values (the
//! Windows installer runs it with its properties), only where none exists: an existing
//! file is never touched. The values are checked by the config's own validation before
//! anything is written; nothing half-written ever carries the config's name.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::InitConfigArgs;

use crate::config::{absolute, Config};
use crate::engine::exit;

/// Exit 0 written or already there; 2 a value missing or refused (nothing written);
/// 1 the file cannot be written.
pub fn run(args: &InitConfigArgs) -> ExitCode {
    let file = absolute(&args.config);
    if file.exists() {
        println!("{} already exists; left as it is", file.display());
        return ExitCode::from(exit::OK);
    }
    let given = |p: &Option<OsString>| p.as_deref().filter(|p| !p.is_empty()).map(|p| absolute(Path::new(p)));
    let (Some(source), Some(backup)) = (given(&args.source_dir), given(&args.backup_dir)) else {
        eprintln!(
            "error: no configuration written: --source-dir and --backup-dir are both needed; or write {} by hand \
             (docs/configuration.md), then `cctv-mirror check --config {0}`",
            file.display()
        );
        return ExitCode::from(exit::BAD_CONFIG);
    };
    // Windows reads `"D:\backup\"` as `D:\backup"` and what follows: a folder given
    // with a trailing backslash inside quotes.
    let quoted = [&args.source_dir, &args.backup_dir, &args.log_dir]
        .into_iter()
        .flatten()
        .find(|p| p.to_string_lossy().contains('"'));
    if let Some(p) = quoted {
        eprintln!(
            "error: no configuration written: {} holds a double quote; give each folder without a trailing backslash",
            p.to_string_lossy()
        );
        return ExitCode::from(exit::BAD_CONFIG);
    }
    let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let logs = given(&args.log_dir).unwrap_or_else(|| folder.join("logs"));
    let retention = crate::config::default_retention_days();
    let text = render(&source, &backup, &logs, args.retention_days.unwrap_or(retention));
    if let Err(invalid) = Config::parse(&text, &folder) {
        eprintln!("error: no configuration written: {invalid}");
        return ExitCode::from(exit::BAD_CONFIG);
    }
    match write_new(&file, &text) {
        Ok(true) => {
            println!(
                "wrote {}; check it with `cctv-mirror check --config {0}`",
                file.display()
            );
            ExitCode::from(exit::OK)
        }
        Ok(false) => {
            println!("{} already exists; left as it is", file.display());
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", file.display());
            ExitCode::from(exit::CANNOT_RUN)
        }
    }
}

/// The file's text: the four keys in the order docs/configuration.md gives them.
fn render(source: &Path, backup: &Path, logs: &Path, retention_days: u32) -> String {
    let s = |p: &Path| serde_json::to_string(&p.display().to_string()).expect("a string is JSON");
    format!(
        "{{\n  \"source_dir\": {},\n  \"backup_dir\": {},\n  \"log_dir\": {},\n  \"retention_days\": {retention_days}\n}}\n",
        s(source),
        s(backup),
        s(logs)
    )
}

/// Writes `text` to a temporary beside `file`, then links it under `file`'s name,
/// which fails rather than replace a file that appeared meanwhile. Ok(false): it had.
fn write_new(file: &Path, text: &str) -> std::io::Result<bool> {
    use std::io::Write;
    let folder = file.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(
        ".{}.{}.cctv-tmp",
        file.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    let linked = std::fs::hard_link(&tmp, file);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_a_valid_config_with_windows_paths_escaped() {
        let text = render(
            Path::new(r"E:\Intelbras\LocalRecording"),
            Path::new(r"D:\cctv-backup"),
            Path::new(r"C:\ProgramData\cctv-mirror\logs"),
            31,
        );
        assert!(
            text.contains(r#""source_dir": "E:\\Intelbras\\LocalRecording","#),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["retention_days"], 31);
        assert_eq!(v["log_dir"], r"C:\ProgramData\cctv-mirror\logs");
    }

    #[test]
    fn an_existing_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("config.json");
        assert!(write_new(&file, "first").unwrap());
        assert!(!write_new(&file, "second").unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "first");
        let left: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary left");
    }
}
