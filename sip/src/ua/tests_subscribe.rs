//! The SUBSCRIBE client against a scripted notifier: challenge, 2xx and the dialog it
//! makes, NOTIFYs in it, the refresh inside the dialog, a notifier ending the subscription,
//! unsolicited and foreign NOTIFYs, and the removing SUBSCRIBE.

use super::tests::{FixedAnswer, evs, next_send, peer, reply, sent, starts, ua};
use super::*;
use crate::MessageBuilder;
use crate::header::HeaderName;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

/// A NOTIFY from the notifier at B in the dialog of `sub` (our tag `tag`, its tag `nt`).
fn notify(sub: &Message<'_>, tag: Option<&str>, seq: u32, event: &str, state: &str) -> Vec<u8> {
    let to = match tag {
        Some(t) => format!("<sip:u@{A}>;tag={t}"),
        None => format!("<sip:u@{A}>"),
    };
    let target = format!("sip:u@{A}");
    let uri = crate::Uri::parse(&target).unwrap();
    MessageBuilder::request(Method::Notify, &uri)
        .header(
            HeaderName::Via,
            format!("SIP/2.0/UDP {B};branch=z9hG4bKn{seq}"),
        )
        .max_forwards(70)
        .header(HeaderName::From, format!("<sip:u@{B}>;tag=nt"))
        .header(HeaderName::To, to)
        .call_id(sub.call_id().unwrap_or("other@x"))
        .cseq(seq, Method::Notify)
        .header(HeaderName::Contact, format!("<sip:vm@{B}>"))
        .raw_header("Event", event)
        .raw_header("Subscription-State", state)
        .body(
            "application/simple-message-summary",
            b"Messages-Waiting: yes\r\n",
        )
}

fn status(bytes: &[u8]) -> Option<u16> {
    Message::parse(bytes).ok()?.status()
}

#[test]
fn subscription_challenge_notify_refresh_in_dialog_and_removal() {
    let mut a = ua(A, 1);
    a.set_authenticator(Box::new(FixedAnswer(0)));
    let t0 = Instant::now();
    let mut cfg = SubscribeConfig::message_summary(&format!("sip:u@{B}"));
    cfg.expires = 600;
    let s = a.subscribe(t0, cfg).unwrap();
    let first = sent(&mut a).remove(0);
    let m = Message::parse(&first).unwrap();
    assert_eq!(
        starts(std::slice::from_ref(&first)),
        [format!("SUBSCRIBE sip:u@{B} SIP/2.0")]
    );
    assert_eq!(m.header("Event").map(|h| h.value), Some("message-summary"));
    assert_eq!(
        m.header("Accept").map(|h| h.value),
        Some("application/simple-message-summary")
    );
    assert_eq!(m.expires(), Some(600));
    assert!(m.to().unwrap().tag().is_none());
    let ch = [("WWW-Authenticate", "Digest realm=\"vm\", nonce=\"1\"")];
    a.handle_message(t0, &reply(&first, 401, Some("x"), "", &ch), peer(B));
    let second = sent(&mut a).remove(0);
    let m2 = Message::parse(&second).unwrap();
    assert!(m2.header("Authorization").is_some());
    assert_eq!(m2.call_id(), m.call_id());
    // The notifier grants less than asked; its NOTIFY may come before or after the 2xx.
    let our_tag = m.from().unwrap().tag().unwrap().to_owned();
    a.handle_message(
        t0,
        &notify(
            &m2,
            Some(&our_tag),
            1,
            "message-summary",
            "active;expires=300",
        ),
        peer(B),
    );
    assert_eq!(
        sent(&mut a).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [Some(200)]
    );
    a.handle_message(
        t0,
        &reply(
            &second,
            200,
            Some("nt"),
            &format!("<sip:vm@{B}>"),
            &[("Expires", "300")],
        ),
        peer(B),
    );
    let ev = evs(&mut a);
    assert!(
        ev.contains(&UaEvent::Notified {
            sub: Some(s),
            event: "message-summary".into(),
            request_uri: format!("sip:u@{A}"),
            body: b"Messages-Waiting: yes\r\n".to_vec()
        }),
        "{ev:?}"
    );
    assert!(
        ev.contains(&UaEvent::Subscribed {
            sub: s,
            expires: 300
        }),
        "{ev:?}"
    );
    assert_eq!(a.sub_state(s), Some(SubState::Active));
    // The refresh goes inside the dialog, to the notifier's Contact, at 240 s.
    let (due, refresh) = next_send(&mut a);
    assert_eq!(due - t0, Duration::from_secs(240));
    assert_eq!(starts(&refresh), [format!("SUBSCRIBE sip:vm@{B} SIP/2.0")]);
    let r = Message::parse(&refresh[0]).unwrap();
    assert_eq!(r.to().unwrap().tag(), Some("nt"));
    assert_eq!(r.call_id(), m.call_id());
    a.handle_message(
        due,
        &reply(&refresh[0], 200, None, "", &[("Expires", "300")]),
        peer(B),
    );
    // Removal: Expires: 0 in the dialog.
    a.unsubscribe(due, s).unwrap();
    let un = sent(&mut a).remove(0);
    let u = Message::parse(&un).unwrap();
    assert_eq!(u.expires(), Some(0));
    assert_eq!(u.to().unwrap().tag(), Some("nt"));
    a.handle_message(due, &reply(&un, 200, None, "", &[]), peer(B));
    assert_eq!(a.sub_state(s), None);
    assert_eq!(a.footprint().subscriptions, 0);
}

#[test]
fn a_notifier_ending_the_subscription_gets_a_new_one_later() {
    let mut a = ua(A, 2);
    let t0 = Instant::now();
    let s = a
        .subscribe(t0, SubscribeConfig::message_summary(&format!("sip:u@{B}")))
        .unwrap();
    let first = sent(&mut a).remove(0);
    let m = Message::parse(&first).unwrap();
    let tag = m.from().unwrap().tag().unwrap().to_owned();
    a.handle_message(
        t0,
        &reply(&first, 200, Some("nt"), &format!("<sip:vm@{B}>"), &[]),
        peer(B),
    );
    evs(&mut a);
    a.handle_message(
        t0,
        &notify(
            &m,
            Some(&tag),
            2,
            "message-summary",
            "terminated;reason=timeout;retry-after=5",
        ),
        peer(B),
    );
    assert_eq!(
        sent(&mut a).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [Some(200)]
    );
    assert!(evs(&mut a).contains(&UaEvent::SubscriptionFailed {
        sub: s,
        code: 0,
        retry_in: Duration::from_secs(5)
    }));
    let (due, again) = next_send(&mut a);
    assert_eq!(due - t0, Duration::from_secs(5));
    let n = Message::parse(&again[0]).unwrap();
    assert_eq!(starts(&again), [format!("SUBSCRIBE sip:u@{B} SIP/2.0")]);
    assert!(n.to().unwrap().tag().is_none(), "a new dialog");
    assert_ne!(n.call_id(), m.call_id());
}

#[test]
fn unsolicited_and_foreign_notifies() {
    let mut a = ua(A, 3);
    let t0 = Instant::now();
    let fake = b"OPTIONS sip:x@y SIP/2.0\r\nCall-ID: u1@x\r\n\r\n".to_vec();
    let fake = Message::parse(&fake).unwrap();
    // Out of any dialog: message-summary is taken, another package is not.
    a.handle_message(
        t0,
        &notify(&fake, None, 1, "message-summary", "active"),
        peer(B),
    );
    assert_eq!(
        sent(&mut a).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [Some(200)]
    );
    assert!(matches!(
        evs(&mut a).as_slice(),
        [UaEvent::Notified { sub: None, .. }]
    ));
    a.handle_message(t0, &notify(&fake, None, 2, "presence", "active"), peer(B));
    assert_eq!(
        sent(&mut a).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [Some(489)]
    );
    // A To tag that is none of ours: no such subscription.
    a.handle_message(
        t0,
        &notify(&fake, Some("zz"), 3, "message-summary", "active"),
        peer(B),
    );
    assert_eq!(
        sent(&mut a).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [Some(481)]
    );
    assert!(evs(&mut a).is_empty());
}

/// The notifier's Contact names another address (here a documentation address): the
/// refresh carries it as Request-URI but still goes to where the first SUBSCRIBE went.
#[test]
fn refreshes_go_to_the_first_hop_whatever_the_notifiers_contact_says() {
    let mut a = ua(A, 4);
    let t0 = Instant::now();
    let mut cfg = SubscribeConfig::message_summary(&format!("sip:u@{B}"));
    cfg.expires = 600;
    a.subscribe(t0, cfg).unwrap();
    let first = sent(&mut a).remove(0);
    a.handle_message(
        t0,
        &reply(
            &first,
            200,
            Some("nt"),
            "<sip:vm@192.0.2.66:5099>",
            &[("Expires", "300")],
        ),
        peer(B),
    );
    evs(&mut a);
    // Each send is looked at as the timers run until the refresh goes out.
    loop {
        let t = a.poll_timeout().expect("the refresh timer");
        a.handle_timeout(t);
        let out: Vec<Transmit> = std::iter::from_fn(|| a.poll_transmit()).collect();
        if out.is_empty() {
            continue;
        }
        assert_eq!(out.len(), 1, "one refresh");
        assert_eq!(out[0].to, peer(B), "sent to the first hop");
        assert!(
            out[0]
                .bytes
                .starts_with(b"SUBSCRIBE sip:vm@192.0.2.66:5099 SIP/2.0")
        );
        break;
    }
}
