//! Digest server (RFC 7616 §3.3, §5): challenge, verify, stale and replayed nonces, and a
//! client/server round trip through real SIP messages for every algorithm.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tipring_sip::Message;
use tipring_sip::digest::{
    Algorithm, AuthError, Authenticator, ChallengeKind, DigestServer, Rejection, Secret,
    ServerConfig, StaleReason, Verdict,
};

const SECRET: [u8; 32] = [7; 32];
const URI: &str = "sip:biloxi.com";

fn store() -> HashMap<String, Secret> {
    HashMap::from([
        ("bob".to_string(), Secret::Password("zanzibar".into())),
        (
            "alice".to_string(),
            Secret::Ha1 {
                algorithm: Algorithm::Md5,
                ha1: Algorithm::Md5.ha1("alice", "biloxi.com", "wonderland"),
            },
        ),
    ])
}

fn server(algs: &[Algorithm], qop: bool, now: Instant) -> DigestServer {
    let mut cfg = ServerConfig::new("biloxi.com");
    cfg.algorithms = algs.to_vec();
    cfg.qop = qop;
    cfg.nonce_lifetime = Duration::from_secs(30);
    DigestServer::new(cfg, SECRET, now)
}

/// A 401 (or 407) carrying the server's challenges, as the UA would receive it.
fn challenge_response(
    s: &mut DigestServer,
    now: Instant,
    stale: bool,
    kind: ChallengeKind,
) -> Vec<u8> {
    let name = kind.challenge_header().canonical();
    let mut text = format!(
        "SIP/2.0 {} Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:bob@biloxi.com>;tag=1\r\nTo: <sip:bob@biloxi.com>;tag=2\r\n\
         Call-ID: reg1\r\nCSeq: 1 REGISTER\r\n",
        kind.status()
    );
    for c in s.challenges(now, stale) {
        text.push_str(&format!("{name}: {c}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
}

/// A REGISTER carrying the client's credentials.
fn register(a: &mut Authenticator, cseq: u32) -> Vec<u8> {
    let mut text = format!(
        "REGISTER {URI} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@biloxi.com>;tag=1\r\nTo: <sip:bob@biloxi.com>\r\n\
         Call-ID: reg1\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:bob@192.0.2.1>\r\n"
    );
    for (name, value) in a.authorization("REGISTER", URI, b"") {
        text.push_str(&format!("{}: {value}\r\n", name.canonical()));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
}

fn verify(s: &mut DigestServer, now: Instant, req: &[u8], kind: ChallengeKind) -> Verdict {
    s.verify_request(now, &Message::parse(req).unwrap(), kind, &store())
}

#[test]
fn round_trip_for_every_algorithm_with_and_without_qop() {
    let t0 = Instant::now();
    for alg in Algorithm::ALL {
        for qop in [true, false] {
            for kind in [ChallengeKind::Www, ChallengeKind::Proxy] {
                let mut s = server(&[alg], qop, t0);
                let mut a = Authenticator::new("bob", "zanzibar", 99);
                let ch = challenge_response(&mut s, t0, false, kind);
                a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
                let req = register(&mut a, 2);
                assert_eq!(
                    verify(&mut s, t0, &req, kind),
                    Verdict::Authorized {
                        username: "bob".into()
                    },
                    "{alg:?} qop={qop} {kind:?}"
                );
                // the other header kind carries nothing for this server
                let other = match kind {
                    ChallengeKind::Www => ChallengeKind::Proxy,
                    ChallengeKind::Proxy => ChallengeKind::Www,
                };
                assert_eq!(
                    verify(&mut s, t0, &req, other),
                    Verdict::Rejected(Rejection::NoCredentials)
                );
            }
        }
    }
}

#[test]
fn client_takes_the_first_supported_of_several_challenges() {
    let t0 = Instant::now();
    let mut s = server(&[Algorithm::Sha256, Algorithm::Md5], true, t0);
    let mut a = Authenticator::new("bob", "zanzibar", 3);
    let ch = challenge_response(&mut s, t0, false, ChallengeKind::Www);
    a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
    let req = register(&mut a, 2);
    let text = String::from_utf8(req.clone()).unwrap();
    assert!(text.contains("algorithm=SHA-256"), "{text}");
    assert!(matches!(
        verify(&mut s, t0, &req, ChallengeKind::Www),
        Verdict::Authorized { .. }
    ));
}

#[test]
fn replayed_requests_are_refused() {
    let t0 = Instant::now();
    for qop in [true, false] {
        let mut s = server(&[Algorithm::Md5], qop, t0);
        let mut a = Authenticator::new("bob", "zanzibar", 5);
        let ch = challenge_response(&mut s, t0, false, ChallengeKind::Www);
        a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
        let first = register(&mut a, 2);
        let t1 = t0 + Duration::from_secs(1);
        assert!(matches!(
            verify(&mut s, t1, &first, ChallengeKind::Www),
            Verdict::Authorized { .. }
        ));
        assert_eq!(
            verify(&mut s, t1, &first, ChallengeKind::Www),
            Verdict::Stale(StaleReason::Replayed),
            "qop={qop}"
        );
        a.accepted();
        let second = register(&mut a, 3);
        let want = if qop {
            // nc 2 on the same nonce is a new request
            Verdict::Authorized {
                username: "bob".into(),
            }
        } else {
            // RFC 2069 form: a nonce is good for one request only
            Verdict::Stale(StaleReason::Replayed)
        };
        assert_eq!(
            verify(&mut s, t1, &second, ChallengeKind::Www),
            want,
            "qop={qop}"
        );
        if qop {
            // and the older nc 1 is not accepted after nc 2
            assert_eq!(
                verify(&mut s, t1, &first, ChallengeKind::Www),
                Verdict::Stale(StaleReason::Replayed)
            );
        }
    }
}

#[test]
fn expired_nonce_is_stale_and_the_client_retries_without_calling_it_a_wrong_password() {
    let t0 = Instant::now();
    let mut s = server(&[Algorithm::Sha256], true, t0);
    let mut a = Authenticator::new("bob", "zanzibar", 8);
    let ch = challenge_response(&mut s, t0, false, ChallengeKind::Www);
    a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
    let req = register(&mut a, 2);
    let late = t0 + Duration::from_secs(31);
    assert_eq!(
        verify(&mut s, late, &req, ChallengeKind::Www),
        Verdict::Stale(StaleReason::Expired)
    );
    let ch = challenge_response(&mut s, late, true, ChallengeKind::Www);
    assert!(String::from_utf8_lossy(&ch).contains("stale=TRUE"));
    a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
    let req = register(&mut a, 3);
    assert!(matches!(
        verify(&mut s, late, &req, ChallengeKind::Www),
        Verdict::Authorized { .. }
    ));
    assert_eq!(s.tracked_nonces(), 1, "the expired nonce was forgotten");
}

#[test]
fn wrong_password_fails_once_and_the_client_stops() {
    let t0 = Instant::now();
    let mut s = server(&[Algorithm::Md5], true, t0);
    let mut a = Authenticator::new("bob", "not-zanzibar", 9);
    let ch = challenge_response(&mut s, t0, false, ChallengeKind::Proxy);
    a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
    let req = register(&mut a, 2);
    assert_eq!(
        verify(&mut s, t0, &req, ChallengeKind::Proxy),
        Verdict::Rejected(Rejection::WrongResponse)
    );
    let ch = challenge_response(&mut s, t0, false, ChallengeKind::Proxy);
    assert!(matches!(
        a.on_challenge(&Message::parse(&ch).unwrap()),
        Err(AuthError::WrongCredentials { .. })
    ));
}

#[test]
fn stored_ha1_unknown_users_and_forged_nonces() {
    let t0 = Instant::now();
    let mut s = server(&[Algorithm::Md5, Algorithm::Sha256], true, t0);
    let nonce = s.challenges(t0, false)[0].nonce.clone();
    let answer = |user: &str, pass: &str, alg: Algorithm, nonce: &str| {
        let c = tipring_sip::digest::Challenge {
            realm: "biloxi.com".into(),
            nonce: nonce.into(),
            opaque: None,
            algorithm: alg,
            qop: vec![tipring_sip::digest::Qop::Auth],
            stale: false,
        };
        tipring_sip::digest::respond(&c, user, pass, "INVITE", "sip:x@biloxi.com", b"", "cn", 1)
            .to_string()
    };
    let st = store();
    let v = |s: &mut DigestServer, value: &str| s.verify(t0, "INVITE", b"", value, &st);
    assert_eq!(
        v(
            &mut s,
            &answer("alice", "wonderland", Algorithm::Md5, &nonce)
        ),
        Verdict::Authorized {
            username: "alice".into()
        }
    );
    // Each attempt uses its nonce count up (a replay is never evaluated): every further
    // attempt here brings a fresh nonce.
    let fresh = |s: &mut DigestServer| s.challenges(t0, false)[0].nonce.clone();
    // an MD5 HA1 cannot check a SHA-256 answer
    let n2 = fresh(&mut s);
    assert_eq!(
        v(
            &mut s,
            &answer("alice", "wonderland", Algorithm::Sha256, &n2)
        ),
        Verdict::Rejected(Rejection::AlgorithmNotOffered)
    );
    let n3 = fresh(&mut s);
    assert_eq!(
        v(&mut s, &answer("mallory", "x", Algorithm::Md5, &n3)),
        Verdict::Rejected(Rejection::UnknownUser)
    );
    let n4 = fresh(&mut s);
    assert_eq!(
        v(&mut s, &answer("bob", "zanzibar", Algorithm::Md5Sess, &n4)),
        Verdict::Rejected(Rejection::AlgorithmNotOffered)
    );
    // one flipped hex digit, a nonce signed with another secret, and garbage
    let mut forged = nonce.clone().into_bytes();
    forged[3] = if forged[3] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    let mut other = DigestServer::new(ServerConfig::new("biloxi.com"), [1; 32], t0);
    let foreign = other.challenges(t0, false)[0].nonce.clone();
    for n in [forged.as_str(), foreign.as_str(), "xyz", ""] {
        assert_eq!(
            v(&mut s, &answer("bob", "zanzibar", Algorithm::Md5, n)),
            Verdict::Rejected(Rejection::BadNonce),
            "{n}"
        );
    }
    assert!(matches!(
        v(&mut s, "Digest realm"),
        Verdict::Rejected(Rejection::Malformed(_))
    ));
}

#[test]
fn nonce_table_is_bounded() {
    let t0 = Instant::now();
    let mut cfg = ServerConfig::new("biloxi.com");
    cfg.max_nonces = 2;
    let mut s = DigestServer::new(cfg, SECRET, t0);
    let mut a = Authenticator::new("bob", "zanzibar", 1);
    let ch = challenge_response(&mut s, t0, false, ChallengeKind::Www);
    a.on_challenge(&Message::parse(&ch).unwrap()).unwrap();
    let req = register(&mut a, 2);
    s.challenges(t0, false);
    s.challenges(t0, false);
    assert_eq!(s.tracked_nonces(), 2);
    assert_eq!(
        verify(&mut s, t0, &req, ChallengeKind::Www),
        Verdict::Stale(StaleReason::Unknown)
    );
}

mod any_credentials {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any printable user name and password (quotes and backslashes included, which
        /// travel escaped) authenticate with the right password and fail with another.
        #[test]
        fn round_trip(user in "[ -~]{1,16}", pass in "[ -~]{0,16}", alg in 0usize..6, qop: bool) {
            let t0 = Instant::now();
            let alg = Algorithm::ALL[alg];
            let mut s = server(&[alg], qop, t0);
            let db = HashMap::from([(user.clone(), Secret::Password(pass.clone()))]);
            for (password, ok) in [(pass.clone(), true), (format!("{pass}x"), false)] {
                let mut a = Authenticator::new(&user, &password, 1);
                let values: Vec<String> =
                    s.challenges(t0, false).iter().map(|c| c.to_string()).collect();
                a.on_challenges(values.iter().map(|v| (ChallengeKind::Www, v.as_str())))
                    .unwrap();
                let hs = a.authorization("INVITE", "sip:x@biloxi.com", b"");
                let verdict = s.verify(t0, "INVITE", b"", &hs[0].1, &db);
                if ok {
                    prop_assert_eq!(verdict, Verdict::Authorized { username: user.clone() });
                } else {
                    prop_assert_eq!(verdict, Verdict::Rejected(Rejection::WrongResponse));
                }
            }
        }
    }
}
