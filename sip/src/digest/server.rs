//! The server side: challenge, verify, refuse replays (RFC 3261 §22.1-§22.4, RFC 7616 §3.3,
//! §5.4-§5.5).
//!
//! A nonce is `hex(issued-ms ‖ counter ‖ HMAC-SHA-256(secret, issued-ms ‖ counter ‖ realm)
//! [..16])`: the server can check it came from itself and how old it is without state.
//! The nonces still valid are also kept in a bounded table with the highest `nc` seen, so
//! a captured request cannot be played again: a repeated `nc` (or, in the legacy no-qop
//! form, a second use of the nonce) is answered as stale.
//!
//! Against online guessing, everything that can refuse an attempt without the password is
//! checked first: the nonce's signature, its age, that it is still tracked, that its `nc`
//! is new (each attempt uses one up, evaluated or not), that `uri` is the Request-URI
//! (RFC 3261 §22.4, RFC 7616 §3.4.6) and that neither the source address nor the user name
//! is locked out ([`super::throttle`]). A stale nonce is therefore reported before the
//! password is known to be right (`stale=true` then only means "ask again with a fresh
//! nonce"). An unknown user costs the same hash as a known one (a dummy password is
//! evaluated) and is refused the same way.

use super::DigestError;
use super::algorithm::{Algorithm, Qop, ResponseInput, hex, hmac_sha256};
use super::challenge::{Challenge, ChallengeKind, DigestResponse};
use super::throttle::{Subject, Throttle, ThrottleConfig};
use crate::header::Auth;
use crate::message::Message;
use crate::uri::Uri;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The password a dummy hash is computed with for an unknown user, so the refusal costs
/// the same as a wrong password.
const DUMMY_PASSWORD: &str = "tipring-no-such-user";

/// What the credential store knows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The clear password.
    Password(String),
    /// `H(user:realm:password)` for one base algorithm (RFC 7616 §5.2: stored instead of
    /// the password).
    Ha1 {
        /// MD5, SHA-256 or SHA-512-256.
        algorithm: Algorithm,
        /// Lowercase hex.
        ha1: String,
    },
}

/// Where users are looked up.
pub trait CredentialStore {
    /// The secret of `username` in `realm`, if the user exists.
    fn secret(&self, username: &str, realm: &str) -> Option<Secret>;
}

/// A map user name -> secret, for every realm.
impl CredentialStore for HashMap<String, Secret> {
    fn secret(&self, username: &str, _realm: &str) -> Option<Secret> {
        self.get(username).cloned()
    }
}

/// Server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Our realm (RFC 3261 §22.1: typically the host name).
    pub realm: String,
    /// Algorithms to challenge with, preferred first (RFC 8760 §2.4: SHA-256 before MD5).
    pub algorithms: Vec<Algorithm>,
    /// How long a nonce stays valid; older ones are answered stale.
    pub nonce_lifetime: Duration,
    /// Offer `qop="auth"` (otherwise the RFC 2069 legacy form, each nonce usable once).
    pub qop: bool,
    /// Most nonces tracked at once; the oldest are forgotten first.
    pub max_nonces: usize,
    /// Lock-outs after failed attempts, per source address and per user name.
    pub throttle: ThrottleConfig,
}

impl ServerConfig {
    /// SHA-256 and MD5, qop=auth, nonces valid 5 minutes, 4096 tracked.
    pub fn new(realm: &str) -> ServerConfig {
        ServerConfig {
            realm: realm.to_owned(),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_lifetime: Duration::from_secs(300),
            qop: true,
            max_nonces: 4096,
            throttle: ThrottleConfig::default(),
        }
    }
}

/// Why the nonce must be renewed although the response was right: answer with a new
/// challenge carrying `stale=true` (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// Older than the configured lifetime.
    Expired,
    /// `nc` not above the last one seen, or a legacy nonce used twice: a replay.
    Replayed,
    /// Signed by us but no longer tracked (table overflow).
    Unknown,
}

/// Why credentials are refused: answer with a fresh challenge (stale=false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No credentials for our realm in the request.
    NoCredentials,
    /// Credentials that do not parse.
    Malformed(DigestError),
    /// An algorithm we did not offer.
    AlgorithmNotOffered,
    /// A nonce we did not issue.
    BadNonce,
    /// The user is unknown (evaluated against a dummy password, like a wrong one).
    UnknownUser,
    /// The response does not match: wrong password (or a tampered request).
    WrongResponse,
    /// `uri` does not designate the Request-URI (RFC 3261 §22.4, RFC 7616 §3.4.6).
    UriMismatch,
    /// The source address or the user name failed too often lately: refused without
    /// evaluating the password.
    Throttled,
}

/// The outcome of [`DigestServer::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The request is authenticated as this user.
    Authorized {
        /// The user name.
        username: String,
    },
    /// Right credentials, stale nonce: challenge again with `stale=true`.
    Stale(StaleReason),
    /// Refused: challenge again (or give up on the client after a few tries).
    Rejected(Rejection),
}

#[derive(Debug, Clone, Copy)]
struct NonceState {
    issued_ms: u64,
    last_nc: u32,
    used: bool,
}

/// Issues and checks nonces for one realm. Sans-IO: the caller passes `now`.
#[derive(Debug, Clone)]
pub struct DigestServer {
    config: ServerConfig,
    secret: [u8; 32],
    epoch: Instant,
    counter: u64,
    nonces: BTreeMap<u64, NonceState>,
    throttle: Throttle,
}

impl DigestServer {
    /// A server; `secret` must be random (a new one per start invalidates old nonces).
    pub fn new(config: ServerConfig, secret: [u8; 32], now: Instant) -> DigestServer {
        DigestServer {
            secret,
            epoch: now,
            counter: 0,
            nonces: BTreeMap::new(),
            throttle: Throttle::new(config.throttle),
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Nonces currently tracked.
    pub fn tracked_nonces(&self) -> usize {
        self.nonces.len()
    }

    fn ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn mac(&self, head: &[u8; 16]) -> [u8; 32] {
        hmac_sha256(&self.secret, &[head, self.config.realm.as_bytes()])
    }

    /// New challenges, one per configured algorithm, sharing one fresh nonce; put each in
    /// its own WWW-Authenticate (or Proxy-Authenticate) header, in order.
    pub fn challenges(&mut self, now: Instant, stale: bool) -> Vec<Challenge> {
        let ms = self.ms(now);
        self.prune(ms);
        self.counter += 1;
        let mut head = [0u8; 16];
        head[..8].copy_from_slice(&ms.to_be_bytes());
        head[8..].copy_from_slice(&self.counter.to_be_bytes());
        let mac = self.mac(&head);
        let nonce = format!("{}{}", hex(&head), hex(&mac[..16]));
        self.nonces.insert(
            self.counter,
            NonceState {
                issued_ms: ms,
                last_nc: 0,
                used: false,
            },
        );
        while self.nonces.len() > self.config.max_nonces {
            self.nonces.pop_first();
        }
        let qop = if self.config.qop {
            vec![Qop::Auth]
        } else {
            Vec::new()
        };
        self.config
            .algorithms
            .iter()
            .map(|&algorithm| Challenge {
                realm: self.config.realm.clone(),
                nonce: nonce.clone(),
                opaque: None,
                algorithm,
                qop: qop.clone(),
                stale,
            })
            .collect()
    }

    fn prune(&mut self, now_ms: u64) {
        let life = u64::try_from(self.config.nonce_lifetime.as_millis()).unwrap_or(u64::MAX);
        while let Some((_, s)) = self.nonces.first_key_value() {
            if now_ms.saturating_sub(s.issued_ms) > life {
                self.nonces.pop_first();
            } else {
                break;
            }
        }
    }

    /// The issue time and counter of a nonce we signed.
    fn open_nonce(&self, nonce: &str) -> Option<(u64, u64)> {
        let b = nonce.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut raw = [0u8; 32];
        for (k, pair) in b.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            raw[k] = u8::from_str_radix(s, 16).ok()?;
        }
        let mut head = [0u8; 16];
        head.copy_from_slice(&raw[..16]);
        let mac = self.mac(&head);
        if !same(&mac[..16], &raw[16..]) {
            return None;
        }
        let ms = u64::from_be_bytes(raw[..8].try_into().ok()?);
        let ctr = u64::from_be_bytes(raw[8..16].try_into().ok()?);
        Some((ms, ctr))
    }

    /// Failure records kept by the throttle.
    pub fn tracked_failures(&self) -> usize {
        self.throttle.tracked()
    }

    /// Check a request's credentials for our realm (Authorization for
    /// [`ChallengeKind::Www`], Proxy-Authorization for [`ChallengeKind::Proxy`]), with
    /// `uri` held to the Request-URI; failures are throttled per user name only (see
    /// [`DigestServer::verify_request_from`]).
    pub fn verify_request(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        kind: ChallengeKind,
        store: &impl CredentialStore,
    ) -> Verdict {
        self.verify_request_inner(now, request, kind, store, None)
    }

    /// As [`DigestServer::verify_request`], for a request whose packet came from
    /// `source`: failures are throttled per source address as well as per user name.
    pub fn verify_request_from(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        kind: ChallengeKind,
        store: &impl CredentialStore,
        source: IpAddr,
    ) -> Verdict {
        self.verify_request_inner(now, request, kind, store, Some(source))
    }

    fn verify_request_inner(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        kind: ChallengeKind,
        store: &impl CredentialStore,
        source: Option<IpAddr>,
    ) -> Verdict {
        let method = request.method().map(|m| m.as_str()).unwrap_or("");
        let ours = request
            .headers()
            .iter()
            .filter(|h| h.kind == kind.credentials_header())
            .find(|h| {
                Auth::parse_value(h.value).is_ok_and(|a| {
                    a.scheme.eq_ignore_ascii_case("Digest")
                        && a.param("realm") == Some(self.config.realm.as_str())
                })
            });
        let Some(h) = ours else {
            return Verdict::Rejected(Rejection::NoCredentials);
        };
        let attempt = Attempt {
            method,
            request_uri: Some(request.request_uri().copied()),
            body: request.body(),
            source,
        };
        self.check(now, &attempt, h.value, store)
    }

    /// Check one Authorization / Proxy-Authorization value for a request `method` with
    /// `body`. The Request-URI and the source are not known here: `uri` is not compared
    /// and failures are throttled per user name only; requests go through
    /// [`DigestServer::verify_request_from`].
    pub fn verify(
        &mut self,
        now: Instant,
        method: &str,
        body: &[u8],
        value: &str,
        store: &impl CredentialStore,
    ) -> Verdict {
        let attempt = Attempt {
            method,
            request_uri: None,
            body,
            source: None,
        };
        self.check(now, &attempt, value, store)
    }

    fn check(
        &mut self,
        now: Instant,
        attempt: &Attempt<'_, '_>,
        value: &str,
        store: &impl CredentialStore,
    ) -> Verdict {
        let r = match DigestResponse::parse(value) {
            Ok(r) => r,
            Err(e) => return Verdict::Rejected(Rejection::Malformed(e)),
        };
        if r.realm != self.config.realm {
            return Verdict::Rejected(Rejection::NoCredentials);
        }
        if !self.config.algorithms.contains(&r.algorithm) {
            return Verdict::Rejected(Rejection::AlgorithmNotOffered);
        }
        if self.config.qop != r.qop.is_some() {
            // RFC 7616 §3.4: qop only when the challenge offered it
            return Verdict::Rejected(Rejection::Malformed(DigestError::Missing("qop")));
        }
        let Some((issued_ms, ctr)) = self.open_nonce(&r.nonce) else {
            return Verdict::Rejected(Rejection::BadNonce);
        };
        // Everything that needs no password first (RFC 7616 §3.3, §5.13).
        let now_ms = self.ms(now);
        self.prune(now_ms);
        let life = u64::try_from(self.config.nonce_lifetime.as_millis()).unwrap_or(u64::MAX);
        if now_ms.saturating_sub(issued_ms) > life {
            return Verdict::Stale(StaleReason::Expired);
        }
        let Some(state) = self.nonces.get_mut(&ctr) else {
            return Verdict::Stale(StaleReason::Unknown);
        };
        // Each attempt uses its nc up, whatever its outcome: a replayed one is never
        // evaluated.
        match r.nc {
            Some(nc) if nc > state.last_nc => state.last_nc = nc,
            Some(_) => return Verdict::Stale(StaleReason::Replayed),
            None if !state.used => state.used = true,
            None => return Verdict::Stale(StaleReason::Replayed),
        }
        if let Some(uri) = attempt.request_uri
            && !designates(&r.uri, uri)
        {
            return Verdict::Rejected(Rejection::UriMismatch);
        }
        let source = attempt.source.map(|ip| Subject::Source(ip.to_canonical()));
        let user = Subject::User(r.username.clone());
        if source
            .iter()
            .chain([&user])
            .any(|s| self.throttle.locked(s, now_ms))
        {
            return Verdict::Rejected(Rejection::Throttled);
        }
        let (ha1, known) = match store.secret(&r.username, &r.realm) {
            None => (
                r.algorithm.ha1(&r.username, &r.realm, DUMMY_PASSWORD),
                false,
            ),
            Some(Secret::Password(p)) => (r.algorithm.ha1(&r.username, &r.realm, &p), true),
            Some(Secret::Ha1 { algorithm, ha1 }) if algorithm == r.algorithm.base() => (ha1, true),
            Some(Secret::Ha1 { .. }) => {
                return Verdict::Rejected(Rejection::AlgorithmNotOffered);
            }
        };
        let expected = ResponseInput {
            algorithm: r.algorithm,
            ha1: &ha1,
            nonce: &r.nonce,
            cnonce: r.cnonce.as_deref(),
            nc: r.nc,
            qop: r.qop,
            method: attempt.method,
            uri: &r.uri,
            body: attempt.body,
        }
        .response();
        let right = same(
            expected.as_bytes(),
            r.response.to_ascii_lowercase().as_bytes(),
        );
        if !(right && known) {
            for s in source.into_iter().chain([user]) {
                self.throttle.fail(s, now_ms);
            }
            return Verdict::Rejected(if known {
                Rejection::WrongResponse
            } else {
                Rejection::UnknownUser
            });
        }
        self.throttle.succeed(&user);
        Verdict::Authorized {
            username: r.username,
        }
    }
}

/// One attempt to authenticate: the request's method, Request-URI (when known) and body,
/// and the source address of its packet (when known).
struct Attempt<'m, 'u> {
    method: &'m str,
    request_uri: Option<Option<Uri<'u>>>,
    body: &'m [u8],
    source: Option<IpAddr>,
}

/// Whether the credentials' `uri` designates the request's Request-URI (RFC 3261 §22.4:
/// the `uri` is the Request-URI; RFC 7616 §3.4.6: the server must check they name the same
/// resource): the same URI by the comparison rules of RFC 3261 §19.1.4, or, as the one
/// latitude kept, a URI without a user part naming the Request-URI's scheme, host and port
/// (sipp and some PBXs authenticate toward the server, `sip:host:port`). No retargeting
/// latitude: a caller whose INVITE a proxy retargets before it reaches us cannot
/// authenticate with us by digest, and is trusted by address instead. A request without a
/// parseable Request-URI matches nothing.
fn designates(uri: &str, request_uri: Option<Uri<'_>>) -> bool {
    let (Ok(a), Some(b)) = (Uri::parse(uri), request_uri) else {
        return false;
    };
    if a.equivalent(&b) {
        return true;
    }
    match (a.as_sip(), b.as_sip()) {
        (Some(a), Some(b)) => {
            a.user.is_none()
                && a.secure == b.secure
                && a.host.equivalent(&b.host)
                && a.port == b.port
        }
        _ => false,
    }
}

/// Compare without an early exit (no timing hint about how much matched).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
