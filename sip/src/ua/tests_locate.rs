//! RFC 3263 §4.3 in the core: a request to a name with several services goes to the next
//! one when the first times out, fails at the transport or answers 503, and the failed
//! one is tried last for a while.

use super::tests::{Net, ended, first_line, peer, ua};
use super::*;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";
const C: &str = "127.0.0.1:5063";

/// `example.test` served by C (priority 10) then B (priority 20), over UDP.
fn hosts() -> HostTable {
    let mut h = HostTable::new();
    let svc = |priority, addr: &str| Service {
        transport: Transport::Udp,
        priority,
        weight: 0,
        addr: addr.parse().unwrap(),
    };
    h.set(
        "example.test",
        Resolved {
            ips: Vec::new(),
            services: vec![svc(10, C), svc(20, B)],
        },
    );
    h
}

fn caller() -> Ua {
    let mut a = ua(A, 11);
    a.set_hosts(hosts());
    a
}

/// The Call-ID and CSeq lines of each INVITE sent, with where it went.
fn invites(n: &Net) -> Vec<(SocketAddr, String)> {
    n.log
        .iter()
        .filter(|(_, _, m)| first_line(m).starts_with("INVITE "))
        .map(|(_, to, m)| {
            let ids: Vec<&str> = m
                .lines()
                .filter(|l| l.starts_with("Call-ID:") || l.starts_with("CSeq:"))
                .collect();
            (*to, ids.join(" "))
        })
        .collect()
}

#[test]
fn an_invite_that_times_out_goes_to_the_next_service_then_the_failed_one_is_avoided() {
    // Nobody listens at C: the INVITE there times out (Timer B) and goes to B.
    let mut n = Net::new(vec![caller(), ua(B, 12)]);
    let now = n.now;
    let h = n.uas[0]
        .call(now, "sip:100@example.test", &format!("sip:u@{A}"), vec![])
        .unwrap();
    n.run(Duration::from_secs(31));
    assert!(n.take_events(1).is_empty(), "B not reached before Timer B");
    n.run(Duration::from_secs(2));
    let b = n.incoming(1);
    let sent = invites(&n);
    let to_c = sent.iter().filter(|(to, _)| *to == C.parse().unwrap());
    assert_eq!(
        to_c.count(),
        7,
        "the INVITE and its six retransmissions to C"
    );
    let last = sent.last().unwrap();
    assert_eq!(last.0, B.parse().unwrap());
    // §4.3: the same request in a new transaction (same Call-ID and CSeq).
    assert_eq!(sent[0].1, last.1);
    let now = n.now;
    n.uas[1].answer(now, b, b"answer").unwrap();
    n.flush();
    assert_eq!(n.uas[0].call_state(h), Some(CallState::Confirmed));
    // The next call skips C while it is avoided…
    n.log.clear();
    n.uas[0]
        .call(now, "sip:101@example.test", &format!("sip:u@{A}"), vec![])
        .unwrap();
    n.flush();
    assert_eq!(invites(&n)[0].0, B.parse().unwrap());
    // …and goes to it again once AVOID_FOR is over.
    n.run(locate::AVOID_FOR);
    n.log.clear();
    let now = n.now;
    n.uas[0]
        .call(now, "sip:102@example.test", &format!("sip:u@{A}"), vec![])
        .unwrap();
    n.flush();
    assert_eq!(invites(&n)[0].0, C.parse().unwrap());
}

#[test]
fn a_503_or_a_transport_failure_moves_on_at_once_and_the_last_failure_ends_the_call() {
    let mut n = Net::new(vec![caller(), ua(B, 12), ua(C, 13)]);
    let now = n.now;
    let h = n.uas[0]
        .call(now, "sip:100@example.test", &format!("sip:u@{A}"), vec![])
        .unwrap();
    n.flush();
    let c = n.incoming(2);
    n.uas[2].reject(now, c, 503).unwrap();
    n.flush();
    // Straight to B, without waiting for any timer.
    let b = n.incoming(1);
    n.uas[1].reject(now, b, 486).unwrap();
    n.flush();
    let reason = ended(&n.take_events(0));
    assert!(
        matches!(reason, Some(EndReason::Failed { code: 486, .. })),
        "{reason:?}"
    );
    assert_ne!(n.uas[0].call_state(h), Some(CallState::Confirmed));

    // A transport failure at the first place: the second at once; when that fails
    // too the call ends as a timeout (§8.1.3.1).
    let mut a = ua(A, 14);
    a.set_hosts(hosts());
    let now = Instant::now() + Duration::from_secs(600);
    a.call(now, "sip:100@example.test", &format!("sip:u@{A}"), vec![])
        .unwrap();
    let first = a.poll_transmit().unwrap();
    assert_eq!(first.to, peer(C));
    a.transport_failed(now, peer(C));
    let second = a.poll_transmit().unwrap();
    assert_eq!(second.to, peer(B));
    a.transport_failed(now, peer(B));
    let mut evs = Vec::new();
    while let Some(e) = a.poll_event() {
        evs.push(e);
    }
    assert_eq!(ended(&evs), Some(EndReason::Timeout));
}

#[test]
fn a_register_fails_over_and_is_located_afresh_after_a_failure() {
    let mut a = caller();
    let now = Instant::now();
    let r = a
        .register(
            now,
            RegisterConfig::new("sip:example.test", "sip:u@example.test"),
        )
        .unwrap();
    let t = a.poll_transmit().unwrap();
    assert_eq!(t.to, peer(C));
    a.transport_failed(now, peer(C));
    let t = a.poll_transmit().expect("REGISTER to the second");
    assert_eq!(t.to, peer(B));
    assert!(String::from_utf8_lossy(&t.bytes).starts_with("REGISTER sip:example.test"));
    a.transport_failed(now, peer(B));
    assert_eq!(a.reg_state(r), Some(RegState::Failed));
    assert!(a.poll_transmit().is_none());
    // The retry (after the back-off) starts from the best place again: C first
    // when its avoidance is over, both having failed.
    let retry = a.poll_timeout().unwrap();
    a.handle_timeout(retry.max(now + locate::AVOID_FOR));
    let t = a.poll_transmit().expect("the retry");
    assert_eq!(t.to, peer(C));
}
