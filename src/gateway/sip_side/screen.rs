//! Admission of new INVITEs, each screened on its own: source, transport, credentials.
//!
//! - An INVITE that would seize an FXO line (the PSTN) is let through only from a trusted
//!   peer (`[security] trusted_peers`, over the transport an entry is bound to) or with
//!   valid digest credentials (`[security] inbound_auth`, RFC 3261 §22.1).
//! - An INVITE that would ring an FXS port (a phone) is let through as
//!   `[security] fxs_inbound` says: from the accounts' registrar and proxies (`proxy`, the
//!   default), trusted peers, or authenticated callers; `trusted` drops the servers;
//!   `any` lets everyone ring.
//!
//! Everyone else gets 401 with a challenge (when credentials are configured) or 403,
//! answered statelessly as RFC 3261 §8.2.7 allows a UAS to do for challenges: nothing is
//! kept for a refused request and the port's machine never hears of it. The 401 carries
//! one challenge per `[security] auth_algorithms` entry, in that order (RFC 8760 §2.4);
//! credentials for any other algorithm are refused.
//!
//! Nothing is remembered about admitted INVITEs: a retransmission of one is recognised by
//! the transaction layer (§17.2.3: branch, sent-by and method) before the screen is asked,
//! so a request that only copies an admitted INVITE's Call-ID and branch from another
//! source, transport, sent-by or Request-URI is screened afresh like any new INVITE.

use crate::config::{FxsInbound, Limits, PeerFilter, Security};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;
use tipring_sip::digest::{ChallengeKind, DigestServer, Rejection, Secret, ServerConfig, Verdict};
use tipring_sip::transaction::{Peer, Transport};
use tipring_sip::ua::reason_phrase;
use tipring_sip::{HeaderName, Message, MessageBuilder};

/// How many refused INVITEs are remembered so their retransmissions are logged once.
const REMEMBERED: usize = 64;

/// What a new INVITE would reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An FXO line: the PSTN, toll fraud if let through.
    Fxo,
    /// An FXS port: a phone rings.
    Fxs,
}

/// The screen's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Trusted source or authenticated user: hand the INVITE to the UA.
    Admit,
    /// Refused: `response` is the stateless answer, `why` the log line.
    Refuse {
        /// 401, 403 or 404.
        code: u16,
        /// The response bytes.
        response: Vec<u8>,
        /// One human line for the log.
        why: String,
        /// A retransmission of an INVITE refused before (logged once).
        repeat: bool,
    },
}

/// Trust and digest state of the gateway's inbound calls.
pub struct Screen {
    trusted: PeerFilter,
    fxs: FxsInbound,
    users: HashMap<String, Secret>,
    digest: ServerConfig,
    key: [u8; 32],
    server: Option<DigestServer>,
    refused: VecDeque<(String, String)>,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen")
            .field("trusted", &self.trusted)
            .field("fxs", &self.fxs)
            .field("users", &self.users.len())
            .field("realm", &self.digest.realm)
            .field("algorithms", &self.digest.algorithms)
            .finish()
    }
}

/// The INVITE's Call-ID and top Via branch (only to log a refused one once).
fn key_of(msg: &Message<'_>) -> (String, String) {
    let branch = msg
        .top_via()
        .and_then(|v| v.branch())
        .unwrap_or_default()
        .to_owned();
    (msg.call_id().unwrap_or_default().to_owned(), branch)
}

/// The configuration's name of a transport.
fn config_transport(t: Transport) -> crate::config::Transport {
    match t {
        Transport::Udp => crate::config::Transport::Udp,
        Transport::Tcp => crate::config::Transport::Tcp,
        Transport::Tls => crate::config::Transport::Tls,
    }
}

impl Screen {
    /// The screen of `security`, its digest server bounded by `limits`; `realm` is used
    /// when the configuration names none; `key` signs the nonces (a new key per start
    /// invalidates old ones).
    pub fn new(
        trusted: PeerFilter,
        security: &Security,
        limits: &Limits,
        realm: &str,
        key: [u8; 32],
    ) -> Screen {
        Screen {
            trusted,
            fxs: security.fxs_inbound,
            users: security
                .inbound_auth
                .iter()
                .map(|c| (c.username.clone(), Secret::Password(c.password.clone())))
                .collect(),
            digest: server_config(security, limits, realm),
            key,
            server: None,
            refused: VecDeque::new(),
        }
    }

    /// Whether a request from `source` (its real address and the transport it arrived
    /// over) comes from a trusted peer.
    pub fn trusts(&self, source: Peer) -> bool {
        self.trusted
            .trusts_over(source.addr.ip(), config_transport(source.transport))
    }

    /// Decides on a new INVITE (not a retransmission the transaction layer absorbs) that
    /// would reach `reach`, received from `source`; `servers` are the accounts' registrar
    /// and proxy addresses as resolved now.
    pub fn check(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        source: Peer,
        reach: Reach,
        servers: &[IpAddr],
    ) -> Admission {
        let a = self.decide(now, msg, source, reach, servers);
        self.remember(msg, a)
    }

    /// A stateless 404 for an INVITE whose Request-URI names nothing here (RFC 3261
    /// §21.4.5): no transaction, no 100, no retransmission.
    pub fn unknown(&mut self, msg: &Message<'_>) -> Admission {
        let uri = msg.request_uri().map(|u| u.to_string()).unwrap_or_default();
        let a = refuse(
            msg,
            404,
            Vec::new(),
            format!("INVITE for unknown {uri}: 404"),
        );
        self.remember(msg, a)
    }

    /// Marks a refusal whose INVITE was refused before (a retransmission: logged once).
    fn remember(&mut self, msg: &Message<'_>, mut a: Admission) -> Admission {
        if let Admission::Refuse { repeat, .. } = &mut a {
            let key = key_of(msg);
            *repeat = self.refused.contains(&key);
            if !*repeat {
                if self.refused.len() >= REMEMBERED {
                    self.refused.pop_front();
                }
                self.refused.push_back(key);
            }
        }
        a
    }

    fn decide(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        source: Peer,
        reach: Reach,
        servers: &[IpAddr],
    ) -> Admission {
        let ip = source.addr.ip();
        let what = match reach {
            Reach::Fxo => "an FXO line",
            Reach::Fxs => "an FXS port",
        };
        if reach == Reach::Fxs {
            match self.fxs {
                FxsInbound::Any => return Admission::Admit,
                FxsInbound::Proxy if servers.iter().any(|s| same_host(*s, ip)) => {
                    return Admission::Admit;
                }
                FxsInbound::Proxy | FxsInbound::Trusted => {}
            }
        }
        if self.trusts(source) {
            return Admission::Admit;
        }
        if self.users.is_empty() {
            return refuse(
                msg,
                403,
                Vec::new(),
                format!("INVITE toward {what} from untrusted {ip}: 403"),
            );
        }
        let server = self
            .server
            .get_or_insert_with(|| DigestServer::new(self.digest.clone(), self.key, now));
        let (code, stale, why) =
            match server.verify_request_from(now, msg, ChallengeKind::Www, &self.users, ip) {
                Verdict::Authorized { .. } => return Admission::Admit,
                Verdict::Stale(r) => (401, true, format!("stale nonce ({r:?})")),
                Verdict::Rejected(Rejection::NoCredentials) => {
                    (401, false, "no credentials".into())
                }
                Verdict::Rejected(
                    r @ (Rejection::WrongResponse | Rejection::UnknownUser | Rejection::Throttled),
                ) => (403, false, format!("credentials refused ({r:?})")),
                Verdict::Rejected(r) => (401, false, format!("credentials unusable ({r:?})")),
            };
        let challenges = if code == 401 {
            server
                .challenges(now, stale)
                .iter()
                .map(ToString::to_string)
                .collect()
        } else {
            Vec::new()
        };
        refuse(
            msg,
            code,
            challenges,
            format!("INVITE toward {what} from {ip}: {why}: {code}"),
        )
    }
}

/// Whether `a` and `b` are one host (an IPv4-mapped IPv6 address is its IPv4 address).
fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// The digest server's settings: the configured realm (else `realm`), algorithms and
/// table bounds.
fn server_config(security: &Security, limits: &Limits, realm: &str) -> ServerConfig {
    let mut c = ServerConfig::new(security.realm.as_deref().unwrap_or(realm));
    c.algorithms = security.auth_algorithms.iter().map(|&a| a.into()).collect();
    c.max_nonces = limits.max_digest_nonces as usize;
    c.throttle.max_tracked = limits.max_auth_failure_records as usize;
    c
}

/// A stateless final response (RFC 3261 §8.2.7): its To tag is derived from the request
/// so every retransmission of the INVITE gets the same one.
fn refuse(msg: &Message<'_>, code: u16, challenges: Vec<String>, why: String) -> Admission {
    let (call_id, branch) = key_of(msg);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in call_id.bytes().chain(branch.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let tag = format!("{h:016x}");
    let mut b = MessageBuilder::response_to(msg, code, reason_phrase(code), Some(&tag));
    for c in challenges {
        b = b.header(HeaderName::WwwAuthenticate, c);
    }
    Admission::Refuse {
        code,
        response: b.finish(),
        why,
        repeat: false,
    }
}

impl super::SipSide {
    /// The screen's decision on a new INVITE from `source`: a Request-URI that names no
    /// port is refused with 404 at once, otherwise the screen judges it for what it would
    /// reach.
    pub(super) fn admission(&mut self, now: Instant, msg: &Message<'_>, source: Peer) -> Admission {
        let user = msg.request_uri().and_then(super::route::request_user);
        let reach = match super::route::inbound(&self.cfg, user.as_deref(), &self.ua.config().user)
        {
            super::Inbound::Ports { fxo: true, .. } => Reach::Fxo,
            super::Inbound::Ports { fxo: false, .. } => Reach::Fxs,
            super::Inbound::Unknown => return self.screen.unknown(msg),
        };
        let servers: Vec<IpAddr> = crate::gateway::names::server_ips(&self.cfg, &self.hosts)
            .into_iter()
            .collect();
        self.screen.check(now, msg, source, reach, &servers)
    }
}

#[cfg(test)]
#[path = "screen_tests.rs"]
mod tests;
