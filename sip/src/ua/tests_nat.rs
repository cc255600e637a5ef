//! A registration behind a NAT against a scripted registrar: the address learnt from
//! `received`/`rport` (RFC 3581), keepalives (RFC 5626 §4.4.1, OPTIONS), and renewal when
//! the mapping changes.

use super::nat::{Keepalive, KeepaliveKind, NatMode};
use super::tests::{evs, next_send, peer, reply, sent, starts, ua};
use super::*;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

/// `req` as a registrar behind the NAT saw it: its top Via given `received` and `rport`.
fn natted(req: &[u8], at: &str) -> Vec<u8> {
    let (ip, port) = at.rsplit_once(':').unwrap();
    let text = String::from_utf8_lossy(req);
    let (head, rest) = text.split_once(";rport").expect("our Via asks for rport");
    format!("{head};received={ip};rport={port}{rest}").into_bytes()
}

/// The 200 to `req` as a registrar behind a NAT at `at` sends it.
fn ok_from(req: &[u8], at: &str) -> Vec<u8> {
    reply(&natted(req, at), 200, Some("r"), "", &[("Expires", "600")])
}

fn contacts(m: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(m)
        .lines()
        .filter_map(|l| l.strip_prefix("Contact: ").map(str::to_owned))
        .collect()
}

fn registering(mode: NatMode, keepalive: Option<Keepalive>) -> (Ua, RegHandle, Vec<u8>) {
    let mut a = ua(A, 3);
    let mut cfg = RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}"));
    cfg.nat = mode;
    cfg.keepalive = keepalive;
    let r = a.register(Instant::now(), cfg).unwrap();
    let reg = sent(&mut a).remove(0);
    (a, r, reg)
}

#[test]
fn learn_mode_re_registers_at_the_address_seen_and_removes_the_local_binding() {
    let (mut a, r, reg) = registering(NatMode::Learn, None);
    let now = Instant::now();
    a.handle_message(now, &ok_from(&reg, "198.51.100.7:40312"), peer(B));
    let ev = evs(&mut a);
    assert!(ev.contains(&UaEvent::SeenAt {
        reg: r,
        addr: "198.51.100.7:40312".parse().unwrap()
    }));
    let again = sent(&mut a);
    assert_eq!(starts(&again), [format!("REGISTER sip:{B} SIP/2.0")]);
    assert_eq!(
        contacts(&again[0]),
        [
            "<sip:u@198.51.100.7:40312>".to_owned(),
            format!("<sip:u@{A}>;expires=0")
        ]
    );
    a.handle_message(now, &ok_from(&again[0], "198.51.100.7:40312"), peer(B));
    assert!(sent(&mut a).is_empty(), "settled: no third REGISTER");
    assert_eq!(a.reg_state(r), Some(RegState::Registered));
    // The dialogs' Contact is the public address too.
    a.call(now, "sip:x@192.0.2.9", &format!("sip:u@{A}"), vec![])
        .unwrap();
    let invite = sent(&mut a).remove(0);
    assert_eq!(contacts(&invite), ["<sip:u@198.51.100.7:40312>"]);
}

#[test]
fn registrar_mode_keeps_the_local_contact() {
    let (mut a, r, reg) = registering(NatMode::Registrar, None);
    let now = Instant::now();
    a.handle_message(now, &ok_from(&reg, "198.51.100.7:40312"), peer(B));
    assert!(sent(&mut a).is_empty());
    assert!(
        !evs(&mut a)
            .iter()
            .any(|e| matches!(e, UaEvent::SeenAt { .. }))
    );
    assert_eq!(a.reg_state(r), Some(RegState::Registered));
}

#[test]
fn options_keepalives_find_a_new_mapping_and_renew_the_binding_at_once() {
    let ka = Keepalive {
        interval: Duration::from_secs(20),
        kind: KeepaliveKind::Options,
    };
    let (mut a, r, reg) = registering(NatMode::Registrar, Some(ka));
    let t0 = Instant::now();
    a.handle_message(t0, &ok_from(&reg, "198.51.100.7:40312"), peer(B));
    let (at, ping) = next_send(&mut a);
    assert_eq!(at - t0, Duration::from_secs(20));
    assert_eq!(starts(&ping), [format!("OPTIONS sip:{B} SIP/2.0")]);
    // Same mapping: nothing more.
    a.handle_message(at, &ok_from(&ping[0], "198.51.100.7:40312"), peer(B));
    assert!(sent(&mut a).is_empty());
    // The NAT forgot us and mapped the flow anew: REGISTER now, not at the refresh.
    let (at, ping) = next_send(&mut a);
    assert_eq!(at - t0, Duration::from_secs(40));
    a.handle_message(at, &ok_from(&ping[0], "198.51.100.7:41999"), peer(B));
    let renew = sent(&mut a);
    assert_eq!(starts(&renew), [format!("REGISTER sip:{B} SIP/2.0")]);
    assert!(evs(&mut a).contains(&UaEvent::SeenAt {
        reg: r,
        addr: "198.51.100.7:41999".parse().unwrap()
    }));
    // Answers that say a new address every time get one REGISTER per 5 s, no more.
    let mut registers = 0;
    let mut last = renew[0].clone();
    for i in 0..50u16 {
        let now = at + Duration::from_millis(100 * u64::from(i));
        a.handle_message(
            now,
            &ok_from(&last, &format!("198.51.100.7:{}", 42000 + i)),
            peer(B),
        );
        for m in sent(&mut a) {
            registers += 1;
            last = m;
        }
    }
    assert!(registers <= 1, "{registers} REGISTERs in 5 s");
}

#[test]
fn a_keepalive_without_an_answer_renews_the_binding() {
    let ka = Keepalive {
        interval: Duration::from_secs(20),
        kind: KeepaliveKind::Options,
    };
    let (mut a, _r, reg) = registering(NatMode::Registrar, Some(ka));
    let t0 = Instant::now();
    a.handle_message(t0, &ok_from(&reg, "198.51.100.7:40312"), peer(B));
    // The OPTIONS and its retransmissions go unanswered until Timer F (64*T1 = 32 s).
    loop {
        let (at, out) = next_send(&mut a);
        let first = starts(&out).remove(0);
        if first.starts_with("REGISTER") {
            assert_eq!(at - t0, Duration::from_secs(20 + 32));
            break;
        }
        assert!(first.starts_with("OPTIONS"), "{first}");
        assert!(at - t0 < Duration::from_secs(20 + 32));
    }
}

#[test]
fn crlf_keepalives_go_to_the_registrar_while_registered() {
    let ka = Keepalive {
        interval: Duration::from_secs(15),
        kind: KeepaliveKind::Crlf,
    };
    let (mut a, _r, reg) = registering(NatMode::Registrar, Some(ka));
    let t0 = Instant::now();
    a.handle_message(t0, &ok_from(&reg, "198.51.100.7:40312"), peer(B));
    for n in 1..=3u64 {
        let (t, out) = next_send(&mut a);
        assert_eq!(t - t0, Duration::from_secs(15 * n));
        assert_eq!(out, [b"\r\n\r\n".to_vec()]);
    }
}
