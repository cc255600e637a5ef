//! The SIP user agent core (RFC 3261 §8, §12-§15, §21), sans-IO on top of the
//! [`TransactionLayer`]: feed it received messages ([`Ua::handle_message`]), commands
//! ([`Ua::call`], [`Ua::answer`], [`Ua::hangup`], ...) and timers ([`Ua::handle_timeout`]);
//! drain [`Ua::poll_transmit`] and [`Ua::poll_event`] and wake at [`Ua::poll_timeout`].
//! Session bodies (SDP) are opaque bytes here; the caller makes offers and answers.

mod attempts;
mod call;
mod hosts;
mod keepalive;
pub mod locate;
pub mod nat;
mod prack;
pub mod redirect;
pub mod refer;
pub mod register;
pub mod response;
#[cfg(feature = "transport")]
pub mod runner;
pub mod session_timer;
pub mod source;
pub mod subscribe;
mod table;
mod uac;
mod uas;

#[cfg(test)]
mod flood_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ids;
#[cfg(test)]
mod tests_locate;
#[cfg(test)]
mod tests_nat;
#[cfg(test)]
mod tests_prack;
#[cfg(test)]
mod tests_refer;
#[cfg(test)]
mod tests_sources;
#[cfg(test)]
mod tests_subscribe;
#[cfg(test)]
mod tests_timer;

pub use call::{CallHandle, CallState, Role};
pub use hosts::{HostTable, Resolved, Service};
pub use keepalive::PingHandle;
pub use redirect::RedirectPolicy;
pub use register::{Binding, RegHandle, RegState, RegisterConfig};
pub use response::{Authenticator, Challenge, DigestCredentials};
pub use source::SourceCheck;
pub use subscribe::{MESSAGE_SUMMARY, SubHandle, SubState, SubscribeConfig};
pub use uac::CallOptions;

use crate::header::Method;
use crate::message::Message;
use crate::transaction::{
    Output, Peer, Receipt, TimerConfig, TransactionLayer, Transmit, Transport, TuEvent, TxnError,
    TxnId,
};
use crate::uri::Uri;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;
use table::CallTable;

/// Methods this UA accepts (the Allow header, §20.5).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, PRACK, UPDATE, REFER";
/// The extensions this UA supports (Supported, §20.37): reliable provisional responses
/// (RFC 3262), session timers (RFC 4028) and `Replaces` (RFC 3891).
pub const SUPPORTED: &str = "100rel, timer, replaces";
/// The option tags of [`SUPPORTED`].
const SUPPORTED_TAGS: [&str; 3] = [
    prack::OPTION_TAG,
    session_timer::OPTION_TAG,
    refer::OPTION_TAG,
];
/// Bodies this UA understands (Accept, §20.1).
pub const ACCEPT: &str = "application/sdp";
/// Retry-After of a 503 sent at a bound (transactions, calls), seconds.
pub const OVERLOAD_RETRY_AFTER_S: u32 = 5;

/// How the UA is set up.
#[derive(Debug, Clone)]
pub struct UaConfig {
    /// Our address as written in Via sent-by and Contact.
    pub local: SocketAddr,
    /// The transport we send on.
    pub transport: Transport,
    /// The user part of our Contact.
    pub user: String,
    /// Transaction timers (T1, T2, T4).
    pub timers: TimerConfig,
    /// One line: a new INVITE while a call exists gets 486 Busy Here.
    pub single_line: bool,
    /// Where initial requests go instead of their Request-URI's host (§8.1.2).
    pub outbound_proxy: Option<Peer>,
    /// How many 3xx a call follows before giving up (§8.1.3.4).
    pub max_redirects: u8,
    /// Tags, branches, Call-IDs, initial CSeqs and the §14.1 glare wait come from the OS
    /// CSPRNG; a seed makes them a predictable splitmix64 sequence, for tests only.
    pub seed: Option<u64>,
    /// Host names the caller resolved (registrar, proxies): URIs naming them are reachable.
    pub hosts: HostTable,
    /// Where a response to our request, or a request in one of our dialogs, must come from
    /// (§17.1.3, §18.1.2, §12.2.2); others are dropped and counted in
    /// [`UaStats::foreign`].
    pub source_check: SourceCheck,
    /// Early dialogs one outgoing call keeps (§13.2.2.4: forked 1xx with different To
    /// tags); a provisional response starting one more is ignored.
    pub max_early_dialogs: usize,
    /// Which 3xx targets are followed, and where credentials may follow a redirect.
    pub redirect: RedirectPolicy,
    /// Bounds of the transaction table and the single-refusal rule.
    pub limits: crate::transaction::Limits,
    /// Calls kept at once (ended ones still kept included); beyond it a new INVITE gets
    /// 503 with Retry-After.
    pub max_calls: usize,
    /// Session timers (RFC 4028) asked for and accepted; `None`: not supported.
    pub session_timer: Option<session_timer::SessionTimerConfig>,
}

/// The default [`UaConfig::max_early_dialogs`].
pub const MAX_EARLY_DIALOGS: usize = 4;

impl UaConfig {
    /// A configuration with RFC timer values, one line and 5 redirects.
    pub fn new(local: SocketAddr, transport: Transport, user: &str) -> Self {
        UaConfig {
            local,
            transport,
            user: user.to_owned(),
            timers: TimerConfig::default(),
            single_line: true,
            outbound_proxy: None,
            max_redirects: 5,
            seed: None,
            hosts: HostTable::new(),
            source_check: SourceCheck::Exact,
            max_early_dialogs: MAX_EARLY_DIALOGS,
            redirect: RedirectPolicy::open(),
            limits: crate::transaction::Limits::default(),
            max_calls: 65_536,
            session_timer: Some(session_timer::SessionTimerConfig::default()),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UaError {
    /// No such call, or it is over.
    #[error("no such call")]
    NoCall,
    /// The call is not in a state where this command makes sense.
    #[error("call is {0:?}; command not possible")]
    State(CallState),
    /// A URI could not be used (does not parse, or names no address we can reach).
    #[error("cannot reach URI {0}")]
    Uri(String),
    /// The transaction layer refused the request.
    #[error("transaction: {0}")]
    Txn(#[from] TxnError),
    /// A dialog request could not be built.
    #[error("dialog: {0}")]
    Dialog(#[from] crate::dialog::DialogError),
    /// Another INVITE is already in progress on the dialog (§14.1).
    #[error("an INVITE is already in progress on this dialog")]
    Pending,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// We sent BYE.
    LocalBye,
    /// The peer sent BYE.
    RemoteBye,
    /// CANCEL before the answer (either side), or ACK+BYE after the CANCEL/200 race.
    Cancelled,
    /// We rejected the INVITE with this code.
    LocalReject(u16),
    /// The INVITE failed with this final status (and Retry-After, if given).
    Failed {
        /// Final status.
        code: u16,
        /// Retry-After seconds (§21.5.4 503, §21.4.18 480, §21.6 6xx).
        retry_after: Option<u32>,
    },
    /// A challenge came back after we answered it (wrong credentials), or we have none.
    AuthFailed(u16),
    /// 3xx beyond the redirect cap, or every target was tried (loop).
    TooManyRedirects,
    /// No response (Timer B/F: 408).
    Timeout,
    /// The ACK for our 2xx never came (§13.3.1.4): we sent BYE.
    NoAck,
    /// A request in the dialog got 481 or 408 (§12.2.1.2).
    DialogGone(u16),
    /// The peer, the session's refresher, stopped refreshing it (RFC 4028 §10): we sent BYE.
    SessionExpired,
}

/// What the UA tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaEvent {
    /// An INVITE for a new call; answer with [`Ua::ring`], [`Ua::answer`] or [`Ua::reject`].
    Incoming {
        /// The call.
        call: CallHandle,
        /// The From URI.
        from: String,
        /// The Request-URI.
        request_uri: String,
        /// The offer (may be empty).
        sdp: Vec<u8>,
    },
    /// UAC: a provisional response (180, 183 with early media).
    Progress {
        /// The call.
        call: CallHandle,
        /// Status.
        code: u16,
        /// Its body, if any (early-media answer).
        sdp: Option<Vec<u8>>,
    },
    /// UAC: following a 3xx to a new target.
    Redirected {
        /// The call.
        call: CallHandle,
        /// The new Request-URI.
        target: String,
    },
    /// UAC: the 2xx arrived and the ACK is sent.
    Answered {
        /// The call.
        call: CallHandle,
        /// The answer.
        sdp: Vec<u8>,
    },
    /// UAS: the ACK for our 2xx arrived.
    Confirmed {
        /// The call.
        call: CallHandle,
        /// A body in the ACK (an answer when our 2xx carried the offer).
        sdp: Option<Vec<u8>>,
    },
    /// A re-INVITE arrived; answer with [`Ua::accept_reoffer`] or [`Ua::reject_reoffer`].
    Reoffer {
        /// The call.
        call: CallHandle,
        /// The new offer.
        sdp: Vec<u8>,
    },
    /// Our re-INVITE was answered with 2xx (ACK sent).
    ReinviteDone {
        /// The call.
        call: CallHandle,
        /// The answer.
        sdp: Vec<u8>,
    },
    /// Our re-INVITE failed (the session stays as it was, §14.1).
    ReinviteFailed {
        /// The call.
        call: CallHandle,
        /// Final status.
        code: u16,
    },
    /// An INFO arrived in the dialog (answered 200).
    Info {
        /// The call.
        call: CallHandle,
        /// Its body.
        body: Vec<u8>,
    },
    /// The call's peer asks us to call `refer_to` (REFER, RFC 3515): answer with
    /// [`Ua::answer_refer`], then report the new call with [`Ua::notify_refer`].
    Referred {
        /// The call.
        call: CallHandle,
        /// The `sip:`/`sips:` URI to call, with its headers (`?Replaces=...`).
        refer_to: String,
    },
    /// How the transfer we asked of the call's peer goes ([`Ua::refer`]): the status of
    /// the peer's new call from its NOTIFYs, or our REFER's failure; `done` when
    /// nothing more will come.
    TransferProgress {
        /// The call.
        call: CallHandle,
        /// A status: 1xx under way, 2xx the new call is up, else it failed.
        code: u16,
        /// The transfer's outcome is known.
        done: bool,
    },
    /// The final response to an in-dialog OPTIONS/INFO we sent.
    DialogResponse {
        /// The call.
        call: CallHandle,
        /// The method.
        method: String,
        /// Final status.
        code: u16,
    },
    /// A registrar saw us at an address other than before, or other than our own in
    /// [`nat::NatMode::Learn`] (RFC 3581 `received`/`rport`): the binding is being renewed.
    SeenAt {
        /// The registration.
        reg: RegHandle,
        /// Where we were seen.
        addr: SocketAddr,
    },
    /// A 2xx to REGISTER: the binding holds for `expires` seconds.
    Registered {
        /// The registration.
        reg: RegHandle,
        /// Seconds granted for our Contact.
        expires: u32,
        /// All bindings the registrar listed (§10.2.4).
        bindings: Vec<Binding>,
    },
    /// A REGISTER failed; the next attempt is in `retry_in`.
    RegistrationFailed {
        /// The registration.
        reg: RegHandle,
        /// Final status (408 for a timeout).
        code: u16,
        /// When the next attempt goes out.
        retry_in: std::time::Duration,
    },
    /// The binding was removed (Expires: 0 answered).
    Unregistered {
        /// The registration.
        reg: RegHandle,
    },
    /// A 2xx to SUBSCRIBE: the subscription holds for `expires` seconds.
    Subscribed {
        /// The subscription.
        sub: SubHandle,
        /// Seconds granted.
        expires: u32,
    },
    /// A SUBSCRIBE failed, or the notifier ended the subscription (`code` 0); a new one
    /// goes out in `retry_in`.
    SubscriptionFailed {
        /// The subscription.
        sub: SubHandle,
        /// Final status (408 for a timeout), 0 when a NOTIFY ended it.
        code: u16,
        /// When the next attempt goes out.
        retry_in: std::time::Duration,
    },
    /// A NOTIFY, answered 200: in one of our subscriptions (`sub`), or an out-of-dialog
    /// `message-summary` (`sub` is `None`). Its source was screened by the UA's user.
    Notified {
        /// The subscription it belongs to.
        sub: Option<SubHandle>,
        /// The event package, lower case.
        event: String,
        /// Its Request-URI (for an unsolicited one: whose messages).
        request_uri: String,
        /// Its body.
        body: Vec<u8>,
    },
    /// The pinged peer answered OPTIONS.
    PeerUp {
        /// The ping target.
        ping: PingHandle,
    },
    /// The pinged peer stopped answering (timeout, or 408/503).
    PeerDown {
        /// The ping target.
        ping: PingHandle,
        /// The status, or `None` for no answer at all.
        code: Option<u16>,
    },
    /// The call is over.
    Ended {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
    },
}

/// Counts of what the core did, for tests and monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UaStats {
    /// Received messages absorbed by their transaction (retransmissions).
    pub absorbed: u64,
    /// 2xx retransmissions sent by the core while waiting for the ACK (§13.3.1.4).
    pub retransmitted_2xx: u64,
    /// OPTIONS answered.
    pub options: u64,
    /// CANCELs received.
    pub cancels: u64,
    /// Client transactions that timed out.
    pub timeouts: u64,
    /// Responses and in-dialog requests dropped or refused because they came from another
    /// address or over another transport than their transaction or dialog.
    pub foreign: u64,
    /// New requests refused with 503 at a bound (transactions or calls).
    pub overload: u64,
}

/// What a client transaction was for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    Invite(CallHandle),
    Cancel(CallHandle),
    Bye(CallHandle),
    /// BYE for a stray fork or after the CANCEL/200 race: nobody waits for it.
    ByeStray,
    Reinvite(CallHandle),
    InDialog(CallHandle, String),
    /// A REGISTER, with its CSeq number (only the latest one sent is acted on).
    Register(RegHandle, u32),
    /// A SUBSCRIBE, with its CSeq number (likewise).
    Subscribe(SubHandle, u32),
    Ping(PingHandle),
    /// A PRACK (RFC 3262): its answer changes nothing.
    Prack,
    /// An OPTIONS keeping a registration's NAT mapping open (its answer shows the mapping).
    Keepalive(RegHandle),
    /// An UPDATE refreshing the session (RFC 4028 §10).
    Refresh(CallHandle),
    /// A REFER asking the peer to transfer (RFC 3515).
    Refer(CallHandle),
    /// A NOTIFY of a transfer's progress we report: its answer changes nothing.
    ReferNotify(CallHandle),
}

/// What a core holds at a moment, for leak checks and monitoring: every entry here goes
/// away on its own once the calls, registrations and pings behind it are over (an ended
/// call after 64*T1, §17.1.1.2; a transaction at its Terminated state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Calls in the table, live or ended and not yet forgotten.
    pub calls: usize,
    /// Transactions of the transaction layer.
    pub transactions: usize,
    /// Client transactions whose purpose (call, registration, ping) is remembered.
    pub purposes: usize,
    /// Client transactions whose next hop is remembered.
    pub client_peers: usize,
    pub registrations: usize,
    pub subscriptions: usize,
    pub pings: usize,
    /// Messages and events not yet drained.
    pub queued: usize,
}

impl Footprint {
    /// Whether nothing is held at all.
    pub fn is_empty(&self) -> bool {
        *self == Footprint::default()
    }
}

/// The user agent core.
pub struct Ua {
    cfg: UaConfig,
    layer: TransactionLayer,
    calls: CallTable,
    regs: BTreeMap<RegHandle, register::Registration>,
    subs: BTreeMap<SubHandle, subscribe::Subscription>,
    pings: BTreeMap<PingHandle, keepalive::Ping>,
    purposes: HashMap<TxnId, Purpose>,
    /// Where each of our client transactions sends (for [`Ua::transport_failed`]).
    client_peers: HashMap<TxnId, Peer>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<UaEvent>,
    auth: Option<Box<dyn Authenticator + Send>>,
    challenger: Option<(
        crate::digest::DigestServer,
        std::collections::HashMap<String, crate::digest::Secret>,
    )>,
    ids: crate::random::IdSource,
    next_call: u64,
    stats: UaStats,
    /// The latest time the core was given (stamps when calls end).
    now: Option<Instant>,
    /// Targets that failed lately (RFC 3263 §4.3), tried after the others.
    avoided: locate::Avoided,
    /// The address a registrar in [`nat::NatMode::Learn`] saw us at: our dialogs' Contact.
    public: Option<SocketAddr>,
}

impl std::fmt::Debug for Ua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ua")
            .field("local", &self.cfg.local)
            .field("calls", &self.calls.len())
            .finish()
    }
}

/// The address a SIP URI names, when its host is an IP literal (no DNS in the core,
/// RFC 3263 lookups belong to the caller): port 5060 (5061 for sips) by default, transport
/// from `;transport=` or `default`.
pub fn uri_peer(uri: &str, default: Transport) -> Option<Peer> {
    uri_peer_in(uri, default, &HostTable::new())
}

/// As [`uri_peer`], a host name also resolving through `hosts`.
pub fn uri_peer_in(uri: &str, default: Transport, hosts: &HostTable) -> Option<Peer> {
    locate::candidates(uri, default, hosts)
        .first()
        .map(|c| c.peer)
}

/// Whether every place `uri` resolves to is reached over TLS (a `sips:` URI, a
/// `;transport=tls` one, or a name whose records offer TLS only): what may carry a secret
/// in its body, such as an SDES key (RFC 4568 §8.3).
pub fn uri_tls_only(uri: &str, default: Transport, hosts: &HostTable) -> bool {
    let c = locate::candidates(uri, default, hosts);
    !c.is_empty() && c.iter().all(|c| c.peer.transport == Transport::Tls)
}

/// The standard reason phrase for the codes this UA sends.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        433 => "Anonymity Disallowed",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Unknown",
    }
}

impl Ua {
    /// A UA with no calls.
    pub fn new(cfg: UaConfig) -> Self {
        let mut layer = TransactionLayer::new(cfg.timers);
        layer.set_limits(cfg.limits);
        Ua {
            layer,
            ids: crate::random::IdSource::new(cfg.seed),
            cfg,
            calls: CallTable::default(),
            regs: BTreeMap::new(),
            subs: BTreeMap::new(),
            pings: BTreeMap::new(),
            purposes: HashMap::new(),
            client_peers: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            auth: None,
            challenger: None,
            next_call: 1,
            stats: UaStats::default(),
            avoided: locate::Avoided::default(),
            public: None,
            now: None,
        }
    }

    /// Sets the digest client used for 401/407 (§22.2).
    pub fn set_authenticator(&mut self, a: Box<dyn Authenticator + Send>) {
        self.auth = Some(a);
    }

    /// Challenges every new INVITE with digest (§22.1): only callers with credentials in
    /// `users` get through; a missing, stale or unknown nonce gets 401, a wrong answer 403.
    pub fn set_challenger(
        &mut self,
        server: crate::digest::DigestServer,
        users: std::collections::HashMap<String, crate::digest::Secret>,
    ) {
        self.challenger = Some((server, users));
    }

    /// What the core has done so far.
    pub fn stats(&self) -> UaStats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &UaConfig {
        &self.cfg
    }

    /// The address our Via, Contact and Call-IDs name from now on (the box moved to another
    /// address while its socket stays bound to the wildcard address).
    pub fn set_local_ip(&mut self, ip: std::net::IpAddr) {
        self.cfg.local.set_ip(ip);
    }

    /// The state of a call, if it exists.
    pub fn call_state(&self, h: CallHandle) -> Option<CallState> {
        self.calls.get(&h).map(|c| c.state)
    }

    /// The Call-ID of a call (RFC 3261 §8.1.1.4), if it exists.
    pub fn call_id(&self, h: CallHandle) -> Option<&str> {
        self.calls.get(&h).map(|c| c.call_id.as_str())
    }

    /// The confirmed dialog of a call.
    pub fn dialog(&self, h: CallHandle) -> Option<&crate::dialog::Dialog> {
        self.calls.get(&h).and_then(|c| c.dialog())
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    /// When to call [`Ua::handle_timeout`] next.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let t1 = self.cfg.timers.t1;
        let calls = self
            .calls
            .next_deadline(t1)
            .into_iter()
            .chain(
                self.regs
                    .values()
                    .flat_map(|r| [r.poll_timeout(), r.nat.next_keepalive])
                    .flatten(),
            )
            .chain(self.subs.values().filter_map(|s| s.poll_timeout()))
            .chain(self.pings.values().filter_map(|p| p.next))
            .min();
        match (self.layer.poll_timeout(), calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.pump(now);
        let t1 = self.cfg.timers.t1;
        let due = self.calls.due(now, t1);
        for &h in &due {
            self.call_timers(now, h);
        }
        self.reap_ended(now, &due);
        self.reg_timers(now);
        self.keepalive_timers(now);
        self.sub_timers(now);
        self.ping_timers(now);
        self.pump(now);
    }

    /// A message arrived from `from`. Bytes that do not parse are dropped (the transport
    /// has already answered 400 where it could).
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8], from: Peer) {
        let Ok(msg) = Message::parse(bytes) else {
            tracing::debug!("dropping unparsable message from {}", from.addr);
            return;
        };
        // The receipt is acted on before the layer's outputs are pumped: over a reliable
        // transport a client transaction ends with its final response (Timer K/J are 0,
        // §17.1.2.2), and its Terminated event must not drop the purpose first.
        if msg.method().is_none() && !self.response_source_ok(&msg, from) {
            self.foreign(format_args!(
                "response from {} ({:?})",
                from.addr, from.transport
            ));
            return;
        }
        let receipt = self.layer.receive(now, &msg, from);
        match receipt {
            Receipt::NewRequest(id) => self.on_request(now, id, &msg, from),
            Receipt::Cancel { id, invite } => self.on_cancel(now, id, invite, &msg, from),
            Receipt::Deliver(id) => match msg.method() {
                Some(Method::Ack) => self.on_ack(now, &msg, from),
                Some(_) => {}
                None => self.on_response(now, id, &msg),
            },
            Receipt::StrayAck => self.on_ack(now, &msg, from),
            Receipt::StrayResponse => self.on_stray_response(&msg),
            Receipt::Absorbed(_) => self.stats.absorbed += 1,
            Receipt::Overload => self.refuse_overload(&msg, from),
        }
        self.pump(now);
    }

    /// Whether a response may be given to its client transaction: it came over the
    /// transport, and from the address, the request went to (§17.1.3, §18.1.2). A response
    /// matching no transaction goes on (the layer reports it stray).
    fn response_source_ok(&self, msg: &Message<'_>, from: Peer) -> bool {
        let sent_to = crate::transaction::Key::client(msg)
            .ok()
            .and_then(|k| self.layer.find(&k))
            .and_then(|id| self.client_peers.get(&id));
        sent_to.is_none_or(|to| self.cfg.source_check.accepts(*to, from))
    }

    /// Counts a message from the wrong source; logs the first and then every power of two.
    fn foreign(&mut self, what: std::fmt::Arguments<'_>) {
        self.stats.foreign += 1;
        let n = self.stats.foreign;
        if n.is_power_of_two() {
            tracing::warn!("dropped {what}: not where our transaction or dialog is (#{n})");
        }
    }

    /// The transport could not deliver to `to` (connection refused, TLS handshake failed):
    /// our requests waiting on that peer fail now, as a transport error (§8.1.3.1,
    /// §17.1.4), instead of at Timer B/F.
    pub fn transport_failed(&mut self, now: Instant, to: Peer) {
        let ids: Vec<TxnId> = self
            .client_peers
            .iter()
            .filter(|(_, p)| **p == to)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.layer.transport_error(id);
        }
        self.pump(now);
    }

    /// Moves the transaction layer's outputs out and acts on its events.
    fn pump(&mut self, now: Instant) {
        self.now = Some(now);
        while let Some((id, out)) = self.layer.poll_output() {
            match out {
                Output::Transmit(t) => self.transmits.push_back(t),
                Output::Event(TuEvent::Terminated) => {
                    self.purposes.remove(&id);
                    self.client_peers.remove(&id);
                }
                Output::Event(e @ (TuEvent::Timeout | TuEvent::TransportError)) => {
                    if e == TuEvent::Timeout {
                        self.stats.timeouts += 1;
                    }
                    if let Some(p) = self.purposes.get(&id).cloned() {
                        self.on_client_failure(now, p);
                    }
                }
            }
        }
    }

    fn rand(&mut self) -> u64 {
        self.ids.next_u64()
    }

    /// 64 random bits as 16 hex digits: a tag or a branch suffix.
    fn token(&mut self) -> String {
        self.ids.token()
    }

    /// A first CSeq (§8.1.1.5: below 2**31): 30 random bits, leaving 2**30 requests of
    /// room in the dialog before the limit.
    fn initial_cseq(&mut self) -> u32 {
        (self.rand() as u32 & 0x3fff_ffff) + 1
    }

    /// A Call-ID (§8.1.1.4): 128 random bits, then our host.
    fn new_call_id(&mut self) -> String {
        let (a, b) = (self.rand(), self.rand());
        format!("{a:016x}{b:016x}@{}", self.cfg.local.ip())
    }

    /// A Via for a request sent over `t` (§18.1.1: the transport it really goes over).
    fn via(&mut self, t: Transport) -> String {
        let branch = self.token();
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{branch};rport",
            t.via_token(),
            self.cfg.local,
        )
    }

    /// Replaces the table of resolved host names (a periodic lookup by the caller).
    /// The address a registrar in [`nat::NatMode::Learn`] saw us at, if one did: what a
    /// party outside our NAT reaches us at (RFC 3581).
    pub fn public_address(&self) -> Option<SocketAddr> {
        self.public
    }

    pub fn set_hosts(&mut self, hosts: HostTable) {
        self.cfg.hosts = hosts;
    }

    /// Where a URI's requests go: its address (a name through the host table), port and
    /// transport (§8.1.2, §18.1.1).
    fn peer_of(&self, uri: &str) -> Option<Peer> {
        uri_peer_in(uri, self.cfg.transport, &self.cfg.hosts)
    }

    /// Every place a new request for `uri` may go, in the order to try them (RFC 3263
    /// §4.2, §4.3: priorities, weights, the targets that failed lately last).
    fn peers_for(&mut self, now: Instant, uri: &str) -> Vec<Peer> {
        let cands = locate::candidates(uri, self.cfg.transport, &self.cfg.hosts);
        let (ids, avoided) = (&mut self.ids, &self.avoided);
        locate::order(cands, || ids.next_u64(), |p| avoided.contains(now, p))
    }

    /// `peer` timed out, failed at the transport or answered 503: the next requests try
    /// the other targets first for a while (RFC 3263 §4.3).
    fn avoid(&mut self, now: Instant, peer: Peer) {
        self.avoided.add(now, peer);
    }

    /// The transport a call runs over: the one its INVITE came in or went out on.
    pub fn call_transport(&self, h: CallHandle) -> Transport {
        self.calls
            .get(&h)
            .map_or(self.cfg.transport, |c| c.invite_peer.transport)
    }

    /// Our Contact for a dialog or binding over `t`: later requests come back over it.
    fn contact(&self, t: Transport) -> String {
        self.contact_at(t, self.public.unwrap_or(self.cfg.local))
    }

    /// A Contact at `addr` over `t`.
    fn contact_at(&self, t: Transport, addr: SocketAddr) -> String {
        let t = match t {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
        };
        format!("<sip:{}@{addr}{t}>", self.cfg.user)
    }

    /// Where a request in `d` goes: the first route, or the remote target (§12.2.1.1, §8.1.2).
    /// A route is a name-addr (`"Proxy" <sip:p.example;lr>`, §20.30): its URI is used.
    fn dialog_peer(&self, d: &crate::dialog::Dialog) -> Result<Peer, UaError> {
        let uri = match d.route_set().first() {
            Some(r) => <crate::header::NameAddr<'_> as crate::header::FromValue>::from_value(r)
                .map_err(|_| UaError::Uri(r.clone()))?
                .uri
                .to_string(),
            None => d.remote_target().to_owned(),
        };
        self.peer_of(&uri).ok_or(UaError::Uri(uri))
    }

    fn send(
        &mut self,
        now: Instant,
        bytes: Vec<u8>,
        to: Peer,
        purpose: Purpose,
    ) -> Result<TxnId, UaError> {
        let id = self.layer.send_request(now, bytes, to)?;
        self.purposes.insert(id, purpose);
        self.client_peers.insert(id, to);
        self.pump(now);
        Ok(id)
    }

    fn respond(&mut self, now: Instant, id: TxnId, code: u16, bytes: Vec<u8>) {
        if let Err(e) = self.layer.respond(now, id, code, bytes) {
            tracing::debug!("response {code} not sent: {e}");
        }
        self.pump(now);
    }

    /// A request that found a table full: 503 with Retry-After (§21.5.4), sent once,
    /// without a transaction (an ACK is never answered).
    fn refuse_overload(&mut self, req: &Message<'_>, to: Peer) {
        self.stats.overload += 1;
        if req.method() == Some(Method::Ack) {
            return;
        }
        let bytes = crate::MessageBuilder::response_to(req, 503, reason_phrase(503), None)
            .header(
                crate::HeaderName::RetryAfter,
                OVERLOAD_RETRY_AFTER_S.to_string(),
            )
            .finish();
        self.transmits.push_back(Transmit {
            to,
            bytes: bytes.into(),
        });
    }

    /// A response built from `req` with the standard reason phrase and no body.
    fn respond_plain(
        &mut self,
        now: Instant,
        id: TxnId,
        req: &Message<'_>,
        code: u16,
        tag: Option<&str>,
    ) {
        let mut b = crate::MessageBuilder::response_to(req, code, reason_phrase(code), tag);
        if code == 405 {
            b = b.header(crate::HeaderName::Allow, ALLOW);
        }
        self.respond(now, id, code, b.finish());
    }

    fn end(&mut self, h: CallHandle, reason: EndReason) {
        if let Some(c) = self.calls.get_mut(&h) {
            if c.state == CallState::Terminated {
                return;
            }
            c.state = CallState::Terminated;
            c.ended_at = self.now;
            c.pending_ok = None;
            c.glare_retry = None;
            c.cancel_give_up = None;
            for d in &mut c.dialogs {
                d.terminate();
            }
            self.events.push_back(UaEvent::Ended { call: h, reason });
        }
    }

    /// Forgets calls that have ended (their handles become unknown).
    pub fn reap(&mut self) {
        self.calls.retain(|_, c| c.state != CallState::Terminated);
    }

    /// Forgets the calls among `due` that ended 64*T1 ago or more (refused at once under
    /// single refusal: when they ended), so a long-running UA does not grow with every call
    /// (an ended call's deadline is that moment).
    fn reap_ended(&mut self, now: Instant, due: &[CallHandle]) {
        let keep = self.cfg.timers.t1 * call::REAP_AFTER_T1;
        for h in due {
            let gone = self.calls.get(h).is_some_and(|c| {
                c.state == CallState::Terminated
                    && c.ended_at
                        .is_some_and(|at| now >= if c.reap_at_once { at } else { at + keep })
            });
            if gone {
                self.calls.remove(h);
            }
        }
    }

    /// Whether the request `msg` belongs to a server transaction we already have (RFC 3261
    /// §17.2.3: branch, sent-by and method): a retransmission the transaction layer absorbs,
    /// which an admission check in front of the core must not judge as a new request.
    pub fn matches_transaction(&self, msg: &Message<'_>) -> bool {
        msg.method().is_some()
            && crate::transaction::Key::server(msg)
                .ok()
                .and_then(|k| self.layer.find(&k))
                .is_some()
    }

    /// What the core holds now.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            calls: self.calls.len(),
            transactions: self.layer.len(),
            purposes: self.purposes.len(),
            client_peers: self.client_peers.len(),
            registrations: self.regs.len(),
            subscriptions: self.subs.len(),
            pings: self.pings.len(),
            queued: self.transmits.len() + self.events.len(),
        }
    }

    /// Whether any call is not over.
    pub fn busy(&self) -> bool {
        self.calls.any_live()
    }

    fn new_handle(&mut self) -> CallHandle {
        let h = CallHandle(self.next_call);
        self.next_call += 1;
        h
    }

    /// The call with a live (confirmed or early) dialog of exactly this id: Call-ID and
    /// both tags (§12.2.2). A terminated dialog (a stray fork we ended) matches nothing.
    fn call_by_dialog(&self, id: &crate::dialog::DialogId) -> Option<CallHandle> {
        self.calls
            .with_call_id(&id.call_id)
            .find(|(_, c)| {
                c.state != CallState::Terminated
                    && c.dialogs.iter().any(|d| {
                        d.id() == id && d.state() != crate::dialog::DialogState::Terminated
                    })
            })
            .map(|(h, _)| h)
    }
}

/// Whether `target`, reached by a redirect from `first`, may be given our credentials (or a
/// registration): the same host, or a host the redirect policy lists (§26.3.1).
fn credentials_may_follow(cfg: &UaConfig, first: &str, target: &str) -> bool {
    let host = |u: &str| {
        Uri::parse(u)
            .ok()
            .and_then(|u| u.as_sip().map(|s| s.host.to_string().to_ascii_lowercase()))
    };
    host(first) == host(target) || cfg.redirect.allows(target, &cfg.hosts)
}
