//! A port the soak can take down and stall: `Down` closes its listener (connections are
//! refused) and cuts the open ones; `Stalled` accepts and holds connections without a
//! byte; `Up` serves. Shared by the S3 proxy and the notification receiver.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::clock::pause;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up = 0,
    Down = 1,
    Stalled = 2,
}

/// The mode, shared between the fault executor and the port's threads.
#[derive(Debug, Clone, Default)]
pub struct Switch(Arc<AtomicU8>);

impl Switch {
    pub fn set(&self, m: Mode) {
        self.0.store(m as u8, Ordering::SeqCst);
    }

    pub fn get(&self) -> Mode {
        match self.0.load(Ordering::SeqCst) {
            1 => Mode::Down,
            2 => Mode::Stalled,
            _ => Mode::Up,
        }
    }
}

/// Serves `port` on 127.0.0.1 with `serve` for each connection, following the switch.
pub fn listen(port: u16, switch: Switch, serve: impl Fn(TcpStream, Switch) + Send + Sync + 'static) {
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        let mut listener: Option<TcpListener> = None;
        loop {
            if switch.get() == Mode::Down {
                listener = None;
            } else if listener.is_none() {
                listener = TcpListener::bind(("127.0.0.1", port)).ok();
                if let Some(l) = &listener {
                    l.set_nonblocking(true).unwrap();
                }
            }
            match listener.as_ref().map(|l| l.accept()) {
                Some(Ok((s, _))) => {
                    let _ = s.set_nonblocking(false);
                    let (serve, switch) = (serve.clone(), switch.clone());
                    std::thread::spawn(move || serve(s, switch));
                }
                _ => pause(Duration::from_millis(10)),
            }
        }
    });
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
