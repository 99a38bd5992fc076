//! The S3 server as the daemon sees it: moto behind a proxy the soak switches. A
//! stopped server refuses connections; a stalled one holds them without an answer; a
//! restarted one serves again with what it stored (as a real server keeps its disk).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::clock::pause;
use super::switch::{free_port, listen, Mode, Switch};

pub const BUCKET: &str = "soak";

/// moto and the proxy in front of it.
pub struct S3 {
    moto: Child,
    /// moto's own address, for the soak's checks.
    pub direct: String,
    /// The proxy's address, for the daemon.
    pub endpoint: String,
    pub switch: Switch,
}

impl S3 {
    pub fn start() -> Result<S3, String> {
        let port = free_port();
        let moto = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env_remove("LD_PRELOAD")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start moto (pip install 'moto[server]'): {e}"))?;
        let direct = format!("http://127.0.0.1:{port}");
        let until = Instant::now() + Duration::from_secs(60);
        while ureq::put(&format!("{direct}/{BUCKET}")).send_empty().is_err() {
            if Instant::now() > until {
                return Err("moto did not answer within 60 s (pip install 'moto[server]')".into());
            }
            pause(Duration::from_millis(300));
        }
        let (switch, front) = (Switch::default(), free_port());
        listen(front, switch.clone(), move |s, sw| relay(s, port, sw));
        Ok(S3 {
            moto,
            direct,
            endpoint: format!("http://127.0.0.1:{front}"),
            switch,
        })
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.moto.kill();
        let _ = self.moto.wait();
    }
}

/// Carries one connection to moto and back while the switch allows.
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
