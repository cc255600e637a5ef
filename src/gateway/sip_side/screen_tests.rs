//! The screen inside a [`SipSide`], fed raw INVITEs from chosen sources and transports.

use super::super::{PortEvent, SipSide};
use crate::call::SipEvent;
use crate::config::Loaded;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use testkit::config::Conf;
use tipring_sip::Message;
use tipring_sip::transaction::{Peer, Transport};
use tipring_sip::ua::HostTable;

const GW: &str = "127.0.12.1:5060";
const TRUSTED: &str = "127.0.12.3";
const PROXY: &str = "127.0.12.4";
const STRANGER: &str = "127.0.12.66";

/// The sim board (FXS 0 = 201, FXS 1 = 202, FXO 2 and 3) at [`GW`] over UDP and TCP with
/// an account whose proxy is [`PROXY`]; `more` adds trusted peers and `[security]` fields.
fn gateway(more: impl FnOnce(Conf) -> Conf) -> SipSide {
    let conf = Conf::new(GW.parse().unwrap())
        .tcp()
        .account("pbx", &format!("proxy = \"sip:{PROXY}:5060\""))
        .ports(&super::super::tests::sim_ports(2));
    let text = more(conf).render();
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let cfg: Loaded = crate::config::load_str("screen.toml", &text, &board).expect("valid");
    let local: SocketAddr = GW.parse().unwrap();
    let rtp = (0..4u8)
        .map(|i| (i, SocketAddr::new(local.ip(), 41000 + 2 * u16::from(i))))
        .collect();
    SipSide::new(&cfg, local, &rtp, Some(5), HostTable::new()).expect("side")
}

/// An INVITE for `user`, as sent from `sent_by` (its Via) with this Call-ID and branch.
fn invite(user: &str, call_id: &str, branch: &str, sent_by: &str, transport: Transport) -> Vec<u8> {
    let t = transport.via_token();
    format!(
        "INVITE sip:{user}@{GW} SIP/2.0\r\nVia: SIP/2.0/{t} {sent_by};branch=z9hG4bK{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:caller@{sent_by}>;tag=f{branch}{sent_by}\r\n\
         To: <sip:{user}@{GW}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:caller@{sent_by}>\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn peer(ip: &str, transport: Transport) -> Peer {
    Peer {
        transport,
        addr: SocketAddr::new(ip.parse().unwrap(), 5060),
    }
}

/// What `side` sent and reported after `bytes` arrived from `from`: the status codes of
/// its responses, and the ports whose machines heard of a call.
fn deliver(side: &mut SipSide, now: Instant, bytes: &[u8], from: Peer) -> (Vec<u16>, Vec<u8>) {
    side.handle_message(now, bytes, from);
    let codes = std::iter::from_fn(|| side.poll_transmit())
        .filter_map(|t| Message::parse(&t.bytes).ok().and_then(|m| m.status()))
        .collect();
    let ports = std::iter::from_fn(|| side.poll_event())
        .filter_map(|e| match e {
            PortEvent::Call {
                port,
                event: SipEvent::IncomingCall { .. },
            } => Some(port),
            _ => None,
        })
        .collect();
    (codes, ports)
}

#[test]
fn replayed_call_id_and_branch_from_elsewhere_is_screened_afresh() {
    let mut gw = gateway(|c| c.trust(TRUSTED));
    let now = Instant::now();
    let udp = Transport::Udp;
    let first = invite("5551234", "c1@peer", "b1", &format!("{TRUSTED}:5060"), udp);
    let (codes, ports) = deliver(&mut gw, now, &first, peer(TRUSTED, udp));
    assert_eq!(
        ports,
        vec![2],
        "the trusted peer's call seizes the first line"
    );
    assert!(codes.iter().all(|&c| c < 200), "{codes:?}");
    // Its retransmission is the transaction layer's: absorbed, no second call.
    let (codes, ports) = deliver(&mut gw, now, &first, peer(TRUSTED, udp));
    assert!(
        ports.is_empty() && codes.iter().all(|&c| c < 200),
        "{codes:?}"
    );
    // The same Call-ID and branch from an untrusted source, another sent-by and another
    // Request-URI: a new INVITE, refused.
    let replay = invite(
        "19005550199",
        "c1@peer",
        "b1",
        &format!("{STRANGER}:5070"),
        udp,
    );
    let (codes, ports) = deliver(&mut gw, now, &replay, peer(STRANGER, udp));
    assert_eq!(codes, vec![403]);
    assert!(ports.is_empty(), "the second line is never seized");
    assert!(!gw.port_busy(3));
    // Same sent-by as the trusted peer, but from the stranger's address and another
    // Request-URI: still refused (the transaction matched only if the branch, sent-by
    // and method are all the same, and then it is absorbed without a call).
    let forged = invite(
        "19005550199",
        "c1@peer",
        "b2",
        &format!("{TRUSTED}:5060"),
        udp,
    );
    let (codes, ports) = deliver(&mut gw, now, &forged, peer(STRANGER, udp));
    assert_eq!((codes, ports), (vec![403], vec![]));
}

#[test]
fn trust_bound_to_tcp_does_not_hold_over_udp() {
    let mut gw = gateway(|c| c.trust_bound(TRUSTED, "tcp"));
    let now = Instant::now();
    let over_udp = invite(
        "5551234",
        "u@x",
        "u1",
        &format!("{TRUSTED}:5060"),
        Transport::Udp,
    );
    let (codes, ports) = deliver(&mut gw, now, &over_udp, peer(TRUSTED, Transport::Udp));
    assert_eq!((codes, ports), (vec![403], vec![]));
    let over_tcp = invite(
        "5551234",
        "t@x",
        "t1",
        &format!("{TRUSTED}:5060"),
        Transport::Tcp,
    );
    let (_, ports) = deliver(&mut gw, now, &over_tcp, peer(TRUSTED, Transport::Tcp));
    assert_eq!(ports, vec![2]);
}

#[test]
fn plain_trust_holds_over_any_transport() {
    let mut gw = gateway(|c| c.trust(TRUSTED));
    let now = Instant::now();
    let m = invite(
        "5551234",
        "u@x",
        "u1",
        &format!("{TRUSTED}:5060"),
        Transport::Udp,
    );
    assert_eq!(
        deliver(&mut gw, now, &m, peer(TRUSTED, Transport::Udp)).1,
        vec![2]
    );
}

#[test]
fn fxs_ports_ring_for_the_proxy_and_trusted_peers_by_default() {
    let mut gw = gateway(|c| c.trust(TRUSTED));
    let now = Instant::now();
    let udp = Transport::Udp;
    let scan = invite("201", "s@x", "s1", &format!("{STRANGER}:5060"), udp);
    assert_eq!(
        deliver(&mut gw, now, &scan, peer(STRANGER, udp)),
        (vec![403], vec![])
    );
    let from_proxy = invite("201", "p@x", "p1", &format!("{PROXY}:5060"), udp);
    assert_eq!(
        deliver(&mut gw, now, &from_proxy, peer(PROXY, udp)).1,
        vec![0]
    );
    let from_peer = invite("202", "t@x", "t1", &format!("{TRUSTED}:5060"), udp);
    assert_eq!(
        deliver(&mut gw, now, &from_peer, peer(TRUSTED, udp)).1,
        vec![1]
    );
}

#[test]
fn fxs_trusted_policy_refuses_the_proxy_and_any_lets_everyone_ring() {
    let now = Instant::now();
    let udp = Transport::Udp;
    let mut gw = gateway(|c| c.trust(TRUSTED).security("fxs_inbound = \"trusted\"\n"));
    let from_proxy = invite("201", "p@x", "p1", &format!("{PROXY}:5060"), udp);
    assert_eq!(
        deliver(&mut gw, now, &from_proxy, peer(PROXY, udp)),
        (vec![403], vec![])
    );
    let mut gw = gateway(|c| c.trust(TRUSTED).security("fxs_inbound = \"any\"\n"));
    let scan = invite("201", "s@x", "s1", &format!("{STRANGER}:5060"), udp);
    assert_eq!(deliver(&mut gw, now, &scan, peer(STRANGER, udp)).1, vec![0]);
}

#[test]
fn fxs_refusal_challenges_when_credentials_are_configured() {
    let mut gw = gateway(|c| {
        c.security(
            "inbound_auth = [{ username = \"trunk\", password = \"long-enough\" }]\nrealm = \"gw\"\n",
        )
    });
    let now = Instant::now();
    let scan = invite(
        "201",
        "s@x",
        "s1",
        &format!("{STRANGER}:5060"),
        Transport::Udp,
    );
    let (codes, ports) = deliver(&mut gw, now, &scan, peer(STRANGER, Transport::Udp));
    assert_eq!((codes, ports), (vec![401], vec![]));
}

#[test]
fn unknown_user_gets_one_stateless_404_and_nothing_else() {
    let mut gw = gateway(|c| c.trust(TRUSTED));
    let now = Instant::now();
    let m = invite(
        "nobody",
        "n@x",
        "n1",
        &format!("{TRUSTED}:5060"),
        Transport::Udp,
    );
    let (codes, ports) = deliver(&mut gw, now, &m, peer(TRUSTED, Transport::Udp));
    assert_eq!((codes, ports), (vec![404], vec![]), "no 100 Trying first");
    // No transaction was made: no timer, nothing retransmitted later.
    assert_eq!(gw.poll_timeout(), None);
    gw.handle_timeout(now + Duration::from_secs(40));
    assert!(gw.poll_transmit().is_none());
    // A retransmission gets the same single answer.
    let (codes, _) = deliver(&mut gw, now, &m, peer(TRUSTED, Transport::Udp));
    assert_eq!(codes, vec![404]);
}
