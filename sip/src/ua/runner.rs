//! The tokio shell around the sans-IO [`Ua`]: it moves bytes between the transports and the
//! core and wakes the core at its deadline. Nothing here decides anything about SIP.

use super::{Ua, UaConfig, UaEvent};
use crate::transaction::{Peer, Transport};
use crate::transport::{Received, TransportConfig, TransportHandle};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Which way a message went, for a ladder printout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// Called with every SIP message sent or received.
pub type Tap = Box<dyn FnMut(Direction, Peer, &[u8]) + Send>;

/// What a UA on TLS needs (RFC 3261 §26.3.1): a server configuration (certificate and key)
/// to accept connections, a client configuration (trusted CAs) to open them.
#[derive(Clone, Default)]
pub struct TlsSetup {
    /// Accept TLS connections on the listen address with this configuration.
    pub server: Option<Arc<rustls::ServerConfig>>,
    /// Open TLS connections (verifying the peer) with this configuration.
    pub client: Option<Arc<rustls::ClientConfig>>,
}

/// A [`Ua`] on real sockets.
pub struct UaRunner {
    tp: TransportHandle,
    rx: mpsc::Receiver<Received>,
    ua: Ua,
    tap: Option<Tap>,
}

impl UaRunner {
    /// Binds `transport` on `listen` (port 0: any) and makes the UA with `make(local)`.
    pub async fn bind(
        listen: SocketAddr,
        transport: Transport,
        make: impl FnOnce(SocketAddr) -> UaConfig,
    ) -> io::Result<UaRunner> {
        let mut cfg = TransportConfig::default();
        match transport {
            Transport::Udp => cfg.udp = Some(listen),
            Transport::Tcp => {
                cfg.tcp = Some(listen);
            }
            Transport::Tls => {
                return Err(io::Error::other(
                    "TLS needs certificates: use UaRunner::bind_tls",
                ));
            }
        }
        Self::start(cfg, transport, None, make).await
    }

    /// Binds TLS: a listener on `listen` when `tls.server` is set, outgoing connections
    /// with `tls.client`. Without a listener the UA names `listen` in Via and Contact; the
    /// far end then reaches it only over the connections it opened.
    pub async fn bind_tls(
        listen: SocketAddr,
        tls: TlsSetup,
        make: impl FnOnce(SocketAddr) -> UaConfig,
    ) -> io::Result<UaRunner> {
        if tls.server.is_none() && tls.client.is_none() {
            return Err(io::Error::other(
                "TLS needs a certificate and key (to accept) or CA certificates (to connect)",
            ));
        }
        let cfg = TransportConfig {
            tls: tls.server.map(|s| (listen, s)),
            tls_client: tls.client,
            ..TransportConfig::default()
        };
        Self::start(cfg, Transport::Tls, Some(listen), make).await
    }

    async fn start(
        cfg: TransportConfig,
        transport: Transport,
        unbound: Option<SocketAddr>,
        make: impl FnOnce(SocketAddr) -> UaConfig,
    ) -> io::Result<UaRunner> {
        let (tp, rx) = TransportHandle::bind(cfg).await?;
        let local = tp
            .local_addr(transport)
            .or(unbound)
            .ok_or_else(|| io::Error::other("transport not bound"))?;
        Ok(UaRunner {
            tp,
            rx,
            ua: Ua::new(make(local)),
            tap: None,
        })
    }

    /// Sets the message tap (the CLI's ladder).
    pub fn set_tap(&mut self, tap: Tap) {
        self.tap = Some(tap);
    }

    /// The core, to give it commands. Call [`UaRunner::flush`] (or the next
    /// [`UaRunner::next_event`]) afterwards to send what the command produced.
    pub fn ua(&mut self) -> &mut Ua {
        &mut self.ua
    }

    /// The local address of the signalling transport.
    pub fn local(&self) -> SocketAddr {
        self.ua.config().local
    }

    /// Sends everything the core has queued.
    pub async fn flush(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            if let Some(tap) = self.tap.as_mut() {
                tap(Direction::Sent, t.to, &t.bytes);
            }
            if let Err(e) = self.tp.send(t.to, t.bytes).await {
                tracing::warn!(peer = %t.to.addr, error = %e, "send failed");
                self.ua.transport_failed(Instant::now(), t.to);
            }
        }
    }

    /// Keeps the core serving for `d` and drops its events: the last messages queued on a
    /// stream connection get written, retransmitted requests (a BYE whose 200 was lost)
    /// are answered again. For a clean exit.
    pub async fn linger(&mut self, d: std::time::Duration) {
        let until = Instant::now() + d;
        while self.next_event(Some(until)).await.is_some() {}
    }

    /// Runs the core until it has an event, or until `until` (then `None`).
    pub async fn next_event(&mut self, until: Option<Instant>) -> Option<UaEvent> {
        loop {
            self.flush().await;
            if let Some(e) = self.ua.poll_event() {
                return Some(e);
            }
            let now = Instant::now();
            if until.is_some_and(|u| u <= now) {
                return None;
            }
            let wake = match (self.ua.poll_timeout(), until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(tokio::time::Instant::from_std(w)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.rx.recv() => {
                    let r = r?;
                    if let Some(tap) = self.tap.as_mut() {
                        tap(Direction::Received, r.source, &r.bytes);
                    }
                    let from = if r.bytes.starts_with(b"SIP/") { r.source } else { r.respond_to };
                    self.ua.handle_message(Instant::now(), &r.bytes, from);
                }
                _ = sleep => {
                    self.ua.handle_timeout(Instant::now());
                }
            }
        }
    }
}
