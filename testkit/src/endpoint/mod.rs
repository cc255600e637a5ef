//! A small SIP endpoint on the sip crate's transports, for the interop tests (against sipp,
//! and endpoint to endpoint over UDP and TLS): the loop that feeds received messages and
//! timers to [`TransactionLayer`] and sends its outputs, a UAS ([`uas`], on the UA core
//! [`tipring_sip::ua`]) that answers calls and a UAC ([`uac`], on the transaction layer)
//! that places them.

pub mod uac;
pub mod uas;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tipring_sip::message::Message;
use tipring_sip::transaction::{
    Output, Peer, Receipt, TimerConfig, TransactionLayer, Transport, TuEvent, TxnError, TxnId,
};
use tipring_sip::transport::{Received, TransportConfig, TransportHandle};
use tokio::sync::mpsc;

/// Why an endpoint operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Socket trouble.
    #[error("transport: {0}")]
    Io(#[from] io::Error),
    /// The transaction layer refused.
    #[error("transaction: {0}")]
    Txn(#[from] TxnError),
    /// The transaction timed out (Timer B/F, §17.1.1.2, §17.1.2.2).
    #[error("transaction timed out")]
    Timeout,
    /// The transport failed under a transaction.
    #[error("transport failure")]
    TransportFailure,
    /// A URI or message we were given does not parse.
    #[error("bad input: {0}")]
    Bad(String),
    /// The transports stopped.
    #[error("transports closed")]
    Closed,
}

/// What the endpoint loop hands to the UA logic.
#[derive(Debug)]
pub enum Event {
    /// A new request (its server transaction, bytes, and response address).
    Request {
        /// Server transaction.
        id: TxnId,
        /// The request.
        bytes: Vec<u8>,
        /// Where responses go.
        respond_to: Peer,
    },
    /// A new CANCEL, and the INVITE server transaction it matches.
    Cancel {
        /// The CANCEL's transaction.
        id: TxnId,
        /// The INVITE's transaction, if any.
        invite: Option<TxnId>,
        /// The CANCEL.
        bytes: Vec<u8>,
    },
    /// A response for one of our client transactions.
    Response {
        /// Client transaction.
        id: TxnId,
        /// The response.
        bytes: Vec<u8>,
    },
    /// A response matching no transaction (a 2xx retransmission, §13.2.2.4).
    StrayResponse {
        /// The response.
        bytes: Vec<u8>,
    },
    /// An ACK for a 2xx.
    Ack {
        /// The ACK.
        bytes: Vec<u8>,
    },
    /// A transaction event (timeout, transport error, terminated).
    Txn(TxnId, TuEvent),
}

/// Counters of the endpoint (shared, so a test can read them while it runs).
#[derive(Debug, Default)]
pub struct Counters {
    /// INVITEs received that started a transaction.
    pub invites: AtomicU64,
    /// Requests absorbed as retransmissions by their transaction.
    pub absorbed: AtomicU64,
    /// ACKs for 2xx received.
    pub acks: AtomicU64,
    /// 2xx retransmissions sent by the UA core (§13.3.1.4).
    pub retransmitted_2xx: AtomicU64,
    /// BYEs answered.
    pub byes: AtomicU64,
    /// OPTIONS answered.
    pub options: AtomicU64,
    /// CANCELs received.
    pub cancels: AtomicU64,
    /// Transactions that timed out.
    pub timeouts: AtomicU64,
}

impl Counters {
    /// Reads one counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// The endpoint: transports, the transaction table, and the event queue.
pub struct Endpoint {
    tp: TransportHandle,
    rx: mpsc::Receiver<Received>,
    layer: TransactionLayer,
    events: VecDeque<Event>,
    counters: Arc<Counters>,
}

impl Endpoint {
    /// Binds the transports.
    pub async fn bind(cfg: TransportConfig, timers: TimerConfig) -> io::Result<Endpoint> {
        let (tp, rx) = TransportHandle::bind(cfg).await?;
        Ok(Endpoint {
            tp,
            rx,
            layer: TransactionLayer::new(timers),
            events: VecDeque::new(),
            counters: Arc::default(),
        })
    }

    /// The transports.
    pub fn transport(&self) -> &TransportHandle {
        &self.tp
    }

    /// The counters.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// The transaction table.
    pub fn layer(&self) -> &TransactionLayer {
        &self.layer
    }

    /// The local address of a transport.
    pub fn local(&self, t: Transport) -> Result<SocketAddr, EndpointError> {
        self.tp
            .local_addr(t)
            .ok_or_else(|| EndpointError::Bad(format!("no {} transport bound", t.via_token())))
    }

    /// A fresh random token (tags, Call-IDs, branches after the magic cookie).
    pub fn token(&mut self) -> String {
        tipring_sip::random::IdSource::Os.token()
    }

    /// Starts a client transaction for a request and sends it.
    pub async fn send_request(&mut self, req: Vec<u8>, to: Peer) -> Result<TxnId, EndpointError> {
        let id = self.layer.send_request(Instant::now(), req, to)?;
        self.flush().await;
        Ok(id)
    }

    /// Sends a response on a server transaction.
    pub async fn respond(
        &mut self,
        id: TxnId,
        code: u16,
        bytes: Vec<u8>,
    ) -> Result<(), EndpointError> {
        self.layer.respond(Instant::now(), id, code, bytes)?;
        self.flush().await;
        Ok(())
    }

    /// Sends bytes outside any transaction (an ACK for a 2xx, §13.2.2.4).
    pub async fn send_raw(&mut self, to: Peer, bytes: Arc<[u8]>) -> Result<(), EndpointError> {
        self.tp.send(to, bytes).await?;
        Ok(())
    }

    /// Sends every queued transaction output.
    async fn flush(&mut self) {
        while let Some((id, out)) = self.layer.poll_output() {
            match out {
                Output::Transmit(t) => {
                    if let Err(e) = self.tp.send(t.to, t.bytes).await {
                        tracing::warn!(peer = %t.to.addr, error = %e, "send failed");
                        self.layer.transport_error(id);
                    }
                }
                Output::Event(e) => {
                    if e == TuEvent::Timeout {
                        self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                    }
                    self.events.push_back(Event::Txn(id, e));
                }
            }
        }
    }

    /// The next event, or `None` once `until` passes (if given) first.
    pub async fn next_event(
        &mut self,
        until: Option<Instant>,
    ) -> Result<Option<Event>, EndpointError> {
        loop {
            self.flush().await;
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            let now = Instant::now();
            if until.is_some_and(|u| u <= now) {
                return Ok(None);
            }
            let wake = [self.layer.poll_timeout(), until]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.rx.recv() => {
                    let r = r.ok_or(EndpointError::Closed)?;
                    self.on_received(r);
                }
                _ = sleep => {
                    self.layer.handle_timeout(Instant::now());
                }
            }
        }
    }

    fn on_received(&mut self, r: Received) {
        let now = Instant::now();
        let Ok(msg) = Message::parse(&r.bytes) else {
            return;
        };
        let receipt = self.layer.receive(now, &msg, r.respond_to);
        let is_request = msg.is_request();
        drop(msg);
        let bytes = r.bytes;
        let ev = match receipt {
            Receipt::NewRequest(id) => Event::Request {
                id,
                bytes,
                respond_to: r.respond_to,
            },
            Receipt::Cancel { id, invite } => Event::Cancel { id, invite, bytes },
            Receipt::Deliver(id) => {
                if is_request {
                    Event::Ack { bytes }
                } else {
                    Event::Response { id, bytes }
                }
            }
            Receipt::Absorbed(_) => {
                self.counters.absorbed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Receipt::StrayAck => Event::Ack { bytes },
            Receipt::StrayResponse => Event::StrayResponse { bytes },
            // The table is full: the request is dropped (its sender retransmits).
            Receipt::Overload => return,
        };
        self.events.push_back(ev);
    }
}

/// A minimal SDP offer/answer body for a G.711 audio stream (the media layer owns real SDP).
pub fn sdp(addr: SocketAddr, port: u16) -> Vec<u8> {
    let (net, ip) = match addr.ip() {
        std::net::IpAddr::V4(a) => ("IP4", a.to_string()),
        std::net::IpAddr::V6(a) => ("IP6", a.to_string()),
    };
    format!(
        "v=0\r\no=tipring 1 1 IN {net} {ip}\r\ns=-\r\nc=IN {net} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    .into_bytes()
}
