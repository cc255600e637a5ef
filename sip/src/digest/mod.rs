//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760),
//! sans-IO: header values in, header values out.
//!
//! - [`Challenge`] / [`DigestResponse`]: the WWW-/Proxy-Authenticate and
//!   (Proxy-)Authorization values, parsed from and printed to header text.
//! - [`Authenticator`]: the client, answering 401/407 once per challenge with MD5,
//!   MD5-sess, SHA-256(-sess) or SHA-512-256(-sess), qop=auth / auth-int or the legacy
//!   no-qop form.
//! - [`DigestServer`]: the server, issuing signed expiring nonces, verifying credentials
//!   against a [`CredentialStore`] and refusing replays; failed attempts are throttled
//!   per source address and per user name ([`Throttle`]).
//!
//! ```
//! use tipring_sip::digest::{Challenge, respond};
//! let c = Challenge::parse(r#"Digest realm="testrealm@host.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#).unwrap();
//! let r = respond(&c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", b"", "0a4f113b", 1);
//! assert_eq!(r.response, "6629fae49393a05397450978507c4ef1"); // RFC 2617 §3.5
//! ```

mod algorithm;
mod challenge;
mod client;
mod server;
mod throttle;

pub use algorithm::{Algorithm, Qop, ResponseInput};
pub use challenge::{Challenge, ChallengeKind, DigestResponse};
pub use client::{AuthError, Authenticator, MAX_STALE_RETRIES, respond};
pub use server::{
    CredentialStore, DigestServer, Rejection, Secret, ServerConfig, StaleReason, Verdict,
};
pub use throttle::{Subject, Throttle, ThrottleConfig};

/// A digest header value that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not `scheme auth-param, ...` (RFC 7616 §3.3).
    #[error("malformed digest header value")]
    Malformed,
    /// Another scheme than Digest.
    #[error("authentication scheme is not Digest")]
    NotDigest,
    /// A required parameter is absent.
    #[error("digest parameter {0} missing")]
    Missing(&'static str),
    /// An algorithm we do not implement (RFC 7616 §3.7: such a challenge is ignored).
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
}
