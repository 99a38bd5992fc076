//! The stop request: the OS signals that end the daemon, and the handle every task
//! holds to learn that a stop was asked for.

use tokio::sync::watch;

/// A clonable view of the stop request.
#[derive(Clone)]
pub struct Shutdown {
    /// Set to true once, by the task that awaits the stop future (see `app::run`);
    /// never closed before that task ends.
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (tx, Shutdown { rx })
    }

    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once a stop is asked for (or the sender is gone, which means the same).
    pub async fn wait(&mut self) {
        let _ = self.rx.wait_for(|stop| *stop).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM (Unix), or on Ctrl-C, Ctrl-Break, console close,
/// logoff or system shutdown (Windows). Fails only when the handlers cannot be installed.
pub async fn signalled() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows;
        let mut c = windows::ctrl_c()?;
        let mut b = windows::ctrl_break()?;
        let mut close = windows::ctrl_close()?;
        let mut shut = windows::ctrl_shutdown()?;
        let mut logoff = windows::ctrl_logoff()?;
        tokio::select! {
            _ = c.recv() => {}
            _ = b.recv() => {}
            _ = close.recv() => {}
            _ = shut.recv() => {}
            _ = logoff.recv() => {}
        }
    }
    Ok(())
}
