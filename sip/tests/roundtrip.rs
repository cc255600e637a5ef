//! Property tests: generated URIs, headers, requests and responses are built, serialised,
//! parsed, and must come back with the values they were built from (RFC 3261 §7, §19, §20).

use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use tipring_sip::header::{FromValue, Method, NameAddr, Rport, Via};
use tipring_sip::{Host, Message, MessageBuilder, Uri};

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z]([a-z0-9]{0,5}))?{0,3}".prop_map(|s| s),
        any::<[u8; 4]>().prop_map(|b| Ipv4Addr::from(b).to_string()),
        any::<u128>().prop_map(|v| format!("[{}]", Ipv6Addr::from(v))),
    ]
}

fn user() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9_.!~*'()&=+$,;?/-]|%[0-9A-F]{2}){1,12}"
}

fn uri_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::vec(
        (
            "[a-z][a-z0-9-]{0,6}",
            prop::option::of("[a-zA-Z0-9._~-]{1,8}"),
        ),
        0..4,
    )
}

/// A SIP URI as text plus the parts it was made of.
#[derive(Debug, Clone)]
struct UriParts {
    text: String,
    secure: bool,
    user: Option<String>,
    host: String,
    port: Option<u16>,
    params: Vec<(String, Option<String>)>,
    headers: Option<String>,
}

fn sip_uri() -> impl Strategy<Value = UriParts> {
    (
        any::<bool>(),
        prop::option::of(user()),
        host(),
        prop::option::of(any::<u16>()),
        uri_params(),
        prop::option::of("[a-z]{1,5}=[a-zA-Z0-9]{1,6}(&[a-z]{1,5}=[a-zA-Z0-9]{0,6}){0,2}"),
    )
        .prop_map(|(secure, user, host, port, params, headers)| {
            let mut text = String::from(if secure { "sips:" } else { "sip:" });
            if let Some(u) = &user {
                text.push_str(u);
                text.push('@');
            }
            text.push_str(&host);
            if let Some(p) = port {
                text.push_str(&format!(":{p}"));
            }
            for (n, v) in &params {
                text.push(';');
                text.push_str(n);
                if let Some(v) = v {
                    text.push('=');
                    text.push_str(v);
                }
            }
            if let Some(h) = &headers {
                text.push('?');
                text.push_str(h);
            }
            UriParts {
                text,
                secure,
                user,
                host,
                port,
                params,
                headers,
            }
        })
}

fn host_matches(h: &Host<'_>, text: &str) -> bool {
    match h {
        Host::Domain(d) => *d == text,
        Host::Ipv4(a) => a.to_string() == text,
        Host::Ipv6(a) => format!("[{a}]") == text,
    }
}

fn check_uri(u: &Uri<'_>, parts: &UriParts) {
    let Uri::Sip(s) = u else {
        panic!("not a SIP URI: {u:?}")
    };
    assert_eq!(s.secure, parts.secure);
    assert_eq!(s.user, parts.user.as_deref());
    assert!(
        host_matches(&s.host, &parts.host),
        "{:?} vs {}",
        s.host,
        parts.host
    );
    assert_eq!(s.port, parts.port);
    let params: Vec<_> = s
        .params
        .iter()
        .map(|p| (p.name.to_owned(), p.value.map(str::to_owned)))
        .collect();
    assert_eq!(params, parts.params);
    assert_eq!(s.headers, parts.headers.as_deref());
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("INVITE".to_owned()),
        Just("ACK".to_owned()),
        Just("BYE".to_owned()),
        Just("CANCEL".to_owned()),
        Just("REGISTER".to_owned()),
        Just("OPTIONS".to_owned()),
        "[A-Z][A-Z0-9]{0,10}",
    ]
}

/// A Via as text plus its parts.
#[derive(Debug, Clone)]
struct ViaParts {
    text: String,
    transport: String,
    host: String,
    port: Option<u16>,
    branch: String,
    received: Option<Ipv4Addr>,
    rport: Option<Option<u16>>,
}

fn via() -> impl Strategy<Value = ViaParts> {
    (
        prop_oneof![
            Just("UDP"),
            Just("TCP"),
            Just("TLS"),
            Just("SCTP"),
            Just("WS")
        ],
        host(),
        prop::option::of(1u16..),
        "z9hG4bK[a-zA-Z0-9.-]{1,16}",
        prop::option::of(any::<[u8; 4]>().prop_map(Ipv4Addr::from)),
        prop::option::of(prop::option::of(any::<u16>())),
    )
        .prop_map(|(transport, host, port, branch, received, rport)| {
            let mut text = format!("SIP/2.0/{transport} {host}");
            if let Some(p) = port {
                text.push_str(&format!(":{p}"));
            }
            text.push_str(&format!(";branch={branch}"));
            if let Some(r) = received {
                text.push_str(&format!(";received={r}"));
            }
            match rport {
                Some(Some(p)) => text.push_str(&format!(";rport={p}")),
                Some(None) => text.push_str(";rport"),
                None => {}
            }
            ViaParts {
                text,
                transport: transport.to_owned(),
                host,
                port,
                branch,
                received,
                rport,
            }
        })
}

fn display_name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "[A-Za-z][A-Za-z0-9]{0,8}( [A-Za-z][A-Za-z0-9]{0,8}){0,2}",
        "\"([a-zA-Z0-9 ,;:<>@]|\\\\\\\\|\\\\\")*\"",
    ])
}

fn raw_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        ("X-[A-Za-z][A-Za-z0-9-]{0,8}", "[!-~]([ -~]{0,28}[!-~])?"),
        0..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn uri_text_parses_to_its_parts_and_displays_back(parts in sip_uri()) {
        let u = Uri::parse(&parts.text).unwrap();
        check_uri(&u, &parts);
        let shown = u.to_string();
        let again = Uri::parse(&shown).unwrap();
        prop_assert_eq!(again, u);
        prop_assert!(again.equivalent(&u));
    }

    #[test]
    fn via_text_parses_to_its_parts(v in via()) {
        let parsed = Via::from_value(&v.text).unwrap();
        prop_assert_eq!(parsed.transport, v.transport.as_str());
        prop_assert!(host_matches(&parsed.host, &v.host));
        prop_assert_eq!(parsed.port, v.port);
        prop_assert_eq!(parsed.branch(), Some(v.branch.as_str()));
        prop_assert_eq!(parsed.received(), v.received.map(std::net::IpAddr::V4));
        prop_assert_eq!(parsed.rport(), v.rport.map(|p| p.map_or(Rport::Requested, Rport::Port)));
        let shown = parsed.to_string();
        prop_assert_eq!(Via::from_value(&shown).unwrap(), parsed);
    }

    #[test]
    fn built_request_parses_back(
        m in method(),
        ruri in sip_uri(),
        vias in prop::collection::vec(via(), 1..4),
        from_uri in sip_uri(),
        from_name in display_name(),
        from_tag in "[a-zA-Z0-9]{1,12}",
        to_uri in sip_uri(),
        call_id in "[a-zA-Z0-9.!%*_+-]{1,20}(@[a-z0-9.]{1,12})?",
        seq in 0u32..(1 << 31),
        max_fwd in any::<u8>(),
        extra in raw_headers(),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        // A Request-URI may not carry headers (RFC 3261 §19.1.1).
        prop_assume!(ruri.headers.is_none());
        let uri = Uri::parse(&ruri.text).unwrap();
        let method = Method::from_token(&m);
        let from_text = match &from_name {
            Some(d) => format!("{d} <{}>;tag={from_tag}", from_uri.text),
            None => format!("<{}>;tag={from_tag}", from_uri.text),
        };
        let from = NameAddr::from_value(&from_text).unwrap();
        let to_text = format!("<{}>", to_uri.text);
        let to = NameAddr::from_value(&to_text).unwrap();
        let parsed_vias: Vec<Via<'_>> = vias.iter().map(|v| Via::from_value(&v.text).unwrap()).collect();

        let mut b = MessageBuilder::request(method, &uri);
        for v in &parsed_vias {
            b = b.via(v);
        }
        b = b.max_forwards(max_fwd).from(&from).to(&to).call_id(&call_id).cseq(seq, method);
        for (n, v) in &extra {
            b = b.raw_header(n, v);
        }
        let bytes = b.body("application/octet-stream", &body);

        let msg = Message::parse(&bytes).unwrap();
        prop_assert_eq!(msg.method(), Some(method));
        check_uri(msg.request_uri().unwrap(), &ruri);
        prop_assert_eq!(msg.via().collect::<Vec<_>>(), parsed_vias);
        prop_assert_eq!(msg.from(), Some(&from));
        prop_assert_eq!(msg.from().unwrap().tag(), Some(from_tag.as_str()));
        check_uri(&msg.from().unwrap().uri, &from_uri);
        prop_assert_eq!(msg.to(), Some(&to));
        prop_assert_eq!(msg.call_id(), Some(call_id.as_str()));
        prop_assert_eq!(msg.cseq().map(|c| (c.seq, c.method)), Some((seq, method)));
        prop_assert_eq!(msg.max_forwards(), Some(max_fwd));
        for (n, v) in &extra {
            prop_assert!(msg.headers_named(n).any(|h| h.value == v), "{} missing", n);
        }
        prop_assert_eq!(msg.body(), &body[..]);
        msg.validate().unwrap();

        // And the parsed message serialises to bytes that parse to the same values.
        let out = msg.to_bytes();
        let again = Message::parse(&out).unwrap();
        prop_assert_eq!(again.start_line(), msg.start_line());
        prop_assert_eq!(again.via().collect::<Vec<_>>(), msg.via().collect::<Vec<_>>());
        prop_assert_eq!(again.from(), msg.from());
        prop_assert_eq!(again.to(), msg.to());
        prop_assert_eq!(again.body(), msg.body());
    }

    #[test]
    fn built_response_parses_back(
        code in 100u16..700,
        reason in "[A-Za-z][A-Za-z ]{0,20}",
        v in via(),
        to_tag in prop::option::of("[a-zA-Z0-9]{1,12}"),
        seq in 0u32..(1 << 31),
    ) {
        let via = Via::from_value(&v.text).unwrap();
        let req_bytes = MessageBuilder::request(Method::Invite, &Uri::parse("sip:gw@192.0.2.1").unwrap())
            .via(&via)
            .from(&NameAddr::from_value("<sip:a@example.com>;tag=1").unwrap())
            .to(&NameAddr::from_value("<sip:gw@192.0.2.1>").unwrap())
            .call_id("c@x")
            .cseq(seq, Method::Invite)
            .finish();
        let req = Message::parse(&req_bytes).unwrap();
        let bytes = MessageBuilder::response_to(&req, code, &reason, to_tag.as_deref()).finish();
        let r = Message::parse(&bytes).unwrap();
        prop_assert_eq!(r.status(), Some(code));
        prop_assert_eq!(r.top_via(), Some(&via));
        prop_assert_eq!(r.to().unwrap().tag(), to_tag.as_deref());
        prop_assert_eq!(r.cseq(), req.cseq());
        prop_assert_eq!(r.call_id(), Some("c@x"));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(m) = Message::parse(&data) {
            let _ = m.validate();
            let _ = Message::parse(&m.to_bytes());
        }
    }
}
