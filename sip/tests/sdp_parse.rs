//! SDP parsing and building (RFC 8866): the RFC 5118 torture bodies, typed errors naming
//! line and field, build -> parse round trips, and arbitrary bytes that must never panic.

use proptest::prelude::*;
use std::borrow::Cow;
use tipring_sip::Message;
use tipring_sip::sdp::{
    AddrType, Attribute, Connection, Direction, EventSet, Line, Media, Origin, Rtpmap,
    SessionDescription,
};

fn rfc5118(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/rfc5118/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The whole body after the empty line. The Content-Length values printed in RFC 5118 are
/// short of the bodies (241 for 251 bytes in ipv6-in-sdp), so `Message::body()` would cut
/// the last rtpmap; the SDP under test is the one the RFC shows.
fn whole_body(raw: &[u8]) -> &[u8] {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("empty line");
    &raw[at + 4..]
}

#[test]
fn rfc5118_ipv6_in_sdp_parses() {
    let raw = rfc5118("ipv6-in-sdp.dat");
    let msg = Message::parse(&raw).expect("message parses");
    assert!(msg.content_type().unwrap().is("application", "sdp"));
    let sd = SessionDescription::parse(whole_body(&raw)).expect("SDP parses");
    assert_eq!(sd.origin.session_id, "971731711378798081");
    assert_eq!(sd.origin.connection.addr_type, AddrType::Ip6);
    let c = sd.connection.as_ref().expect("session c=");
    assert_eq!(c.addr_type, AddrType::Ip6);
    assert_eq!(c.ip_addr(), Some("2001:db8::20".parse().unwrap()));
    assert_eq!(sd.times, vec![(3338481189, 3370017201)]);
    assert_eq!(sd.media.len(), 2);
    assert_eq!(sd.media[0].port, 6000);
    assert_eq!(sd.media[0].rtpmap(2).unwrap().encoding, "G726-32");
    assert_eq!(sd.media[1].media, "video");
    assert_eq!(sd.media[1].rtpmap(107).unwrap().clock_rate, 90000);
}

#[test]
fn rfc5118_mult_ip_in_sdp_parses() {
    let raw = rfc5118("mult-ip-in-sdp.dat");
    let msg = Message::parse(&raw).expect("message parses");
    assert!(msg.content_type().unwrap().is("application", "sdp"));
    let sd = SessionDescription::parse(whole_body(&raw)).expect("SDP parses");
    assert_eq!(sd.name, "");
    assert!(sd.connection.is_none());
    let a = &sd.media[0];
    let v = &sd.media[1];
    assert_eq!(
        sd.media_connection(a).unwrap().ip_addr(),
        Some("192.0.2.1".parse().unwrap())
    );
    assert_eq!(sd.media_connection(v).unwrap().addr_type, AddrType::Ip6);
    assert_eq!(
        sd.media_connection(v).unwrap().ip_addr(),
        Some("2001:db8::1".parse().unwrap())
    );
    // and what we build from it parses to the same thing
    let again = sd.to_string();
    assert_eq!(SessionDescription::parse(again.as_bytes()).unwrap(), sd);
}

/// RFC 4317 §2.1 style offer with every line kind a gateway acts on.
const FULL: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n\
s=-\r\n\
i=A call\r\n\
c=IN IP4 192.0.2.101\r\n\
b=AS:64\r\n\
t=0 0\r\n\
a=sendrecv\r\n\
m=audio 49170 RTP/AVP 0 8 97 101\r\n\
b=TIAS:64000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:97 iLBC/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:40\r\n\
a=sendonly\r\n\
a=rtcp:53020 IN IP4 192.0.2.102\r\n\
a=x-unknown:some value\r\n\
a=flag\r\n\
m=video 0 RTP/AVP 31\r\n";

#[test]
fn full_offer_fields_are_typed_and_emit_byte_exact() {
    let sd = SessionDescription::parse(FULL.as_bytes()).unwrap();
    assert_eq!(sd.origin.session_version, 2890844526);
    assert_eq!(sd.direction(), Some(Direction::SendRecv));
    let m = &sd.media[0];
    assert_eq!(m.payload_types().collect::<Vec<_>>(), vec![0, 8, 97, 101]);
    assert_eq!(m.fmtp(101), Some("0-16"));
    assert_eq!(m.telephone_events(101), Some(EventSet::range(0, 16)));
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.max_ptime(), Some(40));
    assert_eq!(m.direction(), Some(Direction::SendOnly));
    assert_eq!(sd.media_direction(m), Direction::SendOnly);
    assert_eq!(sd.media_direction(&sd.media[1]), Direction::SendRecv);
    let (port, conn) = m.rtcp().unwrap();
    assert_eq!(port, 53020);
    assert_eq!(
        conn.unwrap().ip_addr(),
        Some("192.0.2.102".parse().unwrap())
    );
    assert!(m.attributes.contains(&Attribute::Other {
        name: Cow::Borrowed("x-unknown"),
        value: Some(Cow::Borrowed("some value"))
    }));
    assert_eq!(sd.media[1].port, 0);
    assert_eq!(sd.to_string(), FULL);
}

#[test]
fn bare_lf_and_missing_t_are_tolerated() {
    let sd = SessionDescription::parse(
        b"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n",
    )
    .unwrap();
    assert!(sd.times.is_empty());
    assert!(sd.to_string().contains("t=0 0\r\n"));
}

#[test]
fn errors_name_line_and_field() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 2, "v="),
        ("v=1\r\n", 1, "v="),
        ("o=- 1 1 IN IP4 a\r\n", 1, "v="),
        ("v=0\r\no=- x 1 IN IP4 a\r\ns=-\r\n", 2, "o= sess-id"),
        (
            "v=0\r\no=- 1 99999999999999999999999 IN IP4 a\r\ns=-\r\n",
            2,
            "o= sess-version",
        ),
        ("v=0\r\no=- 1 1 IN IP4 a\r\n", 4, "s="),
        ("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP5 a\r\n", 4, "c="),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 300.1.1.1\r\n",
            4,
            "c=",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP6 2001:db8::zz\r\n",
            4,
            "c=",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n",
            4,
            "m= port",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP\r\n",
            4,
            "m= fmt",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 200\r\n",
            4,
            "m= fmt",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
            5,
            "a=rtpmap clock rate",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:x\r\n",
            5,
            "a=ptime",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\nt=0 0\r\n",
            5,
            "line",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nthis is not sdp\r\n",
            4,
            "line",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=0\r\n",
            4,
            "t= stop-time",
        ),
    ];
    for (text, line, field) in cases {
        let e = SessionDescription::parse(text.as_bytes())
            .expect_err(&format!("{text:?} must not parse"));
        assert_eq!((e.line, e.field), (*line, *field), "{text:?}: {e}");
    }
    let e = SessionDescription::parse(b"v=0\r\no=- 1 1 IN IP4 a\r\ns=\xff\r\n").unwrap_err();
    assert_eq!(e.line, 3);
}

fn arb_connection() -> impl Strategy<Value = Connection<'static>> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Connection::ip(std::net::Ipv4Addr::from(b).into())),
        any::<[u16; 8]>().prop_map(|b| Connection::ip(std::net::Ipv6Addr::from(b).into())),
        "[a-z]{1,8}\\.example\\.com".prop_map(|h| Connection {
            addr_type: AddrType::Ip4,
            address: Cow::Owned(h)
        }),
    ]
}

fn arb_attribute() -> impl Strategy<Value = Attribute<'static>> {
    prop_oneof![
        (
            0u8..128,
            "[A-Za-z0-9-]{1,12}",
            1u32..100_000,
            proptest::option::of(1u16..8)
        )
            .prop_map(|(pt, e, r, c)| Attribute::Rtpmap(Rtpmap {
                payload_type: pt,
                encoding: Cow::Owned(e),
                clock_rate: r,
                channels: c
            })),
        (0u8..128, "[0-9a-z=;,-]{0,16}").prop_map(|(pt, p)| Attribute::Fmtp {
            payload_type: pt,
            params: Cow::Owned(p)
        }),
        any::<u32>().prop_map(Attribute::Ptime),
        any::<u32>().prop_map(Attribute::MaxPtime),
        prop_oneof![
            Just(Direction::SendRecv),
            Just(Direction::SendOnly),
            Just(Direction::RecvOnly),
            Just(Direction::Inactive)
        ]
        .prop_map(Attribute::Direction),
        (any::<u16>(), proptest::option::of(arb_connection()))
            .prop_map(|(port, connection)| Attribute::Rtcp { port, connection }),
        ("x-[a-z]{1,8}", proptest::option::of("[ -~]{0,20}")).prop_map(|(n, v)| {
            Attribute::Other {
                name: Cow::Owned(n),
                value: v.map(Cow::Owned),
            }
        }),
    ]
}

fn arb_media() -> impl Strategy<Value = Media<'static>> {
    (
        any::<u16>(),
        proptest::collection::vec(0u8..128, 1..6),
        proptest::option::of(arb_connection()),
        proptest::collection::vec(arb_attribute(), 0..6),
        proptest::option::of("[ -~]{0,20}"),
    )
        .prop_map(|(port, pts, connection, attributes, info)| {
            let mut m = Media::audio(port, &pts);
            m.connection = connection;
            m.attributes = attributes;
            m.other = info
                .map(|i| Line {
                    kind: 'i',
                    value: Cow::Owned(i),
                })
                .into_iter()
                .collect();
            m
        })
}

fn arb_session() -> impl Strategy<Value = SessionDescription<'static>> {
    (
        "[a-z-]{1,10}",
        "[0-9]{1,24}",
        any::<u64>(),
        arb_connection(),
        "[ -~]{0,30}",
        proptest::option::of(arb_connection()),
        proptest::collection::vec((any::<u64>(), any::<u64>()), 1..3),
        proptest::collection::vec(arb_attribute(), 0..4),
        proptest::collection::vec(arb_media(), 0..4),
    )
        .prop_map(
            |(user, id, version, oc, name, connection, times, attributes, media)| {
                SessionDescription {
                    origin: Origin {
                        username: Cow::Owned(user),
                        session_id: Cow::Owned(id),
                        session_version: version,
                        connection: oc,
                    },
                    name: Cow::Owned(name),
                    connection,
                    times,
                    attributes,
                    other: Vec::new(),
                    media,
                }
            },
        )
}

proptest! {
    #[test]
    fn build_then_parse_round_trips(sd in arb_session()) {
        let text = sd.to_string();
        let back = SessionDescription::parse(text.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, sd);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(sd) = SessionDescription::parse(&bytes) {
            let text = sd.to_string();
            let again = SessionDescription::parse(text.as_bytes());
            prop_assert!(again.is_ok(), "re-parse failed: {:?}\n{}", again, text);
        }
    }

    #[test]
    fn sdp_like_text_never_panics(lines in proptest::collection::vec(
        "[vosctmab]=[ -~]{0,40}", 0..12)) {
        let mut text = String::from("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");
        for l in &lines {
            text.push_str(l);
            text.push_str("\r\n");
        }
        if let Ok(sd) = SessionDescription::parse(text.as_bytes()) {
            let out = sd.to_string();
            prop_assert!(SessionDescription::parse(out.as_bytes()).is_ok(), "{}", out);
        }
    }
}
