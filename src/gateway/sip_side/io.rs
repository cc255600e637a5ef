//! The tokio driver of a [`SipSide`]:
//!
//! ```text
//! pub async fn run(
//!     side: SipSide,
//!     intents: tokio::sync::mpsc::Receiver<impl Into<FromLine>>,
//!     events: tokio::sync::mpsc::Sender<PortEvent>,
//!     shutdown: tokio::sync::watch::Receiver<bool>,
//!     queries: tokio::sync::mpsc::Receiver<SipQuery>,
//! ) -> Result<(), DriverError>
//! ```
//!
//! It binds the side's listening address on every transport the configuration lists for
//! it (UDP, TCP; TLS with `[identity.tls]`) through `tipring_sip::transport`, sends what
//! the side transmits, feeds it what arrives and what the line side says (the port
//! machines' intents and whether their lines are idle, [`FromLine`]), wakes it at
//! its deadline and passes its events on. It keeps the recent messages in a
//! [`CaptureRing`] (`[capture] sip_bytes`); a question on `queries` gets the side's
//! registrations and refusals with the transport's and the flood gate's counters, or the
//! captured messages. When `shutdown` turns true it ends the calls,
//! unregisters, waits up to [`SHUTDOWN_GRACE`] for the BYEs and unregistrations to be
//! answered ([`SipSide::idle`]), and returns. The configuration's host names are looked
//! up again in the background as their records expire ([`REFRESH_UNRESOLVED`] while one
//! does not resolve) and the
//! answers handed to the side ([`SipSide::set_hosts`]), so a name that did not resolve at
//! boot (DNS not up yet) is picked up without a restart.
//! Nothing here decides anything about SIP.

use super::{FromLine, PortEvent, SipSide};
use crate::gateway::flood::gate::Gate;
use crate::ops::capture::CaptureRing;
use crate::ops::control::SipQuery;
use crate::ops::status::SipStatus;
use crate::service::wire_log::{Line, WireLog};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tipring_sip::transaction::Transport;
use tipring_sip::transport::{Received, TransportConfig, TransportHandle};
use tokio::sync::{mpsc, watch};

/// Why the driver stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("a TLS listener needs [identity.tls] cert and key")]
    NoTlsFiles,
    #[error("TLS: {0}")]
    Tls(#[from] tipring_sip::transport::tls::TlsConfigError),
    #[error("bind: {0}")]
    Bind(#[from] io::Error),
    #[error("transport closed")]
    TransportClosed,
    #[error("the transport's failure queue was already taken")]
    FailuresTaken,
}

/// Longest wait for unregistrations to be answered at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How often the box's own addresses are read: when they change (a new DHCP lease, a
/// link moved) every registration is renewed at once.
pub const ADDRESS_CHECK: Duration = Duration::from_secs(2);

/// How soon names are looked up again while one of them has no address.
pub const REFRESH_UNRESOLVED: Duration = Duration::from_secs(30);

/// Looks the configuration's names up again as their records expire (at least every
/// [`crate::gateway::dns::MAX_REFRESH`]), sooner while some do not resolve, and sends each
/// answer; ends when the receiver is gone.
async fn refresh_names(
    cfg: crate::config::Config,
    local: std::net::SocketAddr,
    mut next: Instant,
    answers: mpsc::Sender<tipring_sip::ua::HostTable>,
) {
    loop {
        tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        let found = crate::gateway::names::resolve(&cfg, local).await;
        let now = Instant::now();
        next = found.refresh_at.unwrap_or(now + REFRESH_UNRESOLVED);
        if !found.failed.is_empty() {
            next = next.min(now + REFRESH_UNRESOLVED);
        }
        if answers.send(found.table).await.is_err() {
            return;
        }
    }
}

/// New answers for host names: to the side, the flood gate (the servers' addresses) and
/// the TLS client (the names servers are verified against).
fn apply_hosts(
    side: &mut SipSide,
    gate: &Gate,
    tp: &TransportHandle,
    fresh: &tipring_sip::ua::HostTable,
) {
    side.set_hosts(Instant::now(), fresh);
    gate.set_hosts(&side.cfg, side.hosts());
    for (name, r) in side.hosts().iter() {
        for ip in r.addresses() {
            tp.set_tls_name(ip, name);
        }
    }
}

/// The transports to bind for `side`: each configured listener at its address, and at
/// least the side's own transport; every received message passes `gate` first.
fn transport_config(side: &SipSide, gate: Arc<Gate>) -> Result<TransportConfig, DriverError> {
    use crate::config::Transport as T;
    let local = side.bind_addr();
    let mut tc = stream_limits(&side.cfg.limits);
    tc.admit = Some(gate);
    let listed: Vec<T> = side
        .cfg
        .identity
        .listen
        .iter()
        .filter(|l| l.address == local)
        .map(|l| l.transport)
        .collect();
    let wants = |t: T, own: Transport| listed.contains(&t) || side.transport() == own;
    if wants(T::Udp, Transport::Udp) {
        tc.udp = Some(local);
    }
    if wants(T::Tcp, Transport::Tcp) {
        tc.tcp = Some(local);
    }
    if wants(T::Tls, Transport::Tls) {
        let files = side
            .cfg
            .identity
            .tls
            .as_ref()
            .ok_or(DriverError::NoTlsFiles)?;
        let server = tipring_sip::transport::tls::server_config(&files.cert, &files.key)?;
        tc.tls = Some((local, server));
        if let Some(ca) = &files.ca {
            tc.tls_client = Some(tipring_sip::transport::tls::client_config(ca)?);
        }
        // A server the configuration names by host name is verified against that name.
        // RFC 5922 §4: a service found through NAPTR/SRV is verified against the domain.
        for (name, r) in side.hosts.iter() {
            for ip in r.addresses() {
                tc.tls_names.entry(ip).or_insert_with(|| name.to_owned());
            }
        }
    }
    Ok(tc)
}

/// The transport's stream bounds from the `[limits]` section.
fn stream_limits(l: &crate::config::Limits) -> TransportConfig {
    let ms = |v: u32| Duration::from_millis(u64::from(v));
    TransportConfig {
        max_connections: l.max_stream_connections as usize,
        max_connections_per_source: l.max_connections_per_source as usize,
        message_timeout: ms(l.stream_message_timeout_ms),
        connect_timeout: ms(l.stream_connect_timeout_ms),
        handshake_timeout: ms(l.stream_handshake_timeout_ms),
        send_queue_bytes: l.stream_send_queue_bytes as usize,
        write_timeout: ms(l.stream_write_timeout_ms),
        ..TransportConfig::default()
    }
}

/// Runs `side` on real sockets until `shutdown` turns true (see the module docs).
pub async fn run<M: Into<FromLine>>(
    mut side: SipSide,
    mut intents: mpsc::Receiver<M>,
    events: mpsc::Sender<PortEvent>,
    mut shutdown: watch::Receiver<bool>,
    mut queries: mpsc::Receiver<SipQuery>,
) -> Result<(), DriverError> {
    let gate = Arc::new(side.flood_gate(Instant::now()));
    let (tp, mut rx) = TransportHandle::bind(transport_config(&side, gate.clone())?).await?;
    // However the driver ends, the transport's tasks end with it (its addresses free).
    let _close = CloseOnDrop(tp.clone());
    let mut wire = WireLog::new(side.cfg.limits.wire_log_per_s);
    let mut ring = CaptureRing::new(side.cfg.capture.sip_bytes as usize);
    let mut failures = tp.failures().ok_or(DriverError::FailuresTaken)?;
    side.start(Instant::now());
    let names = crate::gateway::names::names(&side.cfg);
    let (hosts_tx, mut hosts_rx) = mpsc::channel(1);
    // The first look again comes soon; then the records' TTLs set the pace.
    let first = Instant::now() + crate::gateway::dns::MIN_REFRESH;
    let refresher = (!names.is_empty()).then(|| {
        tokio::spawn(refresh_names(
            side.cfg.clone(),
            side.local(),
            first,
            hosts_tx,
        ))
    });
    let _abort = AbortOnDrop(refresher);
    let mut intents_open = true;
    let mut stopping: Option<Instant> = None;
    let mut addresses = tokio::time::interval(ADDRESS_CHECK);
    let mut learner = super::learn::Learner::default();
    let mut local_ips = crate::gateway::local_ips::read();
    loop {
        flush(&mut side, &tp, &events, &mut wire, &mut ring).await;
        if let Some(deadline) = stopping
            && (side.idle() || Instant::now() >= deadline)
        {
            let _ = events
                .send(PortEvent::Notice(counters(&side, &tp, &gate)))
                .await;
            return Ok(());
        }
        if stopping.is_none() && *shutdown.borrow() {
            side.shutdown(Instant::now());
            stopping = Some(Instant::now() + SHUTDOWN_GRACE);
            continue;
        }
        let wake = match (side.poll_timeout(), stopping) {
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
            r = rx.recv() => {
                let r: Received = r.ok_or(DriverError::TransportClosed)?;
                let respond_to = if r.bytes.starts_with(b"SIP/") { r.source } else { r.respond_to };
                ring.push(std::time::SystemTime::now(), r.source.addr, side.local(), &r.bytes);
                let trusted = gate.trusts(r.source.addr.ip());
                let (cfg, hosts, bind) = (&side.cfg, side.hosts(), side.bind_addr());
                if let Some((r, respond_to)) =
                    learner.hold(r, respond_to, trusted, cfg, hosts, bind)
                {
                    side.handle_received(Instant::now(), &r.bytes, r.source, respond_to);
                }
            }
            Some(l) = learner.rx.recv() => {
                apply_hosts(&mut side, &gate, &tp, &l.table);
                let r = l.received;
                side.handle_received(Instant::now(), &r.bytes, r.source, l.respond_to);
            }
            i = intents.recv(), if intents_open && stopping.is_none() => match i {
                Some(m) => side.from_line(Instant::now(), m.into()),
                None => intents_open = false,
            },
            c = shutdown.changed(), if stopping.is_none() => {
                if c.is_err() {
                    // The sender is gone: nobody can stop us any more, so stop now.
                    side.shutdown(Instant::now());
                    stopping = Some(Instant::now() + SHUTDOWN_GRACE);
                }
            }
            () = gate.notify.notified() => {
                for n in gate.take_notices() {
                    let _ = events.send(PortEvent::Notice(n)).await;
                }
            }
            Some(peer) = failures.recv() => {
                let _ = events
                    .send(PortEvent::Notice(format!("delivery to {} failed", peer.addr)))
                    .await;
                side.transport_failed(Instant::now(), peer);
            }
            _ = addresses.tick() => {
                let now_ips = crate::gateway::local_ips::read();
                if now_ips != local_ips {
                    let _ = events
                        .send(PortEvent::Notice(
                            "the box's addresses changed; registering again".into(),
                        ))
                        .await;
                    local_ips = now_ips;
                    side.addresses_changed(Instant::now(), &local_ips);
                }
            }
            Some(fresh) = hosts_rx.recv() => apply_hosts(&mut side, &gate, &tp, &fresh),
            Some(q) = queries.recv() => match q {
                SipQuery::Status(q) => {
                    let _ = q.send(sip_status(&side, &tp, &gate));
                }
                SipQuery::Capture { span, reply } => {
                    let _ = reply.send(ring.since(std::time::SystemTime::now(), span));
                }
            },
            _ = sleep => side.handle_timeout(Instant::now()),
        }
    }
}

/// The flood counters, one line for the log at shutdown (per-message lines are rate
/// limited; these say what the limits absorbed).
fn counters(side: &SipSide, tp: &TransportHandle, gate: &Gate) -> String {
    let c = sip_status(side, tp, gate).sip;
    format!(
        "counters: {} received, {} sent, {} over a source's rate ({} bans), {} from scanners, {} dropped with the receive queue full, {} refused at a table bound (503)",
        c.received, c.sent, c.over_rate, c.bans, c.scanners, c.queue_full, c.table_full,
    )
}

/// The side's status with the transport's and the gate's counters.
fn sip_status(side: &SipSide, tp: &TransportHandle, gate: &Gate) -> SipStatus {
    use std::sync::atomic::Ordering::Relaxed;
    let mut s = side.status(Instant::now());
    let (bans, over_rate, scanners) = gate.counters();
    let st = tp.stats();
    s.sip.received = st.received.load(Relaxed);
    s.sip.sent = st.sent.load(Relaxed);
    s.sip.queue_full = st.overload.load(Relaxed);
    s.sip.bans = bans;
    s.sip.over_rate = over_rate;
    s.sip.scanners = scanners;
    s
}

/// Closes a transport when dropped.
struct CloseOnDrop(TransportHandle);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Ends a background task (the driver's lookups, the STUN client) with its owner.
pub(crate) struct AbortOnDrop(pub Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}

/// Hands what the side queued to the transport, which never waits on a peer (a stream
/// connection has its own queue and writer; a failure after the hand-over comes back on
/// the transport's failures), and hands the side's events on (a closed event channel only
/// means nobody listens any more); message lines beyond `wire`'s rate are only counted.
async fn flush(
    side: &mut SipSide,
    tp: &TransportHandle,
    events: &mpsc::Sender<PortEvent>,
    wire: &mut WireLog,
    ring: &mut CaptureRing,
) {
    while let Some(t) = side.poll_transmit() {
        ring.push(
            std::time::SystemTime::now(),
            side.local(),
            t.to.addr,
            &t.bytes,
        );
        if let Err(e) = tp.try_send(t.to, t.bytes) {
            let _ = events
                .send(PortEvent::Notice(format!(
                    "send to {} failed: {e}",
                    t.to.addr
                )))
                .await;
            side.transport_failed(Instant::now(), t.to);
        }
    }
    while let Some(e) = side.poll_event() {
        if matches!(e, PortEvent::Wire { .. }) {
            match wire.line(Instant::now()) {
                Line::Suppress => continue,
                Line::Log { suppressed: 0 } => {}
                Line::Log { suppressed } => {
                    let n =
                        format!("{suppressed} SIP message lines not logged (over wire_log_per_s)");
                    let _ = events.send(PortEvent::Notice(n)).await;
                }
            }
        }
        let _ = events.send(e).await;
    }
}
