//! The UA core's bounds under a flood of INVITEs with fresh Call-IDs: calls and server
//! transactions are capped (503 with Retry-After beyond), and with single refusal an
//! INVITE refused before any provisional response costs one response and no state.

use super::*;
use std::time::Duration;

const US: &str = "127.0.0.1:5062";
const FLOOD: &str = "127.0.0.1:5099";

fn ua(limits: crate::transaction::Limits, max_calls: usize) -> Ua {
    let mut cfg = UaConfig::new(US.parse().unwrap(), Transport::Udp, "u");
    cfg.limits = limits;
    cfg.max_calls = max_calls;
    cfg.single_line = false;
    Ua::new(cfg)
}

fn flood() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: FLOOD.parse().unwrap(),
    }
}

fn invite(n: usize) -> Vec<u8> {
    format!(
        "INVITE sip:u@{US} SIP/2.0\r\nVia: SIP/2.0/UDP {FLOOD};branch=z9hG4bKf{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:x@{FLOOD}>;tag=f{n}\r\nTo: <sip:u@{US}>\r\n\
         Call-ID: flood-{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{FLOOD}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The status lines sent, and the calls offered to the user.
fn drain(u: &mut Ua) -> (Vec<String>, Vec<CallHandle>) {
    let mut sent = Vec::new();
    while let Some(t) = u.poll_transmit() {
        let text = String::from_utf8_lossy(&t.bytes).into_owned();
        sent.push(text.lines().next().unwrap_or("").to_owned());
        if text.starts_with("SIP/2.0 503") {
            assert!(text.contains("Retry-After: 5\r\n"), "{text}");
        }
    }
    let mut calls = Vec::new();
    while let Some(e) = u.poll_event() {
        if let UaEvent::Incoming { call, .. } = e {
            calls.push(call);
        }
    }
    (sent, calls)
}

fn roomy() -> crate::transaction::Limits {
    crate::transaction::Limits {
        max_server: 100,
        max_client: 100,
        single_refusal: true,
    }
}

#[test]
fn invites_beyond_max_calls_get_503() {
    let mut u = ua(roomy(), 2);
    let now = Instant::now();
    let mut offered = 0;
    let mut refused = 0;
    for n in 0..5 {
        u.handle_message(now, &invite(n), flood());
        let (sent, calls) = drain(&mut u);
        offered += calls.len();
        refused += sent.iter().filter(|s| s.starts_with("SIP/2.0 503")).count();
    }
    assert_eq!((offered, refused), (2, 3));
    assert_eq!(u.stats().overload, 3);
}

#[test]
fn invites_beyond_max_server_transactions_get_a_stateless_503() {
    let limits = crate::transaction::Limits {
        max_server: 2,
        ..roomy()
    };
    let mut u = ua(limits, 100);
    let now = Instant::now();
    let mut offered = 0;
    for n in 0..6 {
        u.handle_message(now, &invite(n), flood());
        let (sent, calls) = drain(&mut u);
        offered += calls.len();
        if n >= 2 {
            assert_eq!(sent, ["SIP/2.0 503 Service Unavailable"], "{n}");
        }
    }
    assert_eq!(offered, 2);
    assert_eq!(u.stats().overload, 4);
}

/// Responses sent for `n` INVITEs rejected with 404 by the user, until every timer ran
/// out, and the calls still known at the end.
fn refuse_all(single_refusal: bool, n: usize) -> (usize, usize) {
    let limits = crate::transaction::Limits {
        single_refusal,
        ..roomy()
    };
    let mut u = ua(limits, 1000);
    let t0 = Instant::now();
    let mut responses = 0;
    let mut handles = Vec::new();
    for i in 0..n {
        u.handle_message(t0, &invite(i), flood());
        let (sent, calls) = drain(&mut u);
        responses += sent.len();
        for h in calls {
            u.reject(t0, h, 404).unwrap();
            handles.push(h);
        }
        responses += drain(&mut u).0.len();
    }
    let mut now = t0;
    while let Some(at) = u.poll_timeout() {
        if at > t0 + Duration::from_secs(120) {
            break;
        }
        now = at.max(now);
        u.handle_timeout(now);
        responses += drain(&mut u).0.len();
    }
    let known = handles
        .iter()
        .filter(|h| u.call_state(**h).is_some())
        .count();
    (responses, known)
}

#[test]
fn single_refusal_sends_one_response_per_invite_and_keeps_nothing() {
    // RFC 3261 as written: each 404 retransmitted by Timer G to a source that never ACKs.
    let (rfc, _) = refuse_all(false, 10);
    assert!(rfc >= 50, "{rfc}");
    assert_eq!(refuse_all(true, 10), (10, 0));
}
