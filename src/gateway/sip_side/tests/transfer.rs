//! Transfer between two SIP sides in memory: B's phone (port 0) talks to A's port 0,
//! holds it and consults A's port 1, then hangs up. A, the transferee, follows the REFER
//! only as its policy says and never towards its own address; the refusals reach B's
//! machine as a failed transfer, and the held call can be taken back. (The transfers
//! that succeed need a third party: tests/phone_transfer.rs, with sipp.)

use super::*;

/// A's port 0 talks to B's port 0 (B answered); A follows transfers as `accept` says.
fn talking(accept: &str) -> Net {
    let ca = config(A, 2, |c| {
        c.trust("127.0.0.3")
            .security(&format!("accept_transfer = \"{accept}\"\n"))
    });
    let cb = config(B, 3, |c| c.trust("127.0.0.3"));
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    n
}

/// B's phone holds its call (A stops sending) and consults A's port 1, which rings.
fn consulting(n: &mut Net) {
    n.b.intent(n.now, 0, SipIntent::Hold);
    n.settle();
    assert_eq!(
        Net::media(&n.ev_a, 0).last().map(|m| (m.send, m.receive)),
        Some((false, true)),
        "A is held"
    );
    assert!(!n.b.port_free(0));
    n.b.intent(
        n.now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:202@{A}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 1).len(),
        1,
        "A's port 1 rings: {:?}",
        n.ev_a
    );
}

#[test]
fn a_transfer_the_transferees_policy_refuses_rings_the_phone_back() {
    let mut n = talking("trusted");
    consulting(&mut n);
    n.b.intent(n.now, 0, SipIntent::Transfer);
    n.settle();
    assert!(
        Net::wire(&n.ev_b, true)
            .iter()
            .any(|s| s.starts_with("REFER ")),
        "B sent a REFER"
    );
    Net::assert_noticed(&n.ev_a, "accept_transfer");
    assert_eq!(
        Net::calls(&n.ev_b, 0).last(),
        Some(&SipEvent::TransferFailed)
    );
    // The consultation (blind: still ringing) was cancelled.
    assert_eq!(Net::calls(&n.ev_a, 1).last(), Some(&SipEvent::Cancelled));
    // The phone takes the held call back.
    n.b.intent(n.now, 0, SipIntent::Swap);
    n.settle();
    assert_eq!(
        Net::media(&n.ev_a, 0).last().map(|m| (m.send, m.receive)),
        Some((true, true))
    );
}

#[test]
fn a_transfer_towards_the_transferees_own_address_is_refused() {
    let mut n = talking("any");
    consulting(&mut n);
    n.b.intent(n.now, 1, SipIntent::Answer);
    n.a.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    // Attended: the REFER names A itself (its port 1, B's consultation).
    n.b.intent(n.now, 0, SipIntent::Transfer);
    n.settle();
    let notices = Net::notices(&n.ev_a);
    assert!(
        notices
            .iter()
            .any(|l| l.contains("REFER to") && l.contains("own address")),
        "{notices:?}"
    );
    assert_eq!(
        Net::calls(&n.ev_b, 0).last(),
        Some(&SipEvent::TransferFailed)
    );
    // The failed attended transfer ended the consultation too.
    assert_eq!(Net::calls(&n.ev_a, 1).last(), Some(&SipEvent::RemoteHangup));
}

#[test]
fn a_refer_in_a_call_with_another_call_aside_is_refused() {
    let mut n = talking("any");
    // B's port 0 has a second call (A's port 1 waiting) when A transfers B's call: B
    // refuses the REFER.
    n.place(1, &format!("sip:301@{B}"));
    assert!(matches!(
        Net::calls(&n.ev_b, 0).last(),
        Some(SipEvent::CallWaiting { .. })
    ));
    n.a.intent(n.now, 0, SipIntent::Hold);
    n.settle();
    n.a.intent(
        n.now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:302@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    n.settle();
    n.a.intent(n.now, 0, SipIntent::Transfer);
    n.settle();
    Net::assert_noticed(&n.ev_b, "REFER refused: the port's calls are not settled");
    assert_eq!(
        Net::calls(&n.ev_a, 0).last(),
        Some(&SipEvent::TransferFailed)
    );
}

/// An INVITE from 127.0.0.3 replacing B's call with A (RFC 3891), with `replaces` as
/// its header value.
fn replacing_invite(replaces: &str, branch: &str) -> String {
    let sdp = "v=0\r\no=c 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:tipring@{B} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.3>;tag=c{branch}\r\nTo: <sip:tipring@{B}>\r\n\
         Call-ID: {branch}@127.0.0.3\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@127.0.0.3:5060>\r\n\
         Replaces: {replaces}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

fn from(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

/// B's port 0 call, and the `Replaces` value naming it from B's side.
fn replaces_of_b(n: &Net) -> (tipring_sip::ua::CallHandle, String) {
    let h = n.b.slots[&0].call.as_ref().unwrap().handle;
    let id = n.b.ua.dialog(h).unwrap().id().clone();
    let named = format!(
        "{};to-tag={};from-tag={}",
        id.call_id, id.local_tag, id.remote_tag
    );
    (h, named)
}

#[test]
fn an_invite_with_replaces_takes_over_a_ports_call_from_an_allowed_source_only() {
    let mut n = talking("any");
    let (_, named) = replaces_of_b(&n);
    // Tags that name nothing: 481, the call stays.
    let wrong = named.replacen(";to-tag=", ";to-tag=x", 1);
    n.b.handle_message(
        n.now,
        replacing_invite(&wrong, "r1").as_bytes(),
        from("127.0.0.3:5060"),
    );
    assert_eq!(final_responses(&mut n.b), [(481, None)]);
    // The named call: answered at once, the old call ended, the bridge moved.
    n.b.handle_message(
        n.now,
        replacing_invite(&named, "r2").as_bytes(),
        from("127.0.0.3:5060"),
    );
    let events: Vec<PortEvent> = std::iter::from_fn(|| n.b.poll_event()).collect();
    assert!(
        events.iter().any(|e| matches!(e, PortEvent::Media { port: 0, media } if media.remote == "127.0.0.3:40000".parse().unwrap())),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            PortEvent::Call {
                event: SipEvent::IncomingCall { .. },
                ..
            }
        )),
        "the phone does not ring for it"
    );
    let sent: Vec<String> = std::iter::from_fn(|| n.b.poll_transmit())
        .map(|t| {
            String::from_utf8_lossy(&t.bytes)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(sent.iter().any(|l| l == "SIP/2.0 200 OK"), "{sent:?}");
    assert!(sent.iter().any(|l| l.starts_with("BYE ")), "{sent:?}");
}

#[test]
fn an_invite_with_replaces_from_an_untrusted_source_is_forbidden() {
    // B follows the default policy: trusted peers and the accounts' servers only.
    let mut n = talking("any");
    let (h, named) = replaces_of_b(&n);
    // Named or not, a stranger gets 403: it learns nothing of which calls exist.
    for (replaces, branch) in [(named.as_str(), "r3"), ("abc@h;to-tag=1;from-tag=2", "r4")] {
        n.b.handle_message(
            n.now,
            replacing_invite(replaces, branch).as_bytes(),
            from("127.0.0.9:5060"),
        );
        assert_eq!(final_responses(&mut n.b), [(403, None)]);
    }
    assert!(n.b.slots[&0].call.as_ref().is_some_and(|c| c.handle == h));
}

#[test]
fn a_three_way_call_takes_the_held_call_back_and_joins_it_to_the_bridge() {
    let mut n = talking("trusted");
    consulting(&mut n);
    n.a.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    n.b.intent(n.now, 0, SipIntent::Conference);
    n.settle();
    assert_eq!(
        Net::media(&n.ev_a, 0).last().map(|m| (m.send, m.receive)),
        Some((true, true)),
        "A's first call is taken back"
    );
    let joined: Vec<Option<MediaParams>> = n
        .ev_b
        .iter()
        .filter_map(|e| match e {
            PortEvent::Join { port: 0, media } => Some(*media),
            _ => None,
        })
        .collect();
    assert!(
        joined
            .iter()
            .all(|m| m.is_some_and(|m| m.remote == "127.0.0.1:20000".parse().unwrap() && m.send)),
        "{joined:?}"
    );
    assert!(!joined.is_empty());
    // The consultation stays the bridge's first leg.
    assert_eq!(
        Net::media(&n.ev_b, 0).last().map(|m| m.remote),
        Some("127.0.0.1:20002".parse().unwrap())
    );
}
