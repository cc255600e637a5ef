//! Digest challenges (WWW-Authenticate / Proxy-Authenticate, RFC 7616 §3.3) and the
//! credentials that answer them (Authorization / Proxy-Authorization, RFC 7616 §3.4),
//! as owned values built on the header layer's [`Auth`] parser.

use super::DigestError;
use super::algorithm::{Algorithm, Qop};
use crate::header::{Auth, HeaderName};
use std::fmt;

/// Which header pair a challenge came in (RFC 3261 §22.2, §22.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// 401 with WWW-Authenticate, answered with Authorization.
    Www,
    /// 407 with Proxy-Authenticate, answered with Proxy-Authorization.
    Proxy,
}

impl ChallengeKind {
    /// The header carrying the challenge.
    pub fn challenge_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::WwwAuthenticate,
            ChallengeKind::Proxy => HeaderName::ProxyAuthenticate,
        }
    }

    /// The header carrying the answer.
    pub fn credentials_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::Authorization,
            ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
        }
    }

    /// The status code that carries this challenge.
    pub fn status(self) -> u16 {
        match self {
            ChallengeKind::Www => 401,
            ChallengeKind::Proxy => 407,
        }
    }
}

/// Remove quoted-pair escapes (RFC 3261 §25.1).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut esc = false;
    for c in s.chars() {
        if esc || c != '\\' {
            out.push(c);
            esc = false;
        } else {
            esc = true;
        }
    }
    out
}

/// Write a quoted-string, escaping `"` and `\`.
fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

fn digest_params(auth: &Auth<'_>) -> Result<(), DigestError> {
    if auth.scheme.eq_ignore_ascii_case("Digest") {
        Ok(())
    } else {
        Err(DigestError::NotDigest)
    }
}

fn algorithm_of(auth: &Auth<'_>) -> Result<Algorithm, DigestError> {
    match auth.param("algorithm") {
        None => Ok(Algorithm::Md5),
        Some(a) => Algorithm::from_token(a).ok_or(DigestError::UnsupportedAlgorithm),
    }
}

/// A Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back unchanged.
    pub opaque: Option<String>,
    /// `algorithm` (MD5 when absent).
    pub algorithm: Algorithm,
    /// The qop values offered; empty for the RFC 2069 legacy form.
    pub qop: Vec<Qop>,
    /// `stale=true`: the previous credentials were right, only the nonce was old.
    pub stale: bool,
}

impl Challenge {
    /// From a parsed WWW-Authenticate / Proxy-Authenticate value.
    pub fn from_auth(auth: &Auth<'_>) -> Result<Challenge, DigestError> {
        digest_params(auth)?;
        let realm = auth.param("realm").ok_or(DigestError::Missing("realm"))?;
        let nonce = auth.param("nonce").ok_or(DigestError::Missing("nonce"))?;
        Ok(Challenge {
            realm: unescape(realm),
            nonce: unescape(nonce),
            opaque: auth.param("opaque").map(unescape),
            algorithm: algorithm_of(auth)?,
            qop: auth
                .param("qop")
                .map(|q| {
                    unescape(q)
                        .split(',')
                        .filter_map(|t| Qop::from_token(t.trim()))
                        .collect()
                })
                .unwrap_or_default(),
            stale: auth
                .param("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// Parse a header value.
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let auth = Auth::parse_value(value).map_err(|_| DigestError::Malformed)?;
        Challenge::from_auth(&auth)
    }

    /// The qop a client uses: `auth` if offered, else `auth-int`, else none (legacy).
    pub fn preferred_qop(&self) -> Option<Qop> {
        if self.qop.contains(&Qop::Auth) {
            Some(Qop::Auth)
        } else {
            self.qop.first().copied()
        }
    }
}

impl fmt::Display for Challenge {
    /// The header value, e.g. `Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest realm=")?;
        quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        quoted(f, &self.nonce)?;
        if let Some(o) = &self.opaque {
            f.write_str(", opaque=")?;
            quoted(f, o)?;
        }
        if self.stale {
            f.write_str(", stale=TRUE")?;
        }
        write!(f, ", algorithm={}", self.algorithm.as_str())?;
        if !self.qop.is_empty() {
            let q: Vec<&str> = self.qop.iter().map(|q| q.as_str()).collect();
            write!(f, ", qop=\"{}\"", q.join(","))?;
        }
        Ok(())
    }
}

/// Digest credentials: the value of Authorization / Proxy-Authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestResponse {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce` (the server's).
    pub nonce: String,
    /// `uri` (the Request-URI, RFC 3261 §22.4).
    pub uri: String,
    /// `response`: hex digest.
    pub response: String,
    /// `algorithm`.
    pub algorithm: Algorithm,
    /// `cnonce`.
    pub cnonce: Option<String>,
    /// `opaque`, echoed.
    pub opaque: Option<String>,
    /// `qop` chosen.
    pub qop: Option<Qop>,
    /// `nc` (nonce count).
    pub nc: Option<u32>,
}

impl DigestResponse {
    /// From a parsed Authorization / Proxy-Authorization value.
    pub fn from_auth(auth: &Auth<'_>) -> Result<DigestResponse, DigestError> {
        digest_params(auth)?;
        let need = |n: &'static str| auth.param(n).map(unescape).ok_or(DigestError::Missing(n));
        let qop = match auth.param("qop") {
            Some(q) => Some(Qop::from_token(q).ok_or(DigestError::Malformed)?),
            None => None,
        };
        let nc = match auth.param("nc") {
            Some(n) if n.len() == 8 => {
                Some(u32::from_str_radix(n, 16).map_err(|_| DigestError::Malformed)?)
            }
            Some(_) => return Err(DigestError::Malformed),
            None => None,
        };
        let r = DigestResponse {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?,
            algorithm: algorithm_of(auth)?,
            cnonce: auth.param("cnonce").map(unescape),
            opaque: auth.param("opaque").map(unescape),
            qop,
            nc,
        };
        if r.qop.is_some() && (r.cnonce.is_none() || r.nc.is_none()) {
            // RFC 7616 §3.4: cnonce and nc MUST accompany qop
            return Err(DigestError::Missing("cnonce/nc"));
        }
        Ok(r)
    }

    /// Parse a header value.
    pub fn parse(value: &str) -> Result<DigestResponse, DigestError> {
        let auth = Auth::parse_value(value).map_err(|_| DigestError::Malformed)?;
        DigestResponse::from_auth(&auth)
    }
}

impl fmt::Display for DigestResponse {
    /// The header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest username=")?;
        quoted(f, &self.username)?;
        f.write_str(", realm=")?;
        quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        quoted(f, &self.nonce)?;
        f.write_str(", uri=")?;
        quoted(f, &self.uri)?;
        f.write_str(", response=")?;
        quoted(f, &self.response)?;
        write!(f, ", algorithm={}", self.algorithm.as_str())?;
        if let Some(c) = &self.cnonce {
            f.write_str(", cnonce=")?;
            quoted(f, c)?;
        }
        if let Some(o) = &self.opaque {
            f.write_str(", opaque=")?;
            quoted(f, o)?;
        }
        if let Some(q) = self.qop {
            write!(f, ", qop={}", q.as_str())?;
        }
        if let Some(nc) = self.nc {
            write!(f, ", nc={nc:08x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parses_and_prints() {
        let c = Challenge::parse(
            r#"Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#,
        )
        .unwrap();
        assert_eq!(c.realm, "atlanta.com");
        assert_eq!(c.qop, vec![Qop::Auth, Qop::AuthInt]);
        assert_eq!(c.opaque.as_deref(), Some(""));
        assert!(!c.stale);
        assert_eq!(Challenge::parse(&c.to_string()).unwrap(), c);
        assert!(
            Challenge::parse(r#"Digest realm="a", nonce="b", stale=true"#)
                .unwrap()
                .stale
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="a", nonce="b", algorithm=SHA-1"#),
            Err(DigestError::UnsupportedAlgorithm)
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="a""#),
            Err(DigestError::NotDigest)
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="a""#),
            Err(DigestError::Missing("nonce"))
        );
    }

    #[test]
    fn credentials_round_trip_with_escapes() {
        let r = DigestResponse {
            username: "a\"b\\c".into(),
            realm: "r".into(),
            nonce: "n".into(),
            uri: "sip:x@y".into(),
            response: "00".into(),
            algorithm: Algorithm::Sha256Sess,
            cnonce: Some("c".into()),
            opaque: None,
            qop: Some(Qop::Auth),
            nc: Some(0x1f),
        };
        let text = r.to_string();
        assert!(text.contains("nc=0000001f"), "{text}");
        assert_eq!(DigestResponse::parse(&text).unwrap(), r);
        assert_eq!(
            DigestResponse::parse(
                r#"Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth"#
            ),
            Err(DigestError::Missing("cnonce/nc"))
        );
    }
}
