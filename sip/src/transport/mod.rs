//! Transports (RFC 3261 §18, RFC 3581): a thin tokio layer that only moves bytes. UDP, TCP
//! (connections reused per remote address, Content-Length framing, idle close) and TLS
//! (rustls), IPv4 and IPv6. Received messages are vetted by the sans-IO [`inbound`] rules
//! and handed up on a channel; outgoing bytes go to a [`Peer`].

pub mod inbound;
mod stream;
pub mod tls;

pub use inbound::{Inbound, SIP_PORT, SIPS_PORT, vet};

use crate::transaction::{Peer, Transport};
use inbound::Inbound as V;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// Requests larger than this go over TCP instead of UDP (§18.1.1: 200 bytes below a 1500
/// byte path MTU).
pub const MTU_LIMIT: usize = 1300;

/// The transport to use for a request of `len` bytes to `peer` (§18.1.1): a UDP request
/// over [`MTU_LIMIT`] switches to TCP.
pub fn transport_for(peer: Peer, len: usize) -> Peer {
    if peer.transport == Transport::Udp && len > MTU_LIMIT {
        Peer {
            transport: Transport::Tcp,
            ..peer
        }
    } else {
        peer
    }
}

/// Depth of the receive queue toward the transaction layer.
pub const QUEUE_DEPTH: usize = 4096;

/// Slots of the receive queue only [`Admission::Priority`] messages may take: when a
/// flood fills the rest, the servers' and trusted peers' messages still get in.
pub const PRIORITY_RESERVE: usize = 1024;

/// What an [`Admit`] filter makes of a datagram, a stream message or a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Ignore it: not parsed, not queued, not answered (a stream connection is closed).
    Drop,
    /// Queue it while the queue has room beyond [`PRIORITY_RESERVE`].
    Normal,
    /// Queue it while the queue has any room.
    Priority,
}

/// The admission hook, asked before a datagram is parsed or queued and before an accepted
/// connection is served (then with empty `bytes`). It must be cheap: it runs on the
/// receive path of every message.
pub trait Admit: Send + Sync {
    /// What to do with `bytes` received from `from`.
    fn admit(&self, from: SocketAddr, bytes: &[u8]) -> Admission;
}

/// What to listen on and how.
#[derive(Clone)]
pub struct TransportConfig {
    /// UDP socket address (port 0: any free port).
    pub udp: Option<SocketAddr>,
    /// TCP listen address.
    pub tcp: Option<SocketAddr>,
    /// TLS listen address and server configuration.
    pub tls: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
    /// Client configuration for outgoing TLS connections.
    pub tls_client: Option<Arc<rustls::ClientConfig>>,
    /// The host name to verify an outgoing TLS connection's certificate against, by the
    /// address it was resolved to (RFC 5922 §4: the domain the request was for, not the
    /// address). A peer not listed is verified against its IP address.
    pub tls_names: HashMap<IpAddr, String>,
    /// Largest message accepted (513 above it).
    pub max_message_size: usize,
    /// A stream connection without traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Most stream connections accepted at once (TCP and TLS together): beyond it a new
    /// one is closed at once, so a flood of connections cannot exhaust a small box.
    pub max_connections: usize,
    /// A TLS client that has not finished its handshake in this time is dropped.
    pub handshake_timeout: Duration,
    /// The admission hook (per-source rate limits); none: everything is [`Admission::Normal`].
    pub admit: Option<Arc<dyn Admit>>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            udp: None,
            tcp: None,
            tls: None,
            tls_client: None,
            tls_names: HashMap::new(),
            max_message_size: 64 * 1024,
            idle_timeout: Duration::from_secs(300),
            max_connections: 256,
            handshake_timeout: Duration::from_secs(10),
            admit: None,
        }
    }
}

/// Counters of the transport layer.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages handed up.
    pub received: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// Requests answered with 400/505/513 by the transport.
    pub rejected: AtomicU64,
    /// Messages dropped as unanswerable.
    pub dropped: AtomicU64,
    /// Stream connections opened or accepted (TCP and TLS).
    pub connections: AtomicU64,
    /// Messages dropped because the receive queue was full (overload).
    pub overload: AtomicU64,
    /// TLS handshakes that failed or timed out.
    pub tls_failures: AtomicU64,
    /// Connections closed on accept because `max_connections` were open.
    pub refused: AtomicU64,
    /// Messages and connections the admission hook dropped.
    pub denied: AtomicU64,
}

/// A vetted message for the transaction layer.
#[derive(Debug)]
pub struct Received {
    /// The message bytes (a request with `received`/`rport` stamped).
    pub bytes: Vec<u8>,
    /// Where it came from (for a stream, the connection).
    pub source: Peer,
    /// Where responses to a request go (§18.2.2).
    pub respond_to: Peer,
}

pub(crate) struct Shared {
    cfg: TransportConfig,
    udp: Option<Arc<UdpSocket>>,
    conns: Mutex<HashMap<Peer, mpsc::Sender<Arc<[u8]>>>>,
    up: mpsc::Sender<Received>,
    local: HashMap<Transport, SocketAddr>,
    stats: Stats,
    /// `cfg.tls_names`, kept up to date by [`TransportHandle::set_tls_name`].
    tls_names: Mutex<HashMap<IpAddr, String>>,
}

impl Shared {
    /// What the admission hook makes of `bytes` from `from`.
    fn admission(&self, from: SocketAddr, bytes: &[u8]) -> Admission {
        let a = match &self.cfg.admit {
            Some(f) => f.admit(from, bytes),
            None => Admission::Normal,
        };
        if a == Admission::Drop {
            self.stats.denied.fetch_add(1, Ordering::Relaxed);
        }
        a
    }

    /// Hands a stream message up after asking the admission hook (see [`Shared::push_as`]).
    fn push(&self, r: Received) -> bool {
        match self.admission(r.source.addr, &r.bytes) {
            Admission::Drop => true,
            a => self.push_as(r, a),
        }
    }

    /// Hands a message up; when the transaction layer is this far behind (for a
    /// [`Admission::Normal`] message: only the [`PRIORITY_RESERVE`] is left) the message is
    /// dropped (as a full socket buffer would) and counted.
    fn push_as(&self, r: Received, a: Admission) -> bool {
        if a == Admission::Normal && self.up.capacity() <= PRIORITY_RESERVE {
            self.stats.overload.fetch_add(1, Ordering::Relaxed);
            return !self.up.is_closed();
        }
        match self.up.try_send(r) {
            Ok(()) => {
                self.stats.received.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(r)) => {
                self.stats.overload.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(from = %r.source.addr, "receive queue full: message dropped");
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn forget(&self, peer: Peer) {
        if let Ok(mut c) = self.conns.lock() {
            c.remove(&peer);
        }
    }

    fn note(&self, v: &V, from: SocketAddr) {
        match v {
            V::Drop(why) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%from, why, "dropped unanswerable message");
            }
            V::Reject { code, .. } => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%from, code, "rejected malformed request");
            }
            _ => {}
        }
    }
}

/// The handle to send with; cheap to clone.
#[derive(Clone)]
pub struct TransportHandle(Arc<Shared>);

impl TransportHandle {
    /// Binds every configured transport and starts its tasks. Received messages arrive on
    /// the returned channel.
    pub async fn bind(
        cfg: TransportConfig,
    ) -> io::Result<(TransportHandle, mpsc::Receiver<Received>)> {
        let (up, rx) = mpsc::channel(QUEUE_DEPTH);
        let mut local = HashMap::new();
        let udp = match cfg.udp {
            Some(a) => {
                let s = Arc::new(UdpSocket::bind(a).await?);
                local.insert(Transport::Udp, s.local_addr()?);
                Some(s)
            }
            None => None,
        };
        let tcp = match cfg.tcp {
            Some(a) => {
                let l = TcpListener::bind(a).await?;
                local.insert(Transport::Tcp, l.local_addr()?);
                Some(l)
            }
            None => None,
        };
        let tls = match &cfg.tls {
            Some((a, sc)) => {
                let l = TcpListener::bind(a).await?;
                local.insert(Transport::Tls, l.local_addr()?);
                Some((l, tokio_rustls::TlsAcceptor::from(sc.clone())))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            tls_names: Mutex::new(cfg.tls_names.clone()),
            cfg,
            udp: udp.clone(),
            conns: Mutex::new(HashMap::new()),
            up,
            local,
            stats: Stats::default(),
        });
        if let Some(s) = udp {
            tokio::spawn(udp_loop(s, shared.clone()));
        }
        if let Some(l) = tcp {
            tokio::spawn(accept_loop(l, None, shared.clone()));
        }
        if let Some((l, acc)) = tls {
            tokio::spawn(accept_loop(l, Some(acc), shared.clone()));
        }
        Ok((TransportHandle(shared), rx))
    }

    /// From now on, verify TLS connections to `ip` against `name` (a name that resolved
    /// after the transport was bound, see [`TransportConfig::tls_names`]); an address that
    /// already has a name keeps it.
    pub fn set_tls_name(&self, ip: IpAddr, name: &str) {
        if let Ok(mut m) = self.0.tls_names.lock() {
            m.entry(ip).or_insert_with(|| name.to_owned());
        }
    }

    /// The bound address of a transport.
    pub fn local_addr(&self, t: Transport) -> Option<SocketAddr> {
        self.0.local.get(&t).copied()
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.0.stats
    }

    /// Sends one message to `to`: a datagram over UDP; over TCP/TLS on the connection to
    /// that address, opened (and for TLS verified) when there is none.
    pub async fn send(&self, to: Peer, bytes: Arc<[u8]>) -> io::Result<()> {
        let s = &self.0;
        if to.transport == Transport::Udp {
            let sock = s
                .udp
                .as_ref()
                .ok_or_else(|| io::Error::other("no UDP socket bound"))?;
            sock.send_to(&bytes, to.addr).await?;
            s.stats.sent.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let existing = s.conns.lock().ok().and_then(|c| c.get(&to).cloned());
        let tx = match existing {
            Some(tx) if !tx.is_closed() => tx,
            _ => self.connect(to).await?,
        };
        tx.send(bytes)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"))
    }

    /// A TCP connection to `to` from our own address (the listener's IP, a port of the
    /// system's choosing), so the far end sees the host our Via and Contact name
    /// (§18.1.1) rather than whatever the routing table picks.
    async fn dial(&self, to: SocketAddr) -> io::Result<TcpStream> {
        let ours = [Transport::Tcp, Transport::Tls, Transport::Udp]
            .iter()
            .find_map(|t| self.0.local.get(t))
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
        sock.connect(to).await
    }

    async fn connect(&self, to: Peer) -> io::Result<mpsc::Sender<Arc<[u8]>>> {
        let s = self.0.clone();
        let tcp = self.dial(to.addr).await?;
        let _ = tcp.set_nodelay(true);
        s.stats.connections.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(256);
        match to.transport {
            Transport::Tls => {
                let cfg = s
                    .cfg
                    .tls_client
                    .clone()
                    .ok_or_else(|| io::Error::other("no TLS client configuration"))?;
                let known = s
                    .tls_names
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&to.addr.ip()).cloned());
                let name = match known {
                    Some(n) => rustls::pki_types::ServerName::try_from(n)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
                    None => rustls::pki_types::ServerName::IpAddress(to.addr.ip().into()),
                };
                let tls = match tokio_rustls::TlsConnector::from(cfg)
                    .connect(name, tcp)
                    .await
                {
                    Ok(t) => t,
                    Err(e) => {
                        s.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(peer = %to.addr, error = %e, "TLS handshake failed");
                        return Err(e);
                    }
                };
                self.register(to, tx.clone());
                tokio::spawn(stream::run(tls, to, rx, s));
            }
            _ => {
                self.register(to, tx.clone());
                tokio::spawn(stream::run(tcp, to, rx, s));
            }
        }
        Ok(tx)
    }

    fn register(&self, peer: Peer, tx: mpsc::Sender<Arc<[u8]>>) {
        if let Ok(mut c) = self.0.conns.lock() {
            c.insert(peer, tx);
        }
    }
}

async fn udp_loop(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, from) = match sock.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors surface here on some systems; keep serving.
                tracing::debug!(error = %e, "UDP receive error");
                continue;
            }
        };
        let admission = shared.admission(from, &buf[..n]);
        if admission == Admission::Drop {
            continue;
        }
        let v = vet(&buf[..n], from, Transport::Udp, shared.cfg.max_message_size);
        shared.note(&v, from);
        let source = Peer {
            transport: Transport::Udp,
            addr: from,
        };
        match v {
            V::Request { bytes, respond_to } => {
                shared.push_as(
                    Received {
                        bytes,
                        source,
                        respond_to,
                    },
                    admission,
                );
            }
            V::Response(bytes) => {
                shared.push_as(
                    Received {
                        bytes,
                        source,
                        respond_to: source,
                    },
                    admission,
                );
            }
            V::Reject { bytes, .. } => {
                let _ = sock.send_to(&bytes, from).await;
            }
            V::Drop(_) => {}
        }
    }
}

/// Connections accepted and not yet closed, counted down when dropped.
struct Admitted(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn accept_loop(l: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, shared: Arc<Shared>) {
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
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
        if shared.admission(from, &[]) == Admission::Drop {
            drop(tcp);
            continue;
        }
        if open.load(Ordering::Relaxed) >= shared.cfg.max_connections {
            shared.stats.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%from, "connection refused: too many open");
            drop(tcp);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let admitted = Admitted(open.clone());
        let _ = tcp.set_nodelay(true);
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let (tx, rx) = mpsc::channel(256);
            let transport = if tls.is_some() {
                Transport::Tls
            } else {
                Transport::Tcp
            };
            let peer = Peer {
                transport,
                addr: from,
            };
            match tls {
                Some(acc) => {
                    match tokio::time::timeout(shared.cfg.handshake_timeout, acc.accept(tcp))
                        .await
                        .unwrap_or_else(|_| {
                            Err(io::Error::new(io::ErrorKind::TimedOut, "handshake"))
                        }) {
                        Ok(s) => {
                            if let Ok(mut c) = shared.conns.lock() {
                                c.insert(peer, tx);
                            }
                            stream::run(s, peer, rx, shared).await;
                        }
                        Err(e) => {
                            shared.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%from, error = %e, "TLS handshake failed");
                        }
                    }
                }
                None => {
                    if let Ok(mut c) = shared.conns.lock() {
                        c.insert(peer, tx);
                    }
                    stream::run(tcp, peer, rx, shared).await;
                }
            }
        });
    }
}
