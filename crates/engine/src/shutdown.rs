//! The OS signals that end the daemon. The stop itself is one `CancellationToken`,
//! cancelled once by the task that awaits them (`app::forward_stop`): tasks await
//! `cancelled()`, copies and uploads check `is_cancelled()` between chunks.

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
