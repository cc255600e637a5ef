//! Virtual-clock tests of the four machines and the table: every retransmission instant,
//! every timeout and every state.

use super::*;
use std::time::Duration;

const MS: fn(u64) -> Duration = Duration::from_millis;

fn udp() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "127.0.0.1:5070".parse().unwrap(),
    }
}

fn tcp() -> Peer {
    Peer {
        transport: Transport::Tcp,
        ..udp()
    }
}

fn request(method: &str, branch: &str) -> Vec<u8> {
    format!(
        "{method} sip:bob@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
         Route: <sip:p1.example.com;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:alice@x>;tag=a1\r\n\
         To: <sip:bob@y>\r\nCall-ID: call-1@x\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn response(code: u16, method: &str, branch: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
         From: <sip:alice@x>;tag=a1\r\nTo: <sip:bob@y>;tag=b1\r\nCall-ID: call-1@x\r\n\
         CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Drains a machine's outputs: the number of transmissions and the events.
macro_rules! drain {
    ($m:expr) => {{
        let mut sent = Vec::new();
        let mut events = Vec::new();
        while let Some(o) = $m.poll_output() {
            match o {
                Output::Transmit(t) => sent.push(t.bytes),
                Output::Event(e) => events.push(e),
            }
        }
        (sent, events)
    }};
}

/// Runs a machine's timers until `end`, recording the offset of every transmission.
macro_rules! run_until {
    ($m:expr, $t0:expr, $end:expr) => {{
        let mut at = Vec::new();
        let mut events = Vec::new();
        while let Some(d) = $m.poll_timeout() {
            if d > $t0 + $end {
                break;
            }
            $m.handle_timeout(d);
            let (sent, ev) = drain!($m);
            at.extend(sent.iter().map(|_| d - $t0));
            events.extend(ev);
        }
        (at, events)
    }};
}

#[test]
fn invite_client_timer_a_doubles_until_timer_b() {
    let t0 = Instant::now();
    let mut m = ClientInvite::new(
        t0,
        TimerConfig::default(),
        udp(),
        request("INVITE", "z9hG4bK1").into(),
    );
    assert_eq!(drain!(m).0.len(), 1);
    assert_eq!(m.state(), ClientInviteState::Calling);
    let (at, events) = run_until!(m, t0, Duration::from_secs(60));
    // §17.1.1.2: A = T1, 2T1, 4T1 ... from the start; B = 64*T1 = 32 s.
    assert_eq!(
        at,
        [
            MS(500),
            MS(1500),
            MS(3500),
            MS(7500),
            MS(15_500),
            MS(31_500)
        ]
    );
    assert_eq!(events, [TuEvent::Timeout, TuEvent::Terminated]);
    assert_eq!(m.state(), ClientInviteState::Terminated);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn invite_client_non_2xx_is_acked_and_waits_timer_d() {
    let t0 = Instant::now();
    let req = request("INVITE", "z9hG4bK2");
    let mut m = ClientInvite::new(t0, TimerConfig::default(), udp(), req.into());
    drain!(m);
    let ringing = response(180, "INVITE", "z9hG4bK2");
    let v = m.on_response(t0 + MS(100), &Message::parse(&ringing).unwrap());
    assert_eq!(
        (v, m.state()),
        (Verdict::Deliver, ClientInviteState::Proceeding)
    );
    // No retransmission and no Timer B in Proceeding.
    assert_eq!(m.poll_timeout(), None);
    let busy = response(486, "INVITE", "z9hG4bK2");
    let t1 = t0 + MS(2000);
    let v = m.on_response(t1, &Message::parse(&busy).unwrap());
    assert_eq!(
        (v, m.state()),
        (Verdict::Deliver, ClientInviteState::Completed)
    );
    let (sent, _) = drain!(m);
    let ack = Message::parse(&sent[0]).unwrap();
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.cseq().unwrap().seq, 1);
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bK2"));
    assert_eq!(ack.to().unwrap().tag(), Some("b1"));
    assert_eq!(ack.from().unwrap().tag(), Some("a1"));
    assert_eq!(ack.routes().count(), 1);
    // A retransmitted 486 is absorbed and ACKed again.
    let v = m.on_response(t1 + MS(500), &Message::parse(&busy).unwrap());
    assert_eq!(v, Verdict::Absorb);
    assert_eq!(drain!(m).0, sent);
    // Timer D: 32 s.
    assert_eq!(m.poll_timeout(), Some(t1 + Duration::from_secs(32)));
    m.handle_timeout(t1 + Duration::from_secs(32));
    assert_eq!(drain!(m).1, [TuEvent::Terminated]);
    assert_eq!(m.state(), ClientInviteState::Terminated);
}

#[test]
fn invite_client_2xx_goes_to_accepted_until_timer_m() {
    let t0 = Instant::now();
    let mut m = ClientInvite::new(
        t0,
        TimerConfig::default(),
        udp(),
        request("INVITE", "z9hG4bK3").into(),
    );
    drain!(m);
    let ok = response(200, "INVITE", "z9hG4bK3");
    let ok = Message::parse(&ok).unwrap();
    assert_eq!(m.on_response(t0 + MS(700), &ok), Verdict::Deliver);
    assert_eq!(m.state(), ClientInviteState::Accepted);
    // The transaction sends no ACK for a 2xx; retransmitted 2xx go to the TU.
    assert!(drain!(m).0.is_empty());
    assert_eq!(m.on_response(t0 + MS(1200), &ok), Verdict::Deliver);
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + MS(700) + Duration::from_secs(32))
    );
    m.handle_timeout(t0 + MS(700) + Duration::from_secs(32));
    assert_eq!(m.state(), ClientInviteState::Terminated);
}

#[test]
fn invite_client_over_tcp_has_no_retransmission_and_no_timer_d() {
    let t0 = Instant::now();
    let mut m = ClientInvite::new(
        t0,
        TimerConfig::default(),
        tcp(),
        request("INVITE", "z9hG4bK4").into(),
    );
    drain!(m);
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(32)));
    let busy = response(603, "INVITE", "z9hG4bK4");
    m.on_response(t0 + MS(10), &Message::parse(&busy).unwrap());
    let (sent, events) = drain!(m);
    assert_eq!(sent.len(), 1, "the ACK");
    assert_eq!(events, [TuEvent::Terminated]);
    assert_eq!(m.state(), ClientInviteState::Terminated);
}

#[test]
fn non_invite_client_timer_e_caps_at_t2_then_timer_f() {
    let t0 = Instant::now();
    let mut m = ClientNonInvite::new(
        t0,
        TimerConfig::default(),
        udp(),
        request("OPTIONS", "z9hG4bK5").into(),
    );
    assert_eq!(drain!(m).0.len(), 1);
    assert_eq!(m.state(), ClientNonInviteState::Trying);
    let (at, events) = run_until!(m, t0, Duration::from_secs(40));
    // Intervals 500 ms, 1 s, 2 s, 4 s, 4 s ... (T2); F = 32 s.
    let mut want = vec![MS(500), MS(1500), MS(3500), MS(7500)];
    let mut t = MS(7500);
    while t + MS(4000) < Duration::from_secs(32) {
        t += MS(4000);
        want.push(t);
    }
    assert_eq!(at, want);
    assert_eq!(events, [TuEvent::Timeout, TuEvent::Terminated]);
    assert_eq!(m.state(), ClientNonInviteState::Terminated);
}

#[test]
fn non_invite_client_proceeding_retransmits_every_t2_and_completed_waits_t4() {
    let t0 = Instant::now();
    let mut m = ClientNonInvite::new(
        t0,
        TimerConfig::default(),
        udp(),
        request("BYE", "z9hG4bK6").into(),
    );
    drain!(m);
    m.handle_timeout(t0 + MS(500));
    drain!(m);
    let trying = response(100, "BYE", "z9hG4bK6");
    let v = m.on_response(t0 + MS(600), &Message::parse(&trying).unwrap());
    assert_eq!(
        (v, m.state()),
        (Verdict::Deliver, ClientNonInviteState::Proceeding)
    );
    // The pending E (due at 1.5 s) fires, then every T2.
    let (at, _) = run_until!(m, t0, MS(10_000));
    assert_eq!(at, [MS(1500), MS(5500), MS(9500)]);
    let ok = response(200, "BYE", "z9hG4bK6");
    let t1 = t0 + MS(10_000);
    assert_eq!(
        m.on_response(t1, &Message::parse(&ok).unwrap()),
        Verdict::Deliver
    );
    assert_eq!(m.state(), ClientNonInviteState::Completed);
    assert_eq!(
        m.on_response(t1, &Message::parse(&ok).unwrap()),
        Verdict::Absorb
    );
    assert_eq!(m.poll_timeout(), Some(t1 + Duration::from_secs(5)));
    m.handle_timeout(t1 + Duration::from_secs(5));
    assert_eq!(m.state(), ClientNonInviteState::Terminated);
}

#[test]
fn non_invite_client_tcp_terminates_on_final() {
    let t0 = Instant::now();
    let mut m = ClientNonInvite::new(
        t0,
        TimerConfig::default(),
        tcp(),
        request("OPTIONS", "z9hG4bK7").into(),
    );
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + Duration::from_secs(32)),
        "F only"
    );
    let ok = response(200, "OPTIONS", "z9hG4bK7");
    m.on_response(t0, &Message::parse(&ok).unwrap());
    assert_eq!(m.state(), ClientNonInviteState::Terminated);
}

fn server_invite(t0: Instant, peer: Peer) -> ServerInvite {
    let req = request("INVITE", "z9hG4bK8");
    ServerInvite::new(
        t0,
        TimerConfig::default(),
        peer,
        &Message::parse(&req).unwrap(),
    )
}

#[test]
fn invite_server_sends_100_trying_after_200ms_and_absorbs_retransmissions() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, udp());
    assert_eq!(m.state(), ServerInviteState::Proceeding);
    // A retransmission before any response is absorbed and nothing is sent.
    assert_eq!(m.on_request(t0 + MS(100), Method::Invite), Verdict::Absorb);
    assert!(drain!(m).0.is_empty());
    assert_eq!(m.poll_timeout(), Some(t0 + MS(200)));
    m.handle_timeout(t0 + MS(200));
    let (sent, _) = drain!(m);
    let trying = Message::parse(&sent[0]).unwrap();
    assert_eq!(trying.status(), Some(100));
    assert_eq!(trying.top_via().unwrap().branch(), Some("z9hG4bK8"));
    // Retransmissions now get the 100 again.
    m.on_request(t0 + MS(500), Method::Invite);
    assert_eq!(drain!(m).0, sent);
}

#[test]
fn invite_server_with_zero_trying_delay_sends_100_at_once() {
    let t0 = Instant::now();
    let req = request("INVITE", "z9hG4bK8");
    let cfg = TimerConfig {
        trying: Duration::ZERO,
        ..TimerConfig::default()
    };
    let mut m = ServerInvite::new(t0, cfg, udp(), &Message::parse(&req).unwrap());
    let (sent, _) = drain!(m);
    assert_eq!(sent.len(), 1, "the 100 before any timer runs");
    assert_eq!(Message::parse(&sent[0]).unwrap().status(), Some(100));
    // The TU's 180 still follows, and retransmissions get the latest response.
    m.respond(t0 + MS(50), 180, Arc::from(&b"ringing"[..]));
    assert_eq!(drain!(m).0.len(), 1);
    m.on_request(t0 + MS(500), Method::Invite);
    assert_eq!(&*drain!(m).0[0], b"ringing");
}

#[test]
fn invite_server_tu_answering_fast_suppresses_100() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, udp());
    m.respond(t0 + MS(50), 180, Arc::from(&b"ringing"[..]));
    assert_eq!(drain!(m).0.len(), 1);
    assert_eq!(m.poll_timeout(), None);
    m.on_request(t0 + MS(500), Method::Invite);
    assert_eq!(&*drain!(m).0[0], b"ringing");
}

#[test]
fn invite_server_non_2xx_timer_g_caps_at_t2_until_timer_h() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, udp());
    m.respond(t0, 486, Arc::from(&b"busy"[..]));
    assert_eq!(m.state(), ServerInviteState::Completed);
    assert_eq!(drain!(m).0.len(), 1);
    let (at, events) = run_until!(m, t0, Duration::from_secs(40));
    let mut want = vec![MS(500), MS(1500), MS(3500), MS(7500)];
    let mut t = MS(7500);
    while t + MS(4000) < Duration::from_secs(32) {
        t += MS(4000);
        want.push(t);
    }
    assert_eq!(at, want);
    // Timer H: no ACK within 64*T1.
    assert_eq!(events, [TuEvent::Timeout, TuEvent::Terminated]);
    assert_eq!(m.state(), ServerInviteState::Terminated);
}

#[test]
fn invite_server_ack_confirms_then_timer_i() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, udp());
    m.respond(t0, 404, Arc::from(&b"nf"[..]));
    drain!(m);
    m.handle_timeout(t0 + MS(500));
    assert_eq!(drain!(m).0.len(), 1);
    // An INVITE retransmission in Completed gets the final response again.
    m.on_request(t0 + MS(600), Method::Invite);
    assert_eq!(drain!(m).0.len(), 1);
    assert_eq!(m.on_request(t0 + MS(700), Method::Ack), Verdict::Absorb);
    assert_eq!(m.state(), ServerInviteState::Confirmed);
    assert_eq!(m.on_request(t0 + MS(800), Method::Ack), Verdict::Absorb);
    assert!(drain!(m).0.is_empty());
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + MS(700) + Duration::from_secs(5))
    );
    m.handle_timeout(t0 + MS(5700));
    assert_eq!(m.state(), ServerInviteState::Terminated);
}

#[test]
fn invite_server_2xx_accepted_until_timer_l() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, udp());
    m.respond(t0 + MS(10), 200, Arc::from(&b"ok"[..]));
    assert_eq!(m.state(), ServerInviteState::Accepted);
    assert_eq!(drain!(m).0.len(), 1);
    // INVITE retransmissions are absorbed (RFC 6026 §8.5), the TU's 2xx pass, ACK goes up.
    assert_eq!(m.on_request(t0 + MS(100), Method::Invite), Verdict::Absorb);
    assert!(drain!(m).0.is_empty());
    m.respond(t0 + MS(510), 200, Arc::from(&b"ok"[..]));
    assert_eq!(drain!(m).0.len(), 1);
    assert_eq!(m.on_request(t0 + MS(600), Method::Ack), Verdict::Deliver);
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + MS(10) + Duration::from_secs(32))
    );
    m.handle_timeout(t0 + MS(32_010));
    assert_eq!(m.state(), ServerInviteState::Terminated);
}

#[test]
fn invite_server_tcp_ack_terminates_at_once() {
    let t0 = Instant::now();
    let mut m = server_invite(t0, tcp());
    m.respond(t0, 500, Arc::from(&b"err"[..]));
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + Duration::from_secs(32)),
        "H only, no G"
    );
    m.on_request(t0 + MS(1), Method::Ack);
    assert_eq!(m.state(), ServerInviteState::Terminated);
}

#[test]
fn non_invite_server_states_and_timer_j() {
    let t0 = Instant::now();
    let mut m = ServerNonInvite::new(TimerConfig::default(), udp());
    assert_eq!(m.state(), ServerNonInviteState::Trying);
    assert_eq!(m.on_request(), Verdict::Absorb);
    assert!(drain!(m).0.is_empty());
    m.respond(t0, 100, Arc::from(&b"trying"[..]));
    assert_eq!(m.state(), ServerNonInviteState::Proceeding);
    drain!(m);
    m.on_request();
    assert_eq!(&*drain!(m).0[0], b"trying");
    m.respond(t0 + MS(5), 200, Arc::from(&b"ok"[..]));
    assert_eq!(m.state(), ServerNonInviteState::Completed);
    drain!(m);
    m.on_request();
    assert_eq!(&*drain!(m).0[0], b"ok");
    // A later response from the TU is discarded.
    m.respond(t0 + MS(6), 500, Arc::from(&b"late"[..]));
    assert!(drain!(m).0.is_empty());
    assert_eq!(m.poll_timeout(), Some(t0 + MS(5) + Duration::from_secs(32)));
    m.handle_timeout(t0 + MS(32_005));
    assert_eq!(m.state(), ServerNonInviteState::Terminated);
    let mut r = ServerNonInvite::new(TimerConfig::default(), tcp());
    r.respond(t0, 200, Arc::from(&b"ok"[..]));
    assert_eq!(
        r.state(),
        ServerNonInviteState::Terminated,
        "J = 0 over TCP"
    );
}

#[test]
fn configured_t1_t2_scale_the_timers() {
    let t0 = Instant::now();
    let cfg = TimerConfig {
        t1: MS(100),
        t2: MS(300),
        t4: MS(1000),
        ..TimerConfig::default()
    };
    let mut m = ClientNonInvite::new(t0, cfg, udp(), request("OPTIONS", "z9hG4bK9").into());
    drain!(m);
    let (at, _) = run_until!(m, t0, MS(2000));
    assert_eq!(
        at,
        [
            MS(100),
            MS(300),
            MS(600),
            MS(900),
            MS(1200),
            MS(1500),
            MS(1800)
        ]
    );
    assert_eq!(m.state(), ClientNonInviteState::Trying);
    // F = 64*T1 = 6.4 s.
    let (_, events) = run_until!(m, t0, MS(6400));
    assert_eq!(events, [TuEvent::Timeout, TuEvent::Terminated]);
}

#[test]
fn layer_routes_client_responses_and_runs_timers() {
    let t0 = Instant::now();
    let mut l = TransactionLayer::new(TimerConfig::default());
    let id = l
        .send_request(t0, request("INVITE", "z9hG4bKa"), udp())
        .unwrap();
    assert!(matches!(l.poll_output(), Some((i, Output::Transmit(_))) if i == id));
    assert_eq!(
        l.send_request(t0, request("INVITE", "z9hG4bKa"), udp()),
        Err(TxnError::Duplicate)
    );
    assert_eq!(
        l.send_request(t0, request("ACK", "z9hG4bKz"), udp()),
        Err(TxnError::Ack)
    );
    assert_eq!(l.poll_timeout(), Some(t0 + MS(500)));
    l.handle_timeout(t0 + MS(500));
    assert!(matches!(l.poll_output(), Some((_, Output::Transmit(_)))));
    assert_eq!(l.poll_timeout(), Some(t0 + MS(1500)));
    let ok = response(200, "INVITE", "z9hG4bKa");
    let ok = Message::parse(&ok).unwrap();
    assert_eq!(l.receive(t0 + MS(600), &ok, udp()), Receipt::Deliver(id));
    assert!(
        matches!(l.get(id), Some(Transaction::ClientInvite(t)) if t.state() == ClientInviteState::Accepted)
    );
    // A response for another branch matches nothing.
    let other = response(200, "INVITE", "z9hG4bKother");
    assert_eq!(
        l.receive(t0, &Message::parse(&other).unwrap(), udp()),
        Receipt::StrayResponse
    );
    // Timer M ends it; the table forgets it.
    assert_eq!(
        l.poll_timeout(),
        Some(t0 + MS(600) + Duration::from_secs(32))
    );
    l.handle_timeout(t0 + MS(32_600));
    assert!(l.is_empty());
    let mut events = Vec::new();
    while let Some((_, o)) = l.poll_output() {
        events.push(o);
    }
    assert_eq!(events, [Output::Event(TuEvent::Terminated)]);
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn layer_server_side_cancel_ack_and_retransmission() {
    let t0 = Instant::now();
    let mut l = TransactionLayer::new(TimerConfig::default());
    let inv = request("INVITE", "z9hG4bKs");
    let inv = Message::parse(&inv).unwrap();
    let Receipt::NewRequest(id) = l.receive(t0, &inv, udp()) else {
        panic!("new INVITE");
    };
    assert_eq!(l.receive(t0 + MS(50), &inv, udp()), Receipt::Absorbed(id));
    let cancel = request("CANCEL", "z9hG4bKs");
    let cancel = Message::parse(&cancel).unwrap();
    let Receipt::Cancel { id: cid, invite } = l.receive(t0 + MS(60), &cancel, udp()) else {
        panic!("CANCEL");
    };
    assert_eq!(invite, Some(id));
    assert_ne!(cid, id);
    l.respond(t0 + MS(70), cid, 200, b"200 cancel".to_vec())
        .unwrap();
    l.respond(t0 + MS(70), id, 487, b"487".to_vec()).unwrap();
    let ack = request("ACK", "z9hG4bKs");
    assert_eq!(
        l.receive(t0 + MS(80), &Message::parse(&ack).unwrap(), udp()),
        Receipt::Absorbed(id)
    );
    assert!(
        matches!(l.get(id), Some(Transaction::ServerInvite(t)) if t.state() == ServerInviteState::Confirmed)
    );
    // An ACK for a 2xx (new branch) matches no transaction and goes to the TU.
    let ack2 = request("ACK", "z9hG4bKnew");
    assert_eq!(
        l.receive(t0, &Message::parse(&ack2).unwrap(), udp()),
        Receipt::StrayAck
    );
    // Timers I and J end both transactions.
    l.handle_timeout(t0 + Duration::from_secs(60));
    assert!(l.is_empty());
}

#[test]
fn layer_matches_rfc2543_ack_by_the_fallback_rule() {
    let t0 = Instant::now();
    let mut l = TransactionLayer::new(TimerConfig::default());
    let inv = request("INVITE", "old-style-1");
    let Receipt::NewRequest(id) = l.receive(t0, &Message::parse(&inv).unwrap(), udp()) else {
        panic!("new INVITE");
    };
    assert_eq!(
        l.receive(t0, &Message::parse(&inv).unwrap(), udp()),
        Receipt::Absorbed(id)
    );
    l.respond(t0, id, 486, b"486".to_vec()).unwrap();
    // The ACK carries the To tag of our 486, which the INVITE did not.
    let ack = String::from_utf8(request("ACK", "old-style-1"))
        .unwrap()
        .replace("To: <sip:bob@y>", "To: <sip:bob@y>;tag=ours");
    let ack = Message::parse(ack.as_bytes()).unwrap();
    assert_eq!(l.receive(t0, &ack, udp()), Receipt::Absorbed(id));
    assert!(
        matches!(l.get(id), Some(Transaction::ServerInvite(t)) if t.state() == ServerInviteState::Confirmed)
    );
}
