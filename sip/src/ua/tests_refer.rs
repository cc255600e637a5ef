//! Transfer between two UA cores: REFER and its NOTIFYs both ways (RFC 3515), a refusal,
//! a stray NOTIFY, and an INVITE replacing a confirmed call (RFC 3891).

use super::tests::{A, B, C, established, ua};
use super::*;

fn progress(ev: &[UaEvent]) -> Vec<(u16, bool)> {
    ev.iter()
        .filter_map(|e| match e {
            UaEvent::TransferProgress { code, done, .. } => Some((*code, *done)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_refer_accepted_reports_the_new_calls_progress_to_the_transferor() {
    let (mut n, a, b) = established();
    n.take_events(0);
    n.take_events(1);
    let now = n.now;
    n.uas[0].refer(now, a, "sip:carol@127.0.0.1:5063").unwrap();
    n.flush();
    let ev = n.take_events(1);
    assert!(
        ev.contains(&UaEvent::Referred {
            call: b,
            refer_to: "sip:carol@127.0.0.1:5063".into()
        }),
        "{ev:?} {:#?}",
        n.log
    );
    n.uas[1].answer_refer(now, b, 202).unwrap();
    n.flush();
    assert_eq!(progress(&n.take_events(0)), [(100, false)]);
    let refer = n.log.iter().find(|l| l.2.starts_with("REFER ")).unwrap();
    assert!(refer.2.contains("Refer-To: <sip:carol@127.0.0.1:5063>\r\n"));
    assert!(refer.2.contains("\r\nContact: "));
    let accepted = n
        .log
        .iter()
        .find(|l| l.2.starts_with("SIP/2.0 202 Accepted"));
    assert!(accepted.is_some());
    n.uas[1].notify_refer(now, b, 180).unwrap();
    n.uas[1].notify_refer(now, b, 200).unwrap();
    n.flush();
    assert_eq!(progress(&n.take_events(0)), [(180, false), (200, true)]);
    let last = n.log.iter().rfind(|l| l.2.starts_with("NOTIFY ")).unwrap();
    assert!(last.2.contains("Event: refer;id="));
    assert!(last.2.contains("Subscription-State: terminated"));
    assert!(last.2.contains("Content-Type: message/sipfrag;version=2.0"));
    assert!(last.2.ends_with("SIP/2.0 200 OK\r\n"));
    // The subscription is over: no more NOTIFYs.
    assert!(n.uas[1].notify_refer(now, b, 200).is_err());
    // The call itself is untouched.
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
}

#[test]
fn a_refused_refer_ends_the_transfer_and_a_stray_notify_gets_481() {
    let (mut n, a, b) = established();
    n.take_events(0);
    let now = n.now;
    n.uas[0].refer(now, a, "sip:carol@127.0.0.1:5063").unwrap();
    n.flush();
    n.uas[1].answer_refer(now, b, 403).unwrap();
    n.flush();
    assert_eq!(progress(&n.take_events(0)), [(403, true)]);
    assert!(
        n.uas[1].notify_refer(now, b, 200).is_err(),
        "no subscription"
    );
    // A NOTIFY of the refer package for a transfer A never asked for.
    let d = n.uas[0].dialog(a).unwrap();
    let id = d.id().clone();
    let notify = format!(
        "NOTIFY sip:u@{A} SIP/2.0\r\nVia: SIP/2.0/UDP {B};branch=z9hG4bKstray\r\n\
         Max-Forwards: 70\r\nFrom: <sip:u@{B}>;tag={}\r\nTo: <sip:u@{A}>;tag={}\r\n\
         Call-ID: {}\r\nCSeq: 99 NOTIFY\r\nEvent: refer\r\n\
         Subscription-State: terminated\r\nContent-Type: message/sipfrag\r\n\
         Content-Length: 16\r\n\r\nSIP/2.0 200 OK\r\n",
        id.remote_tag, id.local_tag, id.call_id
    );
    n.uas[0].handle_message(now, notify.as_bytes(), super::tests::peer(B));
    let sent = n.uas[0].poll_transmit().unwrap();
    assert!(
        sent.bytes.starts_with(b"SIP/2.0 481"),
        "{:?}",
        String::from_utf8_lossy(&sent.bytes)
    );
    assert_eq!(progress(&n.take_events(0)), []);
}

#[test]
fn a_refer_without_exactly_one_sip_refer_to_is_a_bad_request() {
    let (mut n, a, b) = established();
    let now = n.now;
    let id = n.uas[1].dialog(b).unwrap().id().clone();
    for (k, refer_to) in [
        "",
        "Refer-To: <tel:+15550100>\r\n",
        "Refer-To: <sip:x@h>\r\nRefer-To: <sip:y@h>\r\n",
    ]
    .iter()
    .enumerate()
    {
        let refer = format!(
            "REFER sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKbad{k}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:u@{A}>;tag={}\r\nTo: <sip:u@{B}>;tag={}\r\n\
             Call-ID: {}\r\nCSeq: {} REFER\r\nContact: <sip:u@{A}>\r\n{refer_to}\
             Content-Length: 0\r\n\r\n",
            id.remote_tag,
            id.local_tag,
            id.call_id,
            2_000_000_000 + k
        );
        n.uas[1].handle_message(now, refer.as_bytes(), super::tests::peer(A));
        let sent = n.uas[1].poll_transmit().unwrap();
        assert!(
            sent.bytes.starts_with(b"SIP/2.0 400"),
            "{refer_to:?}: {}",
            String::from_utf8_lossy(&sent.bytes)
        );
    }
    assert!(
        !n.take_events(1)
            .iter()
            .any(|e| matches!(e, UaEvent::Referred { .. }))
    );
    let _ = a;
}

#[test]
fn an_invite_with_replaces_names_the_confirmed_call_it_takes_over() {
    // A serves more than one call (a gateway's UA does).
    let mut cfg = UaConfig::new(A.parse().unwrap(), Transport::Udp, "u");
    cfg.seed = Some(1);
    cfg.single_line = false;
    let (mut n, a, _b) = super::tests::calling(Ua::new(cfg), ua(B, 2));
    let now = n.now;
    n.uas[1].answer(now, _b, b"answer").unwrap();
    n.flush();
    n.uas.push(ua(C, 3));
    n.take_events(0);
    // B asks C to take its place: the Replaces C sends A names A's dialog from A's side.
    let r = n.uas[1].replaces_of(_b).unwrap();
    let now = n.now;
    let header = format!("{};to-tag={};from-tag={}", r.call_id, r.to_tag, r.from_tag);
    let opts = |replaces: String| CallOptions {
        replaces: Some(replaces),
        ..CallOptions::default()
    };
    let (target, from) = (format!("sip:u@{A}"), format!("sip:carol@{C}"));
    n.uas[2]
        .call_with(now, &target, &from, b"o".to_vec(), opts(header.clone()))
        .unwrap();
    n.flush();
    let ev = n.take_events(0);
    let incoming = ev
        .iter()
        .find_map(|e| match e {
            UaEvent::Incoming { call, .. } => Some(*call),
            _ => None,
        })
        .expect("A is offered C's call");
    assert_eq!(n.uas[0].replaces(incoming), Some(a));
    // Tags that name no call of A's, or the call only while early: refused, no call.
    let wrong = format!("{};to-tag=nope;from-tag={}", r.call_id, r.from_tag);
    let early = format!("{header};early-only");
    for (h, code) in [(wrong, "481"), (early, "486")] {
        n.uas[2]
            .call_with(n.now, &target, &from, b"o".to_vec(), opts(h))
            .unwrap();
        n.flush();
        let refused = n
            .log
            .iter()
            .rfind(|l| l.2.starts_with("SIP/2.0 4"))
            .unwrap();
        assert!(
            refused.2.starts_with(&format!("SIP/2.0 {code}")),
            "{}",
            refused.2
        );
        assert!(
            !n.take_events(0)
                .iter()
                .any(|e| matches!(e, UaEvent::Incoming { .. }))
        );
    }
}

#[test]
fn a_transferee_that_never_reports_is_given_up_on() {
    let (mut n, a, b) = established();
    n.take_events(0);
    let now = n.now;
    n.uas[0].refer(now, a, "sip:carol@127.0.0.1:5063").unwrap();
    n.flush();
    n.uas[1].answer_refer(now, b, 202).unwrap();
    n.flush();
    assert_eq!(progress(&n.take_events(0)), [(100, false)]);
    n.run(refer::OUTCOME_WAIT + std::time::Duration::from_secs(1));
    assert_eq!(progress(&n.take_events(0)), [(408, true)]);
}
