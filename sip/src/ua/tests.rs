//! The UA core on virtual time: two cores wired back to back, or one core against a
//! scripted peer that builds its messages by hand.

use super::*;
use crate::MessageBuilder;
use crate::header::HeaderName;
use std::time::Duration;
use testkit::net::{Link, Net as Wire};

pub(super) const A: &str = "127.0.0.1:5061";
pub(super) const B: &str = "127.0.0.1:5062";
pub(super) const C: &str = "127.0.0.1:5063";

pub(super) fn ua(addr: &str, seed: u64) -> Ua {
    let mut cfg = UaConfig::new(addr.parse().unwrap(), Transport::Udp, "u");
    cfg.seed = Some(seed);
    Ua::new(cfg)
}

pub(super) fn peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

/// Several UAs on one virtual network (testkit's [`Wire`], ideal links unless a test sets
/// them). `drop` sees each message as it is sent and may drop it; every message sent is
/// logged.
pub(super) struct Net {
    pub(super) uas: Vec<Ua>,
    pub(super) now: Instant,
    pub(super) wire: Wire<SocketAddr, (Transport, std::sync::Arc<[u8]>)>,
    pub(super) log: Vec<(SocketAddr, SocketAddr, String)>,
    events: Vec<(usize, UaEvent)>,
}

impl Net {
    pub(super) fn new(uas: Vec<Ua>) -> Net {
        let now = Instant::now();
        Net {
            uas,
            now,
            wire: Wire::new(now, 1),
            log: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Delivers what has arrived by now until nothing moves, dropping the messages `drop`
    /// selects.
    pub(super) fn flush_with(&mut self, drop: &mut dyn FnMut(&str) -> bool) {
        self.wire.advance(self.now);
        loop {
            let mut moved = false;
            for i in 0..self.uas.len() {
                while let Some(t) = self.uas[i].poll_transmit() {
                    moved = true;
                    let text = String::from_utf8_lossy(&t.bytes).into_owned();
                    if drop(&text) {
                        continue;
                    }
                    let from = self.uas[i].config().local;
                    self.log.push((from, t.to.addr, text));
                    self.wire.send(from, t.to.addr, (t.to.transport, t.bytes));
                }
            }
            while let Some(d) = self.wire.poll_deliver() {
                moved = true;
                if let Some(j) = self.uas.iter().position(|u| u.config().local == d.to) {
                    let (transport, bytes) = d.payload;
                    let p = Peer {
                        transport,
                        addr: d.from,
                    };
                    self.uas[j].handle_message(self.now, &bytes, p);
                }
            }
            for i in 0..self.uas.len() {
                while let Some(e) = self.uas[i].poll_event() {
                    self.events.push((i, e));
                }
            }
            if !moved {
                return;
            }
        }
    }

    pub(super) fn flush(&mut self) {
        self.flush_with(&mut |_| false);
    }

    /// Advances virtual time to `until`, firing timers and delivering messages.
    pub(super) fn run_until(&mut self, until: Instant, drop: &mut dyn FnMut(&str) -> bool) {
        self.flush_with(drop);
        loop {
            let timers = self.uas.iter_mut().filter_map(|u| u.poll_timeout());
            let next = timers.chain(self.wire.poll_timeout()).min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    for u in &mut self.uas {
                        u.handle_timeout(self.now);
                    }
                    self.flush_with(drop);
                }
                _ => break,
            }
        }
        self.now = until;
    }

    pub(super) fn run(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until, &mut |_| false);
    }

    pub(super) fn take_events(&mut self, who: usize) -> Vec<UaEvent> {
        let (mine, rest) = std::mem::take(&mut self.events)
            .into_iter()
            .partition(|(i, _)| *i == who);
        self.events = rest;
        mine.into_iter().map(|(_, e)| e).collect()
    }

    pub(super) fn incoming(&mut self, who: usize) -> CallHandle {
        self.take_events(who)
            .into_iter()
            .find_map(|e| match e {
                UaEvent::Incoming { call, .. } => Some(call),
                _ => None,
            })
            .expect("an incoming call")
    }

    /// How many messages were sent whose first line starts with `start`.
    pub(super) fn count(&self, start: &str) -> usize {
        self.log
            .iter()
            .filter(|(_, _, m)| m.starts_with(start))
            .count()
    }
}

pub(super) fn first_line(m: &str) -> &str {
    m.lines().next().unwrap_or("")
}

pub(super) fn ended(events: &[UaEvent]) -> Option<EndReason> {
    events.iter().find_map(|e| match e {
        UaEvent::Ended { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

/// `u` (at A) calls `sip:u@B` with an offer at `now`.
pub(super) fn call_b(u: &mut Ua, now: Instant) -> CallHandle {
    u.call(
        now,
        &format!("sip:u@{B}"),
        &format!("sip:u@{A}"),
        b"offer".to_vec(),
    )
    .unwrap()
}

/// `a` (at A) calls `b` (at B) with an offer; both handles, nothing answered yet.
pub(super) fn calling(a: Ua, b: Ua) -> (Net, CallHandle, CallHandle) {
    let mut n = Net::new(vec![a, b]);
    let now = n.now;
    let a = call_b(&mut n.uas[0], now);
    n.flush();
    let b = n.incoming(1);
    (n, a, b)
}

/// A and B connected; A calls B and B answers.
pub(super) fn established() -> (Net, CallHandle, CallHandle) {
    let (mut n, a, b) = calling(ua(A, 1), ua(B, 2));
    let now = n.now;
    n.uas[1].ring(now, b, 180, None).unwrap();
    n.uas[1].answer(now, b, b"answer").unwrap();
    n.flush();
    (n, a, b)
}

#[test]
fn call_answer_ack_then_bye() {
    let (mut n, a, b) = established();
    let ev = n.take_events(0);
    assert!(ev.contains(&UaEvent::Progress {
        call: a,
        code: 180,
        sdp: None
    }));
    assert!(ev.contains(&UaEvent::Answered {
        call: a,
        sdp: b"answer".to_vec()
    }));
    assert!(
        n.take_events(1)
            .contains(&UaEvent::Confirmed { call: b, sdp: None })
    );
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    let ack = n
        .log
        .iter()
        .find(|l| l.2.starts_with("ACK "))
        .expect("ACK sent");
    assert!(ack.2.contains("CSeq: ") && ack.2.contains(" ACK\r\n"));
    // The ACK for a 2xx has a branch of its own (§13.2.2.4, §17.1.1.3).
    let invite = n.log.iter().find(|l| l.2.starts_with("INVITE ")).unwrap();
    let branch = |m: &str| {
        Message::parse(m.as_bytes())
            .unwrap()
            .top_via()
            .unwrap()
            .branch()
            .unwrap()
            .to_owned()
    };
    assert_ne!(branch(&ack.2), branch(&invite.2));

    let now = n.now;
    n.uas[0].hangup(now, a).unwrap();
    n.flush();
    assert_eq!(ended(&n.take_events(1)), Some(EndReason::RemoteBye));
    assert_eq!(ended(&n.take_events(0)), Some(EndReason::LocalBye));
    assert!(
        n.log
            .iter()
            .any(|l| l.2.starts_with("SIP/2.0 200") && l.2.contains(" BYE\r\n"))
    );
}

/// A call set up and hung up over 50 ms links with 30 ms jitter and 20 % loss: the
/// retransmissions of RFC 3261 §17 carry it through whatever each seed loses, and nothing
/// is left behind when it ends.
#[test]
fn call_over_a_lossy_jittery_network_connects_and_ends() {
    let link = Link::IDEAL
        .latency(Duration::from_millis(50))
        .jitter(Duration::from_millis(30))
        .loss(0.2);
    let mut lost = 0;
    for seed in 1..=30 {
        let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
        n.wire = Wire::new(n.now, seed).with_link(link);
        let now = n.now;
        let to = format!("sip:u@{B}");
        let a = n.uas[0]
            .call(now, &to, &format!("sip:u@{A}"), b"offer".to_vec())
            .unwrap();
        n.run(Duration::from_secs(8));
        let b = n.incoming(1);
        let now = n.now;
        n.uas[1].ring(now, b, 180, None).unwrap();
        n.uas[1].answer(now, b, b"answer").unwrap();
        n.run(Duration::from_secs(20));
        assert_eq!(
            n.uas[0].call_state(a),
            Some(CallState::Confirmed),
            "seed {seed}"
        );
        assert_eq!(
            n.uas[1].call_state(b),
            Some(CallState::Confirmed),
            "seed {seed}"
        );
        let now = n.now;
        n.uas[0].hangup(now, a).unwrap();
        n.run(Duration::from_secs(64));
        assert!(ended(&n.take_events(0)).is_some(), "seed {seed}");
        assert!(ended(&n.take_events(1)).is_some(), "seed {seed}");
        for u in &mut n.uas {
            assert_eq!(u.poll_timeout(), None, "seed {seed}: a timer left");
        }
        lost += n.wire.stats().lost;
    }
    assert!(lost > 30, "the links lost {lost} messages in all");
}

#[test]
fn two_hundred_is_retransmitted_until_ack() {
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1].answer(now, b, b"a").unwrap();
    // Lose the first three ACKs: B retransmits its 200 at T1, 2*T1, 4*T1.
    let mut lost = 0;
    let until = now + Duration::from_secs(10);
    n.run_until(until, &mut |m| {
        if m.starts_with("ACK ") && lost < 3 {
            lost += 1;
            return true;
        }
        false
    });
    let oks = n
        .log
        .iter()
        .filter(|l| l.2.starts_with("SIP/2.0 200") && l.2.contains(" INVITE\r\n"))
        .count();
    assert_eq!(oks, 4, "original + three retransmissions");
    assert_eq!(n.count("ACK "), 1, "three lost, the fourth delivered");
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert_eq!(n.count("BYE "), 0);
}

#[test]
fn no_ack_ends_with_bye_after_64_t1() {
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1].answer(now, b, b"a").unwrap();
    n.run_until(now + Duration::from_secs(40), &mut |m| {
        m.starts_with("ACK ")
    });
    assert_eq!(ended(&n.take_events(1)), Some(EndReason::NoAck));
    let bye = n
        .log
        .iter()
        .position(|l| l.2.starts_with("BYE "))
        .expect("BYE after no ACK");
    assert_eq!(n.log[bye].0, B.parse::<SocketAddr>().unwrap());
}

#[test]
fn cancel_before_answer_gets_200_and_487() {
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    let a = n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1].ring(now, b, 180, None).unwrap();
    n.flush();
    n.uas[0].hangup(now, a).unwrap();
    n.flush();
    assert_eq!(n.count("CANCEL "), 1);
    assert!(
        n.log
            .iter()
            .any(|l| l.2.starts_with("SIP/2.0 200") && l.2.contains(" CANCEL\r\n"))
    );
    assert!(n.log.iter().any(|l| l.2.starts_with("SIP/2.0 487")));
    assert_eq!(ended(&n.take_events(1)), Some(EndReason::Cancelled));
    assert_eq!(ended(&n.take_events(0)), Some(EndReason::Cancelled));
    // The ACK for the 487 is the transaction's (same branch as the INVITE).
    assert_eq!(n.count("ACK "), 1);
}

#[test]
fn cancel_waits_for_a_provisional_response() {
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    let a = n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.uas[0].hangup(now, a).unwrap();
    // Nothing from B yet: only the INVITE goes out, no CANCEL (§9.1).
    assert_eq!(
        starts(&sent(&mut n.uas[0])),
        [format!("INVITE sip:u@{B} SIP/2.0")]
    );
    let (mut n2, _a2) = {
        let mut n2 = Net::new(vec![ua(A, 7), ua(B, 8)]);
        let t = n2.now;
        let a2 = n2.uas[0]
            .call(
                t,
                &format!("sip:u@{B}"),
                &format!("sip:u@{A}"),
                b"o".to_vec(),
            )
            .unwrap();
        n2.flush();
        n2.uas[0].hangup(t, a2).unwrap();
        n2.flush();
        (n2, a2)
    };
    assert_eq!(n2.count("CANCEL "), 0, "held back until a 1xx");
    n2.run(Duration::from_millis(300));
    assert_eq!(n2.count("SIP/2.0 100"), 1);
    assert_eq!(n2.count("CANCEL "), 1, "sent once the 100 arrived");
    n2.flush();
    assert_eq!(ended(&n2.take_events(0)), Some(EndReason::Cancelled));
}

#[test]
fn single_line_answers_second_invite_with_486() {
    let (mut n, _a, _b) = established();
    n.uas.push(ua(C, 3));
    let now = n.now;
    let c = n.uas[2]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{C}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    assert_eq!(
        ended(&n.take_events(2)),
        Some(EndReason::Failed {
            code: 486,
            retry_after: None
        })
    );
    let _ = c;
}

#[test]
fn reject_codes_reach_the_caller() {
    for code in [486u16, 480, 603] {
        let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
        let now = n.now;
        n.uas[0]
            .call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
            .unwrap();
        n.flush();
        let b = n.incoming(1);
        n.uas[1].reject(now, b, code).unwrap();
        n.flush();
        assert_eq!(
            ended(&n.take_events(0)),
            Some(EndReason::Failed {
                code,
                retry_after: None
            })
        );
        assert_eq!(ended(&n.take_events(1)), Some(EndReason::LocalReject(code)));
    }
}

/// A request as another UA would write it for B's dialog, with `from_tag` / `to_tag`,
/// numbered `seq` above the dialog's last remote CSeq.
pub(super) fn dialog_request(
    n: &Net,
    b: CallHandle,
    method: &str,
    from_tag: &str,
    to_tag: &str,
    seq: u32,
) -> Vec<u8> {
    let d = n.uas[1].dialog(b).unwrap();
    let seq = d.remote_seq().unwrap_or(0) + seq;
    format!(
        "{method} sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {C};branch=z9hG4bKevil{seq}\r\nMax-Forwards: 70\r\n\
         From: <sip:u@{A}>;tag={from_tag}\r\nTo: <sip:u@{B}>;tag={to_tag}\r\nCall-ID: {}\r\n\
         CSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
        d.id().call_id
    )
    .into_bytes()
}

#[test]
fn bye_with_a_wrong_tag_gets_481_and_the_call_stays() {
    let (mut n, _a, b) = established();
    let (local, remote) = {
        let d = n.uas[1].dialog(b).unwrap();
        (d.id().local_tag.clone(), d.id().remote_tag.clone())
    };
    let now = n.now;
    let bye = dialog_request(&n, b, "BYE", "forged", &local, 900);
    n.uas[1].handle_message(now, &bye, peer(C));
    let t = n.uas[1].poll_transmit().unwrap();
    assert!(t.bytes.starts_with(b"SIP/2.0 481"));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    let bye = dialog_request(&n, b, "BYE", &remote, "wrong", 901);
    n.uas[1].handle_message(now, &bye, peer(C));
    assert!(
        n.uas[1]
            .poll_transmit()
            .unwrap()
            .bytes
            .starts_with(b"SIP/2.0 481")
    );
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    // With both tags right but from a third host (C): 403, the call stays (§26.1.4).
    let bye = dialog_request(&n, b, "BYE", &remote, &local, 902);
    n.uas[1].handle_message(now, &bye, peer(C));
    assert!(
        n.uas[1]
            .poll_transmit()
            .unwrap()
            .bytes
            .starts_with(b"SIP/2.0 403")
    );
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].stats().foreign, 1);
    // From the peer (A) the same request ends the call.
    let bye = dialog_request(&n, b, "BYE", &remote, &local, 903);
    n.uas[1].handle_message(now, &bye, peer(A));
    assert!(
        n.uas[1]
            .poll_transmit()
            .unwrap()
            .bytes
            .starts_with(b"SIP/2.0 200")
    );
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Terminated));
}

#[test]
fn requests_outside_any_dialog() {
    let mut b = ua(B, 2);
    let now = Instant::now();
    let info = format!(
        "INFO sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {C};branch=z9hG4bKi1\r\nFrom: <sip:x@{C}>;tag=1\r\n\
         To: <sip:u@{B}>;tag=nope\r\nCall-ID: none\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n"
    );
    b.handle_message(now, info.as_bytes(), peer(C));
    assert!(b.poll_transmit().unwrap().bytes.starts_with(b"SIP/2.0 481"));
    let opt = format!(
        "OPTIONS sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {C};branch=z9hG4bKo1\r\nFrom: <sip:x@{C}>;tag=1\r\n\
         To: <sip:u@{B}>\r\nCall-ID: ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    b.handle_message(now, opt.as_bytes(), peer(C));
    let r = b.poll_transmit().unwrap();
    let m = Message::parse(&r.bytes).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.header("Allow").unwrap().value, ALLOW);
    assert_eq!(m.header("Accept").unwrap().value, ACCEPT);
    assert!(m.header("Supported").is_some());
}

/// §18.1.1: a request's Via names the transport it really goes over, and the Contact asks
/// for the same (§8.1.1.8): a target with `;transport=tcp` from a UA whose default is UDP
/// gets SIP/2.0/TCP and `;transport=tcp`.
#[test]
fn via_and_contact_follow_the_transport_of_the_target() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    a.call(
        now,
        &format!("sip:u@{B};transport=tcp"),
        &format!("sip:u@{A}"),
        b"v=0".to_vec(),
    )
    .unwrap();
    let t = a.poll_transmit().expect("the INVITE");
    assert_eq!(t.to.transport, Transport::Tcp);
    let m = Message::parse(&t.bytes).unwrap();
    assert!(
        m.header("Via")
            .unwrap()
            .value
            .starts_with("SIP/2.0/TCP 127.0.0.1:5061"),
        "{:?}",
        m.header("Via")
    );
    assert!(
        m.header("Contact")
            .unwrap()
            .value
            .contains(";transport=tcp")
    );
    // A plain target keeps the default.
    let mut a = ua(A, 2);
    a.call(
        now,
        &format!("sip:u@{B}"),
        &format!("sip:u@{A}"),
        b"v=0".to_vec(),
    )
    .unwrap();
    let t = a.poll_transmit().expect("the INVITE");
    let m = Message::parse(&t.bytes).unwrap();
    assert_eq!(t.to.transport, Transport::Udp);
    assert!(m.header("Via").unwrap().value.starts_with("SIP/2.0/UDP "));
    assert!(!m.header("Contact").unwrap().value.contains("transport="));
}

/// A host name the caller resolved (UaConfig::hosts) is reachable; the Request-URI keeps
/// the name; a name nobody resolved is refused as before.
#[test]
fn names_in_the_host_table_are_reachable() {
    let mut cfg = UaConfig::new(A.parse().unwrap(), Transport::Udp, "u");
    cfg.hosts.insert("PBX.test", "127.0.0.9".parse().unwrap());
    let mut a = Ua::new(cfg);
    let now = Instant::now();
    a.call(
        now,
        "sip:200@pbx.test:5070",
        &format!("sip:u@{A}"),
        b"v=0".to_vec(),
    )
    .unwrap();
    let t = a.poll_transmit().expect("the INVITE");
    assert_eq!(t.to.addr, "127.0.0.9:5070".parse().unwrap());
    assert!(t.bytes.starts_with(b"INVITE sip:200@pbx.test:5070 SIP/2.0"));
    assert!(matches!(
        a.call(
            now,
            "sip:200@unknown.test",
            &format!("sip:u@{A}"),
            b"v=0".to_vec()
        ),
        Err(UaError::Uri(_))
    ));
}

/// §8.2.2.2: a forking proxy's two copies of one INVITE (same From tag, Call-ID and CSeq,
/// other branches) reach us: the second gets 482 and rings nothing.
#[test]
fn merged_request_gets_482_and_makes_no_second_call() {
    let mut b = ua(B, 2);
    b.cfg.single_line = false;
    let now = Instant::now();
    let invite = |branch: &str, seq: u32| {
        format!(
            "INVITE sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {C};branch=z9hG4bK{branch}\r\n\
             From: <sip:x@{C}>;tag=f1\r\nTo: <sip:u@{B}>\r\nCall-ID: fork-1\r\n\
             CSeq: {seq} INVITE\r\nContact: <sip:x@{C}>\r\nContent-Length: 0\r\n\r\n"
        )
    };
    b.handle_message(now, invite("p1", 7).as_bytes(), peer(C));
    let first = evs(&mut b);
    assert_eq!(
        first
            .iter()
            .filter(|e| matches!(e, UaEvent::Incoming { .. }))
            .count(),
        1
    );
    let _ = sent(&mut b);
    b.handle_message(now, invite("p2", 7).as_bytes(), peer(C));
    let out = sent(&mut b);
    assert_eq!(starts(&out), ["SIP/2.0 482 Loop Detected"], "{out:?}");
    assert!(evs(&mut b).is_empty());
    // A retransmission of the first copy (same branch) is the transaction's, not a merge.
    b.handle_message(now, invite("p1", 7).as_bytes(), peer(C));
    assert!(starts(&sent(&mut b)).iter().all(|l| !l.contains("482")));
    // Another CSeq is a new request (§8.2.2.2 matches all three).
    b.handle_message(now, invite("p3", 8).as_bytes(), peer(C));
    assert!(
        evs(&mut b)
            .iter()
            .any(|e| matches!(e, UaEvent::Incoming { .. }))
    );
}

#[test]
fn reinvite_for_hold_and_in_dialog_options_info() {
    let (mut n, a, b) = established();
    n.take_events(0);
    n.take_events(1);
    let now = n.now;
    n.uas[0].reinvite(now, a, b"hold".to_vec()).unwrap();
    n.flush();
    let ev = n.take_events(1);
    assert!(ev.contains(&UaEvent::Reoffer {
        call: b,
        sdp: b"hold".to_vec()
    }));
    n.uas[1].accept_reoffer(now, b, b"held").unwrap();
    n.flush();
    assert!(n.take_events(0).contains(&UaEvent::ReinviteDone {
        call: a,
        sdp: b"held".to_vec()
    }));
    assert_eq!(n.count("ACK "), 2);
    // B's 200 is not retransmitted after the ACK.
    n.run(Duration::from_secs(5));
    assert_eq!(
        n.log
            .iter()
            .filter(|l| l.2.starts_with("SIP/2.0 200") && l.2.contains(" INVITE\r\n"))
            .count(),
        2
    );

    let now = n.now;
    n.uas[1]
        .request_in_dialog(now, b, Method::Options, None)
        .unwrap();
    n.uas[0]
        .request_in_dialog(
            now,
            a,
            Method::Info,
            Some(("application/dtmf-relay", b"Signal=5\r\n")),
        )
        .unwrap();
    n.flush();
    let ev1 = n.take_events(1);
    assert!(ev1.contains(&UaEvent::DialogResponse {
        call: b,
        method: "OPTIONS".into(),
        code: 200
    }));
    assert!(ev1.contains(&UaEvent::Info {
        call: b,
        body: b"Signal=5\r\n".to_vec()
    }));
    assert!(n.take_events(0).contains(&UaEvent::DialogResponse {
        call: a,
        method: "INFO".into(),
        code: 200
    }));
    // The OPTIONS answer inside the dialog carries Allow.
    assert!(n.log.iter().any(|l| l.2.starts_with("SIP/2.0 200")
        && l.2.contains(" OPTIONS\r\n")
        && l.2.contains(ALLOW)));
}

#[test]
fn glare_gets_491_and_retries_after_the_random_wait() {
    let (mut n, a, b) = established();
    n.take_events(0);
    n.take_events(1);
    let now = n.now;
    n.uas[0].reinvite(now, a, b"a-hold".to_vec()).unwrap();
    n.uas[1].reinvite(now, b, b"b-hold".to_vec()).unwrap();
    n.flush();
    assert_eq!(n.count("SIP/2.0 491"), 2);
    let ev0 = n.take_events(0);
    let ev1 = n.take_events(1);
    assert!(ev0.contains(&UaEvent::ReinviteFailed { call: a, code: 491 }));
    assert!(ev1.contains(&UaEvent::ReinviteFailed { call: b, code: 491 }));
    // B (not the Call-ID owner) retries within 2 s; A waits at least 2.1 s (§14.1).
    n.run(Duration::from_millis(2000));
    let reinvites = n
        .log
        .iter()
        .filter(|l| l.2.starts_with("INVITE "))
        .map(|l| l.0)
        .collect::<Vec<_>>();
    assert_eq!(
        reinvites.len(),
        4,
        "initial, two glaring, B's retry: {reinvites:?}"
    );
    assert_eq!(reinvites[3], B.parse::<SocketAddr>().unwrap());
    let ev0 = n.take_events(0);
    assert!(ev0.contains(&UaEvent::Reoffer {
        call: a,
        sdp: b"b-hold".to_vec()
    }));
    n.uas[0].accept_reoffer(n.now, a, b"ok").unwrap();
    n.flush();
    assert!(n.take_events(1).contains(&UaEvent::ReinviteDone {
        call: b,
        sdp: b"ok".to_vec()
    }));
    // A's own retry comes after 2.1 s and now goes through.
    n.run(Duration::from_secs(3));
    assert_eq!(
        n.log.iter().filter(|l| l.2.starts_with("INVITE ")).count(),
        5
    );
    assert!(n.take_events(1).contains(&UaEvent::Reoffer {
        call: b,
        sdp: b"a-hold".to_vec()
    }));
}

// ---- a scripted peer -------------------------------------------------------------

/// Responds to `req` as the far end would, with `tag`, a Contact at `contact` and `extra`
/// headers.
pub(super) fn reply(
    req: &[u8],
    code: u16,
    tag: Option<&str>,
    contact: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let m = Message::parse(req).unwrap();
    let mut b = MessageBuilder::response_to(&m, code, "X", tag);
    if !contact.is_empty() {
        b = b.header(HeaderName::Contact, contact);
    }
    for (n, v) in extra {
        b = b.raw_header(n, v);
    }
    b.finish()
}

pub(super) fn sent(u: &mut Ua) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Some(t) = u.poll_transmit() {
        v.push(t.bytes.to_vec());
    }
    v
}

pub(super) fn starts(v: &[Vec<u8>]) -> Vec<String> {
    v.iter()
        .map(|m| first_line(&String::from_utf8_lossy(m)).to_owned())
        .collect()
}

#[test]
fn forked_second_2xx_gets_ack_and_bye() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let from = peer(B);
    a.handle_message(
        now,
        &reply(&inv, 180, Some("f1"), &format!("<sip:u@{B}>"), &[]),
        from,
    );
    a.handle_message(
        now,
        &reply(&inv, 180, Some("f2"), &format!("<sip:u@{C}>"), &[]),
        from,
    );
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, UaEvent::Progress { .. }))
            .count(),
        2
    );
    a.handle_message(
        now,
        &reply(&inv, 200, Some("f1"), &format!("<sip:u@{B}>"), &[]),
        from,
    );
    let out = sent(&mut a);
    assert_eq!(starts(&out), [format!("ACK sip:u@{B} SIP/2.0")]);
    a.handle_message(
        now,
        &reply(&inv, 200, Some("f2"), &format!("<sip:u@{C}>"), &[]),
        from,
    );
    let out = sent(&mut a);
    assert_eq!(
        starts(&out),
        [
            format!("ACK sip:u@{C} SIP/2.0"),
            format!("BYE sip:u@{C} SIP/2.0")
        ]
    );
    assert!(String::from_utf8_lossy(&out[1]).contains(";tag=f2"));
    // The call stays up on the first fork; a retransmitted 2xx from it is ACKed again.
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
    assert_eq!(a.dialog(h).unwrap().id().remote_tag, "f1");
    a.handle_message(
        now,
        &reply(&inv, 200, Some("f1"), &format!("<sip:u@{B}>"), &[]),
        from,
    );
    assert_eq!(starts(&sent(&mut a)), [format!("ACK sip:u@{B} SIP/2.0")]);
}

#[test]
fn cancel_200_race_acks_then_byes() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        now,
        &reply(&inv, 180, Some("t"), &format!("<sip:u@{B}>"), &[]),
        peer(B),
    );
    a.hangup(now, h).unwrap();
    assert_eq!(starts(&sent(&mut a)), [format!("CANCEL sip:u@{B} SIP/2.0")]);
    // The 200 for the INVITE crossed the CANCEL.
    a.handle_message(
        now,
        &reply(&inv, 200, Some("t"), &format!("<sip:u@{B}>"), &[]),
        peer(B),
    );
    assert_eq!(
        starts(&sent(&mut a)),
        [
            format!("ACK sip:u@{B} SIP/2.0"),
            format!("BYE sip:u@{B} SIP/2.0")
        ]
    );
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ended(&ev), Some(EndReason::Cancelled));
}

#[test]
fn redirect_follows_contacts_in_q_order_and_detects_loops() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let contacts = format!("<sip:low@{C}>;q=0.2, <sip:high@{C}>;q=0.9, <sip:u@{B}>;q=1.0");
    a.handle_message(
        now,
        &reply(&inv, 302, Some("r"), "", &[("Contact", &contacts)]),
        peer(B),
    );
    let out = sent(&mut a);
    // The ACK for the 302, then the INVITE to the best untried target (B was tried: loop).
    let lines = starts(&out);
    assert_eq!(lines[0], format!("ACK sip:u@{B} SIP/2.0"));
    assert_eq!(lines[1], format!("INVITE sip:high@{C} SIP/2.0"));
    let inv2 = out[1].clone();
    let m = Message::parse(&inv2).unwrap();
    let m1 = Message::parse(&inv).unwrap();
    assert_eq!(m.call_id(), m1.call_id());
    assert_eq!(m.cseq().unwrap().seq, m1.cseq().unwrap().seq + 1);
    a.handle_message(now, &reply(&inv2, 486, Some("r2"), "", &[]), peer(C));
    let lines = starts(&sent(&mut a));
    assert_eq!(lines[1], format!("INVITE sip:low@{C} SIP/2.0"));
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, UaEvent::Redirected { .. }))
            .count(),
        2
    );
    let _ = h;
}

#[test]
fn six_xx_stops_other_targets_and_503_reports_retry_after() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let contacts = format!("<sip:one@{C}>, <sip:two@{C}>;q=0.5");
    a.handle_message(
        now,
        &reply(&inv, 302, Some("r"), "", &[("Contact", &contacts)]),
        peer(B),
    );
    let inv2 = sent(&mut a).remove(1);
    a.handle_message(
        now,
        &reply(&inv2, 603, Some("d"), "", &[("Retry-After", "60")]),
        peer(C),
    );
    let out = starts(&sent(&mut a));
    assert!(!out.iter().any(|l| l.starts_with("INVITE")), "{out:?}");
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(
        ended(&ev),
        Some(EndReason::Failed {
            code: 603,
            retry_after: Some(60)
        })
    );

    let mut a = ua(A, 2);
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        now,
        &reply(
            &inv,
            503,
            Some("s"),
            "",
            &[("Retry-After", "120 (maintenance)")],
        ),
        peer(B),
    );
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(
        ended(&ev),
        Some(EndReason::Failed {
            code: 503,
            retry_after: Some(120)
        })
    );
}

#[test]
fn redirect_cap() {
    let mut cfg = UaConfig::new(A.parse().unwrap(), Transport::Udp, "u");
    cfg.max_redirects = 2;
    let mut a = Ua::new(cfg);
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let mut inv = sent(&mut a).remove(0);
    for k in 0..3 {
        let c = format!("<sip:hop{k}@{C}>");
        a.handle_message(
            now,
            &reply(&inv, 302, Some("r"), "", &[("Contact", &c)]),
            // The first INVITE went to B, the redirected ones to C.
            peer(if k == 0 { B } else { C }),
        );
        let out = sent(&mut a);
        if k < 2 {
            inv = out[1].clone();
        } else {
            assert_eq!(out.len(), 1, "only the ACK for the third 302");
        }
    }
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ended(&ev), Some(EndReason::TooManyRedirects));
}

/// Credentials that answer any challenge with a fixed value (the digest computation is the
/// digest module's; here only the once-per-challenge rule is under test).
pub(super) struct FixedAnswer(pub(super) usize);

impl Authenticator for FixedAnswer {
    fn answer(&mut self, c: &Challenge, method: &str, _uri: &str, _body: &[u8]) -> Option<String> {
        self.0 += 1;
        Some(format!(
            "Digest username=\"u\", realm=\"{}\", response=\"{method}{}\"",
            c.realm, self.0
        ))
    }
}

#[test]
fn challenge_answered_once_never_in_a_loop() {
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(FixedAnswer(0)));
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let ch = [("Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n1\"")];
    a.handle_message(now, &reply(&inv, 407, Some("p"), "", &ch), peer(B));
    let out = sent(&mut a);
    assert_eq!(starts(&out)[1], format!("INVITE sip:u@{B} SIP/2.0"));
    let inv2 = Message::parse(&out[1]).unwrap();
    assert!(
        inv2.header("Proxy-Authorization")
            .unwrap()
            .value
            .contains("realm=\"r\"")
    );
    // Wrong password: the proxy challenges again with a fresh nonce. No third INVITE.
    let ch2 = [("Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n2\"")];
    a.handle_message(now, &reply(&out[1], 407, Some("p"), "", &ch2), peer(B));
    let out = starts(&sent(&mut a));
    assert!(!out.iter().any(|l| l.starts_with("INVITE")), "{out:?}");
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ended(&ev), Some(EndReason::AuthFailed(407)));
}

#[test]
fn stale_nonce_is_answered_again() {
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(FixedAnswer(0)));
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        now,
        &reply(
            &inv,
            401,
            Some("p"),
            "",
            &[("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n1\"")],
        ),
        peer(B),
    );
    let inv2 = sent(&mut a).remove(1);
    a.handle_message(
        now,
        &reply(
            &inv2,
            401,
            Some("p"),
            "",
            &[(
                "WWW-Authenticate",
                "Digest realm=\"r\", nonce=\"n2\", stale=true",
            )],
        ),
        peer(B),
    );
    let out = sent(&mut a);
    assert!(
        Message::parse(&out[1])
            .unwrap()
            .header("Authorization")
            .is_some()
    );
}

#[test]
fn without_credentials_a_challenge_ends_the_call() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        now,
        &reply(
            &inv,
            401,
            Some("p"),
            "",
            &[("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n1\"")],
        ),
        peer(B),
    );
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ended(&ev), Some(EndReason::AuthFailed(401)));
}

#[test]
fn no_answer_times_out_as_408() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let mut t = now;
    while let Some(next) = a.poll_timeout() {
        t = next;
        a.handle_timeout(t);
        if !a.busy() {
            break;
        }
    }
    assert!(t - now >= Duration::from_secs(32));
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ended(&ev), Some(EndReason::Timeout));
    let sent_invites = starts(&sent(&mut a))
        .iter()
        .filter(|l| l.starts_with("INVITE"))
        .count();
    assert_eq!(
        sent_invites, 7,
        "Timer A retransmissions at 0.5, 1, 2, 4, 8, 16 s"
    );
}

#[test]
fn early_media_183_carries_sdp() {
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    let a = n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1].ring(now, b, 183, Some(b"early")).unwrap();
    n.flush();
    assert!(n.take_events(0).contains(&UaEvent::Progress {
        call: a,
        code: 183,
        sdp: Some(b"early".to_vec())
    }));
}

// ---- REGISTER and OPTIONS pings ------------------------------------------------------

/// Fires timers until the UA sends something; returns when, and what.
pub(super) fn next_send(u: &mut Ua) -> (Instant, Vec<Vec<u8>>) {
    loop {
        let t = u.poll_timeout().expect("a timer");
        u.handle_timeout(t);
        let out = sent(u);
        if !out.is_empty() {
            return (t, out);
        }
    }
}

pub(super) fn evs(u: &mut Ua) -> Vec<UaEvent> {
    std::iter::from_fn(|| u.poll_event()).collect()
}

#[test]
fn register_challenge_binding_refresh_and_unregister() {
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(FixedAnswer(0)));
    let t0 = Instant::now();
    let mut cfg = RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}"));
    cfg.expires = 600;
    let r = a.register(t0, cfg).unwrap();
    let reg = sent(&mut a).remove(0);
    let m = Message::parse(&reg).unwrap();
    assert_eq!(m.expires(), Some(600));
    assert_eq!(m.request_uri().unwrap().to_string(), format!("sip:{B}"));
    let ch = [("WWW-Authenticate", "Digest realm=\"reg\", nonce=\"1\"")];
    a.handle_message(t0, &reply(&reg, 401, Some("x"), "", &ch), peer(B));
    let reg2 = sent(&mut a).remove(0);
    let m2 = Message::parse(&reg2).unwrap();
    assert!(m2.header("Authorization").is_some());
    assert_eq!(m2.cseq().unwrap().seq, m.cseq().unwrap().seq + 1);
    assert_eq!(m2.call_id(), m.call_id());
    let bindings = format!("<sip:u@{A}>;expires=300, <sip:other@192.0.2.9>;expires=50");
    a.handle_message(
        t0,
        &reply(&reg2, 200, Some("x"), "", &[("Contact", &bindings)]),
        peer(B),
    );
    let ev = evs(&mut a);
    assert_eq!(
        ev,
        [UaEvent::Registered {
            reg: r,
            expires: 300,
            bindings: vec![
                Binding {
                    uri: format!("sip:u@{A}"),
                    expires: Some(300)
                },
                Binding {
                    uri: "sip:other@192.0.2.9".into(),
                    expires: Some(50)
                },
            ]
        }]
    );
    assert_eq!(a.reg_state(r), Some(RegState::Registered));
    // The refresh goes out before the 300 s lapse (at 240 s), not earlier.
    let (due, refresh) = next_send(&mut a);
    assert_eq!(due - t0, Duration::from_secs(240));
    assert_eq!(starts(&refresh), [format!("REGISTER sip:{B} SIP/2.0")]);
    a.handle_message(
        due,
        &reply(&refresh[0], 200, Some("x"), "", &[("Contact", &bindings)]),
        peer(B),
    );
    a.unregister(due, r).unwrap();
    let un = sent(&mut a).remove(0);
    assert_eq!(Message::parse(&un).unwrap().expires(), Some(0));
    a.handle_message(due, &reply(&un, 200, Some("x"), "", &[]), peer(B));
    assert!(evs(&mut a).contains(&UaEvent::Unregistered { reg: r }));
    assert_eq!(a.reg_state(r), Some(RegState::Unregistered));
}

#[test]
fn register_423_retries_with_min_expires_and_failures_back_off() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    let mut cfg = RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}"));
    cfg.expires = 60;
    let r = a.register(t0, cfg).unwrap();
    let reg = sent(&mut a).remove(0);
    a.handle_message(
        t0,
        &reply(&reg, 423, Some("x"), "", &[("Min-Expires", "1800")]),
        peer(B),
    );
    let reg2 = sent(&mut a).remove(0);
    assert_eq!(Message::parse(&reg2).unwrap().expires(), Some(1800));
    // A wrong password: challenged twice, no third REGISTER now; retry after back-off.
    let mut a2 = ua(A, 2);
    a2.set_authenticator(Box::new(FixedAnswer(0)));
    let r2 = a2
        .register(
            t0,
            RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
        )
        .unwrap();
    let ch = [("WWW-Authenticate", "Digest realm=\"reg\", nonce=\"1\"")];
    let x = sent(&mut a2).remove(0);
    a2.handle_message(t0, &reply(&x, 401, Some("x"), "", &ch), peer(B));
    let y = sent(&mut a2).remove(0);
    a2.handle_message(t0, &reply(&y, 401, Some("x"), "", &ch), peer(B));
    assert!(sent(&mut a2).is_empty(), "no loop on a wrong password");
    let ev = evs(&mut a2);
    assert!(ev.contains(&UaEvent::RegistrationFailed {
        reg: r2,
        code: 401,
        retry_in: Duration::from_secs(30)
    }));
    let (next, mut z) = next_send(&mut a2);
    assert_eq!(next - t0, Duration::from_secs(30));
    let z = z.remove(0);
    a2.handle_message(next, &reply(&z, 500, Some("x"), "", &[]), peer(B));
    assert!(evs(&mut a2).contains(&UaEvent::RegistrationFailed {
        reg: r2,
        code: 500,
        retry_in: Duration::from_secs(60)
    }));
    let _ = r;
}

#[test]
fn register_follows_a_redirect() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    a.register(
        t0,
        RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
    )
    .unwrap();
    let reg = sent(&mut a).remove(0);
    a.handle_message(
        t0,
        &reply(
            &reg,
            301,
            Some("x"),
            "",
            &[("Contact", &format!("<sip:{C}>"))],
        ),
        peer(B),
    );
    let out = sent(&mut a);
    assert_eq!(starts(&out), [format!("REGISTER sip:{C} SIP/2.0")]);
}

#[test]
fn options_ping_reports_up_then_down() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    let p = a
        .ping(t0, &format!("sip:{B}"), Duration::from_secs(30))
        .unwrap();
    let o = sent(&mut a).remove(0);
    assert!(o.starts_with(b"OPTIONS "));
    a.handle_message(t0, &reply(&o, 200, Some("p"), "", &[]), peer(B));
    assert_eq!(evs(&mut a), [UaEvent::PeerUp { ping: p }]);
    // The next ping gets no answer: down after Timer F (32 s).
    let mut t = t0;
    let mut downs = Vec::new();
    while t - t0 < Duration::from_secs(70) {
        t = a.poll_timeout().unwrap();
        a.handle_timeout(t);
        sent(&mut a);
        downs.extend(evs(&mut a));
        if !downs.is_empty() {
            break;
        }
    }
    assert_eq!(
        downs,
        [UaEvent::PeerDown {
            ping: p,
            code: None
        }]
    );
    assert_eq!(t - t0, Duration::from_secs(30 + 32));
}

// ---- digest end to end -----------------------------------------------------------------

fn challenged_pair(password: &str) -> Net {
    use crate::digest::{DigestServer, Secret, ServerConfig};
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(DigestCredentials::new("alice", password, 7)));
    let mut b = ua(B, 2);
    let now = Instant::now();
    let users = HashMap::from([("alice".to_owned(), Secret::Password("s3cret".into()))]);
    b.set_challenger(
        DigestServer::new(ServerConfig::new("tipring"), [9; 32], now),
        users,
    );
    let mut n = Net::new(vec![a, b]);
    n.now = now;
    n
}

#[test]
fn digest_challenge_then_call_with_the_right_password() {
    let mut n = challenged_pair("s3cret");
    let now = n.now;
    let a = n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:alice@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.flush();
    assert_eq!(n.count("SIP/2.0 401"), 1);
    let b = n.incoming(1);
    n.uas[1].answer(now, b, b"a").unwrap();
    n.flush();
    assert!(n.take_events(0).contains(&UaEvent::Answered {
        call: a,
        sdp: b"a".to_vec()
    }));
    let inv2 = n
        .log
        .iter()
        .filter(|l| l.2.starts_with("INVITE "))
        .nth(1)
        .unwrap();
    assert!(inv2.2.contains("Authorization: Digest"));
}

#[test]
fn digest_wrong_password_is_refused_without_a_loop() {
    let mut n = challenged_pair("wrong");
    let now = n.now;
    n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:alice@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    n.run(Duration::from_secs(40));
    assert_eq!(
        n.count("INVITE "),
        2,
        "one answer to the challenge, no more"
    );
    assert_eq!(
        ended(&n.take_events(0)),
        Some(EndReason::Failed {
            code: 403,
            retry_after: None
        })
    );
    assert!(n.take_events(1).is_empty(), "no call reached the UAS");
}

#[test]
fn require_gets_420_and_unknown_body_415() {
    let mut b = ua(B, 2);
    let now = Instant::now();
    let inv = |extra: &str, body: &str| {
        format!(
            "INVITE sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {C};branch=z9hG4bK{}\r\nFrom: <sip:x@{C}>;tag=1\r\n\
             To: <sip:u@{B}>\r\nCall-ID: r{}\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{C}>\r\n{extra}\
             Content-Length: {}\r\n\r\n{body}",
            extra.len(),
            extra.len(),
            body.len()
        )
    };
    b.handle_message(now, inv("Require: 100rel, foo\r\n", "").as_bytes(), peer(C));
    let r = b.poll_transmit().unwrap();
    let m = Message::parse(&r.bytes).unwrap();
    assert_eq!(m.status(), Some(420));
    assert_eq!(
        m.header("Unsupported").unwrap().value,
        "foo",
        "100rel is supported (RFC 3262)"
    );
    b.handle_message(
        now,
        inv("Content-Type: text/plain\r\n", "hello").as_bytes(),
        peer(C),
    );
    let r = b.poll_transmit().unwrap();
    let m = Message::parse(&r.bytes).unwrap();
    assert_eq!(m.status(), Some(415));
    assert_eq!(m.header("Accept").unwrap().value, ACCEPT);
    assert!(b.poll_event().is_none(), "neither reached the user");
    // An SDP body is taken.
    b.handle_message(
        now,
        inv("Content-Type: application/sdp\r\n", "v=0\r\n").as_bytes(),
        peer(C),
    );
    assert!(matches!(b.poll_event(), Some(UaEvent::Incoming { .. })));
}

#[test]
fn uac_reports_420_415_488() {
    for code in [420u16, 415, 488] {
        let mut a = ua(A, 1);
        let now = Instant::now();
        a.call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
        let inv = sent(&mut a).remove(0);
        a.handle_message(now, &reply(&inv, code, Some("z"), "", &[]), peer(B));
        assert_eq!(starts(&sent(&mut a)), [format!("ACK sip:u@{B} SIP/2.0")]);
        assert_eq!(
            ended(&evs(&mut a)),
            Some(EndReason::Failed {
                code,
                retry_after: None
            })
        );
    }
}

#[test]
fn reinvite_2xx_retransmission_gets_the_ack_again() {
    let (mut n, a, b) = established();
    n.take_events(0);
    n.take_events(1);
    let now = n.now;
    n.uas[0].reinvite(now, a, b"hold".to_vec()).unwrap();
    n.flush();
    n.uas[1].accept_reoffer(now, b, b"held").unwrap();
    // The first ACK for the re-INVITE's 200 is lost.
    let mut lost = false;
    let until = n.now + Duration::from_secs(40);
    n.run_until(until, &mut |m| {
        // The initial ACK went out in established(): the first one here is the re-INVITE's.
        let drop = !lost && m.starts_with("ACK ");
        lost |= drop;
        drop
    });
    assert!(lost);
    // A answered B's retransmitted 200 with the ACK again: B stops and keeps the call.
    assert_eq!(
        n.count("ACK "),
        2,
        "initial ACK and the resent re-INVITE ACK"
    );
    let ev = n.take_events(1);
    assert_eq!(ended(&ev), None, "{ev:?}");
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert_eq!(n.count("BYE "), 0);
}

#[test]
fn digest_answers_the_realm_of_the_challenge_at_hand() {
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(
        DigestCredentials::new("alice", "pw", 7).with_rfc2069(),
    ));
    let now = Instant::now();
    let target = format!("sip:u@{B}");
    let mut invites = Vec::new();
    for _ in 0..3 {
        a.call(now, &target, &format!("sip:alice@{A}"), vec![])
            .unwrap();
        invites.push(sent(&mut a).remove(0));
    }
    // Two calls challenged at once by one realm (no spurious refusal for the second), then
    // a third call by another realm (answered for that realm, not the first one seen).
    for (inv, realm, nonce) in [
        (&invites[0], "r1", "n1"),
        (&invites[1], "r1", "n2"),
        (&invites[2], "r2", "n3"),
    ] {
        let value = format!("Digest realm=\"{realm}\", nonce=\"{nonce}\"");
        a.handle_message(
            now,
            &reply(inv, 407, Some("p"), "", &[("Proxy-Authenticate", &value)]),
            peer(B),
        );
        let out = sent(&mut a);
        let inv2 = out
            .iter()
            .find(|m| m.starts_with(b"INVITE "))
            .unwrap_or_else(|| panic!("realm {realm} answered: {:?}", starts(&out)));
        let m = Message::parse(inv2).unwrap();
        let got =
            crate::digest::DigestResponse::parse(m.header("Proxy-Authorization").unwrap().value)
                .unwrap();
        assert_eq!((got.realm.as_str(), got.nonce.as_str()), (realm, nonce));
        let c = crate::digest::Challenge::parse(&value).unwrap();
        let want = crate::digest::respond(&c, "alice", "pw", "INVITE", &target, b"", "", 1);
        assert_eq!(got.response, want.response);
    }
    assert_eq!(ended(&evs(&mut a)), None);
}

/// A request from the far end of a UAC call's fork `remote_tag` (our tag `local`).
fn fork_request(method: &str, call_id: &str, local: &str, remote_tag: &str, seq: u32) -> Vec<u8> {
    format!(
        "{method} sip:u@{A} SIP/2.0\r\nVia: SIP/2.0/UDP {B};branch=z9hG4bKfork{remote_tag}{seq}\r\nMax-Forwards: 70\r\n\
         From: <sip:u@{B}>;tag={remote_tag}\r\nTo: <sip:u@{A}>;tag={local}\r\nCall-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn bye_on_another_fork_leaves_the_call_alone() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let m = Message::parse(&inv).unwrap();
    let call_id = m.call_id().unwrap().to_owned();
    let local = m.from().unwrap().tag().unwrap().to_owned();
    for f in ["f1", "f2", "f3"] {
        a.handle_message(
            now,
            &reply(&inv, 180, Some(f), &format!("<sip:u@{B}>"), &[]),
            peer(B),
        );
    }
    // A BYE in the early dialog of fork f3: only that dialog ends, the INVITE goes on.
    a.handle_message(
        now,
        &fork_request("BYE", &call_id, &local, "f3", 1),
        peer(B),
    );
    assert_eq!(starts(&sent(&mut a)), ["SIP/2.0 200 OK"]);
    assert_eq!(a.call_state(h), Some(CallState::Proceeding));
    a.handle_message(
        now,
        &reply(&inv, 200, Some("f1"), &format!("<sip:u@{B}>"), &[]),
        peer(B),
    );
    sent(&mut a);
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
    // f2's early dialog was ended by f1's 2xx, f3's by its BYE: BYEs on them get 481.
    for (f, seq) in [("f2", 1), ("f3", 2)] {
        a.handle_message(now, &fork_request("BYE", &call_id, &local, f, seq), peer(B));
        assert_eq!(
            starts(&sent(&mut a)),
            ["SIP/2.0 481 Call/Transaction Does Not Exist"]
        );
    }
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
    assert_eq!(ended(&evs(&mut a)), None);
    // The confirmed fork's BYE ends the call.
    a.handle_message(
        now,
        &fork_request("BYE", &call_id, &local, "f1", 1),
        peer(B),
    );
    assert_eq!(starts(&sent(&mut a)), ["SIP/2.0 200 OK"]);
    assert_eq!(ended(&evs(&mut a)), Some(EndReason::RemoteBye));
}

#[test]
fn cancel_without_487_ends_the_call_after_64_t1() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    let h = a
        .call(
            t0,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        t0,
        &reply(&inv, 180, Some("t"), &format!("<sip:u@{B}>"), &[]),
        peer(B),
    );
    a.hangup(t0, h).unwrap();
    let cancel = sent(&mut a).remove(0);
    assert!(cancel.starts_with(b"CANCEL "));
    // The CANCEL is answered, but the 487 for the INVITE never comes.
    a.handle_message(t0, &reply(&cancel, 200, Some("t"), "", &[]), peer(B));
    evs(&mut a);
    let mut t = t0;
    while a.busy() {
        t = a.poll_timeout().expect("a deadline while the call is up");
        assert!(t - t0 <= Duration::from_secs(40), "still waiting at {t:?}");
        a.handle_timeout(t);
        sent(&mut a);
    }
    assert_eq!(t - t0, Duration::from_secs(32));
    assert_eq!(ended(&evs(&mut a)), Some(EndReason::Timeout));
    assert_eq!(a.call_state(h), Some(CallState::Terminated));
    // A late 487 changes nothing.
    a.handle_message(t, &reply(&inv, 487, Some("t"), "", &[]), peer(B));
    assert!(evs(&mut a).is_empty());
}

#[test]
fn bye_and_reinvite_that_cannot_be_sent_leave_the_call_usable() {
    let (mut n, a, _b) = established();
    n.take_events(0);
    let (call_id, local, remote) = {
        let d = n.uas[0].dialog(a).unwrap().id();
        (d.call_id.clone(), d.local_tag.clone(), d.remote_tag.clone())
    };
    let now = n.now;
    // The peer moves its target to a host name the core cannot reach (no DNS in the core).
    let reinvite = |seq: u32, contact: &str| {
        format!(
            "INVITE sip:u@{A} SIP/2.0\r\nVia: SIP/2.0/UDP {B};branch=z9hG4bKmove{seq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:u@{B}>;tag={remote}\r\nTo: <sip:u@{A}>;tag={local}\r\n\
             Call-ID: {call_id}\r\nCSeq: {seq} INVITE\r\nContact: <{contact}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nmoved"
        )
        .into_bytes()
    };
    let ack = |seq: u32| {
        format!(
            "ACK sip:u@{A} SIP/2.0\r\nVia: SIP/2.0/UDP {B};branch=z9hG4bKack{seq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:u@{B}>;tag={remote}\r\nTo: <sip:u@{A}>;tag={local}\r\n\
             Call-ID: {call_id}\r\nCSeq: {seq} ACK\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let ua = &mut n.uas[0];
    ua.handle_message(now, &reinvite(5000, "sip:u@far.example"), peer(B));
    assert!(matches!(ua.poll_event(), Some(UaEvent::Reoffer { .. })));
    ua.accept_reoffer(now, a, b"ok").unwrap();
    ua.handle_message(now, &ack(5000), peer(B));
    sent(ua);
    // Neither BYE nor re-INVITE can be routed: both fail and the call stays as it was.
    assert!(matches!(ua.hangup(now, a), Err(UaError::Uri(_))));
    assert_eq!(ua.call_state(a), Some(CallState::Confirmed));
    assert!(matches!(
        ua.reinvite(now, a, b"x".to_vec()),
        Err(UaError::Uri(_))
    ));
    assert!(matches!(
        ua.reinvite(now, a, b"x".to_vec()),
        Err(UaError::Uri(_))
    ));
    assert!(sent(ua).is_empty());
    // The peer can still re-INVITE (no phantom outstanding INVITE, so no 491), moving back.
    ua.handle_message(now, &reinvite(5001, &format!("sip:u@{B}")), peer(B));
    assert!(matches!(ua.poll_event(), Some(UaEvent::Reoffer { .. })));
    ua.accept_reoffer(now, a, b"ok").unwrap();
    ua.handle_message(now, &ack(5001), peer(B));
    assert_eq!(starts(&sent(ua)), ["SIP/2.0 200 OK"]);
    ua.hangup(now, a).unwrap();
    assert_eq!(starts(&sent(ua)), [format!("BYE sip:u@{B} SIP/2.0")]);
    assert_eq!(ua.call_state(a), Some(CallState::Terminating));
}

#[test]
fn register_never_loops_on_zero_or_one_second_grants() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    a.register(
        t0,
        RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
    )
    .unwrap();
    let reg = sent(&mut a).remove(0);
    // Granted one second: the refresh waits at least a second (not 1/2 s rounded to 0).
    let bind = format!("<sip:u@{A}>;expires=1");
    a.handle_message(
        t0,
        &reply(&reg, 200, Some("x"), "", &[("Contact", &bind)]),
        peer(B),
    );
    let (t1, out) = next_send(&mut a);
    assert_eq!(t1 - t0, Duration::from_secs(1));
    // Retry-After: 0 on a 503: the retry also waits a second.
    a.handle_message(
        t1,
        &reply(&out[0], 503, Some("x"), "", &[("Retry-After", "0")]),
        peer(B),
    );
    let (t2, out) = next_send(&mut a);
    assert_eq!(t2 - t1, Duration::from_secs(1));
    // Granted 0 (the registrar dropped us): register again after a second, not at once.
    a.handle_message(
        t2,
        &reply(&out[0], 200, Some("x"), "", &[("Expires", "0")]),
        peer(B),
    );
    let (t3, _) = next_send(&mut a);
    assert_eq!(t3 - t2, Duration::from_secs(1));
}

#[test]
fn unregister_while_a_register_is_outstanding() {
    let mut a = ua(A, 1);
    let t0 = Instant::now();
    let r = a
        .register(
            t0,
            RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
        )
        .unwrap();
    let reg = sent(&mut a).remove(0);
    a.unregister(t0, r).unwrap();
    let un = sent(&mut a).remove(0);
    assert_eq!(Message::parse(&un).unwrap().expires(), Some(0));
    // The 200 for the first REGISTER (a binding) is not the unregister's.
    let bind = format!("<sip:u@{A}>;expires=3600");
    a.handle_message(
        t0,
        &reply(&reg, 200, Some("x"), "", &[("Contact", &bind)]),
        peer(B),
    );
    assert!(evs(&mut a).is_empty());
    assert_eq!(a.reg_state(r), Some(RegState::Unregistering));
    a.handle_message(t0, &reply(&un, 200, Some("x"), "", &[]), peer(B));
    assert_eq!(evs(&mut a), [UaEvent::Unregistered { reg: r }]);

    // Neither answered: the first REGISTER's timeout is not the unregister's either.
    let mut a = ua(A, 2);
    let r = a
        .register(
            t0,
            RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
        )
        .unwrap();
    sent(&mut a);
    let t1 = t0 + Duration::from_secs(5);
    a.handle_timeout(t1);
    a.unregister(t1, r).unwrap();
    let mut ev = Vec::new();
    while let Some(t) = a.poll_timeout() {
        a.handle_timeout(t);
        sent(&mut a);
        ev.extend(evs(&mut a).into_iter().map(|e| (t, e)));
        if !ev.is_empty() {
            break;
        }
    }
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].1, UaEvent::Unregistered { reg: r });
    assert_eq!(
        ev[0].0 - t1,
        Duration::from_secs(32),
        "the unregister's own Timer F"
    );
}

#[test]
fn record_route_with_a_display_name_is_followed() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"o".to_vec(),
        )
        .unwrap();
    let inv = sent(&mut a).remove(0);
    let rr = format!("\"Edge Proxy\" <sip:{C};lr>");
    a.handle_message(
        now,
        &reply(
            &inv,
            200,
            Some("t"),
            &format!("<sip:u@{B}>"),
            &[("Record-Route", &rr)],
        ),
        peer(B),
    );
    let t = a.poll_transmit().expect("the ACK");
    assert!(t.bytes.starts_with(b"ACK "));
    assert_eq!(t.to.addr, C.parse::<SocketAddr>().unwrap(), "via the proxy");
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
    a.hangup(now, h).unwrap();
    let t = a.poll_transmit().expect("the BYE");
    assert!(t.bytes.starts_with(b"BYE "));
    assert_eq!(t.to.addr, C.parse::<SocketAddr>().unwrap());
}

#[test]
fn rejections_say_why_in_a_warning() {
    let (mut n, a, b) = established();
    n.take_events(0);
    n.take_events(1);
    let now = n.now;
    n.uas[0].reinvite(now, a, b"bad".to_vec()).unwrap();
    n.flush();
    n.uas[1]
        .reject_reoffer_with_warning(now, b, 488, Some((305, "Incompatible media format")))
        .unwrap();
    n.flush();
    let r488 = n
        .log
        .iter()
        .find(|l| l.2.starts_with("SIP/2.0 488"))
        .expect("488 sent")
        .2
        .clone();
    let m = Message::parse(r488.as_bytes()).unwrap();
    assert_eq!(
        m.header("Warning").unwrap().value,
        format!("305 {B} \"Incompatible media format\"")
    );
    assert!(
        n.take_events(0)
            .contains(&UaEvent::ReinviteFailed { call: a, code: 488 })
    );

    // A new call whose offer does not parse: 400 with the error text quoted.
    let mut n = Net::new(vec![ua(A, 1), ua(B, 2)]);
    let now = n.now;
    n.uas[0]
        .call(
            now,
            &format!("sip:u@{B}"),
            &format!("sip:u@{A}"),
            b"junk".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1]
        .reject_with_warning(now, b, 400, Some((399, "line 1: \"junk\" is not v=0")))
        .unwrap();
    n.flush();
    let r400 = n
        .log
        .iter()
        .find(|l| l.2.starts_with("SIP/2.0 400"))
        .expect("400 sent")
        .2
        .clone();
    let m = Message::parse(r400.as_bytes()).unwrap();
    assert_eq!(
        m.header("Warning").unwrap().value,
        format!("399 {B} \"line 1: \\\"junk\\\" is not v=0\"")
    );
    assert_eq!(
        ended(&n.take_events(0)),
        Some(EndReason::Failed {
            code: 400,
            retry_after: None
        })
    );
}

#[test]
fn final_responses_over_tcp_reach_the_core() {
    // Over a reliable transport the client transaction ends as its final response arrives
    // (Timer K = 0): BYE, in-dialog OPTIONS and REGISTER must still see their response.
    let mk = |addr: &str, seed| {
        let mut cfg = UaConfig::new(addr.parse().unwrap(), Transport::Tcp, "u");
        cfg.seed = Some(seed);
        Ua::new(cfg)
    };
    let mut n = Net::new(vec![mk(A, 1), mk(B, 2)]);
    let now = n.now;
    let a = n.uas[0]
        .call(
            now,
            &format!("sip:u@{B};transport=tcp"),
            &format!("sip:u@{A}"),
            b"offer".to_vec(),
        )
        .unwrap();
    n.flush();
    let b = n.incoming(1);
    n.uas[1].answer(now, b, b"answer").unwrap();
    n.flush();
    n.uas[0]
        .request_in_dialog(now, a, Method::Options, None)
        .unwrap();
    n.flush();
    assert!(n.take_events(0).contains(&UaEvent::DialogResponse {
        call: a,
        method: "OPTIONS".into(),
        code: 200
    }));
    n.uas[0].hangup(now, a).unwrap();
    n.flush();
    assert_eq!(ended(&n.take_events(0)), Some(EndReason::LocalBye));
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Terminated));
}

#[test]
fn long_calls_and_ended_calls_do_not_grow_the_core() {
    let (mut n, a, b) = established();
    for k in 0..5u8 {
        let now = n.now;
        n.uas[0].reinvite(now, a, vec![b'o', k]).unwrap();
        n.flush();
        n.uas[1].accept_reoffer(now, b, b"ok").unwrap();
        n.flush();
        n.run(Duration::from_secs(1));
    }
    assert_eq!(n.count("ACK "), 6);
    // One ACK remembered per dialog: the latest one.
    let acks = &n.uas[0].calls[&a].acks;
    assert_eq!(acks.len(), 1);
    assert_eq!(
        Some(acks[0].1),
        n.uas[0].dialog(a).and_then(|d| d.local_seq())
    );
    // Ended calls are forgotten 64*T1 after the end, without reap().
    let now = n.now;
    n.uas[0].hangup(now, a).unwrap();
    n.flush();
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Terminated));
    n.run(Duration::from_secs(31));
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Terminated));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Terminated));
    n.run(Duration::from_secs(2));
    assert_eq!(n.uas[0].call_state(a), None);
    assert_eq!(n.uas[1].call_state(b), None);
    assert!(n.uas[0].calls.is_empty() && n.uas[1].calls.is_empty());
}

#[test]
fn a_transport_failure_ends_the_attempt_at_once() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    let h = a
        .call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let t = a.poll_transmit().unwrap();
    // Another peer's failure changes nothing; this one's ends the call now, not at Timer B.
    a.transport_failed(now, peer(C));
    assert_eq!(a.call_state(h), Some(CallState::Proceeding));
    a.transport_failed(now, t.to);
    assert_eq!(ended(&evs(&mut a)), Some(EndReason::Timeout));
    assert!(!a.busy());
}

#[test]
fn call_with_display_name_and_first_hop() {
    let mut a = ua(A, 41);
    let now = Instant::now();
    let opts = CallOptions {
        display_name: Some("Kitchen \"2\"".into()),
        next_hop: Some(peer(C)),
        ..Default::default()
    };
    a.call_with(
        now,
        "sip:bob@192.0.2.9",
        "sip:201@127.0.0.1",
        Vec::new(),
        opts,
    )
    .unwrap();
    let t = a.poll_transmit().expect("INVITE");
    // Sent to the chosen hop, not to the Request-URI's host.
    assert_eq!(t.to, peer(C));
    let m = Message::parse(&t.bytes).unwrap();
    assert_eq!(m.request_uri().unwrap().to_string(), "sip:bob@192.0.2.9");
    let from = m.from().unwrap();
    let name: String = from.display.unwrap().chars().collect();
    assert_eq!(name, "Kitchen \"2\"");
    assert_eq!(from.uri.to_string(), "sip:201@127.0.0.1");
    assert!(from.tag().is_some());
}

/// The INVITE `a` sends for an anonymous call to bob with `opts`.
fn anonymous_invite(a: &mut Ua, now: Instant, opts: CallOptions) -> Transmit {
    a.call_with(
        now,
        "sip:bob@192.0.2.9",
        "sip:anonymous@anonymous.invalid",
        Vec::new(),
        opts,
    )
    .unwrap();
    a.poll_transmit().expect("INVITE")
}

/// A call given an identity to assert carries it in `P-Asserted-Identity` (RFC 3325 §9.1),
/// with `Privacy: id` too when its identity is withheld; without one, none.
#[test]
fn an_asserted_identity_goes_into_p_asserted_identity() {
    let mut a = ua(A, 45);
    let now = Instant::now();
    let opts = CallOptions {
        privacy: true,
        asserted_identity: Some((Some("Line 3".into()), "sip:5551234@example.net".into())),
        ..CallOptions::default()
    };
    let t = anonymous_invite(&mut a, now, opts);
    let m = Message::parse(&t.bytes).unwrap();
    assert_eq!(
        m.header("P-Asserted-Identity").map(|h| h.value),
        Some("\"Line 3\" <sip:5551234@example.net>")
    );
    assert_eq!(m.header("Privacy").map(|h| h.value), Some("id"));
    let bad = CallOptions {
        asserted_identity: Some((None, "not a uri".into())),
        ..CallOptions::default()
    };
    assert!(
        a.call_with(now, "sip:bob@192.0.2.9", "sip:1@h", Vec::new(), bad)
            .is_err()
    );
}

/// A call that withholds its identity asks for it (`Privacy: id`) and carries the
/// anonymous From it is given, also in its BYE.
#[test]
fn a_private_call_says_privacy_id_and_keeps_its_anonymous_from() {
    let mut a = ua(A, 43);
    let now = Instant::now();
    let opts = CallOptions {
        display_name: Some("Anonymous".into()),
        privacy: true,
        ..CallOptions::default()
    };
    let t = anonymous_invite(&mut a, now, opts);
    let m = Message::parse(&t.bytes).unwrap();
    assert_eq!(m.header("Privacy").map(|h| h.value), Some("id"));
    let text = String::from_utf8_lossy(&t.bytes);
    assert!(text.contains("From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag="));
    // Without the option: no Privacy header.
    let mut b = ua(A, 44);
    b.call(now, "sip:bob@192.0.2.9", "sip:201@127.0.0.1", Vec::new())
        .unwrap();
    let t = b.poll_transmit().expect("INVITE");
    assert!(
        Message::parse(&t.bytes)
            .unwrap()
            .header("Privacy")
            .is_none()
    );
}
