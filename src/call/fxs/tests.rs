//! Virtual-time tests of every FXS transition.

use super::*;
use crate::call::LengthCollector;
use tipring_hal::model::{Digit, RingCadence, RingStep};

fn cadence() -> RingCadence {
    let mut steps = heapless::Vec::new();
    steps
        .push(RingStep {
            on_ms: 2000,
            off_ms: 4000,
        })
        .unwrap();
    RingCadence {
        frequency_hz: 25,
        steps,
    }
}

fn port() -> (FxsPort<LengthCollector>, Instant) {
    let c = LengthCollector::new(3, Duration::from_secs(4));
    (
        FxsPort::new(FxsConfig::with_cadence(cadence()), c),
        Instant::now(),
    )
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn place(number: &str) -> Output {
    Output::Sip(SipIntent::PlaceCall {
        target: number.into(),
        caller: CallerInfo::default(),
        hide_caller_id: None,
    })
}

/// What the phone taking its other call back (waiting or held) brings.
fn taking_back() -> Vec<Output> {
    vec![
        Output::Tone(ProgressTone::Silence),
        Output::Sip(SipIntent::Swap),
        Output::Media(MediaCmd::Start),
    ]
}

fn line(e: Event) -> Input {
    Input::Line(e)
}

fn sip(e: SipEvent) -> Input {
    Input::Sip(e)
}

fn card_digit(c: char) -> Input {
    line(Event::Digit {
        digit: Digit::from_char(c).unwrap(),
        duration_ms: 80,
    })
}

/// Off-hook and dial `digits` with card digit events.
fn dialled(p: &mut FxsPort<LengthCollector>, t: Instant, digits: &str) -> Vec<Output> {
    assert_eq!(
        p.handle(t, line(Event::OffHook)),
        vec![Output::Tone(ProgressTone::Dial)]
    );
    let mut all = Vec::new();
    for c in digits.chars() {
        all.extend(p.handle(t, card_digit(c)));
    }
    all
}

#[test]
fn off_hook_gives_dial_tone_first_digit_stops_it_and_number_places_call() {
    let (mut p, t) = port();
    assert_eq!(
        p.handle(t, line(Event::OffHook)),
        vec![Output::Tone(ProgressTone::Dial)]
    );
    assert_eq!(p.state(), &FxsState::Collecting);
    assert_eq!(
        p.handle(t, card_digit('2')),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(p.handle(t, card_digit('0')), vec![]);
    assert_eq!(p.handle(t, card_digit('1')), vec![place("201")]);
    assert_eq!(p.state(), &FxsState::Calling { early: false });
}

#[test]
fn pulse_and_inband_digits_are_collected_too() {
    let (mut p, t) = port();
    p.handle(t, line(Event::OffHook));
    p.handle(t, line(Event::PulseDigit { digit: 4 }));
    p.handle(t, line(Event::PulseDigit { digit: 0 }));
    assert_eq!(
        p.handle(t, Input::InbandDigit(Digit::Star)),
        vec![place("40*")]
    );
}

#[test]
fn interdigit_timeout_comes_from_the_collector() {
    let (mut p, t) = port();
    p.handle(t, line(Event::OffHook));
    p.handle(t + ms(500), card_digit('7'));
    assert_eq!(p.next_deadline(), Some(t + ms(4500)));
    assert_eq!(p.poll(t + ms(4499)), vec![]);
    assert_eq!(p.poll(t + ms(4500)), vec![place("7")]);
}

#[test]
fn no_digits_at_all_gives_reorder_then_silence_after_lockout() {
    let (mut p, t) = port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        p.poll(t + ms(4000)),
        vec![Output::Tone(ProgressTone::Reorder)]
    );
    assert_eq!(p.state(), &FxsState::Disconnected);
    assert_eq!(p.next_deadline(), Some(t + ms(34_000)));
    assert_eq!(
        p.poll(t + ms(34_000)),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(
        p.handle(t + ms(40_000), line(Event::OnHook)),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn ringing_then_answer_gives_ringback_then_talk() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    assert_eq!(p.handle(t, sip(SipEvent::Proceeding)), vec![]);
    assert_eq!(
        p.handle(t, sip(SipEvent::Ringing)),
        vec![Output::Tone(ProgressTone::Ringback)]
    );
    assert_eq!(
        p.handle(t, sip(SipEvent::Answered)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Media(MediaCmd::Start)
        ]
    );
    assert_eq!(p.state(), &FxsState::Talking);
}

#[test]
fn early_media_plays_the_far_audio_not_ringback() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    assert_eq!(
        p.handle(t, sip(SipEvent::EarlyMedia)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Media(MediaCmd::Start)
        ]
    );
    assert_eq!(p.handle(t, sip(SipEvent::Ringing)), vec![]);
    assert_eq!(p.handle(t, sip(SipEvent::Answered)), vec![]);
    assert_eq!(p.state(), &FxsState::Talking);
}

#[test]
fn on_hook_in_a_call_hangs_up() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Sip(SipIntent::Hangup)
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn on_hook_while_calling_hangs_up_before_answer() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    p.handle(t, sip(SipEvent::Ringing));
    assert_eq!(
        p.handle(t, line(Event::OnHook)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::Hangup)
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn remote_hangup_gives_reorder_until_on_hook() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, sip(SipEvent::RemoteHangup)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Tone(ProgressTone::Reorder)
        ]
    );
    assert_eq!(p.state(), &FxsState::Disconnected);
    // An incoming call now finds the port busy.
    let offer = SipEvent::IncomingCall {
        caller: CallerInfo::default(),
        number: "1".into(),
        ring: None,
    };
    assert_eq!(
        p.handle(t, sip(offer)),
        vec![Output::Sip(SipIntent::Reject(486))]
    );
    p.handle(t, line(Event::OnHook));
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn rejection_tone_follows_the_response_class() {
    for (code, tone) in [
        (486, ProgressTone::Busy),
        (600, ProgressTone::Busy),
        (404, ProgressTone::Reorder),
        (408, ProgressTone::Reorder),
        (503, ProgressTone::Reorder),
        (603, ProgressTone::Reorder),
    ] {
        let (mut p, t) = port();
        dialled(&mut p, t, "201");
        assert_eq!(
            p.handle(t, sip(SipEvent::Rejected(code))),
            vec![Output::Tone(tone)],
            "{code}"
        );
        assert_eq!(p.state(), &FxsState::Disconnected);
    }
}

#[test]
fn rejection_after_early_media_stops_media() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    p.handle(t, sip(SipEvent::EarlyMedia));
    assert_eq!(
        p.handle(t, sip(SipEvent::Rejected(486))),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Tone(ProgressTone::Busy)
        ]
    );
}

fn offer() -> SipEvent {
    offer_ringing(None)
}

fn offer_ringing(ring: Option<RingCadence>) -> SipEvent {
    SipEvent::IncomingCall {
        caller: CallerInfo {
            name: Some("Alice".into()),
            number: Some("5551234".into()),
        },
        number: "201".into(),
        ring,
    }
}

/// A distinctive ring (two bursts) rings as given, and caller ID waits for the long pause
/// after both bursts.
#[test]
fn a_distinctive_ring_rings_its_cadence_with_caller_id_after_its_bursts() {
    let (mut p, t) = port();
    let two = RingCadence {
        frequency_hz: 20,
        steps: [(1000, 500), (1000, 3500)]
            .into_iter()
            .map(|(on_ms, off_ms)| RingStep { on_ms, off_ms })
            .collect(),
    };
    assert_eq!(
        p.handle(t, sip(offer_ringing(Some(two.clone())))),
        vec![
            Output::Line(Command::Ring(two)),
            Output::Sip(SipIntent::Alerting)
        ]
    );
    // 1000 + 500 + 1000 ms of the pattern, then the 500 ms gap.
    assert_eq!(p.next_deadline(), Some(t + ms(3000)));
}

#[test]
fn incoming_call_rings_with_cadence_and_sends_caller_id_after_first_ring() {
    let (mut p, t) = port();
    assert_eq!(
        p.handle(t, sip(offer())),
        vec![
            Output::Line(Command::Ring(cadence())),
            Output::Sip(SipIntent::Alerting)
        ]
    );
    // First ring is 2 s on, then 500 ms gap: caller ID at 2.5 s, well before the
    // second ring at 6 s.
    assert_eq!(p.next_deadline(), Some(t + ms(2500)));
    assert_eq!(p.poll(t + ms(2499)), vec![]);
    assert_eq!(
        p.poll(t + ms(2500)),
        vec![
            Output::Line(Command::OnHookTransmission { enable: true }),
            Output::SendCallerId(CallerInfo {
                name: Some("Alice".into()),
                number: Some("5551234".into())
            })
        ]
    );
    assert_eq!(
        p.handle(t + ms(7000), line(Event::OffHook)),
        vec![
            Output::Line(Command::StopRing),
            Output::Line(Command::OnHookTransmission { enable: false }),
            Output::Sip(SipIntent::Answer),
            Output::Media(MediaCmd::Start)
        ]
    );
    assert_eq!(p.state(), &FxsState::Talking);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn caller_id_off_sends_none() {
    let (mut p, t) = port();
    p.cfg.caller_id = false;
    p.handle(t, sip(offer()));
    assert_eq!(p.next_deadline(), Some(t + ms(60_000)));
}

#[test]
fn cancel_stops_ringing() {
    let (mut p, t) = port();
    p.handle(t, sip(offer()));
    assert_eq!(
        p.handle(t + ms(100), sip(SipEvent::Cancelled)),
        vec![Output::Line(Command::StopRing)]
    );
    assert_eq!(p.state(), &FxsState::Idle);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn unanswered_ringing_is_refused_with_480() {
    let (mut p, t) = port();
    p.handle(t, sip(offer()));
    p.poll(t + ms(2500));
    assert_eq!(
        p.poll(t + ms(60_000)),
        vec![
            Output::Line(Command::StopRing),
            Output::Line(Command::OnHookTransmission { enable: false }),
            Output::Sip(SipIntent::Reject(480))
        ]
    );
    assert_eq!(p.state(), &FxsState::Idle);
}

#[test]
fn busy_port_rejects_486() {
    let (mut p, t) = port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        p.handle(t, sip(offer())),
        vec![Output::Sip(SipIntent::Reject(486))]
    );
    assert_eq!(p.state(), &FxsState::Collecting);
}

#[test]
fn a_relayed_hook_flash_in_a_call_sends_event_16() {
    let mut cfg = FxsConfig::with_cadence(cadence());
    cfg.flash_features = false;
    let t = Instant::now();
    let mut p = FxsPort::new(cfg, LengthCollector::new(3, Duration::from_secs(4)));
    dialled(&mut p, t, "201");
    // Not before the call is up.
    assert_eq!(
        p.handle(t, line(Event::HookFlash { duration_ms: 300 })),
        vec![]
    );
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, line(Event::HookFlash { duration_ms: 300 })),
        vec![Output::SendEvent(16)]
    );
    assert_eq!(p.state(), &FxsState::Talking);
}

/// A port with the configured kind of collector: `[2-8]xx` and the default feature codes.
fn coded_port() -> (FxsPort<crate::port::PlanCollector>, Instant) {
    use crate::dialplan::{DigitMap, LineMode, Timers};
    let timers = Timers {
        first_digit: Duration::from_secs(10),
        interdigit_short: Duration::from_secs(3),
        interdigit_long: Duration::from_secs(10),
    };
    let c = crate::port::PlanCollector::new(
        DigitMap::parse("[2-8]xx").unwrap(),
        timers,
        LineMode::Normal,
    )
    .with_features(crate::call::FeatureCodes::defaults());
    (
        FxsPort::new(FxsConfig::with_cadence(cadence()), c),
        Instant::now(),
    )
}

fn dial_on<C: DigitCollector>(p: &mut FxsPort<C>, t: Instant, digits: &str) -> Vec<Output> {
    digits
        .chars()
        .flat_map(|c| p.handle(t, card_digit(c)))
        .collect()
}

#[test]
fn a_service_code_is_confirmed_once_applied_then_dial_tone_returns() {
    use crate::call::Service;
    let (mut p, t) = coded_port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        dial_on(&mut p, t, "*78"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::SetService(Service::DoNotDisturb(true)))
        ]
    );
    assert_eq!(p.state(), &FxsState::Setting);
    assert_eq!(
        p.handle(t, sip(SipEvent::ServiceSet(true))),
        vec![Output::Tone(ProgressTone::Confirm)]
    );
    assert_eq!(p.state(), &FxsState::Collecting);
    assert_eq!(p.poll(t + ms(999)), vec![]);
    assert_eq!(
        p.poll(t + CONFIRMATION),
        vec![Output::Tone(ProgressTone::Dial)]
    );
    // Another number can follow on the same off-hook.
    let after = t + CONFIRMATION;
    assert_eq!(
        dial_on(&mut p, after, "201"),
        vec![Output::Tone(ProgressTone::Silence), place("201")]
    );
}

#[test]
fn a_refused_setting_gives_reorder() {
    let (mut p, t) = coded_port();
    p.handle(t, line(Event::OffHook));
    dial_on(&mut p, t, "*79");
    assert_eq!(
        p.handle(t, sip(SipEvent::ServiceSet(false))),
        vec![Output::Tone(ProgressTone::Reorder)]
    );
    assert_eq!(p.state(), &FxsState::Disconnected);
}

#[test]
fn caller_id_once_applies_to_the_next_call_only() {
    let (mut p, t) = coded_port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        dial_on(&mut p, t, "*67"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Tone(ProgressTone::Confirm)
        ]
    );
    // Dialling during the confirmation tone stops it.
    assert_eq!(
        dial_on(&mut p, t + ms(300), "201"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::PlaceCall {
                target: "201".into(),
                caller: CallerInfo::default(),
                hide_caller_id: Some(true),
            })
        ]
    );
    // The confirmation timer finds dial tone no longer wanted.
    assert_eq!(p.poll(t + CONFIRMATION), vec![]);
    p.handle(t, line(Event::OnHook));
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        dial_on(&mut p, t, "202"),
        vec![Output::Tone(ProgressTone::Silence), place("202")]
    );
}

#[test]
fn forwarding_prompts_for_its_number_then_sets_it() {
    use crate::call::{ForwardWhen, Service};
    let (mut p, t) = coded_port();
    p.handle(t, line(Event::OffHook));
    assert_eq!(
        dial_on(&mut p, t, "*72"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Tone(ProgressTone::Confirm)
        ]
    );
    assert_eq!(
        dial_on(&mut p, t, "300"),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Sip(SipIntent::SetService(Service::Forward(
                ForwardWhen::Always,
                Some("300".into())
            )))
        ]
    );
}

#[test]
fn messages_waiting_light_the_lamp_tell_the_idle_phone_by_fsk_and_stutter_the_dial_tone() {
    let (mut p, t) = port();
    assert_eq!(
        p.handle(t, sip(SipEvent::MessageWaiting(true))),
        vec![
            Output::Line(Command::MessageWaiting { on: true }),
            Output::Line(Command::OnHookTransmission { enable: true }),
            Output::SendMessageWaiting(true),
        ]
    );
    assert_eq!(p.state(), &FxsState::Indicating);
    // The same news again changes nothing.
    assert_eq!(p.handle(t, sip(SipEvent::MessageWaiting(true))), vec![]);
    assert_eq!(
        p.poll(t + INDICATION),
        vec![Output::Line(Command::OnHookTransmission { enable: false })]
    );
    assert_eq!(p.state(), &FxsState::Idle);
    let t1 = t + INDICATION;
    assert_eq!(
        p.handle(t1, line(Event::OffHook)),
        vec![Output::Tone(ProgressTone::Confirm)]
    );
    assert_eq!(p.poll(t1 + STUTTER - ms(1)), vec![]);
    assert_eq!(p.poll(t1 + STUTTER), vec![Output::Tone(ProgressTone::Dial)]);
}

#[test]
fn news_in_a_call_lights_the_lamp_and_the_fsk_waits_for_on_hook() {
    let (mut p, t) = port();
    dialled(&mut p, t, "201");
    p.handle(t, sip(SipEvent::Answered));
    assert_eq!(
        p.handle(t, sip(SipEvent::MessageWaiting(true))),
        vec![Output::Line(Command::MessageWaiting { on: true })]
    );
    let out = p.handle(t, line(Event::OnHook));
    assert!(
        out.ends_with(&[
            Output::Line(Command::OnHookTransmission { enable: true }),
            Output::SendMessageWaiting(true),
        ]),
        "{out:?}"
    );
    // Lifting the handset cuts the indication short; it is sent again after the call.
    let out = p.handle(t + ms(200), line(Event::OffHook));
    assert_eq!(
        out,
        vec![
            Output::Line(Command::OnHookTransmission { enable: false }),
            Output::Tone(ProgressTone::Confirm)
        ]
    );
    let out = p.handle(t + ms(400), line(Event::OnHook));
    assert!(out.contains(&Output::SendMessageWaiting(true)), "{out:?}");
    // Cleared: the lamp goes out and the phone is told.
    p.poll(t + ms(400) + INDICATION);
    let out = p.handle(t + ms(2000), sip(SipEvent::MessageWaiting(false)));
    assert_eq!(
        out,
        vec![
            Output::Line(Command::MessageWaiting { on: false }),
            Output::Line(Command::OnHookTransmission { enable: true }),
            Output::SendMessageWaiting(false),
        ]
    );
}

mod transfer;
mod waiting;
