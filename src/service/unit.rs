//! The systemd unit of the daemon, written from its few facts (the binary, the config
//! and the two folders it writes to). Pure: `service install` writes it for a real
//! config, and `packaging/systemd/cctv-mirror.service` is this text for the packaged
//! paths (a test keeps the two equal).

use std::path::Path;

/// What varies between installations.
pub struct UnitFacts<'a> {
    pub exe: &'a Path,
    pub config: &'a Path,
    pub backup_dir: &'a Path,
    pub log_dir: &'a Path,
    /// The unit's `User=`; None: root.
    pub user: Option<&'a str>,
}

/// The packaged unit's facts: the binary in /usr/local/bin, the config in
/// /etc/cctv-mirror, an example backup disk and the logs under /var/log.
pub fn packaged() -> String {
    render(&UnitFacts {
        exe: Path::new("/usr/local/bin/cctv-mirror"),
        config: Path::new("/etc/cctv-mirror/config.json"),
        backup_dir: Path::new("/srv/cctv-backup"),
        log_dir: Path::new("/var/log/cctv-mirror"),
        user: None,
    })
}

/// systemd quotes: a path with spaces in double quotes, `\` and `"` escaped, `%` doubled.
fn quoted(p: &Path) -> String {
    let s = p.display().to_string().replace('%', "%%");
    if s.contains([' ', '"', '\\', '\'']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s
    }
}

pub fn render(f: &UnitFacts) -> String {
    format!(
        r#"# cctv-mirror: keeps a second, safe copy of CCTV recordings.
# Written by `cctv-mirror service install`; see docs/service.md.
[Unit]
Description=cctv-mirror - CCTV recordings backup
After=network-online.target local-fs.target remote-fs.target
Wants=network-online.target
# Where the backup (or the recordings) are on a disk that mounts at boot (an iSCSI
# disk, a NAS share), add for example:
#   RequiresMountsFor=/srv/cctv-backup
# Then systemd starts cctv-mirror after the mount, and stops it if the mount goes away.
# Without it, cctv-mirror still never writes where the disk is missing (it waits for
# the backup folder's marker) and raises backup_unavailable.

[Service]
Type=notify
NotifyAccess=main
{user}ExecStart={exe} run --config {config}
Restart=on-failure
RestartSec=10s
# The daemon proves it works from its own loop (never a free-running timer): it pings
# at half this period while it waits or its copies make progress.
WatchdogSec=120s
# A long first backfill extends the start while it makes progress.
TimeoutStartSec=5min
# A stop discards the copy in flight within one 4 MiB chunk and writes status.json.
TimeoutStopSec=90s
KillMode=mixed

# Hardening: the whole system read-only but for the backup and the logs.
ProtectSystem=strict
ReadWritePaths=-{backup} {logs}
ProtectHome=read-only
PrivateTmp=yes
NoNewPrivileges=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes

[Install]
WantedBy=multi-user.target
"#,
        exe = quoted(f.exe),
        config = quoted(f.config),
        backup = quoted(f.backup_dir),
        logs = quoted(f.log_dir),
        user = f.user.map_or(String::new(), |u| format!("User={u}\n")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_unit_is_the_rendered_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/systemd/cctv-mirror.service");
        // CCTV_MIRROR_WRITE_UNIT=1 cargo test --lib unit:: rewrites the file after a change.
        if std::env::var_os("CCTV_MIRROR_WRITE_UNIT").is_some() {
            std::fs::write(path, packaged()).unwrap();
        }
        let file = std::fs::read_to_string(path).expect("packaging/systemd/cctv-mirror.service");
        assert_eq!(
            file,
            packaged(),
            "CCTV_MIRROR_WRITE_UNIT=1 cargo test --lib unit:: rewrites it"
        );
    }

    #[test]
    fn paths_with_spaces_are_quoted() {
        let u = render(&UnitFacts {
            exe: Path::new("/opt/cctv mirror/cctv-mirror"),
            config: Path::new("/etc/c/100%.json"),
            backup_dir: Path::new("/b"),
            log_dir: Path::new("/l"),
            user: Some("cctv"),
        });
        assert!(u.contains("\nUser=cctv\nExecStart="), "{u}");
        assert!(
            u.contains("ExecStart=\"/opt/cctv mirror/cctv-mirror\" run --config /etc/c/100%%.json"),
            "{u}"
        );
    }
}
