//! The gateway's SIP side: the port machines' [`SipIntent`]s become SIP through one
//! sans-IO UA core ([`tipring_sip::ua::Ua`], one listening address for every port), and
//! what the UA hears becomes [`PortEvent`]s for the ports and the media bridge.
//!
//! Feed it intents ([`SipSide::intent`]), received messages ([`SipSide::handle_message`])
//! and timers ([`SipSide::handle_timeout`]); drain [`SipSide::poll_transmit`] and
//! [`SipSide::poll_event`] after each input and wake at [`SipSide::poll_timeout`]
//! (DESIGN.md principle 1). [`io::run`] is the tokio driver on real sockets.
//!
//! - Outgoing calls ([`route::outgoing`]): the Request-URI is the dialled URI, or the
//!   dialled number at the port's account domain; the INVITE goes through the account's
//!   proxy when it has one; our SDP offer (the configured G.711 codecs, telephone-event,
//!   ptime) at the port's RTP address; 401/407 answered with the account's credentials.
//! - Incoming calls ([`route::inbound`]): the Request-URI user picks the port; an FXO line
//!   is reached only from trusted peers or with digest credentials, an FXS port as
//!   `[security] fxs_inbound` says ([`screen`], statelessly refused); hunting
//!   skips ports with a call or whose line is not idle ([`SipSide::set_line_idle`]); a busy
//!   port gets 486 and an unknown number 404 without the machines hearing of it.

pub mod accounts;
pub mod alert;
pub mod caller;
mod fax;
mod forward;
mod incoming;
pub mod io;
mod learn;
pub mod media;
mod mwi;
mod notes;
mod outgoing;
pub mod route;
pub mod screen;
mod services;
mod status;
pub mod targets;
mod transfer;
mod waiting;

#[cfg(test)]
mod tests;

pub use media::{FaxParams, MediaParams};

use crate::call::{SipEvent, SipIntent};
use crate::config::{Config, Loaded, MediaEncryption, Port};
use route::Inbound;
use screen::{Admission, Screen};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tipring_sip::Message;
use tipring_sip::header::Method;
use tipring_sip::sdp::{SDES_KEY_LEN, Sdes, SdesKey};
use tipring_sip::transaction::{Peer, TimerConfig, Transmit, Transport};
use tipring_sip::ua::{
    CallHandle, CallOptions, EndReason, HostTable, PingHandle, RegHandle, RegisterConfig, Ua,
    UaConfig, UaEvent, uri_peer_in,
};

/// What the SIP side tells the rest of the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortEvent {
    /// Feed to port `port`'s machine as `Input::Sip(event)`.
    Call { port: u8, event: SipEvent },
    /// Media negotiated (or changed by re-INVITE) for the port's current call: start or
    /// retarget its bridge.
    Media { port: u8, media: MediaParams },
    /// The port's call moved to T.38 (a re-INVITE offered or accepted `image/t38`): its
    /// bridge relays the fax.
    Fax { port: u8, fax: FaxParams },
    /// A forwarded call the box placed (`forward_mode = "gateway"`): one leg of relay
    /// `relay` has these media (again when they change).
    Relay {
        relay: usize,
        leg: crate::bridge::RelayLeg,
        media: MediaParams,
    },
    /// For the call records: relay `relay`'s forwarded call (for port `port`) started, was
    /// answered or ended; once ended, its media stops.
    Relayed {
        relay: usize,
        port: u8,
        note: crate::ops::record::LegNote,
    },
    /// Three-way calling: the port's other call joins its bridge's mix at these media
    /// (again when they change).
    Join {
        port: u8,
        media: Option<MediaParams>,
    },
    /// One SIP message sent or received, for the ladder the demo and logs print.
    Wire {
        outbound: bool,
        peer: SocketAddr,
        /// The start line without the SIP version: `INVITE sip:2001@127.0.0.2`,
        /// `180 Ringing`.
        summary: String,
        /// Its Call-ID, so that the log's line sits in the call's span.
        call_id: Option<String>,
    },
    /// Registration / proxy reachability changes, security refusals etc., one human line.
    Notice(String),
    /// For the call records: the port's call started, was answered or ended.
    Leg {
        port: u8,
        note: crate::ops::record::LegNote,
    },
}

/// What the line side (the runtime's port machines) tells the SIP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromLine {
    /// Port `.0`'s machine wants this done.
    Intent(u8, SipIntent),
    /// Port `.0`'s machine became idle (`true`) or left idle (`false`).
    LineIdle(u8, bool),
    /// RTP socket `.0` is reached from outside the NAT at `.1` (STUN).
    RtpMapped(RtpSocket, SocketAddr),
}

/// One of the box's RTP sockets: a port's, or one leg's of a forwarding relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RtpSocket {
    Port(u8),
    Relay(usize, crate::bridge::RelayLeg),
}

impl std::fmt::Display for RtpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtpSocket::Port(p) => write!(f, "port {p}"),
            RtpSocket::Relay(k, leg) => write!(f, "relay {k} {leg:?} leg"),
        }
    }
}

impl From<(u8, SipIntent)> for FromLine {
    fn from((port, intent): (u8, SipIntent)) -> Self {
        FromLine::Intent(port, intent)
    }
}

/// Why a SIP side cannot be built from a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipSideError {
    /// A configured port has no RTP address from the line side.
    #[error("port {0} has no local RTP address")]
    NoRtp(u8),
    /// An account's outbound proxy is not an IP address (no DNS in the core).
    #[error("account {account}: outbound proxy \"{uri}\" is not an IP address")]
    OutboundProxy { account: String, uri: String },
}

/// Which side of the INVITE a port's call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// The port placed it.
    Out,
    /// It came in for the port.
    In,
}

/// A port's current call.
#[derive(Debug)]
struct PortCall {
    handle: CallHandle,
    dir: Dir,
    session: media::Session,
    /// Incoming: our SDP (an answer, or our offer when the INVITE had none).
    local_sdp: Vec<u8>,
    /// Incoming: the negotiated media, known from the offer on.
    negotiated: Option<tipring_sip::sdp::NegotiatedMedia>,
    /// Outgoing through a proxy that has a secondary: how to place it again there.
    failover: Option<Failover>,
    /// Our re-INVITE moving the call to T.38 awaits its answer.
    fax_offered: bool,
    /// Our re-INVITE holding (`true`) or taking back (`false`) the call awaits its
    /// answer (call waiting's swap).
    hold_offered: Option<bool>,
    /// 200 OK sent or received.
    answered: bool,
    /// Outgoing: its Request-URI (a blind transfer sends the held party there).
    target: Option<String>,
    /// We placed it because the peer of this call of the port transferred us (REFER):
    /// that peer hears how it goes.
    referred_by: Option<CallHandle>,
    /// We asked this call's peer to call another party (REFER) and wait for the outcome.
    transferring: bool,
    /// The other call, mixed into the port's bridge with the current one (three-way).
    joined: bool,
    /// Incoming: what forwarding it by the box takes, should the phone leave it.
    arrival: Option<forward::Arrival>,
    /// Placed for a referrer: its ringing was reported (NOTIFY 180).
    ringing_told: bool,
}

impl PortCall {
    /// A call with nothing negotiated or asked yet.
    fn new(handle: CallHandle, dir: Dir, session: media::Session) -> PortCall {
        PortCall {
            handle,
            dir,
            session,
            local_sdp: Vec::new(),
            negotiated: None,
            failover: None,
            fax_offered: false,
            hold_offered: None,
            answered: false,
            target: None,
            referred_by: None,
            transferring: false,
            joined: false,
            arrival: None,
            ringing_told: false,
        }
    }
}

/// An outgoing call to place again through the account's secondary proxy.
#[derive(Debug, Clone)]
struct Failover {
    request_uri: String,
    from: String,
    display_name: Option<String>,
    proxy: String,
    /// The secondary proxy's URI as the UA locates it.
    next_hop: String,
    /// The identity the INVITE asserts (RFC 3325), as the first one did.
    asserted: Option<(Option<String>, String)>,
}

/// One configured port.
#[derive(Debug)]
struct Slot {
    port: Port,
    /// Its distinctive rings (FXS).
    rings: crate::config::ring::DistinctiveRings,
    rtp: SocketAddr,
    /// Where a STUN server saw the RTP socket (its public address behind a NAT).
    mapped: Option<SocketAddr>,
    call: Option<PortCall>,
    /// FXS call waiting: the second call, waiting for the phone's flash or held by it.
    other: Option<PortCall>,
    /// The line side's word on the port's machine: idle (on-hook, nothing under way).
    /// A port can have no SIP call and still be engaged (a phone left off-hook after the
    /// far end hung up, hearing reorder; a phone dialling; an FXO line ringing in).
    line_idle: bool,
}

/// What a SIP side holds at a moment (leak checks, monitoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The UA core's.
    pub ua: tipring_sip::ua::Footprint,
    /// Calls known by handle.
    pub calls: usize,
    /// Ports with a call.
    pub port_calls: usize,
    /// Messages and events not yet drained.
    pub queued: usize,
}

impl Footprint {
    /// Whether nothing is held at all.
    pub fn is_empty(&self) -> bool {
        *self == Footprint::default()
    }
}

/// The SIP side of one gateway (sans-IO; one UA, one listening address).
pub struct SipSide {
    cfg: Config,
    ua: Ua,
    /// The listener's address as configured (the wildcard address on most boxes); the UA
    /// names [`SipSide::local`], the address it is reached at.
    bind: SocketAddr,
    /// Woken when the box's address changes, or a registrar sees it somewhere new (the
    /// STUN client asks again at once).
    moved: Option<std::sync::Arc<tokio::sync::Notify>>,
    transport: Transport,
    /// Names of the configuration resolved at start (the UA has a copy).
    hosts: HostTable,
    screen: Screen,
    /// Where peers may make us send (SDP `c=`, Contact, Record-Route).
    targets: targets::TargetPolicy,
    slots: BTreeMap<u8, Slot>,
    calls: HashMap<CallHandle, u8>,
    regs: Vec<(RegHandle, String)>,
    pings: Vec<(PingHandle, String)>,
    /// Message-waiting subscriptions, by account name.
    subs: Vec<(tipring_sip::ua::SubHandle, String)>,
    /// Proxies the pings found not answering.
    down: Vec<String>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<PortEvent>,
    /// The caller of the INVITE being handled, for its `Incoming` event.
    pending_caller: Option<crate::call::CallerInfo>,
    /// Its `Alert-Info` tokens (a distinctive ring).
    pending_alert: Vec<String>,
    /// Its caller hides its identity (anonymous call rejection).
    pending_anonymous: bool,
    /// Where the message being handled came from (whose transfer requests are screened).
    pending_source: Option<Peer>,
    /// Its Max-Forwards (a call forwarded by the box carries it on, less one).
    pending_max_forwards: u8,
    /// The relay sockets for calls the box forwards (`[caller leg, target leg]` each).
    relay_addrs: Vec<[SocketAddr; 2]>,
    /// The calls relayed on them now.
    relayed: Vec<Option<forward::Relayed>>,
    /// Where a STUN server saw each relay socket.
    relay_mapped: Vec<[Option<SocketAddr>; 2]>,
    sessions: u64,
    started: bool,
    /// [`SipSide::shutdown`] was called: nothing new starts.
    stopped: bool,
    /// The trusted peers, for the flood gate's server budget.
    trusted: crate::config::PeerFilter,
    /// Requests refused since start, by reason (status).
    refused: BTreeMap<&'static str, u64>,
    /// What the registration events said, by account (status).
    reg_info: HashMap<String, status::RegInfo>,
    /// Where the calls' SDES master keys come from (the OS CSPRNG; seeded in tests).
    keys: tipring_sip::random::IdSource,
}

impl std::fmt::Debug for SipSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipSide")
            .field("local", &self.ua.config().local)
            .field("calls", &self.calls)
            .finish()
    }
}

/// The INVITE server transaction's 100 Trying delay: long enough that an INVITE refused
/// while [`SipSide::handle_received`] handles it never gets one, short enough that a call
/// taken gets it before anything else.
const TRYING_ONLY_IF_TAKEN: Duration = Duration::from_millis(1);

/// The start line of a message without the version: `INVITE sip:x@h` / `180 Ringing`.
pub fn summary(bytes: &[u8]) -> String {
    let line = bytes
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    match line.strip_prefix("SIP/2.0 ") {
        Some(rest) => rest.to_owned(),
        None => line.strip_suffix(" SIP/2.0").unwrap_or(&line).to_owned(),
    }
}

/// The Call-ID of a message we built, for the log: the header lines are read up to the
/// Call-ID (RFC 3261 §7.3.3 compact form `i` too), the body never.
fn call_id(bytes: &[u8]) -> Option<String> {
    bytes
        .split(|&b| b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let name = l[..colon].trim_ascii();
            (name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i"))
                .then(|| String::from_utf8_lossy(l[colon + 1..].trim_ascii()).into_owned())
        })
}

fn transport_of(t: crate::config::Transport) -> Transport {
    match t {
        crate::config::Transport::Udp => Transport::Udp,
        crate::config::Transport::Tcp => Transport::Tcp,
        crate::config::Transport::Tls => Transport::Tls,
    }
}

impl SipSide {
    /// The SIP side of `cfg` listening at `local`; `rtp` is each port's local RTP address
    /// (bound by the line side) written into our SDP; tags, branches, Call-IDs, cnonces,
    /// session ids and the nonce key come from the OS CSPRNG, or from `seed` (tests only)
    /// and the nonce key.
    pub fn new(
        cfg: &Loaded,
        local: SocketAddr,
        rtp: &BTreeMap<u8, SocketAddr>,
        seed: Option<u64>,
        hosts: HostTable,
    ) -> Result<SipSide, SipSideError> {
        let mut ids = tipring_sip::random::IdSource::new(seed);
        let c = &cfg.config;
        let transport = c
            .identity
            .listen
            .iter()
            .find(|l| l.address == local && l.transport == crate::config::Transport::Udp)
            .or_else(|| c.identity.listen.iter().find(|l| l.address == local))
            .or(c.identity.listen.first())
            .map_or(Transport::Udp, |l| transport_of(l.transport));
        let user = c
            .accounts
            .iter()
            .find_map(|a| a.username.clone())
            .unwrap_or_else(|| "tipring".into());
        // Bound to the wildcard address, the box names the address it sends from toward its
        // servers (else one of its own), never 0.0.0.0 (RFC 3261 §18.1.1, RFC 4566 §5.7).
        let advertised = if local.ip().is_unspecified() {
            let servers = crate::gateway::names::peer_ips(c, &hosts);
            let ip = crate::gateway::local_ips::advertised(
                local.ip(),
                &servers,
                &crate::gateway::local_ips::read(),
            );
            SocketAddr::new(ip, local.port())
        } else {
            local
        };
        let mut ucfg = UaConfig::new(advertised, transport, &user);
        ucfg.single_line = false;
        ucfg.hosts = hosts.clone();
        ucfg.source_check = c.security.response_source.into();
        ucfg.redirect = accounts::redirect_policy(
            &c.accounts,
            &c.security.redirect_allow,
            c.identity
                .listen
                .iter()
                .map(|l| l.address.ip())
                .chain([local.ip()])
                .collect(),
        );
        ucfg.limits = tipring_sip::transaction::Limits {
            max_server: c.limits.max_server_transactions as usize,
            max_client: c.limits.max_client_transactions as usize,
            single_refusal: true,
        };
        ucfg.max_calls = c.limits.max_calls as usize;
        ucfg.session_timer = (c.timers.session_expires_s > 0).then_some(
            tipring_sip::ua::session_timer::SessionTimerConfig {
                expires_s: c.timers.session_expires_s,
                min_se_s: c.timers.min_se_s,
            },
        );
        ucfg.max_early_dialogs = c.limits.max_early_dialogs as usize;
        ucfg.timers = TimerConfig {
            t1: Duration::from_millis(c.timers.sip_t1_ms.into()),
            t2: Duration::from_millis(c.timers.sip_t2_ms.into()),
            // The caller hears at once that the gateway has the call (seed §5.1: 100 before
            // the far PBX alerts), whatever the line side then takes; but only a call the
            // side takes: an INVITE refused while it is handled (unknown user, screen,
            // busy, a bound) gets its final response alone, no 100.
            trying: TRYING_ONLY_IF_TAKEN,
            ..TimerConfig::default()
        };
        if let Some(a) = c.accounts.iter().find(|a| a.outbound_proxy.is_some()) {
            let uri = a.outbound_proxy.clone().unwrap_or_default();
            ucfg.outbound_proxy = Some(
                uri_peer_in(&route::server_uri(a, &uri), transport, &hosts).ok_or_else(|| {
                    SipSideError::OutboundProxy {
                        account: a.name.clone(),
                        uri,
                    }
                })?,
            );
        }
        ucfg.seed = seed.map(|_| ids.next_u64());
        let mut ua = Ua::new(ucfg);
        if let Some(auth) =
            accounts::AccountAuth::new(&c.accounts, ids.next_u64(), c.security.allow_rfc2069)
        {
            ua.set_authenticator(Box::new(auth));
        }
        let mut slots = BTreeMap::new();
        let ring_hz = crate::port::ring_cadence(&cfg.tone_profile()).frequency_hz;
        for p in &c.ports {
            let addr = *rtp.get(&p.index).ok_or(SipSideError::NoRtp(p.index))?;
            slots.insert(
                p.index,
                Slot {
                    port: p.clone(),
                    rings: crate::config::ring::DistinctiveRings::new(
                        p.alert_info_rings.as_ref(),
                        ring_hz,
                    ),
                    rtp: addr,
                    mapped: None,
                    call: None,
                    other: None,
                    line_idle: true,
                },
            );
        }
        let targets = targets::TargetPolicy::new(
            &c.identity
                .listen
                .iter()
                .map(|l| l.address)
                .chain([local])
                .collect::<Vec<_>>(),
            &rtp.values()
                .chain(slots.values().map(|s: &Slot| &s.rtp))
                .copied()
                .collect::<Vec<_>>(),
            c.security
                .allow_targets
                .iter()
                .filter_map(|s| crate::config::TrustedPeer::parse(s).ok())
                .collect(),
        );
        let mut key = [0u8; 32];
        ids.fill(&mut key);
        let realm = c
            .identity
            .listen
            .first()
            .map_or_else(|| local.to_string(), |l| l.address.to_string());
        Ok(SipSide {
            cfg: c.clone(),
            ua,
            bind: local,
            moved: None,
            transport,
            hosts,
            screen: Screen::new(cfg.trusted.clone(), &c.security, &c.limits, &realm, key),
            targets,
            slots,
            calls: HashMap::new(),
            regs: Vec::new(),
            pings: Vec::new(),
            subs: Vec::new(),
            down: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            pending_caller: None,
            pending_alert: Vec::new(),
            pending_anonymous: false,
            pending_source: None,
            pending_max_forwards: 70,
            relay_addrs: Vec::new(),
            relayed: Vec::new(),
            relay_mapped: Vec::new(),
            sessions: ids.next_u64() >> 2,
            started: false,
            stopped: false,
            trusted: cfg.trusted.clone(),
            refused: BTreeMap::new(),
            reg_info: HashMap::new(),
            keys: tipring_sip::random::IdSource::new(seed.map(|s| s ^ 0x5344_4553)),
        })
    }

    /// The flood gate for this side's transport (see [`crate::gateway::flood`]).
    pub fn flood_gate(&self, now: Instant) -> crate::gateway::flood::gate::Gate {
        crate::gateway::flood::gate::Gate::new(&self.cfg, self.trusted.clone(), &self.hosts, now)
    }

    /// The address we listen at (Via, Contact).
    pub fn local(&self) -> SocketAddr {
        self.ua.config().local
    }

    /// The box's interface addresses, when it listens on the wildcard address: peers
    /// naming them as media or signalling targets are refused ([`targets`]).
    pub fn add_local_ips(&mut self, ips: &[std::net::IpAddr]) {
        self.targets.add_local_ips(ips);
    }

    /// The box's addresses are now `ips`: they are the box's own for the address policy,
    /// and every registration is renewed at once, so the registrar (and a NAT before it)
    /// learns the new way to us before the next refresh.
    pub fn addresses_changed(&mut self, now: Instant, ips: &[std::net::IpAddr]) {
        self.targets.add_local_ips(ips);
        if self.bind.ip().is_unspecified() {
            let servers = crate::gateway::names::peer_ips(&self.cfg, &self.hosts);
            let ip = crate::gateway::local_ips::advertised(self.bind.ip(), &servers, ips);
            if ip != self.local().ip() {
                self.notice(format!("SIP address now {ip}"));
                self.ua.set_local_ip(ip);
            }
        }
        self.moved();
        self.ua.reregister_all(now);
        self.drain(now);
    }

    /// `notify` is woken whenever the box's address changes or a registrar sees it at a
    /// new one.
    pub fn notify_moves(&mut self, notify: std::sync::Arc<tokio::sync::Notify>) {
        self.moved = Some(notify);
    }

    fn moved(&self) {
        if let Some(n) = &self.moved {
            n.notify_one();
        }
    }

    /// The address the listener is bound to, as configured.
    pub fn bind_addr(&self) -> SocketAddr {
        self.bind
    }

    /// The transport we listen on.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether port `port` has a call.
    pub fn port_busy(&self, port: u8) -> bool {
        self.slots.get(&port).is_some_and(|s| s.call.is_some())
    }

    /// Whether port `port` has a SIP call of any kind: current, waiting or held.
    pub fn port_has_calls(&self, port: u8) -> bool {
        self.slots
            .get(&port)
            .is_some_and(|s| s.call.is_some() || s.other.is_some())
    }

    /// The line side tells whether port `port`'s machine is idle (the runtime calls this
    /// whenever a machine goes idle or leaves idle). Incoming calls ring only ports with
    /// no SIP call whose line is idle; the others are skipped while hunting, and a call
    /// that finds none gets 486.
    pub fn set_line_idle(&mut self, port: u8, idle: bool) {
        if let Some(s) = self.slots.get_mut(&port) {
            s.line_idle = idle;
        }
    }

    /// Whether an incoming call may ring port `port`: no SIP call and an idle line.
    pub fn port_free(&self, port: u8) -> bool {
        self.slots
            .get(&port)
            .is_some_and(|s| s.call.is_none() && s.other.is_none() && s.line_idle)
    }

    /// What the line side sent: a port machine's intent or a change of its idleness.
    pub fn from_line(&mut self, now: Instant, m: FromLine) {
        match m {
            FromLine::Intent(port, intent) => self.intent(now, port, intent),
            FromLine::LineIdle(port, idle) => self.set_line_idle(port, idle),
            FromLine::RtpMapped(RtpSocket::Port(port), addr) => {
                if let Some(s) = self.slots.get_mut(&port) {
                    s.mapped = Some(addr);
                }
            }
            FromLine::RtpMapped(RtpSocket::Relay(k, leg), addr) => self.relay_mapped(k, leg, addr),
        }
    }

    /// Whether a removing REGISTER (after [`SipSide::shutdown`]) still waits for its answer.
    pub fn unregistering(&self) -> bool {
        self.regs
            .iter()
            .any(|(h, _)| self.ua.reg_state(*h) == Some(tipring_sip::ua::RegState::Unregistering))
    }

    /// Whether nothing is under way any more: no call the UA still ends (a BYE or CANCEL
    /// waiting for its answer) and no unregistration outstanding. [`io::run`] waits for
    /// this (at most [`io::SHUTDOWN_GRACE`]) after [`SipSide::shutdown`].
    pub fn idle(&self) -> bool {
        !self.unregistering() && !self.ua.busy()
    }

    /// What the side holds now.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            ua: self.ua.footprint(),
            calls: self.calls.len() + 2 * self.relays_active(),
            port_calls: self
                .slots
                .values()
                .map(|s| usize::from(s.call.is_some()) + usize::from(s.other.is_some()))
                .sum(),
            queued: self.transmits.len() + self.events.len(),
        }
    }

    /// Start registrations of the configured accounts and OPTIONS pings to their proxies.
    /// Only the first call does anything ([`io::run`] calls it too, so a caller that
    /// already started the side is not registered twice).
    pub fn start(&mut self, now: Instant) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        self.start_pending(now);
    }

    /// Registrations and pings not running yet (their server's name did not resolve):
    /// started now. Nothing after [`SipSide::shutdown`].
    fn start_pending(&mut self, now: Instant) {
        if !self.started || self.stopped {
            return;
        }
        let accounts = self.cfg.accounts.clone();
        for a in &accounts {
            let registered = self.regs.iter().any(|(_, n)| *n == a.name);
            if let (Some(registrar), Some(user), false) = (&a.registrar, &a.username, registered) {
                let domain = route::domain_of(a).unwrap_or_default();
                let mut rc = RegisterConfig::new(
                    &route::server_uri(a, registrar),
                    &format!("sip:{user}@{domain}"),
                );
                rc.expires = a.register_expiry_s;
                rc.nat = match a.nat {
                    crate::config::NatMode::Registrar => tipring_sip::ua::nat::NatMode::Registrar,
                    crate::config::NatMode::Learn => tipring_sip::ua::nat::NatMode::Learn,
                };
                rc.keepalive = accounts::keepalive(a);
                match self.ua.register(now, rc) {
                    Ok(h) => self.regs.push((h, a.name.clone())),
                    Err(e) => self.notice(format!("account {}: cannot register: {e}", a.name)),
                }
            }
            self.start_mwi(now, a);
            for proxy in [&a.proxy, &a.secondary_proxy].into_iter().flatten() {
                if self.pings.iter().any(|(_, p)| p == proxy) {
                    continue;
                }
                match self
                    .ua
                    .ping(now, &route::server_uri(a, proxy), accounts::PING_INTERVAL)
                {
                    Ok(h) => self.pings.push((h, proxy.clone())),
                    Err(e) => self.notice(format!("account {}: cannot ping {proxy}: {e}", a.name)),
                }
            }
        }
        self.drain(now);
    }

    /// New answers for the configuration's host names (the periodic lookup of
    /// [`io::run`]): each changed address is taken (and noticed), a name missing from
    /// `fresh` keeps its last address (a failed lookup does not cut a working server off),
    /// and registrations or pings that could not start for want of an address start now.
    pub fn set_hosts(&mut self, now: Instant, fresh: &HostTable) {
        let mut changed = false;
        for (name, r) in fresh.iter() {
            if self.hosts.resolved(name) != Some(r) {
                self.notice(format!("{name} resolves to {r}"));
                self.hosts.set(name, r.clone());
                changed = true;
            }
        }
        if changed {
            self.ua.set_hosts(self.hosts.clone());
            self.start_pending(now);
            self.drain(now);
        }
    }

    /// The configuration's host names resolved so far.
    pub fn hosts(&self) -> &HostTable {
        &self.hosts
    }

    /// Ends every call (CANCEL/BYE/480), removes the registrations (Expires: 0) and stops
    /// the pings. Keep driving the side until [`SipSide::poll_timeout`] and the transmits
    /// are done if the unregistration should be confirmed.
    pub fn shutdown(&mut self, now: Instant) {
        self.stopped = true;
        self.hang_up_relays(now);
        let handles: Vec<CallHandle> = self.calls.keys().copied().collect();
        for h in handles {
            let _ = self.ua.hangup(now, h);
        }
        self.calls.clear();
        let mut ended = Vec::new();
        for (i, s) in self.slots.iter_mut() {
            if let Some(c) = s.call.take() {
                ended.push((*i, if c.answered { 200 } else { 487 }));
            }
            s.other = None;
        }
        for (port, code) in ended {
            self.note_ended(port, code, crate::ops::record::EndCause::Shutdown);
        }
        for (h, _) in std::mem::take(&mut self.pings) {
            self.ua.stop_ping(h);
        }
        for (h, name) in std::mem::take(&mut self.subs) {
            if let Err(e) = self.ua.unsubscribe(now, h) {
                self.notice(format!("account {name}: cannot unsubscribe: {e}"));
            }
        }
        for (h, name) in self.regs.clone() {
            if let Err(e) = self.ua.unregister(now, h) {
                self.notice(format!("account {name}: cannot unregister: {e}"));
            }
        }
        self.drain(now);
    }

    /// What port `port`'s machine wants.
    pub fn intent(&mut self, now: Instant, port: u8, intent: SipIntent) {
        let handle = self
            .slots
            .get(&port)
            .and_then(|s| s.call.as_ref())
            .map(|c| c.handle);
        let _span = self.call_span(Some(port), handle).entered();
        if !self.slots.contains_key(&port) {
            self.notice(format!("intent {intent:?} for unknown port {port}"));
            return;
        }
        match intent {
            SipIntent::PlaceCall {
                target,
                caller,
                hide_caller_id,
            } => self.place_call(now, port, &target, &caller, hide_caller_id),
            SipIntent::SetService(s) => self.set_service(port, s),
            SipIntent::Alerting => {
                if let Some(h) = self.incoming_handle(port)
                    && let Err(e) = self.ua.ring(now, h, 180, None)
                {
                    self.notice(format!("port {port}: 180 not sent: {e}"));
                }
            }
            SipIntent::EarlyMedia => self.early_media(now, port),
            SipIntent::Answer => self.answer(now, port),
            SipIntent::Reject(code) => {
                if let Some(h) = self.incoming_handle(port) {
                    if code == 480 && self.forward_no_answer(now, port, h) {
                        self.drain(now);
                        return;
                    }
                    self.release(port, code, crate::ops::record::EndCause::Rejected);
                    if let Err(e) = self.ua.reject(now, h, code) {
                        self.notice(format!("port {port}: {code} not sent: {e}"));
                    }
                }
            }
            SipIntent::OfferFax => self.offer_fax(now, port),
            SipIntent::Swap => self.swap(now, port),
            SipIntent::Hold => self.hold(now, port),
            SipIntent::Conference => self.conference(now, port),
            SipIntent::Transfer => self.transfer(now, port),
            SipIntent::EndWaiting(code) => self.end_waiting(now, port, code),
            SipIntent::Hangup => {
                if let Some(h) = self
                    .slots
                    .get(&port)
                    .and_then(|s| s.call.as_ref())
                    .map(|c| c.handle)
                {
                    let (code, cause) = self.local_end(port);
                    self.release(port, code, cause);
                    // A call the UA already ended needs nothing more.
                    let _ = self.ua.hangup(now, h);
                }
            }
        }
        self.drain(now);
    }

    /// A message arrived from `from` (for a request: where its responses go, RFC 3261
    /// §18.2.2, which is also whose trust is checked).
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8], from: Peer) {
        self.handle_received(now, bytes, from, from);
    }

    /// As [`SipSide::handle_message`], with the packet's real source apart from the
    /// response address: trust is decided on `source` (a Via cannot forge it).
    pub fn handle_received(&mut self, now: Instant, bytes: &[u8], source: Peer, respond_to: Peer) {
        let Ok(msg) = Message::parse(bytes) else {
            // The transport has answered 400 where it could (DESIGN.md principle 3).
            return;
        };
        let _span =
            tracing::info_span!("sip", call_id = msg.call_id().map(tracing::field::display))
                .entered();
        self.events.push_back(PortEvent::Wire {
            outbound: false,
            peer: source.addr,
            summary: summary(bytes),
            call_id: msg.call_id().map(str::to_owned),
        });
        let initial_invite =
            msg.method() == Some(Method::Invite) && msg.to().and_then(|t| t.tag()).is_none();
        // A retransmission is the transaction layer's (RFC 3261 §17.2.3); every new INVITE
        // is screened on its own.
        let replacing = initial_invite && msg.header("Replaces").is_some();
        if replacing
            && !self.ua.matches_transaction(&msg)
            && let Some(code) = self.replaces_admission(&msg, source)
        {
            self.notice(format!("INVITE with Replaces from {}: {code}", source.addr));
            self.count_refusal(status::Refusal::TransferRefused);
            self.send(Transmit {
                to: respond_to,
                bytes: Arc::from(targets::refusal(&msg, code)),
            });
            return;
        }
        if initial_invite && !replacing && !self.ua.matches_transaction(&msg) {
            if let Admission::Refuse {
                code,
                response,
                why,
                repeat,
            } = self.admission(now, &msg, source)
            {
                if !repeat {
                    self.notice(why);
                    self.count_refusal(match code {
                        404 => status::Refusal::InviteUnknownNumber,
                        _ => status::Refusal::InviteUntrusted,
                    });
                }
                self.send(Transmit {
                    to: respond_to,
                    bytes: Arc::from(response),
                });
                return;
            }
            let trusted = self.screen.trusts(source);
            self.pending_caller = Some(caller::caller_of(&msg, trusted));
            self.pending_alert = alert::alert_tokens(&msg);
            self.pending_anonymous = caller::is_anonymous(&msg);
            self.pending_max_forwards = msg.max_forwards().unwrap_or(70);
        }
        if !self.notify_admitted(&msg, source) {
            self.notice(format!(
                "NOTIFY from {}: not an account's server nor trusted: 403",
                source.addr
            ));
            self.count_refusal(status::Refusal::NotifyStranger);
            self.send(Transmit {
                to: respond_to,
                bytes: Arc::from(targets::refusal(&msg, 403)),
            });
            return;
        }
        // A provisional or 2xx to our INVITE sets the dialog's remote target and route set
        // (RFC 3261 §12.1.2) as a request does: the same targets are refused. Dropped (a
        // response cannot be answered): the call fails as if the far end never answered.
        let invite_response = msg.status().is_some_and(|c| (101..300).contains(&c))
            && msg.cseq().is_some_and(|c| c.method == Method::Invite);
        if invite_response && let Err(e) = self.targets.check_request(&msg, &self.hosts) {
            self.count_refusal(status::Refusal::ResponseTarget);
            let n = self
                .refused
                .get("response_forbidden_target")
                .copied()
                .unwrap_or(0);
            if n.is_power_of_two() {
                // Logged at 1, 2, 4, ...: the 2xx retransmissions do not flood the log.
                self.notice(format!(
                    "{} from {}: {e}: dropped ({n} so far)",
                    summary(bytes),
                    source.addr
                ));
            }
            return;
        }
        if msg.method() == Some(Method::Invite)
            && let Err(e) = self.targets.check_request(&msg, &self.hosts)
        {
            self.notice(format!("INVITE from {}: {e}: 403", source.addr));
            self.count_refusal(status::Refusal::InviteTarget);
            self.pending_caller = None;
            self.send(Transmit {
                to: respond_to,
                bytes: Arc::from(targets::refusal(&msg, 403)),
            });
            return;
        }
        let foreign = self.ua.stats().foreign;
        self.pending_source = Some(source);
        self.ua.handle_message(now, bytes, respond_to);
        let now_foreign = self.ua.stats().foreign;
        if now_foreign > foreign && now_foreign.is_power_of_two() {
            // Logged at 1, 2, 4, 8, ...: a flood of forgeries does not flood the log.
            self.notice(format!(
                "SIP: {now_foreign} message(s) refused: not from the address/transport of their \
                 transaction or dialog (latest from {} over {:?})",
                source.addr, source.transport
            ));
        }
        self.drain(now);
        self.pending_caller = None;
        self.pending_alert.clear();
        self.pending_anonymous = false;
        self.pending_max_forwards = 70;
        self.pending_source = None;
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ua.handle_timeout(now);
        self.drain(now);
    }

    /// A message to `to` could not be sent (connection refused, TLS certificate refused):
    /// its transactions fail at once (RFC 3261 §17.1.4, the TU sees a 503) instead of
    /// waiting for their timeouts, so a call fails over or ends with reorder now.
    pub fn transport_failed(&mut self, now: Instant, to: Peer) {
        self.ua.transport_failed(now, to);
        self.drain(now);
    }

    /// When to call [`SipSide::handle_timeout`] next.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.ua.poll_timeout()
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the ports, the bridge or the log.
    pub fn poll_event(&mut self) -> Option<PortEvent> {
        self.events.pop_front()
    }

    fn notice(&mut self, line: String) {
        self.events.push_back(PortEvent::Notice(line));
    }

    fn send(&mut self, mut t: Transmit) {
        self.events.push_back(PortEvent::Wire {
            outbound: true,
            peer: t.to.addr,
            summary: summary(&t.bytes),
            call_id: call_id(&t.bytes),
        });
        t.bytes = stamp(&t.bytes, &self.cfg.identity.user_agent);
        self.transmits.push_back(t);
    }

    fn call_event(&mut self, port: u8, event: SipEvent) {
        self.events.push_back(PortEvent::Call { port, event });
    }

    /// The handle of the port's incoming call.
    fn incoming_handle(&self, port: u8) -> Option<CallHandle> {
        let c = self.slots.get(&port)?.call.as_ref()?;
        (c.dir == Dir::In).then_some(c.handle)
    }

    /// Forgets the port's call (the machine is done with it; the UA finishes it alone);
    /// its record ends with `code` and `cause`.
    fn release(&mut self, port: u8, code: u16, cause: crate::ops::record::EndCause) {
        if let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.take()) {
            self.calls.remove(&c.handle);
            self.note_ended(port, code, cause);
        }
    }

    /// The final status and cause of the port's call when its line hangs up.
    fn local_end(&self, port: u8) -> (u16, crate::ops::record::EndCause) {
        use crate::ops::record::EndCause;
        match self.slots.get(&port).and_then(|s| s.call.as_ref()) {
            Some(c) if c.answered => (200, EndCause::LocalHangup),
            Some(c) if c.dir == Dir::In => (480, EndCause::Rejected),
            _ => (487, EndCause::Abandoned),
        }
    }

    /// The SDES of a call on `port` whose signalling to the next hop is TLS (`tls`) or
    /// not: a fresh key when the port's account asks for SRTP and the hop may carry it
    /// (RFC 4568 §8.3: never in clear); `Err` when the account requires SRTP and the hop
    /// is in clear.
    fn sdes_for(&mut self, port: u8, tls: bool) -> Result<Option<Sdes>, ()> {
        let mode = self
            .slots
            .get(&port)
            .and_then(|s| route::account_of(&self.cfg, &s.port))
            .map_or(MediaEncryption::None, |a| a.media_encryption);
        let mandatory = match (mode, tls) {
            (MediaEncryption::None, _) | (MediaEncryption::Optional, false) => return Ok(None),
            (MediaEncryption::Mandatory, false) => return Err(()),
            (MediaEncryption::Optional, true) => false,
            (MediaEncryption::Mandatory, true) => true,
        };
        let mut key = [0u8; SDES_KEY_LEN];
        self.keys.fill(&mut key);
        Ok(Some(Sdes {
            mandatory,
            key: SdesKey(key),
        }))
    }

    fn new_session(&mut self, port: u8, sdes: Option<Sdes>) -> Option<media::Session> {
        let slot = self.slots.get(&port)?;
        let (rtp, mapped) = (slot.rtp, slot.mapped);
        Some(self.session_at(rtp, mapped, sdes))
    }

    /// A session whose RTP socket is bound at `rtp` (`mapped`: where a STUN server saw it).
    fn session_at(
        &mut self,
        mut rtp: SocketAddr,
        mapped: Option<SocketAddr>,
        sdes: Option<Sdes>,
    ) -> media::Session {
        if rtp.ip().is_unspecified() {
            // A wildcard RTP socket is reached at the address the UA names.
            rtp = SocketAddr::new(self.local().ip(), rtp.port());
        }
        if let Some(m) = mapped {
            // What the STUN server saw: right whatever the NAT does with ports.
            rtp = m;
        } else if let Some(public) = self.ua.public_address() {
            // Behind a NAT (`nat = "learn"`): the public address with our RTP port, which
            // a port-preserving NAT maps once our first packet went out (symmetric RTP).
            rtp = SocketAddr::new(public.ip(), rtp.port());
        }
        self.sessions = self.sessions.wrapping_add(1);
        let mut cfg = media::media_config(&self.cfg.media, rtp);
        cfg.srtp = sdes;
        media::Session::new(cfg, self.sessions)
    }

    /// Moves the UA's output out, acting on its events, until it has nothing more.
    fn drain(&mut self, now: Instant) {
        loop {
            let mut idle = true;
            while let Some(t) = self.ua.poll_transmit() {
                idle = false;
                self.send(t);
            }
            while let Some(e) = self.ua.poll_event() {
                idle = false;
                self.on_ua_event(now, e);
            }
            if idle {
                break;
            }
        }
        self.ua.reap();
    }

    /// The span of one call: its port (once it has one) and its Call-ID, so that what the
    /// UA and this side log about it says which call it is.
    fn call_span(&self, port: Option<u8>, call: Option<CallHandle>) -> tracing::Span {
        let call_id = call.and_then(|h| self.ua.call_id(h));
        tracing::info_span!("call", port, call_id = call_id.map(tracing::field::display))
    }

    fn on_ua_event(&mut self, now: Instant, e: UaEvent) {
        let Err(e) = self.on_relay_event(now, e) else {
            return;
        };
        let call = match &e {
            UaEvent::Incoming { call, .. }
            | UaEvent::Progress { call, .. }
            | UaEvent::Redirected { call, .. }
            | UaEvent::Answered { call, .. }
            | UaEvent::Confirmed { call, .. }
            | UaEvent::Reoffer { call, .. }
            | UaEvent::Ended { call, .. } => Some(*call),
            _ => None,
        };
        let _span = call
            .map(|h| self.call_span(self.calls.get(&h).copied(), Some(h)))
            .map(tracing::Span::entered);
        match e {
            UaEvent::Incoming {
                call,
                request_uri,
                sdp,
                from,
            } => self.on_incoming(now, call, &request_uri, &sdp, &from),
            UaEvent::Progress { call, code, sdp } => self.on_progress(now, call, code, sdp),
            UaEvent::Redirected { call, target } => {
                self.notice(format!("call {} redirected to {target}", call.0));
            }
            UaEvent::Answered { call, sdp } => self.on_answered(now, call, &sdp),
            UaEvent::Confirmed { call, sdp } => {
                // An INVITE without offer: the answer to ours is in the ACK (RFC 3261 §13.2.1).
                if let (Some(port), Some(sdp)) = (self.calls.get(&call).copied(), sdp) {
                    self.take_answer(port, &sdp);
                }
            }
            UaEvent::Reoffer { call, sdp } => self.on_reoffer(now, call, &sdp),
            UaEvent::ReinviteDone { call, sdp } => self.on_reinvite_done(call, &sdp),
            UaEvent::ReinviteFailed { call, code } => self.on_reinvite_failed(call, code),
            UaEvent::Info { .. } | UaEvent::DialogResponse { .. } => {}
            UaEvent::Referred { call, refer_to } => self.on_referred(now, call, &refer_to),
            UaEvent::TransferProgress { call, code, done } => {
                self.on_transfer_progress(now, call, code, done)
            }
            UaEvent::Registered { reg, expires, .. } => {
                let name = self.reg_name(reg);
                self.reg_info.insert(
                    name.clone(),
                    status::RegInfo {
                        expires_at: Some(now + Duration::from_secs(expires.into())),
                        last_code: Some(200),
                    },
                );
                self.notice(format!("account {name}: registered for {expires} s"));
            }
            UaEvent::SeenAt { reg, addr } => {
                self.moved();
                let name = self.reg_name(reg);
                self.notice(format!(
                    "account {name}: the registrar sees us at {addr}; registering again"
                ));
            }
            UaEvent::RegistrationFailed {
                reg,
                code,
                retry_in,
            } => {
                let name = self.reg_name(reg);
                self.reg_info.entry(name.clone()).or_default().last_code = Some(code);
                self.notice(format!(
                    "account {name}: registration failed ({code}), retry in {} s",
                    retry_in.as_secs()
                ));
            }
            UaEvent::Unregistered { reg } => {
                let name = self.reg_name(reg);
                self.notice(format!("account {name}: unregistered"));
            }
            UaEvent::Subscribed { sub, expires } => {
                let name = self.sub_name(sub);
                self.notice(format!(
                    "account {name}: message waiting subscribed for {expires} s"
                ));
            }
            UaEvent::SubscriptionFailed {
                sub,
                code,
                retry_in,
            } => {
                let name = self.sub_name(sub);
                self.notice(format!(
                    "account {name}: message-waiting subscription {}; again in {} s",
                    if code == 0 {
                        "ended by the server".to_owned()
                    } else {
                        format!("failed ({code})")
                    },
                    retry_in.as_secs()
                ));
            }
            UaEvent::Notified {
                sub,
                event,
                request_uri,
                body,
            } => self.on_notified(sub, &event, &request_uri, &body),
            UaEvent::PeerUp { ping } => {
                let t = self.ping_name(ping);
                self.down.retain(|d| d != &t);
                self.notice(format!("proxy {t} is up"));
            }
            UaEvent::PeerDown { ping, code } => {
                let t = self.ping_name(ping);
                if !self.down.contains(&t) {
                    self.down.push(t.clone());
                }
                let why = code.map_or_else(|| "no answer".to_owned(), |c| c.to_string());
                self.notice(format!("proxy {t} is down ({why})"));
            }
            UaEvent::Ended { call, reason } => self.on_ended(now, call, reason),
        }
    }

    fn reg_name(&self, reg: RegHandle) -> String {
        self.regs
            .iter()
            .find(|(h, _)| *h == reg)
            .map_or_else(|| format!("#{}", reg.0), |(_, n)| n.clone())
    }

    fn sub_name(&self, sub: tipring_sip::ua::SubHandle) -> String {
        self.subs
            .iter()
            .find(|(h, _)| *h == sub)
            .map_or_else(|| format!("#{}", sub.0), |(_, n)| n.clone())
    }

    fn ping_name(&self, ping: PingHandle) -> String {
        self.pings
            .iter()
            .find(|(h, _)| *h == ping)
            .map_or_else(|| format!("#{}", ping.0), |(_, n)| n.clone())
    }

    fn on_ended(&mut self, now: Instant, call: CallHandle, reason: EndReason) {
        if self.referred_ended(now, call, &reason) {
            return;
        }
        let Some(port) = self.calls.remove(&call) else {
            return;
        };
        if let Some(s) = self.slots.get_mut(&port)
            && s.other.as_ref().is_some_and(|c| c.handle == call)
        {
            // The waiting caller gave up, or the held party hung up.
            s.other = None;
            self.call_event(port, SipEvent::WaitingEnded);
            return;
        }
        let ended = self.slots.get_mut(&port).and_then(|s| s.call.take());
        let proxy_failed = matches!(
            reason,
            EndReason::Timeout
                | EndReason::Failed {
                    code: 408 | 503,
                    ..
                }
        );
        if let Some(c) = ended.as_ref().filter(|_| proxy_failed)
            && let Some(f) = c.failover.clone()
            && self.fail_over(now, port, &f)
        {
            return;
        }
        let record_end = ended
            .as_ref()
            .map(|c| notes::end_of(&reason, c.dir, c.answered));
        let answered = ended.as_ref().is_some_and(|c| c.answered);
        let dir = ended.map(|c| c.dir);
        let event = match (dir, reason) {
            (_, EndReason::LocalBye | EndReason::LocalReject(_)) => None,
            (Some(Dir::Out), EndReason::Cancelled) => None,
            // The line answered but the 2xx waited for a PRACK (RFC 3262 §3) when the
            // CANCEL came: for the line, the caller hung up.
            (Some(Dir::In), EndReason::Cancelled) if answered => Some(SipEvent::RemoteHangup),
            (Some(Dir::In), EndReason::Cancelled) => Some(SipEvent::Cancelled),
            (Some(Dir::Out), EndReason::Failed { code, .. }) => Some(SipEvent::Rejected(code)),
            (Some(Dir::Out), EndReason::AuthFailed(code)) => Some(SipEvent::Rejected(code)),
            (Some(Dir::Out), EndReason::TooManyRedirects) => Some(SipEvent::Rejected(480)),
            (Some(Dir::Out), EndReason::Timeout) => Some(SipEvent::Rejected(408)),
            (_, EndReason::RemoteBye | EndReason::NoAck | EndReason::DialogGone(_))
            | (_, EndReason::SessionExpired)
            | (_, EndReason::Timeout | EndReason::Failed { .. } | EndReason::AuthFailed(_))
            | (_, EndReason::TooManyRedirects) => Some(SipEvent::RemoteHangup),
            (None, EndReason::Cancelled) => None,
        };
        if let Some(ev) = event {
            self.call_event(port, ev);
        }
        if let Some((code, cause)) = record_end {
            self.note_ended(port, code, cause);
        }
    }
}

/// `bytes` with our product name after the start line: `User-Agent` in requests
/// (RFC 3261 §20.41), `Server` in responses (§20.35). The UA core builds messages without
/// either; the text comes from `[identity] user_agent`.
fn stamp(bytes: &[u8], product: &str) -> Arc<[u8]> {
    let product: String = product.chars().filter(|c| !c.is_control()).collect();
    let Some(eol) = bytes.windows(2).position(|w| w == b"\r\n") else {
        return Arc::from(bytes);
    };
    if product.trim().is_empty() {
        return Arc::from(bytes);
    }
    let name = if bytes.starts_with(b"SIP/") {
        "Server"
    } else {
        "User-Agent"
    };
    let mut out = Vec::with_capacity(bytes.len() + name.len() + product.len() + 4);
    out.extend_from_slice(&bytes[..eol + 2]);
    out.extend_from_slice(format!("{name}: {}\r\n", product.trim()).as_bytes());
    out.extend_from_slice(&bytes[eol + 2..]);
    Arc::from(out)
}
