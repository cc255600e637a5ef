//! Call waiting: the tone over the call, the flash swapping the two calls, the phone
//! rung back for the call left, a waiting call refused when unanswered or unwanted.

use super::*;

/// A port talking on an answered incoming call.
fn talking() -> (FxsPort<LengthCollector>, Instant) {
    let (mut p, t) = port();
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    assert_eq!(p.state(), &FxsState::Talking);
    (p, t)
}

fn bob() -> CallerInfo {
    CallerInfo {
        name: Some("Bob".into()),
        number: Some("5559876".into()),
    }
}

fn second() -> SipEvent {
    SipEvent::CallWaiting { caller: bob() }
}

/// What a call waiting brings: the tone, then the caller's identity.
fn waiting() -> Vec<Output> {
    vec![
        Output::Tone(ProgressTone::CallWaiting),
        Output::SendCallWaitingId(bob()),
    ]
}

fn flash() -> Input {
    line(Event::HookFlash { duration_ms: 500 })
}

#[test]
fn a_second_call_plays_the_call_waiting_tone_and_a_flash_swaps() {
    let (mut p, t) = talking();
    assert_eq!(p.handle(t, sip(second())), waiting());
    assert_eq!(p.other(), Other::Waiting);
    assert_eq!(
        p.handle(t, flash()),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::Swap)
        ]
    );
    assert_eq!((p.state(), p.other()), (&FxsState::Talking, Other::Held));
    // Again: back to the first call; the other is still held.
    assert_eq!(
        p.handle(t, flash()),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::Swap)
        ]
    );
    assert_eq!(p.other(), Other::Held);
}

#[test]
fn a_waiting_call_unanswered_is_refused_with_the_configured_status() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    let due = t + FxsConfig::with_cadence(cadence()).call_waiting_timeout;
    assert_eq!(p.poll(due - ms(1)), vec![]);
    assert_eq!(
        p.poll(due),
        vec![
            Output::Sip(SipIntent::EndWaiting(480)),
            Output::Tone(ProgressTone::Silence)
        ]
    );
    assert_eq!((p.state(), p.other()), (&FxsState::Talking, Other::None));
    // A flash now is no swap: it holds the call for a consultation.
    assert_eq!(p.handle(t, flash())[0], Output::Sip(SipIntent::Hold));
}

#[test]
fn the_waiting_caller_giving_up_stops_the_tone() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    assert_eq!(
        p.handle(t, sip(SipEvent::WaitingEnded)),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(p.other(), Other::None);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn hanging_up_with_a_call_held_rings_the_phone_back_for_it() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    p.handle(t, flash());
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Sip(SipIntent::Hangup),
            Output::Line(Command::Ring(cadence())),
        ]
    );
    assert_eq!(p.state(), &FxsState::Recall);
    assert_eq!(
        p.handle(t, line(Event::OffHook)),
        [vec![Output::Line(Command::StopRing)], taking_back()].concat()
    );
    assert_eq!((p.state(), p.other()), (&FxsState::Talking, Other::None));
}

#[test]
fn a_recall_left_unanswered_ends_the_held_call() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    p.handle(t, flash());
    p.handle(t, line(Event::OnHook));
    let due = t + FxsConfig::with_cadence(cadence()).no_answer;
    assert_eq!(
        p.poll(due),
        vec![
            Output::Line(Command::StopRing),
            Output::Sip(SipIntent::EndWaiting(480))
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn the_held_party_hanging_up_during_the_recall_stops_the_ring() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    p.handle(t, flash());
    p.handle(t, line(Event::OnHook));
    assert_eq!(
        p.handle(t, sip(SipEvent::WaitingEnded)),
        vec![Output::Line(Command::StopRing)]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn the_current_party_hanging_up_leaves_the_other_call_for_a_flash() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    assert_eq!(
        p.handle(t, sip(SipEvent::RemoteHangup)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Tone(ProgressTone::CallWaiting)
        ]
    );
    assert_eq!(p.state(), &FxsState::Holding);
    assert_eq!(p.handle(t, flash()), taking_back());
    assert_eq!(p.state(), &FxsState::Talking);
}

#[test]
fn with_the_other_call_gone_too_the_phone_hears_reorder() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    p.handle(t, sip(SipEvent::RemoteHangup));
    assert_eq!(
        p.handle(t, sip(SipEvent::WaitingEnded)),
        vec![Output::Tone(ProgressTone::Reorder)]
    );
    assert_eq!(p.state(), &FxsState::Disconnected);
}

#[test]
fn call_waiting_off_or_a_third_call_gets_busy() {
    let (mut p, t) = talking();
    p.handle(t, sip(second()));
    assert_eq!(
        p.handle(t, sip(second())),
        vec![Output::Sip(SipIntent::EndWaiting(486))],
        "only one call waits"
    );
    let mut cfg = FxsConfig::with_cadence(cadence());
    cfg.call_waiting = false;
    let mut p = FxsPort::new(cfg, LengthCollector::new(3, Duration::from_secs(4)));
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        p.handle(t, sip(second())),
        vec![Output::Sip(SipIntent::EndWaiting(486))]
    );
}

#[test]
fn cancel_call_waiting_applies_to_the_next_call_only() {
    let (mut p, t) = coded_port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        dial_on(&mut p, t, "*70"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Tone(ProgressTone::Confirm)
        ]
    );
    dial_on(&mut p, t, "201");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, sip(second())),
        vec![Output::Sip(SipIntent::EndWaiting(486))]
    );
    p.handle(t, line(Event::OnHook));
    // The next call has call waiting again.
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    assert_eq!(p.handle(t, sip(second())), waiting());
}

#[test]
fn without_caller_id_the_phone_hears_only_the_tone() {
    let mut cfg = FxsConfig::with_cadence(cadence());
    cfg.caller_id = false;
    let t = Instant::now();
    let mut p = FxsPort::new(cfg, LengthCollector::new(3, Duration::from_secs(4)));
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        p.handle(t, sip(second())),
        vec![Output::Tone(ProgressTone::CallWaiting)]
    );
}
