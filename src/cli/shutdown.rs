//! The stop request of the long-running diagnostic commands (`answer`, `call`, `register`):
//! SIGINT from a terminal or SIGTERM from systemd / `kill`, either of which makes them hang
//! up or unregister before exiting.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Listens for SIGINT and SIGTERM from the moment it is made (a signal is never lost
/// between two waits).
pub(super) struct Shutdown {
    int: Signal,
    term: Signal,
}

impl Shutdown {
    /// Installs the handlers (inside a tokio runtime).
    pub(super) fn new() -> std::io::Result<Shutdown> {
        Ok(Shutdown {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub(super) async fn requested(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}
