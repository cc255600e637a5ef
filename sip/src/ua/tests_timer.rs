//! Session timers (RFC 4028) between two cores on virtual time, and against a scripted
//! peer without UPDATE.

use super::session_timer::SessionTimerConfig;
use super::tests::{Net, call_b, ended, peer, reply, sent, starts};
use super::*;
use std::time::Duration;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

fn ua_with(addr: &str, seed: u64, st: SessionTimerConfig) -> Ua {
    let mut cfg = UaConfig::new(addr.parse().unwrap(), Transport::Udp, "u");
    cfg.seed = Some(seed);
    cfg.session_timer = Some(st);
    Ua::new(cfg)
}

/// A (asking `a`) calls B (accepting `b`), B answers.
fn call(a: SessionTimerConfig, b: SessionTimerConfig) -> (Net, CallHandle, CallHandle) {
    let (mut n, h, hb) = super::tests::calling(ua_with(A, 1, a), ua_with(B, 2, b));
    let now = n.now;
    n.uas[1].answer(now, hb, b"answer").unwrap();
    n.flush();
    (n, h, hb)
}

fn updates(n: &Net) -> usize {
    n.count("UPDATE ")
}

#[test]
fn the_caller_refreshes_by_update_and_the_call_stays_up() {
    let (mut n, a, b) = call(SessionTimerConfig::default(), SessionTimerConfig::default());
    let ok = n
        .log
        .iter()
        .find(|(_, _, m)| m.starts_with("SIP/2.0 200"))
        .unwrap();
    assert!(
        ok.2.contains("Session-Expires: 1800;refresher=uac\r\n"),
        "{}",
        ok.2
    );
    assert!(ok.2.contains("Require: timer\r\n"));
    n.run(Duration::from_secs(899));
    assert_eq!(updates(&n), 0);
    n.run(Duration::from_secs(2));
    assert_eq!(updates(&n), 1, "at half the interval");
    n.run(Duration::from_secs(3000));
    assert_eq!(updates(&n), 4, "every 900 s");
    let upd = n
        .log
        .iter()
        .rev()
        .find(|(_, _, m)| m.starts_with("UPDATE "))
        .unwrap();
    assert!(upd.2.contains("Session-Expires: 1800;refresher=uac\r\n"));
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert!(ended(&n.take_events(1)).is_none());
}

#[test]
fn when_the_refresher_goes_silent_the_other_side_hangs_up() {
    let (mut n, a, b) = call(SessionTimerConfig::default(), SessionTimerConfig::default());
    // A's side of the path breaks: nothing of it arrives any more.
    let silent = |m: &str| m.starts_with("UPDATE ") || m.starts_with("BYE ");
    let start = n.now;
    n.run_until(start + Duration::from_secs(1767), &mut |m| silent(m));
    assert_eq!(
        ended(&n.take_events(0)),
        Some(EndReason::DialogGone(408)),
        "its unanswered refresh ends the caller's side (with a BYE that is lost)"
    );
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    n.run_until(start + Duration::from_secs(1800), &mut |m| silent(m));
    assert_eq!(ended(&n.take_events(1)), Some(EndReason::SessionExpired));
    assert_ne!(n.uas[0].call_state(a), Some(CallState::Confirmed));
}

#[test]
fn an_unanswered_refresh_ends_the_call_with_bye() {
    let (mut n, a, b) = call(SessionTimerConfig::default(), SessionTimerConfig::default());
    let start = n.now;
    n.run_until(start + Duration::from_secs(1000), &mut |m| {
        m.starts_with("UPDATE ")
    });
    assert_eq!(ended(&n.take_events(0)), Some(EndReason::DialogGone(408)));
    assert_eq!(ended(&n.take_events(1)), Some(EndReason::RemoteBye));
    assert_ne!(n.uas[1].call_state(b), Some(CallState::Confirmed));
    assert_ne!(n.uas[0].call_state(a), Some(CallState::Confirmed));
}

#[test]
fn an_interval_below_min_se_gets_422_and_the_invite_again() {
    let small = SessionTimerConfig {
        expires_s: 120,
        min_se_s: 90,
    };
    let strict = SessionTimerConfig {
        expires_s: 1800,
        min_se_s: 300,
    };
    let (n, a, b) = call(small, strict);
    assert_eq!(n.count("SIP/2.0 422"), 1);
    let invites: Vec<&str> = n
        .log
        .iter()
        .filter(|(_, _, m)| m.starts_with("INVITE "))
        .map(|(_, _, m)| m.as_str())
        .collect();
    assert_eq!(invites.len(), 2);
    assert!(invites[0].contains("Session-Expires: 120\r\n"));
    assert!(invites[1].contains("Session-Expires: 300\r\n"));
    assert_eq!(n.uas[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(n.uas[1].call_state(b), Some(CallState::Confirmed));
}

#[test]
fn a_peer_without_update_is_refreshed_by_reinvite_unseen_by_the_user() {
    let mut a = ua_with(A, 1, SessionTimerConfig::default());
    let mut now = Instant::now();
    let h = call_b(&mut a, now);
    let inv = sent(&mut a).remove(0);
    let ok = reply(
        &inv,
        200,
        Some("t1"),
        &format!("<sip:u@{B}>"),
        &[
            ("Session-Expires", "90;refresher=uac"),
            ("Allow", "INVITE, ACK, BYE, CANCEL"),
            ("Content-Type", "application/sdp"),
        ],
    );
    a.handle_message(now, &ok, peer(B));
    assert_eq!(starts(&sent(&mut a)), [format!("ACK sip:u@{B} SIP/2.0")]);
    while a.poll_event().is_some() {}
    now += Duration::from_secs(46);
    a.handle_timeout(now);
    let out = sent(&mut a);
    assert_eq!(starts(&out), [format!("INVITE sip:u@{B} SIP/2.0")]);
    assert!(out[0].ends_with(b"offer"), "the SDP we sent, again");
    let ok2 = reply(
        &out[0],
        200,
        Some("t1"),
        &format!("<sip:u@{B}>"),
        &[("Session-Expires", "90;refresher=uac")],
    );
    a.handle_message(now, &ok2, peer(B));
    assert_eq!(starts(&sent(&mut a)), [format!("ACK sip:u@{B} SIP/2.0")]);
    let events: Vec<UaEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(
        events.is_empty(),
        "a refresh is not the user's re-INVITE: {events:?}"
    );
    assert_eq!(a.call_state(h), Some(CallState::Confirmed));
}

#[test]
fn without_timers_configured_nothing_is_asked_or_granted() {
    let mut cfg = UaConfig::new(A.parse().unwrap(), Transport::Udp, "u");
    cfg.session_timer = None;
    let mut a = Ua::new(cfg);
    let now = Instant::now();
    a.call(now, &format!("sip:u@{B}"), &format!("sip:u@{A}"), vec![])
        .unwrap();
    let inv = String::from_utf8(sent(&mut a).remove(0)).unwrap();
    assert!(!inv.contains("Session-Expires"), "{inv}");
}
