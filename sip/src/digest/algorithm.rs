//! Digest algorithms and the response computation (RFC 7616 §3.4.1-§3.4.3, RFC 8760 for
//! SIP, RFC 2617 §3.2.2 for the legacy no-qop form).

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use std::fmt::Write;

/// A digest algorithm (RFC 7616 §6.1, RFC 8760 §2.1). `-sess` variants bind HA1 to the
/// nonce and cnonce (RFC 7616 §3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (the default when a challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256`.
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every algorithm, strongest first (RFC 8760 §2.4 preference).
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];

    /// The token on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Parse the token (case-insensitive, RFC 7616 §3.3).
    pub fn from_token(s: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether HA1 is the session form.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// The base algorithm (`MD5-sess` -> `MD5`), whose HA1 a credential store keeps.
    pub fn base(self) -> Algorithm {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Algorithm::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Algorithm::Sha256,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => Algorithm::Sha512_256,
        }
    }

    /// `H(data)` as lowercase hex (RFC 7616 §3.4: KD and H give hex strings).
    pub fn hash_hex(self, parts: &[&[u8]]) -> String {
        match self.base() {
            Algorithm::Md5 => hex(&digest::<Md5>(parts)),
            Algorithm::Sha256 => hex(&digest::<Sha256>(parts)),
            _ => hex(&digest::<Sha512_256>(parts)),
        }
    }

    /// `H(username ":" realm ":" password)`: the stored form of a password.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> String {
        self.base().hash_hex(&[
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ])
    }
}

fn digest<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = D::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `qop` (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: the body is covered too.
    AuthInt,
}

impl Qop {
    /// The token on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }

    /// Parse the token (case-insensitive).
    pub fn from_token(s: &str) -> Option<Qop> {
        [Qop::Auth, Qop::AuthInt]
            .into_iter()
            .find(|q| q.as_str().eq_ignore_ascii_case(s))
    }
}

/// What a response is computed over. `ha1` is `H(user:realm:password)` for the base
/// algorithm; the `-sess` step is applied here.
#[derive(Debug, Clone, Copy)]
pub struct ResponseInput<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// `H(username:realm:password)` in hex.
    pub ha1: &'a str,
    /// Server nonce.
    pub nonce: &'a str,
    /// Client nonce (with a qop, or for `-sess`).
    pub cnonce: Option<&'a str>,
    /// Nonce count (with a qop).
    pub nc: Option<u32>,
    /// Quality of protection, `None` for the RFC 2069 legacy form.
    pub qop: Option<Qop>,
    /// Request method.
    pub method: &'a str,
    /// The `uri` parameter (digest-uri).
    pub uri: &'a str,
    /// Message body (for `auth-int`).
    pub body: &'a [u8],
}

impl ResponseInput<'_> {
    /// The `response` value (RFC 7616 §3.4.1).
    pub fn response(&self) -> String {
        let a = self.algorithm;
        let cnonce = self.cnonce.unwrap_or("");
        let ha1 = if a.is_session() {
            // RFC 7616 §3.4.2: H(H(user:realm:pass) ":" nonce ":" cnonce)
            a.hash_hex(&[
                self.ha1.as_bytes(),
                b":",
                self.nonce.as_bytes(),
                b":",
                cnonce.as_bytes(),
            ])
        } else {
            self.ha1.to_owned()
        };
        let ha2 = match self.qop {
            Some(Qop::AuthInt) => {
                let hbody = a.hash_hex(&[self.body]);
                a.hash_hex(&[
                    self.method.as_bytes(),
                    b":",
                    self.uri.as_bytes(),
                    b":",
                    hbody.as_bytes(),
                ])
            }
            _ => a.hash_hex(&[self.method.as_bytes(), b":", self.uri.as_bytes()]),
        };
        match self.qop {
            Some(q) => {
                let nc = format!("{:08x}", self.nc.unwrap_or(1));
                a.hash_hex(&[
                    ha1.as_bytes(),
                    b":",
                    self.nonce.as_bytes(),
                    b":",
                    nc.as_bytes(),
                    b":",
                    cnonce.as_bytes(),
                    b":",
                    q.as_str().as_bytes(),
                    b":",
                    ha2.as_bytes(),
                ])
            }
            // RFC 2617 §3.2.2.1, RFC 2069 compatibility
            None => a.hash_hex(&[
                ha1.as_bytes(),
                b":",
                self.nonce.as_bytes(),
                b":",
                ha2.as_bytes(),
            ]),
        }
    }
}

/// HMAC-SHA-256 (RFC 2104), used to sign server nonces.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for m in msg {
        inner.update(m);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5.
    #[test]
    fn rfc2617_mufasa() {
        let ha1 = Algorithm::Md5.ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let r = ResponseInput {
            algorithm: Algorithm::Md5,
            ha1: &ha1,
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            cnonce: Some("0a4f113b"),
            nc: Some(1),
            qop: Some(Qop::Auth),
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        };
        assert_eq!(r.response(), "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 4231 test case 2 ("Jefe").
    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_token(&a.as_str().to_lowercase()), Some(a));
        }
        assert_eq!(Algorithm::from_token("SHA-1"), None);
        assert_eq!(Qop::from_token("AUTH-INT"), Some(Qop::AuthInt));
    }
}
