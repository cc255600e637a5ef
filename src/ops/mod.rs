//! Field operations: what an installer or a support desk sees of a running gateway.
//!
//! - [`record`]: one [`record::CallRecord`] per call (the SIP side's notes joined with the
//!   media figures), written to a rotated JSON-lines file ([`records_file`]) and the
//!   journal ([`journal`]);
//! - [`status`]: the lines, calls, registrations and counters, asked on the control
//!   socket ([`control`]) by `tipring status` and scraped as OpenMetrics ([`metrics`]);
//! - [`mos`]: the ITU-T G.107 estimate of a call's quality in both;
//! - [`capture`]: the recent SIP messages, written as pcap by `tipring capture`;
//! - [`provision`]: the configuration fetched from an HTTPS server and applied between
//!   calls;
//! - [`web`]: the admin page, all of the above in a browser, and the configuration
//!   changed there.

pub mod capture;
pub mod control;
pub mod journal;
pub mod metrics;
pub mod mos;
pub mod provision;
pub mod record;
pub mod records_file;
pub mod status;
pub mod timestamp;
pub mod web;

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// A listening socket of the operator's interfaces.
trait Listener {
    type Stream;
    fn accept_one(&self) -> impl Future<Output = std::io::Result<Self::Stream>> + Send;
}

impl Listener for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_one(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_one(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

/// Accepts clients for ever, serving at most `max` at once (more are closed unanswered);
/// an accept error (out of descriptors) pauses the loop a moment instead of spinning.
/// The clients' tasks belong to this future: when it is dropped (the listener stopped),
/// every connection still open ends too, so none is answered by a gateway that is gone.
async fn serve_bounded<L, F, Fut>(max: usize, listener: &L, serve: F)
where
    L: Listener,
    F: Fn(L::Stream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max));
    let mut clients = tokio::task::JoinSet::new();
    loop {
        while clients.try_join_next().is_some() {}
        let Ok(client) = listener.accept_one().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let fut = serve(client);
        clients.spawn(async move {
            fut.await;
            drop(permit);
        });
    }
}

/// A fresh scratch directory for one test thread.
#[cfg(test)]
fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tipring-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch directory");
    d
}
