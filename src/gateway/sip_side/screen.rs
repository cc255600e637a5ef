//! The secure default of issue 7: an INVITE that would seize an FXO line (the PSTN) is
//! let through only from a trusted peer address (`[security] trusted_peers`) or with valid
//! digest credentials (`[security] inbound_auth`, RFC 3261 §22.1). Everyone else gets 401
//! with a challenge (when credentials are configured) or 403, answered statelessly as
//! RFC 3261 §8.2.7 allows a UAS to do for challenges: nothing is kept for a refused
//! request and the port's machine never hears of it. The 401 carries one challenge per
//! `[security] auth_algorithms` entry, in that order (RFC 8760 §2.4); credentials for any
//! other algorithm are refused.

use crate::config::{PeerFilter, Security};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;
use tipring_sip::digest::{ChallengeKind, DigestServer, Rejection, Secret, ServerConfig, Verdict};
use tipring_sip::ua::reason_phrase;
use tipring_sip::{HeaderName, Message, MessageBuilder};

/// How many admitted INVITEs are remembered so their retransmissions pass again (a
/// retransmitted Authorization reuses its `nc` and would otherwise look replayed).
const REMEMBERED: usize = 64;

/// The screen's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Trusted source or authenticated user: hand the INVITE to the UA.
    Admit,
    /// Refused: `response` is the stateless answer, `why` the log line.
    Refuse {
        /// 401 or 403.
        code: u16,
        /// The response bytes.
        response: Vec<u8>,
        /// One human line for the log.
        why: String,
        /// A retransmission of an INVITE refused before (logged once).
        repeat: bool,
    },
}

/// Trust and digest state of the FXO lines.
pub struct Screen {
    trusted: PeerFilter,
    users: HashMap<String, Secret>,
    digest: ServerConfig,
    key: [u8; 32],
    server: Option<DigestServer>,
    admitted: VecDeque<(String, String)>,
    refused: VecDeque<(String, String)>,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen")
            .field("trusted", &self.trusted)
            .field("users", &self.users.len())
            .field("realm", &self.digest.realm)
            .field("algorithms", &self.digest.algorithms)
            .finish()
    }
}

/// Whether the INVITE's Call-ID and top Via branch match an admitted one.
fn key_of(msg: &Message<'_>) -> (String, String) {
    let branch = msg
        .top_via()
        .and_then(|v| v.branch())
        .unwrap_or_default()
        .to_owned();
    (msg.call_id().unwrap_or_default().to_owned(), branch)
}

impl Screen {
    /// The screen of `security`; `realm` is used when the configuration names none;
    /// `key` signs the nonces (a new key per start invalidates old ones).
    pub fn new(trusted: PeerFilter, security: &Security, realm: &str, key: [u8; 32]) -> Screen {
        Screen {
            trusted,
            users: security
                .inbound_auth
                .iter()
                .map(|c| (c.username.clone(), Secret::Password(c.password.clone())))
                .collect(),
            digest: server_config(security, realm),
            key,
            server: None,
            admitted: VecDeque::new(),
            refused: VecDeque::new(),
        }
    }

    /// Whether `ip` is a trusted peer.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.trusts(ip)
    }

    /// Decides on a new INVITE toward an FXO line that arrived from `source`.
    pub fn check(&mut self, now: Instant, msg: &Message<'_>, source: IpAddr) -> Admission {
        let mut a = self.decide(now, msg, source);
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

    fn decide(&mut self, now: Instant, msg: &Message<'_>, source: IpAddr) -> Admission {
        let key = key_of(msg);
        if self.admitted.contains(&key) {
            return Admission::Admit;
        }
        if self.trusted.trusts(source) {
            return self.admit(key);
        }
        if self.users.is_empty() {
            return refuse(
                msg,
                403,
                Vec::new(),
                format!("INVITE toward an FXO line from untrusted {source}: 403"),
            );
        }
        let server = self
            .server
            .get_or_insert_with(|| DigestServer::new(self.digest.clone(), self.key, now));
        let (code, stale, why) =
            match server.verify_request(now, msg, ChallengeKind::Www, &self.users) {
                Verdict::Authorized { .. } => return self.admit(key),
                Verdict::Stale(r) => (401, true, format!("stale nonce ({r:?})")),
                Verdict::Rejected(Rejection::NoCredentials) => {
                    (401, false, "no credentials".into())
                }
                Verdict::Rejected(r @ (Rejection::WrongResponse | Rejection::UnknownUser)) => {
                    (403, false, format!("credentials refused ({r:?})"))
                }
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
            format!("INVITE toward an FXO line from {source}: {why}: {code}"),
        )
    }

    fn admit(&mut self, key: (String, String)) -> Admission {
        if self.admitted.len() >= REMEMBERED {
            self.admitted.pop_front();
        }
        self.admitted.push_back(key);
        Admission::Admit
    }
}

/// The digest server's settings: the configured realm (else `realm`) and algorithms.
fn server_config(security: &Security, realm: &str) -> ServerConfig {
    let mut c = ServerConfig::new(security.realm.as_deref().unwrap_or(realm));
    c.algorithms = security.auth_algorithms.iter().map(|&a| a.into()).collect();
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
