//! Transports (RFC 3261 §18, RFC 3581): a thin tokio layer that only moves bytes. UDP, TCP
//! (connections reused per remote address, Content-Length framing, idle close) and TLS
//! (rustls), IPv4 and IPv6. Received messages are vetted by the sans-IO [`inbound`] rules
//! and handed up on a channel; outgoing bytes go to a [`Peer`] without waiting on it: each
//! stream connection has its own bounded send queue and writer, so a slow or dead peer
//! fails only its own messages.

mod accept;
pub mod inbound;
mod link;
mod outgoing;
mod slots;
mod stream;
pub mod tls;

pub use inbound::{Inbound, SIP_PORT, SIPS_PORT, vet};
pub use slots::Refusal;

use crate::transaction::{Peer, Transport};
use inbound::Inbound as V;
use link::{Full, Link};
use slots::{Slot, Slots};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot};

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
    /// Largest message accepted (513 above it); also the most bytes a stream connection
    /// buffers while a message arrives.
    pub max_message_size: usize,
    /// A stream connection without a message or keepalive either way for this long is
    /// closed.
    pub idle_timeout: Duration,
    /// Most stream connections open at once, TCP and TLS, accepted and opened together:
    /// beyond it a new one is closed at once (or not opened), so a flood of connections
    /// cannot exhaust a small box.
    pub max_connections: usize,
    /// Most connections accepted from one IP address at once.
    pub max_connections_per_source: usize,
    /// A TLS handshake, accepted or opened, not finished in this time is dropped.
    pub handshake_timeout: Duration,
    /// The admission hook (per-source rate limits); none: everything is [`Admission::Normal`].
    pub admit: Option<Arc<dyn Admit>>,
    /// An outgoing TCP connect not finished in this time fails.
    pub connect_timeout: Duration,
    /// A message begun on a stream connection must be complete (head and body) within
    /// this time, or the connection is closed: a peer trickling bytes (slowloris) cannot
    /// hold it open.
    pub message_timeout: Duration,
    /// Most bytes queued for sending on one stream connection; a message that does not
    /// fit closes the connection (its peer is not reading).
    pub send_queue_bytes: usize,
    /// A write to a stream connection not finished in this time closes it.
    pub write_timeout: Duration,
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
            max_connections_per_source: 16,
            handshake_timeout: Duration::from_secs(10),
            admit: None,
            connect_timeout: Duration::from_secs(5),
            message_timeout: Duration::from_secs(10),
            send_queue_bytes: 64 * 1024,
            write_timeout: Duration::from_secs(10),
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
    /// Connections closed on accept (or not opened) because `max_connections` were open.
    pub refused: AtomicU64,
    /// Messages and connections the admission hook dropped.
    pub denied: AtomicU64,
    /// Connections closed on accept because their address had
    /// `max_connections_per_source` open.
    pub refused_per_source: AtomicU64,
    /// Connections closed because a message was not complete within `message_timeout`.
    pub message_timeouts: AtomicU64,
    /// Connections closed because their send queue was full.
    pub queue_full: AtomicU64,
    /// Outgoing TCP connects that failed or timed out.
    pub connect_failures: AtomicU64,
    /// Connections closed because a write failed or took longer than `write_timeout`.
    pub write_failures: AtomicU64,
    /// Datagrams not sent because the UDP socket's buffer was full.
    pub udp_send_dropped: AtomicU64,
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

/// Why a message could not be handed to the transport.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No socket of that transport is bound.
    #[error("no {0:?} socket bound")]
    NotBound(Transport),
    /// TLS to a peer without a TLS client configuration.
    #[error("no TLS client configuration")]
    NoTlsClient,
    /// The TLS name of the peer is not a valid server name.
    #[error("invalid TLS server name: {0}")]
    TlsName(String),
    /// No connection slot is free.
    #[error("connection not opened: {0}")]
    Refused(#[from] Refusal),
    /// The connection's send queue is full: the connection is closed.
    #[error("send queue full: connection closed")]
    QueueFull,
    /// The message is larger than a connection's whole send queue.
    #[error("message larger than the send queue")]
    TooLarge,
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<SendError> for io::Error {
    fn from(e: SendError) -> io::Error {
        match e {
            SendError::Io(e) => e,
            SendError::QueueFull => io::Error::new(io::ErrorKind::WouldBlock, e),
            e => io::Error::other(e),
        }
    }
}

/// Failures reported after a send returned: at most this many wait to be read.
const FAILURES_QUEUED: usize = 256;

pub(crate) struct Shared {
    cfg: TransportConfig,
    udp: Option<Arc<UdpSocket>>,
    conns: Mutex<HashMap<Peer, Link>>,
    slots: Arc<Slots>,
    up: mpsc::Sender<Received>,
    failed: mpsc::Sender<Peer>,
    failed_rx: Mutex<Option<mpsc::Receiver<Peer>>>,
    local: HashMap<Transport, SocketAddr>,
    stats: Stats,
    /// `cfg.tls_names`, kept up to date by [`TransportHandle::set_tls_name`].
    tls_names: Mutex<HashMap<IpAddr, String>>,
    /// Every task the transport started (receive loops, connections), aborted by
    /// [`TransportHandle::close`].
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Shared {
    /// Starts `task` as one of the transport's (those finished are forgotten; the live ones
    /// are bounded by the connection slots).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let h = tokio::spawn(task).abort_handle();
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(h);
    }

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

    /// Sends to `peer` from now on go on this connection.
    fn register(&self, peer: Peer, link: &Link) {
        if let Ok(mut c) = self.conns.lock() {
            c.insert(peer, link.clone());
        }
    }

    /// Forgets the connection to `peer` if it is still the one with this `id`.
    fn forget(&self, peer: Peer, id: u64) {
        if let Ok(mut c) = self.conns.lock()
            && c.get(&peer).is_some_and(|l| l.id == id)
        {
            c.remove(&peer);
        }
    }

    /// Reports that messages queued for `peer` were not delivered (see
    /// [`TransportHandle::failures`]).
    fn report_failure(&self, peer: Peer) {
        let _ = self.failed.try_send(peer);
    }

    /// Admission of an accepted stream connection: the one place a new connection from
    /// `from` is let in or turned away. The slot it holds is given back when it closes.
    fn admit(&self, from: SocketAddr) -> Option<Slot> {
        if self.admission(from, &[]) == Admission::Drop {
            return None;
        }
        match self.slots.admit(Some(from.ip())) {
            Ok(slot) => Some(slot),
            Err(why) => {
                let counter = match why {
                    Refusal::Full => &self.stats.refused,
                    Refusal::PerSource => &self.stats.refused_per_source,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%from, %why, "connection refused");
                None
            }
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
        let (failed, failed_rx) = mpsc::channel(FAILURES_QUEUED);
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
                let l = listen(a, cfg.send_queue_bytes)?;
                local.insert(Transport::Tcp, l.local_addr()?);
                Some(l)
            }
            None => None,
        };
        let tls = match &cfg.tls {
            Some((a, sc)) => {
                let l = listen(*a, cfg.send_queue_bytes)?;
                local.insert(Transport::Tls, l.local_addr()?);
                Some((l, tokio_rustls::TlsAcceptor::from(sc.clone())))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            tls_names: Mutex::new(cfg.tls_names.clone()),
            slots: Slots::new(cfg.max_connections, cfg.max_connections_per_source),
            cfg,
            udp: udp.clone(),
            conns: Mutex::new(HashMap::new()),
            up,
            failed,
            failed_rx: Mutex::new(Some(failed_rx)),
            local,
            stats: Stats::default(),
            tasks: Mutex::new(Vec::new()),
        });
        if let Some(s) = udp {
            shared.spawn(udp_loop(s, shared.clone()));
        }
        if let Some(l) = tcp {
            shared.spawn(accept::accept_loop(l, None, shared.clone()));
        }
        if let Some((l, acc)) = tls {
            shared.spawn(accept::accept_loop(l, Some(acc), shared.clone()));
        }
        Ok((TransportHandle(shared), rx))
    }

    /// Stops every task of the transport: the sockets close once the last handle is
    /// dropped, and the addresses can be bound again (a gateway restarting in the same
    /// process with a new configuration).
    pub fn close(&self) {
        let tasks = std::mem::take(&mut *self.0.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            t.abort();
        }
        self.0
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
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

    /// Stream connections open now (accepted and opened).
    pub fn open_connections(&self) -> usize {
        self.0.slots.open()
    }

    /// The peers to which messages queued by [`TransportHandle::try_send`] could not be
    /// delivered after it returned (the connect or TLS handshake failed or timed out, a
    /// write failed or stalled), so that their transactions fail at once (§8.1.3.1) rather
    /// than at Timer B/F. Given once; `None` afterwards.
    pub fn failures(&self) -> Option<mpsc::Receiver<Peer>> {
        self.0.failed_rx.lock().ok().and_then(|mut r| r.take())
    }

    /// Hands one message for `to` to the transport without waiting: a datagram over UDP
    /// (dropped and counted when the socket's buffer is full, as the network could);
    /// over TCP/TLS queued on the connection to that address, which is opened in the
    /// background (connect and handshake bounded by their timeouts) when there is none.
    /// A connection whose queue is full is closed and the error says so; a failure after
    /// this returns is reported on [`TransportHandle::failures`].
    pub fn try_send(&self, to: Peer, bytes: Arc<[u8]>) -> Result<(), SendError> {
        if to.transport == Transport::Udp {
            return self.try_send_udp(to.addr, &bytes);
        }
        self.queue(to, bytes).map(drop)
    }

    /// Sends one message to `to` like [`TransportHandle::try_send`], but when a connection
    /// has to be opened for it, waits until it is (or until it fails).
    pub async fn send(&self, to: Peer, bytes: Arc<[u8]>) -> io::Result<()> {
        let s = &self.0;
        if to.transport == Transport::Udp {
            let sock = s.udp.as_ref().ok_or(SendError::NotBound(Transport::Udp))?;
            sock.send_to(&bytes, to.addr).await?;
            s.stats.sent.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        match self.queue(to, bytes)? {
            None => Ok(()),
            Some(opened) => opened
                .await
                .unwrap_or_else(|_| Err(io::Error::other("connection task ended"))),
        }
    }

    fn try_send_udp(&self, to: SocketAddr, bytes: &[u8]) -> Result<(), SendError> {
        let s = &self.0;
        let sock = s.udp.as_ref().ok_or(SendError::NotBound(Transport::Udp))?;
        match sock.try_send_to(bytes, to) {
            Ok(_) => {
                s.stats.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                s.stats.udp_send_dropped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Queues `bytes` on the connection to `to`, opening one when there is none; for a
    /// new connection, the receiver of the outcome of its opening.
    fn queue(
        &self,
        to: Peer,
        bytes: Arc<[u8]>,
    ) -> Result<Option<oneshot::Receiver<io::Result<()>>>, SendError> {
        let s = &self.0;
        if bytes.len() > s.cfg.send_queue_bytes {
            return Err(SendError::TooLarge);
        }
        let mut conns = s.conns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(link) = conns.get(&to) {
            match link.push(bytes.clone()) {
                Ok(()) => return Ok(None),
                Err(Full::Full) => {
                    link.close();
                    conns.remove(&to);
                    s.stats.queue_full.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(peer = %to.addr, "send queue full: connection closed");
                    return Err(SendError::QueueFull);
                }
                Err(Full::Closed) => {
                    conns.remove(&to);
                }
            }
        }
        let tls = match to.transport {
            Transport::Tls => Some(self.tls_client(to.addr.ip())?),
            _ => None,
        };
        let slot = s.slots.admit(None).inspect_err(|_| {
            s.stats.refused.fetch_add(1, Ordering::Relaxed);
        })?;
        let (link, outbox) = link::link(s.cfg.send_queue_bytes);
        link.push(bytes).map_err(|_| SendError::TooLarge)?;
        conns.insert(to, link.clone());
        drop(conns);
        let (opened, outcome) = oneshot::channel();
        s.spawn(outgoing::open(
            s.clone(),
            to,
            tls,
            (link, outbox, slot),
            opened,
        ));
        Ok(Some(outcome))
    }

    /// The client configuration and the name to verify for a TLS connection to `ip`.
    fn tls_client(&self, ip: IpAddr) -> Result<outgoing::TlsClient, SendError> {
        let s = &self.0;
        let cfg = s.cfg.tls_client.clone().ok_or(SendError::NoTlsClient)?;
        let known = s.tls_names.lock().ok().and_then(|m| m.get(&ip).cloned());
        let name = match known {
            Some(n) => rustls::pki_types::ServerName::try_from(n.clone())
                .map_err(|_| SendError::TlsName(n))?,
            None => rustls::pki_types::ServerName::IpAddress(ip.into()),
        };
        Ok((cfg, name))
    }
}

/// A stream listener at `a` whose accepted connections inherit a kernel send buffer of
/// `sndbuf` bytes: a peer that does not read holds that much kernel memory at most (the
/// kernel's own autotuning would let it grow to megabytes), and its send queue fills soon.
fn listen(a: SocketAddr, sndbuf: usize) -> io::Result<TcpListener> {
    let s = if a.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.set_send_buffer_size(u32::try_from(sndbuf).unwrap_or(u32::MAX))?;
    s.bind(a)?;
    s.listen(1024)
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
