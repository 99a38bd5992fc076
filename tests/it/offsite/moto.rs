//! A second real S3 server for what SeaweedFS does not show: moto's server
//! (`python3 -m moto.server`, from PyPI's `moto[server]`, installed by `.ci/run`), on
//! a free loopback port, with the test bucket. It checks no signature.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cctv_mirror::offsite::client::Client;

use super::{client_at, BUCKET, SECRET};
use crate::common::*;

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    /// Starts it with the bucket made; without moto, says it is missing.
    pub fn start() -> Result<Moto, Skip> {
        Moto::start_with(false)
    }

    /// The same, the bucket made with object lock enabled when `locked`.
    pub fn start_with(locked: bool) -> Result<Moto, Skip> {
        let found = Command::new("python3").args(["-c", "import moto.server"]).output();
        if !found.is_ok_and(|o| o.status.success()) {
            return missing("moto: pip install 'moto[server]'");
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.make_bucket(locked);
        Ok(moto)
    }

    pub fn client(&self) -> Client {
        client_at(&self.endpoint, SECRET, BUCKET)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Waits until it answers, then makes the bucket (moto takes it unsigned).
    fn make_bucket(&self, locked: bool) {
        let url = format!("{}/{BUCKET}", self.endpoint);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let mut put = ureq::put(&url);
            if locked {
                put = put.header("x-amz-bucket-object-lock-enabled", "true");
            }
            if put.send_empty().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("moto did not answer within 60 s");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
