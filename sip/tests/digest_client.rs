//! Digest client (RFC 2617, RFC 7616, RFC 8760): RFC test vectors, SIP REGISTER and INVITE
//! examples, and the Authenticator rules (nc, stale, no loop on a wrong password).
//!
//! Vectors marked "hashlib" were computed independently with Python's hashlib from the
//! formulas of RFC 7616 §3.4.1/§3.4.2.

use tipring_sip::Message;
use tipring_sip::digest::{
    Algorithm, AuthError, Authenticator, Challenge, ChallengeKind, DigestResponse, Qop, respond,
};
use tipring_sip::header::HeaderName;

fn challenge(text: &str) -> Challenge {
    Challenge::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// RFC 2617 §3.5.
#[test]
fn rfc2617_3_5_mufasa() {
    let c = challenge(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    );
    let r = respond(
        &c,
        "Mufasa",
        "Circle Of Life",
        "GET",
        "/dir/index.html",
        b"",
        "0a4f113b",
        1,
    );
    assert_eq!(r.response, "6629fae49393a05397450978507c4ef1");
    let text = r.to_string();
    assert!(
        text.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#),
        "{text}"
    );
    assert!(text.contains("qop=auth, nc=00000001"), "{text}");
    assert_eq!(DigestResponse::parse(&text).unwrap(), r);
}

/// RFC 7616 §3.9.1, both the SHA-256 and the MD5 response.
#[test]
fn rfc7616_3_9_1_sha256_and_md5() {
    for (alg, want) in [
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ] {
        let c = challenge(&format!(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
        ));
        let r = respond(
            &c,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            b"",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            1,
        );
        assert_eq!(r.response, want, "{alg}");
        assert_eq!(r.qop, Some(Qop::Auth));
    }
}

/// SIP examples for every algorithm and qop form (hashlib).
#[test]
fn sip_register_and_invite_examples() {
    /// challenge, method, uri, nc, body, expected response
    type Case<'a> = (&'a str, &'a str, &'a str, u32, &'a [u8], &'a str);
    let cases: &[Case<'_>] = &[
        // legacy no-qop REGISTER (RFC 3261 §22.4 style)
        (
            r#"Digest realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
            "REGISTER",
            "sip:biloxi.com",
            1,
            b"",
            "4441045a8075db3ead543693997e2a0e",
        ),
        (
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=SHA-256, qop="auth""#,
            "REGISTER",
            "sip:biloxi.com",
            1,
            b"",
            "94b7e1c5ecf5bdadf859a6a0adb7f1cf83bef17cee3ffb50cc1b73eb3b08560e",
        ),
        (
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=SHA-512-256, qop="auth""#,
            "REGISTER",
            "sip:biloxi.com",
            1,
            b"",
            "e278c4d42aa620735d5facd3a04fedcc3004dada8e90209639c6cdc6e6728e7f",
        ),
        (
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=MD5-sess, qop="auth""#,
            "INVITE",
            "sip:bob@biloxi.com",
            2,
            b"",
            "76dcd6e6a22cbba1aacde59a12c70386",
        ),
        (
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=SHA-256-sess, qop="auth""#,
            "INVITE",
            "sip:bob@biloxi.com",
            2,
            b"",
            "a9baf416f5f905561c63fc7c2a72316b28feb6e5b6cd3ed3a94274a86c578457",
        ),
        (
            r#"Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", qop="auth-int""#,
            "INVITE",
            "sip:bob@biloxi.com",
            1,
            b"v=0\r\n",
            "86e6fdeb129ac14c5dc71a3a9f66f008",
        ),
    ];
    for (chal, method, uri, nc, body, want) in cases {
        let r = respond(
            &challenge(chal),
            "bob",
            "zanzibar",
            method,
            uri,
            body,
            "0a4f113b",
            *nc,
        );
        assert_eq!(r.response, *want, "{chal}");
    }
}

fn response_401(challenges: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:bob@biloxi.com>;tag=1\r\nTo: <sip:bob@biloxi.com>;tag=2\r\n\
         Call-ID: reg1\r\nCSeq: 1 REGISTER\r\n",
    );
    for (name, value) in challenges {
        s.push_str(&format!("{name}: {value}\r\n"));
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    s.into_bytes()
}

fn header_value(hs: &[(HeaderName, String)], name: HeaderName) -> DigestResponse {
    let (_, v) = hs.iter().find(|(n, _)| *n == name).expect("header");
    DigestResponse::parse(v).unwrap()
}

#[test]
fn authenticator_counts_nc_and_refuses_to_loop() {
    let mut a = Authenticator::new("bob", "zanzibar", 42);
    assert!(
        a.authorization("REGISTER", "sip:biloxi.com", b"")
            .is_empty()
    );
    let raw = response_401(&[(
        "WWW-Authenticate",
        r#"Digest realm="biloxi.com", nonce="n1", qop="auth""#,
    )]);
    a.on_challenge(&Message::parse(&raw).unwrap()).unwrap();
    let h1 = a.authorization("REGISTER", "sip:biloxi.com", b"");
    let r1 = header_value(&h1, HeaderName::Authorization);
    assert_eq!((r1.nonce.as_str(), r1.nc), ("n1", Some(1)));
    // the same challenge again after we answered it: wrong password, not a retry
    assert_eq!(
        a.on_challenge(&Message::parse(&raw).unwrap()),
        Err(AuthError::WrongCredentials {
            realm: "biloxi.com".into()
        })
    );
    // once accepted, the next request reuses the nonce with nc 2
    a.accepted();
    let r2 = header_value(
        &a.authorization("REGISTER", "sip:biloxi.com", b""),
        HeaderName::Authorization,
    );
    assert_eq!(
        (r2.nonce.as_str(), r2.nc, &r2.cnonce),
        ("n1", Some(2), &r1.cnonce)
    );
    assert_ne!(r2.response, r1.response);
    // stale: retry with the new nonce, nc restarts, cnonce changes
    let stale = response_401(&[(
        "WWW-Authenticate",
        r#"Digest realm="biloxi.com", nonce="n2", qop="auth", stale=true"#,
    )]);
    a.on_challenge(&Message::parse(&stale).unwrap()).unwrap();
    let r3 = header_value(
        &a.authorization("REGISTER", "sip:biloxi.com", b""),
        HeaderName::Authorization,
    );
    assert_eq!((r3.nonce.as_str(), r3.nc), ("n2", Some(1)));
    assert_ne!(r3.cnonce, r1.cnonce);
    // a non-stale challenge after the stale retry: refused
    let again = response_401(&[(
        "WWW-Authenticate",
        r#"Digest realm="biloxi.com", nonce="n3", qop="auth""#,
    )]);
    assert!(matches!(
        a.on_challenge(&Message::parse(&again).unwrap()),
        Err(AuthError::WrongCredentials { .. })
    ));
}

#[test]
fn endless_stale_challenges_end() {
    let mut a = Authenticator::new("bob", "zanzibar", 1);
    let mut result = Ok(());
    for k in 0..10 {
        let v = format!(r#"Digest realm="r", nonce="n{k}", stale=true"#);
        result = a.on_challenges([(ChallengeKind::Www, v.as_str())].into_iter());
        if result.is_err() {
            break;
        }
        a.authorization("INVITE", "sip:x@r", b"");
    }
    assert_eq!(result, Err(AuthError::TooManyStale { realm: "r".into() }));
}

#[test]
fn preferred_algorithm_and_both_header_kinds() {
    let raw = response_401(&[
        (
            "Proxy-Authenticate",
            r#"Digest realm="proxy", nonce="p1", algorithm=SHA-1"#,
        ),
        (
            "Proxy-Authenticate",
            r#"Digest realm="proxy", nonce="p1", algorithm=SHA-256, qop="auth""#,
        ),
        (
            "Proxy-Authenticate",
            r#"Digest realm="proxy", nonce="p1", algorithm=MD5, qop="auth""#,
        ),
        (
            "WWW-Authenticate",
            r#"Digest realm="registrar", nonce="w1""#,
        ),
    ]);
    let mut a = Authenticator::new("bob", "zanzibar", 7);
    a.on_challenge(&Message::parse(&raw).unwrap()).unwrap();
    let hs = a.authorization("INVITE", "sip:alice@atlanta.com", b"");
    assert_eq!(hs.len(), 2);
    let p = header_value(&hs, HeaderName::ProxyAuthorization);
    assert_eq!(
        (p.algorithm, p.realm.as_str()),
        (Algorithm::Sha256, "proxy")
    );
    let w = header_value(&hs, HeaderName::Authorization);
    assert_eq!((w.algorithm, w.qop, w.nc), (Algorithm::Md5, None, None));
}

#[test]
fn unusable_challenges_are_reported() {
    let mut a = Authenticator::new("bob", "zanzibar", 7);
    for raw in [
        response_401(&[]),
        response_401(&[("WWW-Authenticate", r#"Basic realm="x""#)]),
        response_401(&[(
            "WWW-Authenticate",
            r#"Digest realm="x", nonce="y", algorithm=SHA-1"#,
        )]),
    ] {
        assert!(matches!(
            a.on_challenge(&Message::parse(&raw).unwrap()),
            Err(AuthError::NoUsableChallenge(_))
        ));
    }
    assert!(!a.has_credentials());
}
