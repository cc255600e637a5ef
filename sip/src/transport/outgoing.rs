//! Opening a stream connection to a peer in the background (RFC 3261 §18.1.1): connect
//! from our own address, TLS handshake for `sips`/TLS, each bounded by its timeout; the
//! messages queued meanwhile are written once it is up, or reported failed.

use super::link::{Link, Outbox};
use super::slots::Slot;
use super::{Shared, stream};
use crate::transaction::{Peer, Transport};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// The client configuration and the name to verify the server's certificate against.
pub(crate) type TlsClient = (
    Arc<rustls::ClientConfig>,
    rustls::pki_types::ServerName<'static>,
);

/// Opens the connection to `peer` and runs it; `opened` learns whether it came up.
pub(crate) async fn open(
    shared: Arc<Shared>,
    peer: Peer,
    tls: Option<TlsClient>,
    (link, outbox, slot): (Link, Outbox, Slot),
    opened: oneshot::Sender<io::Result<()>>,
) {
    let tcp = match tokio::time::timeout(shared.cfg.connect_timeout, dial(&shared, peer.addr))
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")))
    {
        Ok(t) => t,
        Err(e) => {
            shared
                .stats
                .connect_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.addr, error = %e, "connect failed");
            return failed(&shared, peer, &link, opened, e);
        }
    };
    let _ = tcp.set_nodelay(true);
    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
    match tls {
        Some((cfg, name)) => {
            let handshake = tokio_rustls::TlsConnector::from(cfg).connect(name, tcp);
            match tokio::time::timeout(shared.cfg.handshake_timeout, handshake)
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "handshake timed out",
                    ))
                }) {
                Ok(s) => {
                    let _ = opened.send(Ok(()));
                    stream::run(s, peer, link, outbox, shared, slot).await;
                }
                Err(e) => {
                    shared.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(peer = %peer.addr, error = %e, "TLS handshake failed");
                    failed(&shared, peer, &link, opened, e);
                }
            }
        }
        None => {
            debug_assert_ne!(peer.transport, Transport::Tls);
            let _ = opened.send(Ok(()));
            stream::run(tcp, peer, link, outbox, shared, slot).await;
        }
    }
}

fn failed(
    shared: &Shared,
    peer: Peer,
    link: &Link,
    opened: oneshot::Sender<io::Result<()>>,
    e: io::Error,
) {
    shared.forget(peer, link.id);
    shared.report_failure(peer);
    let _ = opened.send(Err(e));
}

/// A TCP connection to `to` from our own address (the listener's IP, a port of the
/// system's choosing), so the far end sees the host our Via and Contact name
/// (§18.1.1) rather than whatever the routing table picks.
async fn dial(shared: &Shared, to: SocketAddr) -> io::Result<TcpStream> {
    let ours = [Transport::Tcp, Transport::Tls, Transport::Udp]
        .iter()
        .find_map(|t| shared.local.get(t))
        .map(SocketAddr::ip)
        .filter(|ip| !ip.is_unspecified() && ip.is_ipv4() == to.is_ipv4());
    let sock = if to.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    if let Some(ip) = ours {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    // As for accepted connections (see `listen`): a peer that does not read holds no more.
    sock.set_send_buffer_size(u32::try_from(shared.cfg.send_queue_bytes).unwrap_or(u32::MAX))?;
    sock.connect(to).await
}
