//! SIP transactions (RFC 3261 §17, RFC 6026), sans-IO. Four state machines, one per kind,
//! and [`TransactionLayer`], the table that matches messages to them and gathers their
//! outputs. Nothing here touches a socket or sleeps: feed `(now, input)`, then drain
//! [`TransactionLayer::poll_output`] and wake at [`TransactionLayer::poll_timeout`].

pub mod client_invite;
pub mod client_non_invite;
pub mod key;
pub mod limits;
pub mod output;
pub mod server_invite;
pub mod server_non_invite;
pub mod timer;

#[cfg(test)]
mod tests;

pub use client_invite::{ClientInvite, ClientInviteState};
pub use client_non_invite::{ClientNonInvite, ClientNonInviteState};
pub use key::{Key, KeyError};
pub use limits::Limits;
pub use output::{Output, Peer, Transmit, Transport, TuEvent, Verdict};
pub use server_invite::{ServerInvite, ServerInviteState};
pub use server_non_invite::{ServerNonInvite, ServerNonInviteState};
pub use timer::{TimerConfig, TimerName};

use crate::header::Method;
use crate::message::Message;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// A handle on one transaction in a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId(pub u64);

/// One transaction of any kind.
#[derive(Debug)]
pub enum Transaction {
    /// INVITE client.
    ClientInvite(ClientInvite),
    /// Non-INVITE client.
    ClientNonInvite(ClientNonInvite),
    /// INVITE server.
    ServerInvite(ServerInvite),
    /// Non-INVITE server.
    ServerNonInvite(ServerNonInvite),
}

impl Transaction {
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Transaction::ClientInvite(t) => t.poll_timeout(),
            Transaction::ClientNonInvite(t) => t.poll_timeout(),
            Transaction::ServerInvite(t) => t.poll_timeout(),
            Transaction::ServerNonInvite(t) => t.poll_timeout(),
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        match self {
            Transaction::ClientInvite(t) => t.poll_output(),
            Transaction::ClientNonInvite(t) => t.poll_output(),
            Transaction::ServerInvite(t) => t.poll_output(),
            Transaction::ServerNonInvite(t) => t.poll_output(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Transaction::ClientInvite(t) => t.handle_timeout(now),
            Transaction::ClientNonInvite(t) => t.handle_timeout(now),
            Transaction::ServerInvite(t) => t.handle_timeout(now),
            Transaction::ServerNonInvite(t) => t.handle_timeout(now),
        }
    }

    fn on_transport_error(&mut self) {
        match self {
            Transaction::ClientInvite(t) => t.on_transport_error(),
            Transaction::ClientNonInvite(t) => t.on_transport_error(),
            Transaction::ServerInvite(t) => t.on_transport_error(),
            Transaction::ServerNonInvite(t) => t.on_transport_error(),
        }
    }
}

/// What the layer did with a received message; the caller hands the message to the TU when
/// the receipt says so (the message is not copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A new request: a server transaction was created; pass the request to the TU.
    NewRequest(TxnId),
    /// A new CANCEL: its server transaction, and the INVITE server transaction it matches
    /// (§9.2; `None`: the TU answers 481).
    Cancel {
        /// The CANCEL's own transaction.
        id: TxnId,
        /// The INVITE server transaction being cancelled.
        invite: Option<TxnId>,
    },
    /// A message for an existing transaction that goes to the TU (a response to a client
    /// transaction, an ACK for a 2xx in the Accepted state).
    Deliver(TxnId),
    /// Absorbed by its transaction (a retransmission).
    Absorbed(TxnId),
    /// An ACK matching no transaction: the ACK for a 2xx, for the TU (§17.2.3, §13.3.1.4).
    StrayAck,
    /// A response matching no transaction (§18.1.2): a 2xx to INVITE goes to the TU (a 2xx
    /// retransmission, §13.2.2.4), anything else should be dropped.
    StrayResponse,
    /// A new request while [`Limits::max_server`] transactions live: no transaction was
    /// made; the TU answers it statelessly (503 with Retry-After, §21.5.4) or drops it.
    Overload,
}

/// Why a request could not start a client transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    /// The request bytes do not parse.
    #[error("request does not parse: {0}")]
    Parse(#[from] crate::ParseError),
    /// The message is a response or has no key.
    #[error("no transaction key: {0}")]
    Key(#[from] KeyError),
    /// ACK is not a transaction of its own (§17.1.1.3; the ACK for a 2xx is sent by the TU).
    #[error("ACK does not start a client transaction")]
    Ack,
    /// A transaction with the same key exists.
    #[error("a transaction with this branch and method exists")]
    Duplicate,
    /// No such transaction (it terminated).
    #[error("no such transaction")]
    Unknown,
    /// [`Limits::max_client`] client transactions live already.
    #[error("too many client transactions")]
    Overload,
}

struct Entry {
    key: Key,
    txn: Transaction,
}

/// The transaction table: creates transactions, routes received messages and TU responses
/// to them, runs their timers and queues their outputs.
pub struct TransactionLayer {
    cfg: TimerConfig,
    by_key: HashMap<Key, TxnId>,
    txns: HashMap<TxnId, Entry>,
    deadlines: BinaryHeap<Reverse<(Instant, TxnId)>>,
    out: VecDeque<(TxnId, Output)>,
    next_id: u64,
    limits: Limits,
    /// Live server and client transactions.
    servers: usize,
    clients: usize,
    /// New requests refused at [`Limits::max_server`] so far.
    pub overloaded: u64,
}

impl TransactionLayer {
    /// An empty table with these timer values.
    pub fn new(cfg: TimerConfig) -> Self {
        TransactionLayer {
            cfg,
            by_key: HashMap::new(),
            txns: HashMap::new(),
            deadlines: BinaryHeap::new(),
            out: VecDeque::new(),
            next_id: 0,
            limits: Limits::default(),
            servers: 0,
            clients: 0,
            overloaded: 0,
        }
    }

    /// Sets the table's bounds.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The timer values.
    pub fn config(&self) -> TimerConfig {
        self.cfg
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    /// The transaction behind `id`, to inspect its state.
    pub fn get(&self, id: TxnId) -> Option<&Transaction> {
        self.txns.get(&id).map(|e| &e.txn)
    }

    /// The id of the transaction with this key.
    pub fn find(&self, key: &Key) -> Option<TxnId> {
        self.by_key.get(key).copied()
    }

    /// Starts a client transaction for a request the TU built, sent to `to`. The request is
    /// parsed once to find its branch and method (§17.1.3).
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Vec<u8>,
        to: Peer,
    ) -> Result<TxnId, TxnError> {
        let bytes: Arc<[u8]> = request.into();
        let (key, method) = {
            let m = Message::parse(&bytes)?;
            let method = m.method().ok_or(KeyError::NoCSeq)?;
            (Key::client(&m)?, method == Method::Invite)
        };
        if self.by_key.contains_key(&key) {
            return Err(TxnError::Duplicate);
        }
        if self.clients >= self.limits.max_client {
            return Err(TxnError::Overload);
        }
        let txn = match &key {
            Key::Client { method: m, .. } if &**m == "ACK" => return Err(TxnError::Ack),
            _ if method => Transaction::ClientInvite(ClientInvite::new(now, self.cfg, to, bytes)),
            _ => Transaction::ClientNonInvite(ClientNonInvite::new(now, self.cfg, to, bytes)),
        };
        Ok(self.insert(key, txn))
    }

    /// A message arrived from `from` (for a request: the response address of §18.2.2).
    pub fn receive(&mut self, now: Instant, msg: &Message<'_>, from: Peer) -> Receipt {
        match msg.method() {
            None => self.receive_response(now, msg),
            Some(m) => self.receive_request(now, msg, m, from),
        }
    }

    fn receive_response(&mut self, now: Instant, msg: &Message<'_>) -> Receipt {
        let Some(id) = Key::client(msg).ok().and_then(|k| self.find(&k)) else {
            return Receipt::StrayResponse;
        };
        let verdict = self.with(id, |txn| match txn {
            Transaction::ClientInvite(t) => t.on_response(now, msg),
            Transaction::ClientNonInvite(t) => t.on_response(now, msg),
            _ => Verdict::Absorb,
        });
        match verdict {
            Some(Verdict::Deliver) => Receipt::Deliver(id),
            _ => Receipt::Absorbed(id),
        }
    }

    fn receive_request(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        method: Method<'_>,
        from: Peer,
    ) -> Receipt {
        let Ok(key) = Key::server(msg) else {
            return if method == Method::Ack {
                Receipt::StrayAck
            } else {
                // Without Via/CSeq the transport has already answered 400; nothing to key.
                Receipt::StrayResponse
            };
        };
        let found = self.find(&key).or_else(|| {
            (method == Method::Ack)
                .then(|| Key::rfc2543_ack_untagged(msg))
                .flatten()
                .and_then(|k| self.find(&k))
        });
        if let Some(id) = found {
            let verdict = self.with(id, |txn| match txn {
                Transaction::ServerInvite(t) => t.on_request(now, method),
                Transaction::ServerNonInvite(t) => t.on_request(),
                _ => Verdict::Absorb,
            });
            return match verdict {
                Some(Verdict::Deliver) => Receipt::Deliver(id),
                _ => Receipt::Absorbed(id),
            };
        }
        if method != Method::Ack && self.servers >= self.limits.max_server {
            self.overloaded += 1;
            return Receipt::Overload;
        }
        match method {
            Method::Ack => Receipt::StrayAck,
            Method::Invite => {
                let mut t = ServerInvite::new(now, self.cfg, from, msg);
                t.set_single_refusal(self.limits.single_refusal);
                Receipt::NewRequest(self.insert(key, Transaction::ServerInvite(t)))
            }
            Method::Cancel => {
                let invite = Key::cancelled_invite(msg).ok().and_then(|k| self.find(&k));
                let t = ServerNonInvite::new(self.cfg, from);
                let id = self.insert(key, Transaction::ServerNonInvite(t));
                Receipt::Cancel { id, invite }
            }
            _ => {
                let t = ServerNonInvite::new(self.cfg, from);
                Receipt::NewRequest(self.insert(key, Transaction::ServerNonInvite(t)))
            }
        }
    }

    /// The TU responds on server transaction `id` with status `code`.
    pub fn respond(
        &mut self,
        now: Instant,
        id: TxnId,
        code: u16,
        response: Vec<u8>,
    ) -> Result<(), TxnError> {
        let bytes: Arc<[u8]> = response.into();
        self.with(id, |txn| match txn {
            Transaction::ServerInvite(t) => t.respond(now, code, bytes),
            Transaction::ServerNonInvite(t) => t.respond(now, code, bytes),
            _ => {}
        })
        .ok_or(TxnError::Unknown)
    }

    /// The transport failed to deliver for transaction `id` (§17.1.4, §17.2.4).
    pub fn transport_error(&mut self, id: TxnId) {
        self.with(id, Transaction::on_transport_error);
    }

    /// The earliest deadline of any transaction.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.deadlines.peek().copied() {
            match self.txns.get(&id).and_then(|e| e.txn.poll_timeout()) {
                Some(d) if d == at => return Some(at),
                // Stale entry (timer moved or transaction gone); its live deadline, if
                // any, was pushed when it changed.
                _ => {
                    self.deadlines.pop();
                }
            }
        }
        None
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, id))) = self.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let due = self
                .txns
                .get(&id)
                .and_then(|e| e.txn.poll_timeout())
                .is_some_and(|d| d == at);
            if due {
                self.with(id, |t| t.handle_timeout(now));
            }
        }
    }

    /// The next output of any transaction.
    pub fn poll_output(&mut self) -> Option<(TxnId, Output)> {
        self.out.pop_front()
    }

    fn insert(&mut self, key: Key, txn: Transaction) -> TxnId {
        let id = TxnId(self.next_id);
        self.next_id += 1;
        *self.count(&txn) += 1;
        self.by_key.insert(key.clone(), id);
        self.txns.insert(id, Entry { key, txn });
        self.after_input(id, None);
        id
    }

    /// The live count of `txn`'s side.
    fn count(&mut self, txn: &Transaction) -> &mut usize {
        match txn {
            Transaction::ClientInvite(_) | Transaction::ClientNonInvite(_) => &mut self.clients,
            Transaction::ServerInvite(_) | Transaction::ServerNonInvite(_) => &mut self.servers,
        }
    }

    /// Runs `f` on transaction `id`, then collects its outputs and deadline.
    fn with<R>(&mut self, id: TxnId, f: impl FnOnce(&mut Transaction) -> R) -> Option<R> {
        let e = self.txns.get_mut(&id)?;
        let before = e.txn.poll_timeout();
        let r = f(&mut e.txn);
        self.after_input(id, before);
        Some(r)
    }

    fn after_input(&mut self, id: TxnId, before: Option<Instant>) {
        let Some(e) = self.txns.get_mut(&id) else {
            return;
        };
        let mut terminated = false;
        while let Some(o) = e.txn.poll_output() {
            terminated |= o == Output::Event(TuEvent::Terminated);
            self.out.push_back((id, o));
        }
        if terminated {
            if let Some(e) = self.txns.remove(&id) {
                self.by_key.remove(&e.key);
                let n = self.count(&e.txn);
                *n = n.saturating_sub(1);
            }
            return;
        }
        let after = e.txn.poll_timeout();
        if let Some(at) = after
            && after != before
        {
            self.deadlines.push(Reverse((at, id)));
        }
    }
}
