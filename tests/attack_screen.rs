//! Attacks on the admission of new INVITEs, against `tipring run` on a simulated card
//! (loopback 127.0.12.0/24, one test at a time): what the card saw is asserted, never the
//! gateway's log.
//!
//! - Admission replay: a trusted peer's INVITE seizes the first FXO line; the same Call-ID
//!   and top-Via branch sent from an untrusted address with another sent-by, From tag and
//!   Request-URI gets 403 and the second line is never seized.
//! - Forged source over UDP: an INVITE that claims the trusted address (sent from it; a
//!   spoofer off the box writes the same packet) is admitted when the trust is a plain
//!   address, since UDP trust is source-address trust. With the entry bound to
//!   `transport = "tcp"`, the same INVITE and its ACK over UDP are refused and the line is
//!   never seized, while the peer's INVITE over a TCP connection is admitted.
//! - Ghost calls: an INVITE for a phone's number from a stranger gets 403 and the phone
//!   never rings (`fxs_inbound = "proxy"`, the default).
//! - Cheap refusal: an INVITE for a user nobody answers to gets exactly one response
//!   (a stateless 404: no 100 Trying, no retransmission), counted over 2 s.

mod common;

use common::gateway::{Conf, commands, run, seized, serial, start, wait_exit_ok};
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use testkit::testbed::{Node, TempDir};
use tipring_hal::model::Command;

const TRUSTED: [u8; 4] = [127, 0, 12, 3];
const STRANGER: [u8; 4] = [127, 0, 12, 66];

fn gw_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 12, 1], port))
}

/// The phone on FXS port 0 (number 201) and two FXO lines (2, 3) dialling any number sent
/// (`dial_allow = "x."`: here only the screen stands between a caller and a line).
fn ports() -> String {
    let fxo = |i: u8| {
        format!(
            "[[ports]]\nindex = {i}\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:100@127.0.12.3:5060\"\ndial_allow = \"x.\"\n"
        )
    };
    format!(
        "{}{}{}",
        common::gateway::fxs("201", "Hall"),
        fxo(2),
        fxo(3)
    )
}

/// An INVITE to `user` at `gw`, as written by a UA at `sent_by` over `transport`.
fn invite(
    gw: SocketAddr,
    user: &str,
    call_id: &str,
    branch: &str,
    sent_by: SocketAddr,
    transport: &str,
    from_tag: &str,
) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.12.3\r\ns=-\r\nc=IN IP4 127.0.12.3\r\nt=0 0\r\n\
               m=audio 41000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:{user}@{gw} SIP/2.0\r\nVia: SIP/2.0/{transport} {sent_by};branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:caller@{sent_by}>;tag={from_tag}\r\nTo: <sip:{user}@{gw}>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{sent_by}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// The ACK a blind attacker would send after his INVITE (he cannot know the To tag).
fn ack(gw: SocketAddr, user: &str, call_id: &str, branch: &str, sent_by: SocketAddr) -> Vec<u8> {
    format!(
        "ACK sip:{user}@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP {sent_by};branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:caller@{sent_by}>;tag=forged\r\nTo: <sip:{user}@{gw}>;tag=guess\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A UDP socket at `ip` (any port) that waits at most 100 ms per read.
fn udp_at(ip: [u8; 4]) -> UdpSocket {
    let s = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

/// The status codes of every SIP response `s` receives within `d`.
fn responses(s: &UdpSocket, d: Duration) -> Vec<u16> {
    let end = Instant::now() + d;
    let mut buf = [0u8; 4096];
    let mut codes = Vec::new();
    while Instant::now() < end {
        if let Ok((n, _)) = s.recv_from(&mut buf)
            && let Some(code) = std::str::from_utf8(&buf[..n])
                .ok()
                .and_then(|t| t.strip_prefix("SIP/2.0 "))
                .and_then(|t| t.get(..3))
                .and_then(|c| c.parse().ok())
        {
            codes.push(code);
        }
    }
    codes
}

/// Waits up to `limit` for `g`'s FXO line `port` to be seized.
fn seized_within(g: &Node, port: u8, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if seized(g, port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn seizes(g: &Node, port: u8) -> usize {
    commands(g, port)
        .iter()
        .filter(|c| matches!(c, Command::Seize))
        .count()
}

#[test]
fn admission_replay_from_an_untrusted_source_never_seizes_the_second_line() {
    let _serial = serial();
    let tmp = TempDir::new("attack-replay").expect("temp dir");
    let gw = gw_addr(25120);
    let conf = Conf::new(gw).ports(&ports()).trust("127.0.12.3");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 121);
    let peer = udp_at(TRUSTED);
    let me = peer.local_addr().unwrap();
    let branch = "z9hG4bKreplay1";
    let first = invite(gw, "5551234", "replay@peer", branch, me, "UDP", "t1");
    peer.send_to(&first, gw).unwrap();
    assert!(
        seized_within(&g, 2, Duration::from_secs(5)),
        "the trusted peer's call seizes line 2"
    );
    // The attacker copies Call-ID and branch, from his own address and sent-by, with his
    // own From tag and a premium number.
    let attacker = udp_at(STRANGER);
    let his = attacker.local_addr().unwrap();
    let replay = invite(gw, "19005550199", "replay@peer", branch, his, "UDP", "evil");
    attacker.send_to(&replay, gw).unwrap();
    let codes = responses(&attacker, Duration::from_secs(2));
    assert_eq!(codes, vec![403], "one stateless refusal, no 100 Trying");
    assert!(!seized(&g, 3), "line 3 was seized");
    assert_eq!(
        seizes(&g, 3),
        0,
        "no Seize reached line 3: {:?}",
        commands(&g, 3)
    );
    wait_exit_ok(&mut g);
}

#[test]
fn forged_trusted_source_over_udp_passes_plain_trust_but_not_tcp_bound_trust() {
    let _serial = serial();
    let tmp = TempDir::new("attack-forged").expect("temp dir");
    // Plain (source-address) trust: a packet claiming the trusted address is admitted.
    // This is what UDP trust cannot stop; the shipped configuration trusts loopback only.
    let gw = gw_addr(25121);
    let conf = Conf::new(gw).ports(&ports()).trust("127.0.12.3");
    let mut g = start("gw", &tmp.0.join("udp"), gw, &conf, 122);
    let forged = udp_at(TRUSTED);
    let me = forged.local_addr().unwrap();
    forged
        .send_to(
            &invite(gw, "5551234", "f1@x", "z9hG4bKf1", me, "UDP", "f"),
            gw,
        )
        .unwrap();
    assert!(
        seized_within(&g, 2, Duration::from_secs(5)),
        "UDP trust is source-address trust: the forged INVITE is admitted"
    );
    wait_exit_ok(&mut g);

    // Trust bound to TCP: the same INVITE and its ACK over UDP are refused.
    let gw = gw_addr(25122);
    let conf = Conf::new(gw)
        .tcp()
        .ports(&ports())
        .trust_bound("127.0.12.3", "tcp");
    let mut g = start("gw", &tmp.0.join("tcp"), gw, &conf, 123);
    let forged = udp_at(TRUSTED);
    let me = forged.local_addr().unwrap();
    forged
        .send_to(
            &invite(gw, "5551234", "f2@x", "z9hG4bKf2", me, "UDP", "f"),
            gw,
        )
        .unwrap();
    forged
        .send_to(&ack(gw, "5551234", "f2@x", "z9hG4bKf2", me), gw)
        .unwrap();
    assert_eq!(responses(&forged, Duration::from_secs(2)), vec![403]);
    assert_eq!(seizes(&g, 2) + seizes(&g, 3), 0, "no line seized over UDP");
    // The peer itself, over a TCP connection from its address, is admitted.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut conn = rt
        .block_on(async {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind(SocketAddr::from((TRUSTED, 0))).unwrap();
            s.connect(gw).await.expect("TCP connect")
        })
        .into_std()
        .unwrap();
    conn.set_nonblocking(false).unwrap();
    let me = conn.local_addr().unwrap();
    conn.write_all(&invite(gw, "5551234", "t@x", "z9hG4bKt1", me, "TCP", "t"))
        .unwrap();
    assert!(
        seized_within(&g, 2, Duration::from_secs(5)),
        "over TCP the bound trust holds"
    );
    conn.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = conn.read(&mut buf).unwrap_or(0);
    assert!(
        buf[..n].starts_with(b"SIP/2.0 1"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(conn);
    wait_exit_ok(&mut g);
}

#[test]
fn an_invite_for_a_phone_from_a_stranger_never_rings_it() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ghost").expect("temp dir");
    let gw = gw_addr(25123);
    let conf = Conf::new(gw).ports(&ports()).trust("127.0.12.3");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 124);
    let s = udp_at(STRANGER);
    let me = s.local_addr().unwrap();
    s.send_to(
        &invite(gw, "201", "ghost@x", "z9hG4bKg1", me, "UDP", "g"),
        gw,
    )
    .unwrap();
    assert_eq!(responses(&s, Duration::from_secs(2)), vec![403]);
    run(&g, "wait 300ms");
    let rings: Vec<Command> = commands(&g, 0)
        .into_iter()
        .filter(|c| matches!(c, Command::Ring(_)))
        .collect();
    assert_eq!(rings, vec![], "the phone rang");
    wait_exit_ok(&mut g);
}

#[test]
fn an_invite_for_an_unknown_user_gets_exactly_one_response() {
    let _serial = serial();
    let tmp = TempDir::new("attack-404").expect("temp dir");
    let gw = gw_addr(25124);
    let conf = Conf::new(gw).ports(&ports()).trust("127.0.12.3");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 125);
    let s = udp_at(STRANGER);
    let me = s.local_addr().unwrap();
    s.send_to(
        &invite(gw, "nobody", "u@x", "z9hG4bKu1", me, "UDP", "u"),
        gw,
    )
    .unwrap();
    let codes = responses(&s, Duration::from_secs(2));
    println!("responses to one INVITE for an unknown user in 2 s: {codes:?}");
    assert_eq!(codes, vec![404]);
    wait_exit_ok(&mut g);
}
