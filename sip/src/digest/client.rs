//! The client side: answer 401/407 challenges (RFC 3261 §22.2, §22.3; RFC 7616) without
//! ever looping on a wrong password.
//!
//! Rules kept per realm:
//! - a challenge is answered once; a new non-stale challenge for a realm whose last
//!   challenge we already answered means the credentials were refused
//!   ([`AuthError::WrongCredentials`]);
//! - `stale=true` means only the nonce was old: retry with the new nonce (RFC 7616 §3.3),
//!   at most [`MAX_STALE_RETRIES`] times in a row;
//! - `nc` counts the requests sent with one nonce (RFC 7616 §3.4), a new nonce gets a new
//!   cnonce and `nc` restarts at 1.

use super::DigestError;
use super::algorithm::{Algorithm, ResponseInput, hex};
use super::challenge::{Challenge, ChallengeKind, DigestResponse};
use crate::header::{Auth, HeaderName};
use crate::message::Message;
use sha2::{Digest, Sha256};

/// Stale challenges answered in a row before giving up.
pub const MAX_STALE_RETRIES: u32 = 3;

/// Why a challenge cannot be answered; the UA gives up on the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server challenged again after we answered: wrong user name or password.
    #[error("credentials refused for realm {realm:?}")]
    WrongCredentials {
        /// The realm that refused them.
        realm: String,
    },
    /// The server keeps answering stale=true.
    #[error("too many stale nonces for realm {realm:?}")]
    TooManyStale {
        /// The realm.
        realm: String,
    },
    /// No Digest challenge we can answer (none, malformed, or unknown algorithms only).
    #[error("no usable digest challenge: {0}")]
    NoUsableChallenge(DigestError),
}

#[derive(Debug, Clone)]
struct RealmState {
    kind: ChallengeKind,
    challenge: Challenge,
    cnonce: String,
    nc: u32,
    answered: bool,
    stale_in_a_row: u32,
}

/// Per-UA digest client state: one user name and password, the realms that challenged.
#[derive(Debug, Clone)]
pub struct Authenticator {
    username: String,
    password: String,
    realms: Vec<RealmState>,
    cnonce_seed: u64,
    cnonces: u64,
}

impl Authenticator {
    /// Credentials for every realm. `cnonce_seed` should be random (the runtime's RNG);
    /// cnonces are derived from it so the machine stays deterministic under test.
    pub fn new(username: &str, password: &str, cnonce_seed: u64) -> Authenticator {
        Authenticator {
            username: username.to_owned(),
            password: password.to_owned(),
            realms: Vec::new(),
            cnonce_seed,
            cnonces: 0,
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Take the challenges of a 401 or 407 response (every WWW-Authenticate and
    /// Proxy-Authenticate header). `Ok` means: resend the request with
    /// [`authorization`](Self::authorization) headers.
    pub fn on_challenge(&mut self, response: &Message<'_>) -> Result<(), AuthError> {
        let mut found = Vec::new();
        for h in response.headers() {
            let kind = match h.kind {
                HeaderName::WwwAuthenticate => ChallengeKind::Www,
                HeaderName::ProxyAuthenticate => ChallengeKind::Proxy,
                _ => continue,
            };
            found.push((kind, h.value));
        }
        self.on_challenges(found.into_iter())
    }

    /// Take challenge header values directly (header kind, value), in header order.
    pub fn on_challenges<'v>(
        &mut self,
        values: impl Iterator<Item = (ChallengeKind, &'v str)>,
    ) -> Result<(), AuthError> {
        // RFC 7616 §3.7 / RFC 8760 §2.4: the server lists its preferred challenge first;
        // take, per realm, the first one whose algorithm we support.
        let mut chosen: Vec<(ChallengeKind, Challenge)> = Vec::new();
        let mut last_err = DigestError::Missing("WWW-Authenticate or Proxy-Authenticate");
        for (kind, value) in values {
            let c = match Auth::parse_value(value)
                .map_err(|_| DigestError::Malformed)
                .and_then(|a| Challenge::from_auth(&a))
            {
                Ok(c) => c,
                Err(e) => {
                    last_err = e;
                    continue;
                }
            };
            if !chosen.iter().any(|(k, x)| *k == kind && x.realm == c.realm) {
                chosen.push((kind, c));
            }
        }
        if chosen.is_empty() {
            return Err(AuthError::NoUsableChallenge(last_err));
        }
        // Check every realm before changing any state.
        for (kind, c) in &chosen {
            if let Some(s) = self.realm(*kind, &c.realm) {
                if s.answered && !c.stale {
                    return Err(AuthError::WrongCredentials {
                        realm: c.realm.clone(),
                    });
                }
                if c.stale && s.stale_in_a_row >= MAX_STALE_RETRIES {
                    return Err(AuthError::TooManyStale {
                        realm: c.realm.clone(),
                    });
                }
            }
        }
        for (kind, c) in chosen {
            let cnonce = self.next_cnonce();
            let stale = c.stale;
            match self
                .realms
                .iter_mut()
                .find(|s| s.kind == kind && s.challenge.realm == c.realm)
            {
                Some(s) => {
                    s.stale_in_a_row = if stale { s.stale_in_a_row + 1 } else { 0 };
                    s.challenge = c;
                    s.cnonce = cnonce;
                    s.nc = 0;
                    s.answered = false;
                }
                None => self.realms.push(RealmState {
                    kind,
                    challenge: c,
                    cnonce,
                    nc: 0,
                    answered: false,
                    stale_in_a_row: 0,
                }),
            }
        }
        Ok(())
    }

    /// A request that carried our credentials got a final response other than 401/407:
    /// the credentials worked, so a later challenge is a fresh one, not a refusal.
    pub fn accepted(&mut self) {
        for s in &mut self.realms {
            s.answered = false;
            s.stale_in_a_row = 0;
        }
    }

    /// Forget every realm (e.g. when the target changes).
    pub fn reset(&mut self) {
        self.realms.clear();
    }

    /// Whether any realm has challenged us.
    pub fn has_credentials(&self) -> bool {
        !self.realms.is_empty()
    }

    /// The Authorization / Proxy-Authorization headers for a request: one per realm that
    /// challenged. Each call counts as one request sent (`nc` increments). `uri` is the
    /// Request-URI (RFC 3261 §22.4), `body` the message body (for qop=auth-int).
    pub fn authorization(
        &mut self,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Vec<(HeaderName, String)> {
        let (user, pass) = (&self.username, &self.password);
        self.realms
            .iter_mut()
            .map(|s| {
                s.nc += 1;
                s.answered = true;
                let r = respond(&s.challenge, user, pass, method, uri, body, &s.cnonce, s.nc);
                (s.kind.credentials_header(), r.to_string())
            })
            .collect()
    }

    /// Answers the one challenge `value` (of the response at hand) for `method uri` and
    /// returns the credentials value for its realm alone. State (nonce, cnonce, `nc`) is
    /// kept per realm: the same nonce continues its `nc`, a new one gets a new cnonce.
    ///
    /// Unlike [`on_challenges`](Self::on_challenges), a fresh challenge for a realm we
    /// answered before is not taken as a refusal: several requests of one UA may be
    /// challenged by the same realm at once, so the once-per-challenge rule (§22.2) is the
    /// caller's, per request. Stale challenges in a row are still capped at
    /// [`MAX_STALE_RETRIES`].
    pub fn answer_challenge(
        &mut self,
        kind: ChallengeKind,
        value: &str,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<String, AuthError> {
        let c = Auth::parse_value(value)
            .map_err(|_| DigestError::Malformed)
            .and_then(|a| Challenge::from_auth(&a))
            .map_err(AuthError::NoUsableChallenge)?;
        let i = match self
            .realms
            .iter()
            .position(|s| s.kind == kind && s.challenge.realm == c.realm)
        {
            Some(i) => {
                let s = &self.realms[i];
                if c.stale && s.stale_in_a_row >= MAX_STALE_RETRIES {
                    return Err(AuthError::TooManyStale { realm: c.realm });
                }
                let new_nonce = s.challenge.nonce != c.nonce;
                let cnonce = new_nonce.then(|| self.next_cnonce());
                let s = &mut self.realms[i];
                s.stale_in_a_row = if c.stale { s.stale_in_a_row + 1 } else { 0 };
                if let Some(cn) = cnonce {
                    s.cnonce = cn;
                    s.nc = 0;
                }
                s.challenge = c;
                i
            }
            None => {
                let cnonce = self.next_cnonce();
                self.realms.push(RealmState {
                    kind,
                    challenge: c,
                    cnonce,
                    nc: 0,
                    answered: false,
                    stale_in_a_row: 0,
                });
                self.realms.len() - 1
            }
        };
        let (user, pass) = (&self.username, &self.password);
        let s = &mut self.realms[i];
        s.nc += 1;
        s.answered = true;
        let r = respond(&s.challenge, user, pass, method, uri, body, &s.cnonce, s.nc);
        Ok(r.to_string())
    }

    fn realm(&self, kind: ChallengeKind, realm: &str) -> Option<&RealmState> {
        self.realms
            .iter()
            .find(|s| s.kind == kind && s.challenge.realm == realm)
    }

    fn next_cnonce(&mut self) -> String {
        self.cnonces += 1;
        let h = Sha256::new()
            .chain_update(self.cnonce_seed.to_be_bytes())
            .chain_update(self.cnonces.to_be_bytes())
            .finalize();
        hex(&h[..8])
    }
}

/// Answer one challenge (RFC 7616 §3.4): the credentials for `method uri` with nonce
/// count `nc` and client nonce `cnonce` (both unused in the legacy no-qop form unless
/// the algorithm is `-sess`).
#[allow(clippy::too_many_arguments)]
pub fn respond(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    cnonce: &str,
    nc: u32,
) -> DigestResponse {
    let a: Algorithm = challenge.algorithm;
    let ha1 = a.ha1(username, &challenge.realm, password);
    let qop = challenge.preferred_qop();
    let use_cnonce = qop.is_some() || a.is_session();
    let input = ResponseInput {
        algorithm: a,
        ha1: &ha1,
        nonce: &challenge.nonce,
        cnonce: use_cnonce.then_some(cnonce),
        nc: qop.map(|_| nc),
        qop,
        method,
        uri,
        body,
    };
    DigestResponse {
        username: username.to_owned(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_owned(),
        response: input.response(),
        algorithm: a,
        cnonce: use_cnonce.then(|| cnonce.to_owned()),
        opaque: challenge.opaque.clone(),
        qop,
        nc: qop.map(|_| nc),
    }
}
