//! What a UAC does with each class of final response (RFC 3261 §21, §8.1.3.4, §8.1.3.5):
//! the redirect target list in q order, the challenge to answer, Retry-After and Min-Expires.

use crate::header::{Contact, HeaderName};
use crate::message::Message;

/// The Contact URIs of a 3xx in decreasing q order (§8.1.3.4; a Contact without q counts as
/// q=1.0, and equal q keep the order they came in).
pub fn redirect_targets(resp: &Message<'_>) -> Vec<String> {
    let mut c: Vec<(u16, usize, String)> = resp
        .contacts()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Contact::Addr(a) => Some((a.q().unwrap_or(1000), i, a.uri.to_string())),
            Contact::Star => None,
        })
        .collect();
    c.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    c.into_iter().map(|(_, _, u)| u).collect()
}

/// The leading delta-seconds of a numeric header value (`Retry-After: 120 (busy)`).
fn seconds(value: &str) -> Option<u32> {
    let v = value.trim_start();
    let end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    v[..end].parse().ok()
}

/// Retry-After in seconds (§20.33), as sent with 503, 486, 480, 600, 603.
pub fn retry_after(resp: &Message<'_>) -> Option<u32> {
    resp.headers()
        .iter()
        .find(|h| h.kind == HeaderName::RetryAfter)
        .and_then(|h| seconds(h.value))
}

/// Min-Expires of a 423 (§10.2.8, §20.23).
pub fn min_expires(resp: &Message<'_>) -> Option<u32> {
    resp.headers()
        .iter()
        .find(|h| h.kind == HeaderName::MinExpires)
        .and_then(|h| seconds(h.value))
}

/// One challenge of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) (§22.2, §22.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// True for 407: answer with Proxy-Authorization.
    pub proxy: bool,
    /// The header value as received, for the digest client.
    pub value: String,
    /// The realm.
    pub realm: String,
    /// `stale=true`: the nonce expired but the credentials were right (RFC 2617 §3.2.1), so
    /// answering again is not a loop.
    pub stale: bool,
}

impl Challenge {
    /// The header the answer goes in.
    pub fn answer_header(&self) -> HeaderName {
        if self.proxy {
            HeaderName::ProxyAuthorization
        } else {
            HeaderName::Authorization
        }
    }

    /// Whether this is an RFC 2069 challenge (no `qop`): the answer then carries no client
    /// nonce, so a rogue server can replay it or precompute against it (RFC 7616 §5.9).
    pub fn is_rfc2069(&self) -> bool {
        crate::digest::Challenge::parse(&self.value).is_ok_and(|c| c.qop.is_empty())
    }
}

/// The challenge of a 401/407 to answer: among every WWW-Authenticate (401) or
/// Proxy-Authenticate (407) header, the Digest one with the strongest algorithm we support
/// (RFC 7616 §3.7, RFC 8760 §2.4: SHA-512-256 before SHA-256 before MD5; challenges with an
/// unknown algorithm or another scheme are skipped); of equal strength, the first listed.
pub fn challenge(resp: &Message<'_>) -> Option<Challenge> {
    let (kind, proxy) = match resp.status()? {
        401 => (HeaderName::WwwAuthenticate, false),
        407 => (HeaderName::ProxyAuthenticate, true),
        _ => return None,
    };
    let strength = |a: crate::digest::Algorithm| {
        crate::digest::Algorithm::ALL
            .iter()
            .position(|x| *x == a)
            .unwrap_or(usize::MAX)
    };
    let (h, c) = resp
        .headers()
        .iter()
        .filter(|h| h.kind == kind)
        .filter_map(|h| Some((h, crate::digest::Challenge::parse(h.value).ok()?)))
        .min_by_key(|(_, c)| strength(c.algorithm))?;
    Some(Challenge {
        proxy,
        value: h.value.to_owned(),
        realm: c.realm,
        stale: c.stale,
    })
}

/// Answers digest challenges for the UA (the digest client lives in its own module; the
/// UA only decides when to answer, §22.2: once per challenge, never in a loop).
pub trait Authenticator {
    /// The credentials header value for `challenge` on a request `method request_uri`
    /// with `body`, or `None` when there are no credentials for its realm.
    fn answer(
        &mut self,
        challenge: &Challenge,
        method: &str,
        request_uri: &str,
        body: &[u8],
    ) -> Option<String>;

    /// A request that carried our answer got a final response other than 401/407.
    fn accepted(&mut self) {}

    /// The target changed (a redirect): forget earlier challenges.
    fn reset(&mut self) {}
}

/// The digest client of [`crate::digest`] behind the UA's [`Authenticator`] hook. RFC 2069
/// challenges (no `qop`) are not answered unless allowed ([`Challenge::is_rfc2069`]).
#[derive(Debug)]
pub struct DigestCredentials(pub crate::digest::Authenticator, bool);

impl DigestCredentials {
    /// Credentials `user`/`password`; `seed` (random) feeds the cnonces.
    pub fn new(user: &str, password: &str, seed: u64) -> Self {
        DigestCredentials(
            crate::digest::Authenticator::new(user, password, seed),
            false,
        )
    }

    /// Also answers RFC 2069 challenges (no `qop`: no client nonce, so a rogue server can
    /// replay the answer or precompute against it).
    pub fn with_rfc2069(mut self) -> Self {
        self.1 = true;
        self
    }
}

impl Authenticator for DigestCredentials {
    fn answer(
        &mut self,
        challenge: &Challenge,
        method: &str,
        request_uri: &str,
        body: &[u8],
    ) -> Option<String> {
        use crate::digest::ChallengeKind;
        if !self.1 && challenge.is_rfc2069() {
            tracing::warn!(
                "not answering an RFC 2069 challenge (no qop) of realm {:?}",
                challenge.realm
            );
            return None;
        }
        let kind = if challenge.proxy {
            ChallengeKind::Proxy
        } else {
            ChallengeKind::Www
        };
        // Only the challenge at hand is answered, with its own realm's state: an older
        // realm (another proxy, an earlier target) must not answer for it.
        match self
            .0
            .answer_challenge(kind, &challenge.value, method, request_uri, body)
        {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!("challenge not answered: {e}");
                None
            }
        }
    }

    fn accepted(&mut self) {
        self.0.accepted();
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(extra: &str, code: u16) -> Vec<u8> {
        format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
             To: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn redirect_contacts_in_q_order() {
        let b = resp(
            "Contact: <sip:low@192.0.2.1>;q=0.1, <sip:none@192.0.2.2>\r\n\
             Contact: <sip:mid@192.0.2.3>;q=0.5, <sip:top@192.0.2.4>;q=1\r\n",
            302,
        );
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            redirect_targets(&m),
            [
                "sip:none@192.0.2.2",
                "sip:top@192.0.2.4",
                "sip:mid@192.0.2.3",
                "sip:low@192.0.2.1"
            ]
        );
    }

    #[test]
    fn retry_after_and_min_expires() {
        let b = resp("Retry-After: 120 (maintenance);duration=60\r\n", 503);
        assert_eq!(retry_after(&Message::parse(&b).unwrap()), Some(120));
        let b = resp("Min-Expires: 3600\r\n", 423);
        assert_eq!(min_expires(&Message::parse(&b).unwrap()), Some(3600));
        assert_eq!(retry_after(&Message::parse(&b).unwrap()), None);
    }

    #[test]
    fn challenges() {
        let b = resp(
            "Proxy-Authenticate: Digest realm=\"gw.example\", nonce=\"abc\", stale=TRUE\r\n",
            407,
        );
        let c = challenge(&Message::parse(&b).unwrap()).unwrap();
        assert!(c.proxy && c.stale);
        assert_eq!(c.realm, "gw.example");
        assert_eq!(c.answer_header(), HeaderName::ProxyAuthorization);
        let b = resp("WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n", 401);
        let c = challenge(&Message::parse(&b).unwrap()).unwrap();
        assert!(!c.proxy && !c.stale);
        assert!(challenge(&Message::parse(&resp("", 403)).unwrap()).is_none());
    }

    #[test]
    fn strongest_supported_algorithm_is_chosen() {
        let b = resp(
            "WWW-Authenticate: Digest realm=\"r\", nonce=\"md5\", algorithm=MD5\r\n\
             WWW-Authenticate: Digest realm=\"r\", nonce=\"x\", algorithm=SHA-999\r\n\
             WWW-Authenticate: Basic realm=\"r\"\r\n\
             WWW-Authenticate: Digest realm=\"r\", nonce=\"sha\", algorithm=SHA-256\r\n\
             WWW-Authenticate: Digest realm=\"r\", nonce=\"sha2\", algorithm=SHA-256\r\n",
            401,
        );
        let c = challenge(&Message::parse(&b).unwrap()).unwrap();
        assert!(c.value.contains("nonce=\"sha\""), "{}", c.value);
        // Only unsupported ones: nothing to answer.
        let b = resp(
            "Proxy-Authenticate: Digest realm=\"r\", nonce=\"x\", algorithm=SHA-999\r\n",
            407,
        );
        assert!(challenge(&Message::parse(&b).unwrap()).is_none());
        // An unsupported one first does not hide a usable one after it.
        let b = resp(
            "Proxy-Authenticate: Digest realm=\"r\", nonce=\"x\", algorithm=SHA-999\r\n\
             Proxy-Authenticate: Digest realm=\"r\", nonce=\"m\"\r\n",
            407,
        );
        let c = challenge(&Message::parse(&b).unwrap()).unwrap();
        assert!(c.value.contains("nonce=\"m\""));
    }
}
