//! Forwarding by the gateway (`forward_mode = "gateway"`) between two SIP sides in
//! memory: A's port 0 calls B's phone, which forwards to A's port 1; B calls it, relays
//! its ringing and answer to A's port 0, gives each leg its own relay socket, and ends one
//! leg when the other ends. Loops end at Max-Forwards 0, relays are bounded.

use super::*;
use crate::bridge::RelayLeg;
use crate::ops::record::{Direction, EndCause, LegNote};

/// B's relay sockets.
const RELAY: [&str; 2] = ["127.0.0.2:40000", "127.0.0.2:40002"];

/// A (ports 201, 202, ...) and B whose phone 301 forwards `when` to A's 202 by the gateway.
fn forwarding(when: &str, relays: usize) -> Net {
    let cb = one_phone(
        B,
        3,
        &format!("{when} = \"sip:202@{A}\"\nforward_mode = \"gateway\"\nno_answer_s = 20"),
    );
    let mut n = Net::new(&config(A, 2, |c| c.trust("127.0.0.3")), &cb);
    let addrs = (0..relays)
        .map(|i| {
            let p = 40000 + 4 * i as u16;
            [
                SocketAddr::new(B.parse::<SocketAddr>().unwrap().ip(), p),
                SocketAddr::new(B.parse::<SocketAddr>().unwrap().ip(), p + 2),
            ]
        })
        .collect();
    n.b.set_relays(addrs);
    n
}

fn relay_media(ev: &[PortEvent]) -> Vec<(usize, RelayLeg, SocketAddr)> {
    ev.iter()
        .filter_map(|e| match e {
            PortEvent::Relay { relay, leg, media } => Some((*relay, *leg, media.remote)),
            _ => None,
        })
        .collect()
}

/// The call-record notes of B's relayed calls, for port 0.
fn relay_notes(ev: &[PortEvent]) -> Vec<LegNote> {
    ev.iter()
        .filter_map(|e| match e {
            PortEvent::Relayed { port: 0, note, .. } => Some(note.clone()),
            _ => None,
        })
        .collect()
}

fn relay_ends(ev: &[PortEvent]) -> Vec<(u16, EndCause)> {
    relay_notes(ev)
        .into_iter()
        .filter_map(|n| match n {
            LegNote::Ended { code, cause } => Some((code, cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_forwarded_always_is_placed_by_the_gateway_and_relayed_both_ways() {
    let mut n = forwarding("forward_always", 1);
    n.place(0, &format!("sip:301@{B}"));
    assert!(Net::calls(&n.ev_b, 0).is_empty(), "B's phone never rings");
    let rung = Net::calls(&n.ev_a, 1);
    assert!(
        matches!(rung.as_slice(), [SipEvent::IncomingCall { .. }]),
        "A's 202 rings: {:?}",
        n.ev_a
    );
    n.a.intent(n.now, 1, SipIntent::Alerting);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0).last(), Some(&SipEvent::Ringing));
    n.a.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0).last(), Some(&SipEvent::Answered));
    // Each of A's ports sends to its own relay socket of B's; B's relay sends each leg to
    // the A port it belongs to (port 0's RTP at 20000, port 1's at 20002).
    let to = |port| {
        Net::media(&n.ev_a, port)
            .last()
            .map(|m| m.remote.to_string())
    };
    assert_eq!(to(0).as_deref(), Some(RELAY[0]));
    assert_eq!(to(1).as_deref(), Some(RELAY[1]));
    let mut legs = relay_media(&n.ev_b);
    legs.sort_by_key(|(_, leg, _)| *leg == RelayLeg::Target);
    assert_eq!(
        legs,
        [
            (0, RelayLeg::Caller, "127.0.0.1:20000".parse().unwrap()),
            (0, RelayLeg::Target, "127.0.0.1:20002".parse().unwrap())
        ]
    );
    // The caller hangs up: the target's call ends too, and the relay stops.
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 1).last(), Some(&SipEvent::RemoteHangup));
    // Its record: forwarded, from the caller to the target, answered, ended by the caller.
    let notes = relay_notes(&n.ev_b);
    assert!(
        matches!(&notes[0], LegNote::Started { direction: Direction::Forwarded, caller, called, .. }
            if caller.contains("sip:201@") && called.starts_with("sip:202@")),
        "{notes:?}"
    );
    assert_eq!(notes[1], LegNote::Answered);
    assert_eq!(relay_ends(&n.ev_b), [(200, EndCause::RemoteHangup)]);
    n.run_for(Duration::from_secs(40));
    assert!(n.b.footprint().is_empty(), "{:?}", n.b.footprint());
}

#[test]
fn behind_a_nat_each_leg_names_where_the_stun_server_saw_its_relay_socket() {
    let mut n = forwarding("forward_always", 1);
    for (leg, addr) in [
        (RelayLeg::Caller, "203.0.113.5:41000"),
        (RelayLeg::Target, "203.0.113.5:41002"),
    ] {
        n.b.from_line(
            n.now,
            FromLine::RtpMapped(RtpSocket::Relay(0, leg), addr.parse().unwrap()),
        );
    }
    n.place(0, &format!("sip:301@{B}"));
    n.a.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    let to = |port| {
        Net::media(&n.ev_a, port)
            .last()
            .map(|m| m.remote.to_string())
    };
    assert_eq!(to(0).as_deref(), Some("203.0.113.5:41000"));
    assert_eq!(to(1).as_deref(), Some("203.0.113.5:41002"));
}

#[test]
fn the_targets_refusal_reaches_the_caller_and_a_cancel_reaches_the_target() {
    let mut n = forwarding("forward_always", 1);
    n.place(0, &format!("sip:301@{B}"));
    n.a.intent(n.now, 1, SipIntent::Reject(486));
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 0).last(),
        Some(&SipEvent::Rejected(486))
    );
    assert_eq!(relay_ends(&n.ev_b), [(486, EndCause::FarEndRejected)]);

    // The caller gives up while the target rings: the target's call is cancelled.
    n.place(0, &format!("sip:301@{B}"));
    n.a.intent(n.now, 1, SipIntent::Alerting);
    n.settle();
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 1).last(), Some(&SipEvent::Cancelled));
    assert_eq!(relay_ends(&n.ev_b)[1..], [(487, EndCause::CallerCancelled)]);
}

#[test]
fn a_call_the_phone_leaves_unanswered_is_forwarded_by_the_gateway() {
    let mut n = forwarding("forward_no_answer", 1);
    n.place(0, &format!("sip:301@{B}"));
    assert!(!Net::calls(&n.ev_b, 0).is_empty(), "B's phone rings first");
    n.b.intent(n.now, 0, SipIntent::Alerting);
    n.b.intent(n.now, 0, SipIntent::Reject(480));
    n.settle();
    assert!(n.b.port_free(0), "the port is free again");
    assert!(
        matches!(
            Net::calls(&n.ev_a, 1).as_slice(),
            [SipEvent::IncomingCall { .. }]
        ),
        "{:?}",
        n.ev_a
    );
    n.a.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0).last(), Some(&SipEvent::Answered));
}

#[test]
fn forwarding_by_the_gateway_is_bounded_by_its_relays() {
    // One relay: the second call to forward while the first is relayed gets 486.
    let mut n = forwarding("forward_always", 1);
    n.place(0, &format!("sip:301@{B}"));
    n.place(2, &format!("sip:301@{B}"));
    Net::assert_noticed(&n.ev_b, "every relay is in use");
    assert_eq!(
        n.b.status(n.now).sip.refused.get("forward_no_relay"),
        Some(&1)
    );
    // No relay at all (a side whose runtime bound none): 486 too.
    let mut n = forwarding("forward_always", 0);
    n.place(0, &format!("sip:301@{B}"));
    assert!(Net::calls(&n.ev_a, 1).is_empty(), "nothing was placed");
    assert!(
        Net::calls(&n.ev_a, 0).contains(&SipEvent::Rejected(486)),
        "{:?}",
        n.ev_a
    );
}

#[test]
fn a_forwarding_loop_ends_at_max_forwards_zero() {
    let mut b = side(
        &one_phone(
            B,
            3,
            &format!("forward_always = \"sip:202@{A}\"\nforward_mode = \"gateway\""),
        ),
        B,
        30000,
        2,
    );
    b.set_relays(vec![[RELAY[0].parse().unwrap(), RELAY[1].parse().unwrap()]]);
    let invite = |mf: u8| {
        format!(
            "INVITE sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKmf{mf}\r\n\
             Max-Forwards: {mf}\r\nFrom: <sip:100@{A}>;tag=mf{mf}\r\nTo: <sip:301@{B}>\r\n\
             Call-ID: mf{mf}@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{A}>\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let now = Instant::now();
    b.handle_message(now, invite(0).as_bytes(), peer_a());
    assert_eq!(final_responses(&mut b), [(483, None)]);
    assert_eq!(b.status(now).sip.refused.get("forward_loop"), Some(&1));
    // With hops left, the forwarded INVITE carries the count on, less one, and says
    // who forwarded it and why (RFC 5806).
    b.handle_message(now, invite(5).as_bytes(), peer_a());
    let sent: Vec<Vec<u8>> = std::iter::from_fn(|| b.poll_transmit())
        .map(|t| t.bytes.to_vec())
        .collect();
    let fwd = sent
        .iter()
        .filter_map(|m| Message::parse(m).ok())
        .find(|m| m.method() == Some(Method::Invite))
        .expect("the forwarded INVITE");
    assert_eq!(fwd.max_forwards(), Some(4));
    let diversion = fwd.header("Diversion").map(|h| h.value.to_string());
    assert!(
        diversion
            .as_deref()
            .is_some_and(|d| d.contains("301@") && d.contains("reason=unconditional")),
        "{diversion:?}"
    );
}
