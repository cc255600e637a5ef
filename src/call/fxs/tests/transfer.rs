//! Consultation and transfer: a flash holds the call and gives dial tone; the number
//! dialled is a consultation; hanging up transfers the held party to it (blind while it
//! rings, attended once answered); a flash goes back; a failed transfer rings the phone.

use super::*;

/// A port talking on an answered incoming call.
fn talking() -> (FxsPort<LengthCollector>, Instant) {
    let (mut p, t) = port();
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    (p, t)
}

fn flash() -> Input {
    line(Event::HookFlash { duration_ms: 500 })
}

/// Flash, then dial `number`.
fn consult(p: &mut FxsPort<LengthCollector>, t: Instant, number: &str) -> Vec<Output> {
    assert_eq!(
        p.handle(t, flash()),
        vec![
            Output::Sip(SipIntent::Hold),
            Output::Media(MediaCmd::Stop),
            Output::Tone(ProgressTone::Dial),
        ]
    );
    assert_eq!(p.state(), &FxsState::Collecting);
    number
        .chars()
        .flat_map(|c| p.handle(t, card_digit(c)))
        .collect()
}

#[test]
fn hanging_up_while_the_consultation_rings_is_a_blind_transfer() {
    let (mut p, t) = talking();
    assert_eq!(
        consult(&mut p, t, "300"),
        vec![Output::Tone(ProgressTone::Silence), place("300")]
    );
    p.handle(t, sip(SipEvent::Ringing));
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::Transfer)
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn hanging_up_after_the_consultation_answered_is_an_attended_transfer() {
    let (mut p, t) = talking();
    consult(&mut p, t, "300");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(p.state(), &FxsState::Talking);
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Sip(SipIntent::Transfer)
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn a_flash_during_the_consultation_goes_back_to_the_held_call() {
    let (mut p, t) = talking();
    p.handle(t, flash());
    // Before dialling.
    assert_eq!(p.handle(t, flash()), taking_back());
    assert_eq!(p.state(), &FxsState::Talking);
    // While the consultation rings: it is cancelled.
    consult(&mut p, t, "300");
    assert_eq!(
        p.handle(t, flash()),
        vec![
            Output::Sip(SipIntent::Hangup),
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::Swap),
            Output::Media(MediaCmd::Start),
        ]
    );
}

#[test]
fn a_flash_once_the_consultation_answered_makes_a_three_way_call() {
    let (mut p, t) = talking();
    consult(&mut p, t, "300");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, flash()),
        vec![Output::Sip(SipIntent::Conference)]
    );
    assert_eq!(p.state(), &FxsState::Conference);
    // A flash drops the party added last: the first one is the call again.
    assert_eq!(
        p.handle(t, flash()),
        vec![
            Output::Media(MediaCmd::Split),
            Output::Sip(SipIntent::Hangup),
            Output::Sip(SipIntent::Swap),
        ]
    );
    assert_eq!((p.state(), p.other()), (&FxsState::Talking, Other::None));
}

#[test]
fn in_a_three_way_call_either_far_party_may_leave_and_the_phone_ends_both() {
    let three_way = || {
        let (mut p, t) = talking();
        consult(&mut p, t, "300");
        p.handle(t, sip(SipEvent::Answered));
        p.handle(t, flash());
        (p, t)
    };
    let (mut p, t) = three_way();
    assert_eq!(
        p.handle(t, sip(SipEvent::RemoteHangup)),
        vec![Output::Media(MediaCmd::Split), Output::Sip(SipIntent::Swap)]
    );
    assert_eq!(p.state(), &FxsState::Talking);
    let (mut p, t) = three_way();
    assert_eq!(
        p.handle(t, sip(SipEvent::WaitingEnded)),
        vec![Output::Media(MediaCmd::Split)]
    );
    assert_eq!(p.state(), &FxsState::Talking);
    let (mut p, t) = three_way();
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Sip(SipIntent::Hangup),
            Output::Sip(SipIntent::EndWaiting(480)),
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn a_failed_consultation_leaves_the_held_call_for_a_flash() {
    let (mut p, t) = talking();
    consult(&mut p, t, "300");
    assert_eq!(
        p.handle(t, sip(SipEvent::Rejected(486))),
        vec![Output::Tone(ProgressTone::Busy)]
    );
    assert_eq!(p.state(), &FxsState::Holding);
    assert_eq!(
        p.handle(t, flash()).last(),
        Some(&Output::Media(MediaCmd::Start))
    );
    assert_eq!(p.state(), &FxsState::Talking);
}

#[test]
fn hanging_up_before_dialling_rings_the_phone_back_for_the_held_call() {
    let (mut p, t) = talking();
    p.handle(t, flash());
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Line(Command::Ring(cadence())),
        ]
    );
    assert_eq!(p.state(), &FxsState::Recall);
}

#[test]
fn a_failed_transfer_rings_the_phone_for_the_held_party() {
    let (mut p, t) = talking();
    consult(&mut p, t, "300");
    p.handle(t, line(Event::OnHook));
    assert_eq!(
        p.handle(t, sip(SipEvent::TransferFailed)),
        vec![Output::Line(Command::Ring(cadence()))]
    );
    assert_eq!(p.state(), &FxsState::Recall);
    assert_eq!(
        p.handle(t, line(Event::OffHook)),
        [vec![Output::Line(Command::StopRing)], taking_back()].concat()
    );
}

#[test]
fn with_the_flash_relayed_the_far_end_gets_it() {
    let mut cfg = FxsConfig::with_cadence(cadence());
    cfg.flash_features = false;
    let t = Instant::now();
    let mut p = FxsPort::new(cfg, LengthCollector::new(3, Duration::from_secs(4)));
    p.handle(t, sip(offer()));
    p.handle(t, line(Event::OffHook));
    assert_eq!(p.handle(t, flash()), vec![Output::SendEvent(EVENT_FLASH)]);
}

#[test]
fn the_held_party_hanging_up_during_the_consultation_leaves_an_ordinary_call() {
    let (mut p, t) = talking();
    p.handle(t, flash());
    assert_eq!(p.handle(t, sip(SipEvent::WaitingEnded)), vec![]);
    assert_eq!(p.other(), Other::None);
    // Hanging up now rings nothing back.
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}
