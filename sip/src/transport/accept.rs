//! Accepting stream connections (TCP, and TLS after a bounded handshake): each is admitted
//! by [`Shared::admit`] (the shared slot pool, the per-source cap) or closed at once.

use super::{Shared, link, stream};
use crate::transaction::{Peer, Transport};
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;

/// Accepts on `l` until the transport is dropped.
pub(crate) async fn accept_loop(
    l: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let transport = if tls.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    loop {
        let (tcp, from) = match l.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning on it.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = shared.admit(from) else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let task_shared = shared.clone();
        let tls = tls.clone();
        shared.spawn(async move {
            let shared = task_shared;
            let peer = Peer {
                transport,
                addr: from,
            };
            let (link, outbox) = link::link(shared.cfg.send_queue_bytes);
            match tls {
                Some(acc) => {
                    match tokio::time::timeout(shared.cfg.handshake_timeout, acc.accept(tcp))
                        .await
                        .unwrap_or_else(|_| {
                            Err(io::Error::new(io::ErrorKind::TimedOut, "handshake"))
                        }) {
                        Ok(s) => {
                            shared.register(peer, &link);
                            stream::run(s, peer, link, outbox, shared, slot).await;
                        }
                        Err(e) => {
                            shared.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%from, error = %e, "TLS handshake failed");
                        }
                    }
                }
                None => {
                    shared.register(peer, &link);
                    stream::run(tcp, peer, link, outbox, shared, slot).await;
                }
            }
        });
    }
}
