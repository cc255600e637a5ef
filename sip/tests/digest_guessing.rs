//! The digest server against online guessing: nonce expiry, nonce-count replay and the
//! `uri` are checked before any password is looked up; failures are throttled per source
//! address and per user name; an unknown user costs and looks like a wrong password.
//! A counting credential store proves when the password was (not) evaluated.

use std::cell::Cell;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tipring_sip::Message;
use tipring_sip::digest::{
    Algorithm, ChallengeKind, CredentialStore, DigestServer, Qop, Rejection, Secret, ServerConfig,
    StaleReason, Verdict, respond,
};

/// One user, `trunk`; counts every lookup (a lookup is an evaluated guess).
#[derive(Default)]
struct Counting {
    lookups: Cell<u32>,
}

impl CredentialStore for Counting {
    fn secret(&self, username: &str, _realm: &str) -> Option<Secret> {
        self.lookups.set(self.lookups.get() + 1);
        (username == "trunk").then(|| Secret::Password("correct-horse".into()))
    }
}

fn server(now: Instant) -> DigestServer {
    let mut cfg = ServerConfig::new("gw");
    cfg.algorithms = vec![Algorithm::Md5];
    cfg.nonce_lifetime = Duration::from_secs(30);
    DigestServer::new(cfg, [3; 32], now)
}

fn nonce(s: &mut DigestServer, now: Instant) -> String {
    s.challenges(now, false)[0].nonce.clone()
}

/// An INVITE to `request_uri` with credentials of `user`/`password` over `uri`, nc `nc`.
fn invite(
    request_uri: &str,
    uri: &str,
    user: &str,
    password: &str,
    nonce: &str,
    nc: u32,
) -> Vec<u8> {
    let c = tipring_sip::digest::Challenge {
        realm: "gw".into(),
        nonce: nonce.into(),
        opaque: None,
        algorithm: Algorithm::Md5,
        qop: vec![Qop::Auth],
        stale: false,
    };
    let auth = respond(&c, user, password, "INVITE", uri, b"", "cn0", nc);
    format!(
        "INVITE {request_uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK{nc}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{user}@192.0.2.9>;tag=1\r\nTo: <{request_uri}>\r\n\
         Call-ID: g{nc}\r\nCSeq: 1 INVITE\r\nAuthorization: {auth}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

const RURI: &str = "sip:5551234@gw.example";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn check(s: &mut DigestServer, now: Instant, req: &[u8], st: &Counting, from: &str) -> Verdict {
    let m = Message::parse(req).unwrap();
    s.verify_request_from(now, &m, ChallengeKind::Www, st, ip(from))
}

#[test]
fn expiry_and_replay_are_refused_before_the_password_is_looked_up() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let st = Counting::default();
    let n = nonce(&mut s, t0);
    let late = t0 + Duration::from_secs(31);
    // Right or wrong password: an expired nonce is stale, and nothing was evaluated.
    for pass in ["correct-horse", "guess"] {
        let v = check(
            &mut s,
            late,
            &invite(RURI, RURI, "trunk", pass, &n, 1),
            &st,
            "192.0.2.9",
        );
        assert_eq!(v, Verdict::Stale(StaleReason::Expired));
    }
    assert_eq!(st.lookups.get(), 0, "an expired nonce is no oracle");
    let n = nonce(&mut s, t0);
    let wrong = invite(RURI, RURI, "trunk", "guess", &n, 1);
    assert_eq!(
        check(&mut s, t0, &wrong, &st, "192.0.2.9"),
        Verdict::Rejected(Rejection::WrongResponse)
    );
    assert_eq!(st.lookups.get(), 1);
    // The same nc again, even with the right password: replayed, not evaluated.
    let right = invite(RURI, RURI, "trunk", "correct-horse", &n, 1);
    assert_eq!(
        check(&mut s, t0, &right, &st, "192.0.2.9"),
        Verdict::Stale(StaleReason::Replayed)
    );
    assert_eq!(st.lookups.get(), 1);
    let right = invite(RURI, RURI, "trunk", "correct-horse", &n, 2);
    assert_eq!(
        check(&mut s, t0, &right, &st, "192.0.2.9"),
        Verdict::Authorized {
            username: "trunk".into()
        }
    );
}

#[test]
fn uri_must_be_the_request_uri() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let st = Counting::default();
    let n = nonce(&mut s, t0);
    // Credentials computed for another number, presented with a premium number.
    let other = invite(
        "sip:19005550199@gw.example",
        RURI,
        "trunk",
        "correct-horse",
        &n,
        1,
    );
    assert_eq!(
        check(&mut s, t0, &other, &st, "192.0.2.9"),
        Verdict::Rejected(Rejection::UriMismatch)
    );
    assert_eq!(st.lookups.get(), 0);
    // The same URI written differently (host case, RFC 3261 §19.1.4) is the same URI.
    let same = invite(
        RURI,
        "sip:5551234@GW.example",
        "trunk",
        "correct-horse",
        &n,
        2,
    );
    assert!(matches!(
        check(&mut s, t0, &same, &st, "192.0.2.9"),
        Verdict::Authorized { .. }
    ));
}

#[test]
fn five_failures_lock_out_the_source_and_the_user_without_evaluating() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let st = Counting::default();
    let n = nonce(&mut s, t0);
    for nc in 1..=5 {
        let v = check(
            &mut s,
            t0,
            &invite(RURI, RURI, "trunk", "guess", &n, nc),
            &st,
            "192.0.2.9",
        );
        assert_eq!(v, Verdict::Rejected(Rejection::WrongResponse), "guess {nc}");
    }
    assert_eq!(st.lookups.get(), 5);
    // Locked: even the right password from this source is refused, unevaluated.
    let right = invite(RURI, RURI, "trunk", "correct-horse", &n, 6);
    assert_eq!(
        check(&mut s, t0, &right, &st, "192.0.2.9"),
        Verdict::Rejected(Rejection::Throttled)
    );
    // The user name is locked too, from any source.
    let right = invite(RURI, RURI, "trunk", "correct-horse", &n, 7);
    assert_eq!(
        check(&mut s, t0, &right, &st, "198.51.100.1"),
        Verdict::Rejected(Rejection::Throttled)
    );
    // The locked source cannot go on guessing other names either.
    let other = invite(RURI, RURI, "admin", "guess", &n, 8);
    assert_eq!(
        check(&mut s, t0, &other, &st, "192.0.2.9"),
        Verdict::Rejected(Rejection::Throttled)
    );
    assert_eq!(st.lookups.get(), 5, "nothing evaluated while locked");
    // After the 30 s back-off the right password gets through.
    let later = t0 + Duration::from_secs(29);
    let n = nonce(&mut s, later);
    let t = later + Duration::from_secs(2);
    let right = invite(RURI, RURI, "trunk", "correct-horse", &n, 1);
    assert!(matches!(
        check(&mut s, t, &right, &st, "192.0.2.9"),
        Verdict::Authorized { .. }
    ));
}

#[test]
fn unknown_users_are_evaluated_and_throttled_like_wrong_passwords() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let st = Counting::default();
    let n = nonce(&mut s, t0);
    let mut seen = Vec::new();
    for (nc, user) in (1..=5).zip(["a", "b", "c", "d", "e"]) {
        let v = check(
            &mut s,
            t0,
            &invite(RURI, RURI, user, "guess", &n, nc),
            &st,
            "192.0.2.7",
        );
        seen.push(v);
    }
    assert!(
        seen.iter()
            .all(|v| *v == Verdict::Rejected(Rejection::UnknownUser)),
        "{seen:?}"
    );
    let v = check(
        &mut s,
        t0,
        &invite(RURI, RURI, "trunk", "guess", &n, 6),
        &st,
        "192.0.2.7",
    );
    assert_eq!(v, Verdict::Rejected(Rejection::Throttled), "per source");
    // The source's record and the five names' records.
    assert_eq!(s.tracked_failures(), 6);
}
