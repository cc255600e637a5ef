//! Reliable provisional responses (RFC 3262) between two cores and against scripted
//! peers, and UPDATE (RFC 3311).

use super::tests::{Net, call_b, ended, peer, reply, sent, starts, ua};
use super::*;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

/// A calls B (its INVITE says `Supported: 100rel`); B's handle.
fn calling() -> (Net, CallHandle, CallHandle) {
    super::tests::calling(ua(A, 1), ua(B, 2))
}

/// The method of a message's CSeq.
fn cseq_method(m: &str) -> &str {
    m.lines()
        .find_map(|l| l.strip_prefix("CSeq: "))
        .and_then(|v| v.split(' ').nth(1))
        .unwrap_or("")
}

/// The CSeq number of a message.
fn cseq_num(m: &str) -> u32 {
    m.lines()
        .find_map(|l| l.strip_prefix("CSeq: "))
        .and_then(|v| v.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}

/// The messages sent whose first line starts with `start`, as text.
fn sent_like<'a>(n: &'a Net, start: &str) -> Vec<&'a str> {
    n.log
        .iter()
        .filter(|(_, _, m)| m.starts_with(start))
        .map(|(_, _, m)| m.as_str())
        .collect()
}

#[test]
fn early_media_is_sent_reliably_and_pracked_once() {
    let (mut n, a, b) = calling();
    let invite = sent_like(&n, "INVITE ")[0];
    assert!(
        invite.contains("Supported: 100rel, timer, replaces\r\n"),
        "{invite}"
    );
    let seq = cseq_num(invite);
    let now = n.now;
    // A 180 without SDP to an INVITE that only supports 100rel: as usual.
    n.uas[1].ring(now, b, 180, None).unwrap();
    n.flush();
    assert!(!sent_like(&n, "SIP/2.0 180")[0].contains("RSeq"));
    n.uas[1].ring(now, b, 183, Some(b"early")).unwrap();
    n.flush();
    let p183 = sent_like(&n, "SIP/2.0 183")[0];
    assert!(p183.contains("Require: 100rel\r\n"), "{p183}");
    let rseq: u32 = Message::parse(p183.as_bytes())
        .unwrap()
        .header("RSeq")
        .unwrap()
        .value
        .parse()
        .unwrap();
    assert!((1..1 << 31).contains(&rseq));
    let prack = sent_like(&n, "PRACK ");
    assert_eq!(prack.len(), 1);
    assert!(
        prack[0].contains(&format!("RAck: {rseq} {seq} INVITE\r\n")),
        "{}",
        prack[0]
    );
    assert_eq!(sent_like(&n, "SIP/2.0 200").len(), 1, "the PRACK's 200");
    let progress: Vec<_> = n
        .take_events(0)
        .into_iter()
        .filter(|e| matches!(e, UaEvent::Progress { code: 183, .. }))
        .collect();
    assert_eq!(progress.len(), 1);
    // No retransmission once PRACKed.
    n.run(Duration::from_secs(10));
    assert_eq!(n.count("SIP/2.0 183"), 1);
    let now = n.now;
    n.uas[1].answer(now, b, b"answer").unwrap();
    n.flush();
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
}

#[test]
fn an_unacknowledged_provisional_is_retransmitted_then_the_invite_refused() {
    let (mut n, a, b) = calling();
    let now = n.now;
    n.uas[1].ring(now, b, 183, Some(b"early")).unwrap();
    let start = n.now;
    n.run_until(start + Duration::from_secs(40), &mut |m| {
        m.starts_with("PRACK ")
    });
    // At 0, then T1, 2T1, 4T1 ... up to 64*T1 = 32 s: 0.5+1+2+4+8+16 = 31.5 s.
    assert_eq!(
        n.count("SIP/2.0 183"),
        7,
        "the first and six retransmissions"
    );
    assert_eq!(n.count("SIP/2.0 504"), 1);
    assert_eq!(
        ended(&n.take_events(0)),
        Some(EndReason::Failed {
            code: 504,
            retry_after: None
        })
    );
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Terminated));
}

#[test]
fn the_answer_waits_for_the_prack_of_early_media() {
    let (mut n, a, b) = calling();
    let now = n.now;
    n.uas[1].ring(now, b, 183, Some(b"early")).unwrap();
    n.uas[1].answer(now, b, b"answer").unwrap();
    let mut first = true;
    n.flush_with(&mut |m| {
        let drop = first && m.starts_with("PRACK ");
        first &= !drop;
        drop
    });
    assert!(
        sent_like(&n, "SIP/2.0 200").is_empty(),
        "no 2xx before the PRACK (RFC 3262 §3)"
    );
    // The PRACK's own transaction retransmits it (the 183's retransmission is not PRACKed
    // again); its arrival lets the 2xx go.
    n.run(Duration::from_secs(2));
    assert_eq!(n.count("PRACK "), 1, "{:?}", n.log.len());
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
}

#[test]
fn a_required_100rel_makes_every_provisional_reliable_one_at_a_time() {
    let mut b = ua(B, 2);
    let now = Instant::now();
    let inv = format!(
        "INVITE sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKr1\r\nFrom: <sip:x@{A}>;tag=1\r\n\
         To: <sip:u@{B}>\r\nCall-ID: rel1\r\nCSeq: 7 INVITE\r\nContact: <sip:x@{A}>\r\n\
         Require: 100rel\r\nContent-Length: 0\r\n\r\n"
    );
    b.handle_message(now, inv.as_bytes(), peer(A));
    let h = match b.poll_event() {
        Some(UaEvent::Incoming { call, .. }) => call,
        e => panic!("{e:?}"),
    };
    b.ring(now, h, 180, None).unwrap();
    b.ring(now, h, 183, Some(b"early")).unwrap();
    let out = sent(&mut b);
    assert_eq!(starts(&out), ["SIP/2.0 180 Ringing"], "the 183 waits");
    let r180 = Message::parse(&out[0]).unwrap();
    let rseq: u32 = r180.header("RSeq").unwrap().value.parse().unwrap();
    let tag = r180.to().unwrap().tag().unwrap().to_owned();
    let prack = |rack: &str, seq: u32| {
        format!(
            "PRACK sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKp{seq}\r\n\
             From: <sip:x@{A}>;tag=1\r\nTo: <sip:u@{B}>;tag={tag}\r\nCall-ID: rel1\r\n\
             CSeq: {seq} PRACK\r\nRAck: {rack}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    // A PRACK for another response: 481, nothing released.
    b.handle_message(
        now,
        prack(&format!("{} 7 INVITE", rseq + 5), 8).as_bytes(),
        peer(A),
    );
    assert_eq!(
        starts(&sent(&mut b)),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
    b.handle_message(
        now,
        prack(&format!("{rseq} 7 INVITE"), 9).as_bytes(),
        peer(A),
    );
    let out = sent(&mut b);
    assert_eq!(
        starts(&out),
        ["SIP/2.0 200 OK", "SIP/2.0 183 Session Progress"]
    );
    let r183 = Message::parse(&out[1]).unwrap();
    assert_eq!(
        r183.header("RSeq").unwrap().value,
        (rseq + 1).to_string(),
        "the next RSeq"
    );
}

#[test]
fn the_uac_pracks_each_reliable_provisional_once_and_in_order() {
    let mut a = ua(A, 1);
    let now = Instant::now();
    call_b(&mut a, now);
    let inv = sent(&mut a).remove(0);
    let seq = cseq_num(&String::from_utf8_lossy(&inv));
    let rel = |rseq: &str| {
        reply(
            &inv,
            183,
            Some("t9"),
            &format!("<sip:u@{B}>"),
            &[("Require", "100rel"), ("RSeq", rseq)],
        )
    };
    let progress = |a: &mut Ua| {
        std::iter::from_fn(|| a.poll_event())
            .filter(|e| matches!(e, UaEvent::Progress { .. }))
            .count()
    };
    a.handle_message(now, &rel("5"), peer(B));
    let out = sent(&mut a);
    assert_eq!(starts(&out), [format!("PRACK sip:u@{B} SIP/2.0")]);
    assert!(String::from_utf8_lossy(&out[0]).contains(&format!("RAck: 5 {seq} INVITE\r\n")));
    assert_eq!(progress(&mut a), 1);
    // A retransmission, and one out of order: neither PRACKed nor seen.
    a.handle_message(now, &rel("5"), peer(B));
    a.handle_message(now, &rel("7"), peer(B));
    assert!(sent(&mut a).is_empty());
    assert_eq!(progress(&mut a), 0);
    a.handle_message(now, &rel("6"), peer(B));
    let out = sent(&mut a);
    assert!(String::from_utf8_lossy(&out[0]).contains(&format!("RAck: 6 {seq} INVITE\r\n")));
    assert_eq!(progress(&mut a), 1);
    // Without RSeq a reliable provisional is not taken.
    let bad = reply(
        &inv,
        183,
        Some("t8"),
        &format!("<sip:u@{B}>"),
        &[("Require", "100rel")],
    );
    a.handle_message(now, &bad, peer(B));
    assert!(sent(&mut a).is_empty());
    assert_eq!(progress(&mut a), 0);
}

#[test]
fn update_refreshes_and_reoffers_without_an_ack() {
    let (mut n, a, b) = super::tests::established();
    n.take_events(1);
    let now = n.now;
    n.uas[0]
        .request_in_dialog(now, a, Method::Update, None)
        .unwrap();
    n.flush();
    let ok = sent_like(&n, "SIP/2.0 200");
    assert_eq!(cseq_method(ok.last().unwrap()), "UPDATE");
    n.uas[0]
        .request_in_dialog(
            now,
            a,
            Method::Update,
            Some(("application/sdp", b"new offer")),
        )
        .unwrap();
    n.flush();
    let ev = n.take_events(1);
    assert!(ev.contains(&UaEvent::Reoffer {
        call: b,
        sdp: b"new offer".to_vec()
    }));
    let now = n.now;
    n.uas[1].accept_reoffer(now, b, b"new answer").unwrap();
    n.flush();
    let update_oks = |n: &Net| {
        n.log
            .iter()
            .filter(|(_, _, m)| m.starts_with("SIP/2.0 200") && cseq_method(m) == "UPDATE")
            .count()
    };
    let answered = update_oks(&n);
    n.run(Duration::from_secs(10));
    let later = update_oks(&n);
    assert_eq!(
        (answered, later),
        (2, 2),
        "no 2xx retransmission for UPDATE"
    );
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
}
