//! Call waiting between two SIP sides: B's phone talks to A's port 0 when A's port 1
//! calls it; each swap holds one call with a re-INVITE (`a=sendonly`, which A answers
//! `recvonly`: A stops sending) and answers or takes back the other, and B's bridge is
//! given the current call's far end only.

use super::*;

#[test]
fn swaps_hold_one_call_and_take_the_other_with_the_bridge_following() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    let a0: SocketAddr = "127.0.0.1:20000".parse().unwrap();
    let a1: SocketAddr = "127.0.0.1:20002".parse().unwrap();
    assert_eq!(Net::media(&n.ev_b, 0).last().map(|m| m.remote), Some(a0));

    n.place(1, &format!("sip:301@{B}"));
    assert!(matches!(
        Net::calls(&n.ev_b, 0).last(),
        Some(SipEvent::CallWaiting { caller }) if caller.number.as_deref() == Some("202")
    ));
    assert_eq!(Net::calls(&n.ev_a, 1), vec![SipEvent::Ringing]);
    assert!(!n.b.port_free(0));
    assert_eq!(n.b.footprint().port_calls, 2);

    // Flash: A's port 0 is held (it stops sending), port 1 answered; B's bridge moves.
    let before = Net::media(&n.ev_b, 0).len();
    n.b.intent(n.now, 0, SipIntent::Swap);
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 1),
        vec![SipEvent::Ringing, SipEvent::Answered]
    );
    let held = Net::media(&n.ev_a, 0);
    assert_eq!(
        held.last().map(|m| (m.send, m.receive)),
        Some((false, true)),
        "A's first call is held: {held:?}"
    );
    let b_media = Net::media(&n.ev_b, 0);
    assert_eq!(
        b_media[before..]
            .iter()
            .map(|m| m.remote)
            .collect::<Vec<_>>(),
        vec![a1],
        "B's bridge is told of the answered call only"
    );

    // Flash again: port 1 held, port 0 taken back.
    let before = Net::media(&n.ev_b, 0).len();
    n.b.intent(n.now, 0, SipIntent::Swap);
    n.settle();
    assert_eq!(
        Net::media(&n.ev_a, 1).last().map(|m| (m.send, m.receive)),
        Some((false, true))
    );
    assert_eq!(
        Net::media(&n.ev_a, 0).last().map(|m| (m.send, m.receive)),
        Some((true, true))
    );
    let b_media = &Net::media(&n.ev_b, 0)[before..];
    assert!(
        !b_media.is_empty()
            && b_media
                .iter()
                .all(|m| m.remote == a0 && m.send && m.receive),
        "{b_media:?}"
    );

    // B's phone hangs up on port 0's call and takes the held one when it rings back.
    n.b.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0).last(), Some(&SipEvent::RemoteHangup));
    assert!(!n.b.port_free(0), "the held call keeps the port");
    n.b.intent(n.now, 0, SipIntent::Swap);
    n.settle();
    assert_eq!(
        Net::media(&n.ev_a, 1).last().map(|m| (m.send, m.receive)),
        Some((true, true))
    );
    assert_eq!(Net::media(&n.ev_b, 0).last().map(|m| m.remote), Some(a1));
    n.b.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 1).last(), Some(&SipEvent::RemoteHangup));
    assert_eq!(n.b.footprint().port_calls, 0);
}

#[test]
fn the_held_party_hanging_up_is_told_to_the_machine_as_the_other_call_ending() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    n.place(1, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Swap);
    n.settle();
    // A's port 0, held, hangs up.
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_b, 0).last(), Some(&SipEvent::WaitingEnded));
    assert_eq!(n.b.footprint().port_calls, 1);
    // A waiting caller giving up is told the same way.
    n.b.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    n.place(3, &format!("sip:301@{B}"));
    n.a.intent(n.now, 3, SipIntent::Hangup);
    n.settle();
    assert_eq!(Net::calls(&n.ev_b, 0).last(), Some(&SipEvent::WaitingEnded));
    assert_eq!(n.b.footprint().port_calls, 1);
}
