//! Responses to our requests only from where the request went (§17.1.3, §18.1.2), Retry-After
//! capped, early dialogs and forked 2xx per call capped.

use super::tests::{ended, peer, reply, sent};
use super::*;
use crate::ua::response::Challenge;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";
const EVIL: &str = "127.0.0.66:5062";

fn caller(check: SourceCheck) -> Ua {
    let mut cfg = UaConfig::new(A.parse().unwrap(), Transport::Udp, "u");
    cfg.source_check = check;
    Ua::new(cfg)
}

fn invite(a: &mut Ua, now: Instant) -> (CallHandle, Vec<u8>) {
    let h = a
        .call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    (h, sent(a).remove(0))
}

#[test]
fn a_forged_final_response_from_a_third_host_is_dropped() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    let (h, inv) = invite(&mut a, now);
    for (code, contact) in [
        (302, "<sip:x@127.0.0.66>"),
        (200, "<sip:u@127.0.0.66>"),
        (503, ""),
    ] {
        a.handle_message(
            now,
            &reply(&inv, code, Some("evil"), contact, &[]),
            peer(EVIL),
        );
        assert!(
            sent(&mut a).is_empty(),
            "{code}: nothing sent (no ACK, no redirect)"
        );
        assert!(a.poll_event().is_none(), "{code}: no event");
        assert_eq!(a.call_state(h), Some(CallState::Proceeding));
    }
    // The same response over TCP from the right address: the request went over UDP.
    let tcp = Peer {
        transport: Transport::Tcp,
        addr: B.parse().unwrap(),
    };
    a.handle_message(now, &reply(&inv, 503, Some("evil"), "", &[]), tcp);
    assert_eq!(a.call_state(h), Some(CallState::Proceeding));
    assert_eq!(a.stats().foreign, 4);
    // From where the INVITE went it counts.
    a.handle_message(now, &reply(&inv, 486, Some("b"), "", &[]), peer(B));
    let ev: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(matches!(
        ended(&ev),
        Some(EndReason::Failed { code: 486, .. })
    ));
}

#[test]
fn any_source_when_configured_but_never_another_transport() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Any);
    let (h, inv) = invite(&mut a, now);
    let tcp = Peer {
        transport: Transport::Tcp,
        addr: EVIL.parse().unwrap(),
    };
    a.handle_message(now, &reply(&inv, 486, Some("b"), "", &[]), tcp);
    assert_eq!(a.call_state(h), Some(CallState::Proceeding));
    a.handle_message(now, &reply(&inv, 486, Some("b"), "", &[]), peer(EVIL));
    assert_eq!(a.call_state(h), Some(CallState::Terminated));
}

#[test]
fn a_forged_503_to_register_changes_nothing_and_retry_after_is_capped() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    let r = a
        .register(
            now,
            register::RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
        )
        .unwrap();
    let reg = sent(&mut a).remove(0);
    let forever = [("Retry-After", "4294967295")];
    a.handle_message(now, &reply(&reg, 503, Some("x"), "", &forever), peer(EVIL));
    assert_eq!(a.reg_state(r), Some(RegState::Registering));
    assert!(a.poll_event().is_none());
    a.handle_message(now, &reply(&reg, 503, Some("x"), "", &forever), peer(B));
    let retry = std::iter::from_fn(|| a.poll_event()).find_map(|e| match e {
        UaEvent::RegistrationFailed { retry_in, .. } => Some(retry_in),
        _ => None,
    });
    assert_eq!(retry, Some(register::MAX_REGISTER_RETRY_AFTER));
    assert!(a.poll_timeout().unwrap() <= now + Duration::from_secs(3600));
}

#[test]
fn early_dialogs_beyond_the_cap_are_ignored() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    let (h, inv) = invite(&mut a, now);
    for k in 0..10 {
        let tag = format!("fork{k}");
        a.handle_message(
            now,
            &reply(&inv, 180, Some(&tag), "<sip:u@127.0.0.1:5062>", &[]),
            peer(B),
        );
    }
    let progress = std::iter::from_fn(|| a.poll_event())
        .filter(|e| matches!(e, UaEvent::Progress { .. }))
        .count();
    assert_eq!(progress, MAX_EARLY_DIALOGS);
    assert_eq!(a.calls[&h].dialogs.len(), MAX_EARLY_DIALOGS);
    // A known fork still gets through.
    a.handle_message(
        now,
        &reply(&inv, 183, Some("fork0"), "<sip:u@127.0.0.1:5062>", &[]),
        peer(B),
    );
    assert!(matches!(
        a.poll_event(),
        Some(UaEvent::Progress { code: 183, .. })
    ));
}

#[test]
fn forked_2xx_beyond_the_cap_are_not_taken() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    let (h, inv) = invite(&mut a, now);
    for k in 0..20 {
        let tag = format!("fork{k}");
        a.handle_message(
            now,
            &reply(&inv, 200, Some(&tag), "<sip:u@127.0.0.1:5062>", &[]),
            peer(B),
        );
    }
    let acks = sent(&mut a)
        .iter()
        .filter(|m| m.starts_with(b"ACK "))
        .count();
    // The answer and MAX_EARLY_DIALOGS more forks are ACKed (and the forks ended with BYE);
    // the rest are dropped, so one call holds a bounded number of dialogs.
    assert_eq!(acks, MAX_EARLY_DIALOGS + 1);
    assert_eq!(a.calls[&h].dialogs.len(), MAX_EARLY_DIALOGS + 1);
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
    // A retransmission of an acknowledged fork's 2xx is still ACKed again.
    a.handle_message(
        now,
        &reply(&inv, 200, Some("fork1"), "<sip:u@127.0.0.1:5062>", &[]),
        peer(B),
    );
    assert!(sent(&mut a).iter().any(|m| m.starts_with(b"ACK ")));
}

fn filtered(a: &mut Ua) {
    a.cfg.redirect = RedirectPolicy {
        open: false,
        allowed_hosts: vec!["127.0.0.1".into()],
        allowed_nets: Vec::new(),
        own: vec!["127.0.0.1".parse().unwrap()],
    };
}

struct Creds;
impl Authenticator for Creds {
    fn answer(&mut self, _: &Challenge, _: &str, _: &str, _: &[u8]) -> Option<String> {
        Some("Digest username=\"u\"".into())
    }
}

#[test]
fn a_redirect_outside_the_policy_is_not_followed() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    filtered(&mut a);
    let (h, inv) = invite(&mut a, now);
    let c = "<sip:x@127.0.0.2:5099>, <sip:x@192.0.2.66>";
    a.handle_message(now, &reply(&inv, 302, Some("r"), c, &[]), peer(B));
    let out = sent(&mut a);
    assert_eq!(out.len(), 1, "only the ACK of the 302");
    assert_eq!(a.call_state(h), Some(CallState::Terminated));
    // A configured server (here 127.0.0.1, any port) is followed.
    let (_, inv) = invite(&mut a, now);
    let c = "<sip:x@127.0.0.1:5099>";
    a.handle_message(now, &reply(&inv, 302, Some("r"), c, &[]), peer(B));
    let out = sent(&mut a);
    assert_eq!(out.len(), 2, "ACK and the redirected INVITE");
    assert!(out[1].starts_with(b"INVITE sip:x@127.0.0.1:5099"));
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    a.set_authenticator(Box::new(Creds));
    let (h, inv) = invite(&mut a, now);
    a.handle_message(
        now,
        &reply(&inv, 302, Some("r"), "<sip:x@127.0.0.66:5070>", &[]),
        peer(B),
    );
    let inv2 = sent(&mut a).remove(1);
    let md5 = [("WWW-Authenticate", "Digest realm=\"evil\", nonce=\"n\"")];
    a.handle_message(
        now,
        &reply(&inv2, 401, Some("e"), "", &md5),
        peer("127.0.0.66:5070"),
    );
    let out = sent(&mut a);
    assert!(
        out.iter()
            .all(|m| !String::from_utf8_lossy(m).contains("Authorization"))
    );
    assert_eq!(a.call_state(h), Some(CallState::Terminated));
}

#[test]
fn a_register_redirect_to_another_host_is_not_followed() {
    let now = Instant::now();
    let mut a = caller(SourceCheck::Exact);
    let r = a
        .register(
            now,
            register::RegisterConfig::new(&format!("sip:{B}"), &format!("sip:u@{B}")),
        )
        .unwrap();
    let reg = sent(&mut a).remove(0);
    a.handle_message(
        now,
        &reply(&reg, 302, Some("x"), "<sip:127.0.0.66>", &[]),
        peer(B),
    );
    assert!(sent(&mut a).is_empty());
    assert_eq!(a.reg_state(r), Some(RegState::Failed));
}

#[test]
fn in_dialog_requests_only_from_the_peer_over_its_transport() {
    use super::tests::{dialog_request, established};
    let (mut n, _a, b) = established();
    let (local, remote) = {
        let d = n.uas[1].dialog(b).unwrap();
        (d.id().local_tag.clone(), d.id().remote_tag.clone())
    };
    let now = n.now;
    let first =
        |u: &mut Ua| String::from_utf8_lossy(&u.poll_transmit().unwrap().bytes)[..11].to_owned();
    // A re-INVITE that would move the media, with the right tags, from a third host.
    let reinvite = dialog_request(&n, b, "INVITE", &remote, &local, 1);
    n.uas[1].handle_message(now, &reinvite, peer("127.0.0.66:5061"));
    assert_eq!(first(&mut n.uas[1]), "SIP/2.0 403");
    // The peer's address, over TCP: the dialog runs over UDP.
    let tcp = Peer {
        transport: Transport::Tcp,
        addr: A.parse().unwrap(),
    };
    let bye = dialog_request(&n, b, "BYE", &remote, &local, 2);
    n.uas[1].handle_message(now, &bye, tcp);
    assert_eq!(first(&mut n.uas[1]), "SIP/2.0 403");
    assert!(n.uas[1].poll_event().is_none());
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].stats().foreign, 2);
    // The same CSeq as the INVITE from the peer: out of order (500), the call stays.
    let bye = dialog_request(&n, b, "BYE", &remote, &local, 0);
    n.uas[1].handle_message(now, &bye, peer(A));
    assert_eq!(first(&mut n.uas[1]), "SIP/2.0 500");
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
}

#[test]
fn cancel_and_ack_only_from_the_invites_side() {
    let now = Instant::now();
    let mut b = Ua::new(UaConfig::new(B.parse().unwrap(), Transport::Udp, "u"));
    let invite = format!(
        "INVITE sip:u@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKinv1\r\nMax-Forwards: 70\r\n\
         From: <sip:u@{A}>;tag=a1\r\nTo: <sip:u@{B}>\r\nCall-ID: c1@{A}\r\nCSeq: 7 INVITE\r\n\
         Contact: <sip:u@{A}>\r\nContent-Length: 0\r\n\r\n"
    );
    b.handle_message(now, invite.as_bytes(), peer(A));
    let Some(UaEvent::Incoming { call, .. }) = b.poll_event() else {
        panic!("no incoming call");
    };
    b.ring(now, call, 180, None).unwrap();
    sent(&mut b);
    let cancel = invite
        .replace("INVITE sip", "CANCEL sip")
        .replace("7 INVITE", "7 CANCEL");
    b.handle_message(now, cancel.as_bytes(), peer(EVIL));
    assert!(sent(&mut b)[0].starts_with(b"SIP/2.0 403"));
    assert_eq!(b.call_state(call), Some(CallState::Proceeding));
    // Answered; an ACK with the right tags from a third host does not confirm the call.
    b.answer(now, call, b"answer").unwrap();
    let ok = sent(&mut b).remove(0);
    let tag = Message::parse(&ok)
        .unwrap()
        .to()
        .unwrap()
        .tag()
        .unwrap()
        .to_owned();
    let ack = invite
        .replace("INVITE sip", "ACK sip")
        .replace("7 INVITE", "7 ACK")
        .replace("z9hG4bKinv1", "z9hG4bKack1")
        .replace(
            &format!("To: <sip:u@{B}>"),
            &format!("To: <sip:u@{B}>;tag={tag}"),
        );
    b.handle_message(now, ack.as_bytes(), peer(EVIL));
    assert_eq!(b.call_state(call), Some(CallState::Answered));
    assert_eq!(b.stats().foreign, 2);
    b.handle_message(now, ack.as_bytes(), peer(A));
    assert_eq!(b.call_state(call), Some(CallState::Confirmed));
}

#[test]
fn digest_credentials_refuse_rfc2069_unless_allowed() {
    let ch = |qop: &str| Challenge {
        proxy: false,
        value: format!("Digest realm=\"r\", nonce=\"n\"{qop}"),
        realm: "r".into(),
        stale: false,
    };
    let mut d = DigestCredentials::new("u", "pw", 1);
    assert!(d.answer(&ch(""), "INVITE", "sip:x@h", b"").is_none());
    assert!(
        d.answer(&ch(", qop=\"auth\""), "INVITE", "sip:x@h", b"")
            .is_some()
    );
    let mut lax = DigestCredentials::new("u", "pw", 1).with_rfc2069();
    assert!(lax.answer(&ch(""), "INVITE", "sip:x@h", b"").is_some());
}
