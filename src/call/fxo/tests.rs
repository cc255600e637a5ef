//! Virtual-time tests of every FXO transition.

use super::*;
use crate::call::collector::LengthCollector;
use tipring_hal::model::Digit;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn port(cfg: FxoConfig) -> (FxoPort<LengthCollector>, Instant) {
    (
        FxoPort::new(cfg, LengthCollector::new(3, ms(4000))),
        Instant::now(),
    )
}

fn line(e: Event) -> Input {
    Input::Line(e)
}

fn sip(e: SipEvent) -> Input {
    Input::Sip(e)
}

const RING_STOP: Event = Event::RingStop {
    on_ms: 1000,
    off_ms: 0,
};

fn alice() -> CallerInfo {
    CallerInfo {
        name: Some("ALICE".into()),
        number: Some("5551234".into()),
    }
}

/// Rings the line `n` times, a 1 s ring every 5 s, caller ID after the first.
fn ring(p: &mut FxoPort<LengthCollector>, t: Instant, n: u64) -> Vec<Output> {
    let mut all = Vec::new();
    for i in 0..n {
        let at = t + ms(5000 * i);
        all.extend(p.handle(at, line(Event::RingStart)));
        all.extend(p.handle(at + ms(1000), line(RING_STOP)));
        if i == 0 {
            all.extend(p.handle(at + ms(2000), Input::CallerId(alice())));
        }
    }
    all
}

#[test]
fn hotline_seizes_after_n_rings_and_calls_with_the_caller_id() {
    let (mut p, t) = port(FxoConfig {
        rings: 2,
        inbound: FxoInbound::Hotline("sip:desk@pbx.example".into()),
        ..FxoConfig::default()
    });
    assert_eq!(ring(&mut p, t, 1), vec![]);
    assert_eq!(p.state(), &FxoState::Ringing { rings: 1 });
    let out = p.handle(t + ms(5000), line(Event::RingStart));
    assert_eq!(out, vec![]);
    assert_eq!(
        p.handle(t + ms(6000), line(RING_STOP)),
        vec![
            Output::Line(Command::Seize),
            Output::Sip(SipIntent::PlaceCall {
                target: "sip:desk@pbx.example".into(),
                caller: alice(),
                hide_caller_id: None,
            })
        ]
    );
    assert_eq!(p.state(), &FxoState::Calling);
    assert_eq!(
        p.handle(t, sip(SipEvent::Ringing)),
        vec![Output::Tone(ProgressTone::Ringback)]
    );
    assert_eq!(
        p.handle(t + ms(7000), sip(SipEvent::Answered)),
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Media(MediaCmd::Start)
        ]
    );
    assert_eq!(p.state(), &FxoState::Talking);
}

#[test]
fn ringing_that_stops_before_n_rings_goes_idle() {
    let (mut p, t) = port(FxoConfig {
        rings: 4,
        ..FxoConfig::default()
    });
    ring(&mut p, t, 2);
    // Last ring ended at 6 s; 8 s without a ring means the caller gave up.
    assert_eq!(p.next_deadline(), Some(t + ms(14_000)));
    assert_eq!(p.poll(t + ms(13_999)), vec![]);
    assert_eq!(p.state(), &FxoState::Ringing { rings: 2 });
    assert_eq!(p.poll(t + ms(14_000)), vec![]);
    assert_eq!(p.state(), &FxoState::Idle);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn two_stage_gives_dial_tone_and_collects_digits() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        ..FxoConfig::default()
    });
    let out = ring(&mut p, t, 1);
    assert_eq!(
        out,
        vec![
            Output::Line(Command::Seize),
            Output::Tone(ProgressTone::Dial)
        ]
    );
    assert_eq!(p.state(), &FxoState::Collecting);
    let at = t + ms(3000);
    assert_eq!(
        p.handle(at, Input::InbandDigit(Digit::D2)),
        vec![Output::Tone(ProgressTone::Silence)]
    );
    assert_eq!(p.handle(at, Input::InbandDigit(Digit::D0)), vec![]);
    assert_eq!(
        p.handle(at, Input::InbandDigit(Digit::D5)),
        vec![Output::Sip(SipIntent::PlaceCall {
            target: "205".into(),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        })]
    );
}

#[test]
fn two_stage_with_no_digits_releases_the_line() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        ..FxoConfig::default()
    });
    ring(&mut p, t, 1);
    assert_eq!(p.poll(t + ms(5000)), vec![Output::Line(Command::Release)]);
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn line_caller_hanging_up_before_answer_cancels_the_sip_call() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        inbound: FxoInbound::Hotline("100".into()),
        ..FxoConfig::default()
    });
    ring(&mut p, t, 1);
    assert_eq!(
        p.handle(t + ms(3000), line(Event::LoopCurrentOff)),
        vec![
            Output::Sip(SipIntent::Hangup),
            Output::Line(Command::Release)
        ]
    );
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn rejected_sip_call_releases_the_line() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        inbound: FxoInbound::Hotline("100".into()),
        ..FxoConfig::default()
    });
    ring(&mut p, t, 1);
    assert_eq!(
        p.handle(t, sip(SipEvent::Rejected(486))),
        vec![Output::Line(Command::Release)]
    );
}

fn incoming(number: &str) -> Input {
    sip(SipEvent::IncomingCall {
        caller: alice(),
        number: number.into(),
        ring: None,
    })
}

#[test]
fn sip_call_seizes_waits_for_dial_tone_dials_dtmf_and_answers_after_dialling() {
    let (mut p, t) = port(FxoConfig::default());
    assert_eq!(
        p.handle(t, incoming("5556")),
        vec![Output::Line(Command::Seize)]
    );
    assert_eq!(p.state(), &FxoState::Seized);
    assert_eq!(
        p.handle(
            t + ms(400),
            Input::Audio(LineAudio::Tone(ProgressTone::Dial))
        ),
        vec![
            Output::Media(MediaCmd::Start),
            Output::Sip(SipIntent::EarlyMedia),
            Output::DialDtmf("5556".into())
        ]
    );
    // 4 digits x 200 ms, then 1 s: answered at 400 + 800 + 1000 ms.
    assert_eq!(p.next_deadline(), Some(t + ms(2200)));
    assert_eq!(p.poll(t + ms(2199)), vec![]);
    assert_eq!(p.poll(t + ms(2200)), vec![Output::Sip(SipIntent::Answer)]);
    assert_eq!(p.state(), &FxoState::Talking);
}

#[test]
fn no_dial_tone_dials_anyway_after_the_timeout() {
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, incoming("1"));
    assert_eq!(p.poll(t + ms(2999)), vec![]);
    assert_eq!(
        p.poll(t + ms(3000)).last(),
        Some(&Output::DialDtmf("1".into()))
    );
}

#[test]
fn fixed_delay_ignores_dial_tone_and_pulse_dials() {
    let (mut p, t) = port(FxoConfig {
        dial_wait: DialWait::Fixed(ms(1500)),
        dial_method: DialMethod::Pulse,
        ..FxoConfig::default()
    });
    p.handle(t, incoming("20"));
    assert_eq!(
        p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial))),
        vec![]
    );
    let out = p.poll(t + ms(1500));
    let mut digits = heapless::Vec::new();
    digits.extend_from_slice(&[2, 0]).unwrap();
    assert_eq!(
        out.last(),
        Some(&Output::Line(Command::PulseDial { digits }))
    );
    // 2 pulses + 10 pulses at 100 ms and two 700 ms pauses = 2.6 s, plus 1 s.
    assert_eq!(p.next_deadline(), Some(t + ms(1500 + 2600 + 1000)));
}

#[test]
fn polarity_reversal_answer_supervision_and_second_reversal_hangs_up() {
    let (mut p, t) = port(FxoConfig {
        answer: AnswerSupervision::PolarityReversal,
        ..FxoConfig::default()
    });
    p.handle(t, incoming("42"));
    p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial)));
    // Without a reversal the call is never answered by timer.
    assert_eq!(p.poll(t + ms(20_000)), vec![]);
    assert_eq!(p.state(), &FxoState::Dialled);
    assert_eq!(
        p.handle(t + ms(21_000), line(Event::PolarityReversal)),
        vec![Output::Sip(SipIntent::Answer)]
    );
    assert_eq!(p.state(), &FxoState::Talking);
    assert_eq!(
        p.handle(t + ms(30_000), line(Event::PolarityReversal)),
        vec![
            Output::Sip(SipIntent::Hangup),
            Output::Media(MediaCmd::Stop),
            Output::Line(Command::Release)
        ]
    );
}

/// Speech supervision: what is heard while our own digits go out is not an answer; once
/// dialling is over (and the guard after it), the far party's voice is, and tones never.
#[test]
fn speech_answer_supervision_listens_only_after_dialling() {
    let (mut p, t) = port(FxoConfig {
        answer: AnswerSupervision::Speech,
        ..FxoConfig::default()
    });
    p.handle(t, incoming("42"));
    p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial)));
    assert_eq!(p.state(), &FxoState::Dialled);
    // Two DTMF digits take 400 ms; a "voice" heard meanwhile is our own dialling.
    assert_eq!(
        p.handle(t + ms(200), Input::Audio(LineAudio::Speech)),
        vec![]
    );
    assert_eq!(p.poll(t + ms(400) + SPEECH_GUARD), vec![]);
    assert_eq!(
        p.handle(
            t + ms(1000),
            Input::Audio(LineAudio::Tone(ProgressTone::Ringback))
        ),
        vec![]
    );
    assert_eq!(p.state(), &FxoState::Dialled);
    assert_eq!(
        p.handle(t + ms(6000), Input::Audio(LineAudio::Speech)),
        vec![Output::Sip(SipIntent::Answer)]
    );
    assert_eq!(p.state(), &FxoState::Talking);
}

/// Caller ID before the first ring (ETSI EN 300 659-1 §6.1.2): the exchange reverses the
/// idle line's polarity, sends the number, then rings; the call out carries it. A reversal
/// followed by no ring gives the line back; the next ring starts without a caller.
#[test]
fn caller_id_before_the_first_ring_after_a_polarity_reversal() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        inbound: FxoInbound::Hotline("sip:desk@pbx.example".into()),
        ..FxoConfig::default()
    });
    assert_eq!(p.handle(t, line(Event::PolarityReversal)), vec![]);
    assert_eq!(p.state(), &FxoState::Alerted);
    p.handle(t + ms(500), Input::CallerId(alice()));
    p.handle(t + ms(1500), line(Event::RingStart));
    let out = p.handle(t + ms(2500), line(RING_STOP));
    assert!(
        out.contains(&Output::Sip(SipIntent::PlaceCall {
            target: "sip:desk@pbx.example".into(),
            caller: alice(),
            hide_caller_id: None,
        })),
        "{out:?}"
    );
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, line(Event::PolarityReversal));
    p.handle(t + ms(500), Input::CallerId(alice()));
    assert_eq!(p.poll(t + CALLER_ID_WINDOW), vec![]);
    assert_eq!(p.state(), &FxoState::Idle);
}

/// The window after a reversal is the exchange's (`caller_id_window_ms`): a first ring
/// 3 s after the data keeps the caller ID with a 4 s window and loses it with a 2 s one.
#[test]
fn the_caller_id_window_after_a_reversal_is_configurable() {
    for (window, kept) in [(4000, true), (2000, false)] {
        let (mut p, t) = port(FxoConfig {
            rings: 1,
            inbound: FxoInbound::Hotline("sip:desk@pbx.example".into()),
            caller_id_window: ms(window),
            ..FxoConfig::default()
        });
        p.handle(t, line(Event::PolarityReversal));
        p.handle(t + ms(500), Input::CallerId(alice()));
        p.poll(t + ms(3000));
        p.handle(t + ms(3000), line(Event::RingStart));
        let out = p.handle(t + ms(4000), line(RING_STOP));
        let caller = out.iter().find_map(|o| match o {
            Output::Sip(SipIntent::PlaceCall { caller, .. }) => Some(caller.clone()),
            _ => None,
        });
        let expected = if kept { alice() } else { CallerInfo::default() };
        assert_eq!(caller, Some(expected), "window {window} ms: {out:?}");
    }
}

/// A SIP call into the line, answered by timer at 2.2 s.
fn talking(cfg: FxoConfig) -> (FxoPort<LengthCollector>, Instant) {
    let (mut p, t) = port(cfg);
    p.handle(t, incoming("5556"));
    p.handle(
        t + ms(400),
        Input::Audio(LineAudio::Tone(ProgressTone::Dial)),
    );
    p.poll(t + ms(2200));
    assert_eq!(p.state(), &FxoState::Talking);
    (p, t + ms(2200))
}

fn hung_up() -> Vec<Output> {
    vec![
        Output::Sip(SipIntent::Hangup),
        Output::Media(MediaCmd::Stop),
        Output::Line(Command::Release),
    ]
}

#[test]
fn far_hook_flash_flashes_the_line_for_the_configured_time() {
    let (mut p, t) = talking(FxoConfig {
        flash: ms(120),
        policy: FxoPolicy {
            flash: true,
            ..FxoPolicy::default()
        },
        ..FxoConfig::default()
    });
    assert_eq!(
        p.handle(t, Input::FarEvent(EVENT_FLASH)),
        vec![Output::Line(Command::HookFlash { duration_ms: 120 })]
    );
    assert_eq!(p.state(), &FxoState::Talking);
    // A digit after the answer is dialled into the line (IVR navigation).
    assert_eq!(
        p.handle(t + ms(500), Input::FarEvent(5)),
        vec![Output::DialDtmf("5".into())]
    );
}

#[test]
fn far_hook_flash_before_the_answer_is_ignored() {
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, incoming("5556"));
    assert_eq!(p.state(), &FxoState::Seized);
    assert_eq!(p.handle(t + ms(100), Input::FarEvent(EVENT_FLASH)), vec![]);
}

#[test]
fn loop_current_drop_is_far_hangup() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(p.handle(t, line(Event::LoopCurrentOff)), hung_up());
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn loop_current_drop_ignored_when_not_configured() {
    let mut cfg = FxoConfig::default();
    cfg.disconnect.loop_current_drop = false;
    let (mut p, t) = talking(cfg);
    assert_eq!(p.handle(t, line(Event::LoopCurrentOff)), vec![]);
    assert_eq!(p.state(), &FxoState::Talking);
}

#[test]
fn busy_tone_on_the_line_is_far_hangup() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(
        p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Busy))),
        hung_up()
    );
}

#[test]
fn silence_timeout_is_far_hangup_and_activity_rearms_it() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(p.next_deadline(), Some(t + ms(30_000)));
    p.handle(t + ms(20_000), Input::Audio(LineAudio::Activity));
    assert_eq!(p.poll(t + ms(30_000)), vec![]);
    assert_eq!(p.next_deadline(), Some(t + ms(50_000)));
    assert_eq!(p.poll(t + ms(50_000)), hung_up());
}

#[test]
fn local_hangup_releases_the_line() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(
        p.handle(t, sip(SipEvent::RemoteHangup)),
        vec![
            Output::Media(MediaCmd::Stop),
            Output::Line(Command::Release)
        ]
    );
    assert_eq!(p.state(), &FxoState::Idle);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn cancel_while_dialling_releases_the_line() {
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, incoming("5556"));
    assert_eq!(
        p.handle(t, sip(SipEvent::Cancelled)),
        vec![Output::Line(Command::Release)]
    );
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn busy_port_rejects_486() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(
        p.handle(t, incoming("1")),
        vec![Output::Sip(SipIntent::Reject(486))]
    );
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, line(Event::RingStart));
    assert_eq!(
        p.handle(t, incoming("1")),
        vec![Output::Sip(SipIntent::Reject(486))]
    );
}

#[test]
fn unanswered_sip_call_into_the_line_is_released_with_480() {
    let (mut p, t) = port(FxoConfig {
        answer: AnswerSupervision::PolarityReversal,
        ..FxoConfig::default()
    });
    p.handle(t, incoming("42"));
    p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial)));
    assert_eq!(p.next_deadline(), Some(t + ms(90_000)));
    assert_eq!(
        p.poll(t + ms(90_000)),
        vec![
            Output::Sip(SipIntent::Reject(480)),
            Output::Media(MediaCmd::Stop),
            Output::Line(Command::Release)
        ]
    );
}

// The line's policy (toll fraud).

fn allow(map: &str) -> FxoPolicy {
    FxoPolicy {
        allow: DialAllow::Only(crate::dialplan::DigitMap::parse(map).unwrap()),
        ..FxoPolicy::default()
    }
}

#[test]
fn sip_call_for_a_number_outside_the_allow_list_gets_403_and_never_seizes() {
    let (mut p, t) = port(FxoConfig {
        policy: allow("{ [1-8]xx | 911 }"),
        ..FxoConfig::default()
    });
    for n in [
        "*7215550100",
        "19005550199",
        "+15550100",
        "011441234567",
        "9555",
    ] {
        assert_eq!(
            p.handle(t, incoming(n)),
            vec![Output::Sip(SipIntent::Reject(403))],
            "{n}"
        );
        assert_eq!(p.state(), &FxoState::Idle);
    }
    assert_eq!(
        p.handle(t, incoming("911")),
        vec![Output::Line(Command::Seize)]
    );
}

/// Runs a two-stage line with `pin` and `policy` up to dial tone (or the PIN prompt).
fn two_stage(policy: FxoPolicy) -> (FxoPort<LengthCollector>, Instant) {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        policy,
        ..FxoConfig::default()
    });
    assert_eq!(
        ring(&mut p, t, 1),
        vec![
            Output::Line(Command::Seize),
            Output::Tone(ProgressTone::Dial)
        ]
    );
    (p, t + ms(3000))
}

fn dial_line(p: &mut FxoPort<LengthCollector>, t: Instant, digits: &str) -> Vec<Output> {
    let mut out = Vec::new();
    for (i, c) in digits.chars().enumerate() {
        let d = Digit::from_char(c).unwrap();
        out.extend(p.handle(t + ms(200 * i as u64), Input::InbandDigit(d)));
    }
    out
}

fn placed(out: &[Output]) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Sip(SipIntent::PlaceCall { .. })))
}

#[test]
fn two_stage_number_outside_the_allow_list_gets_reorder_and_no_call() {
    let (mut p, t) = two_stage(allow("{ [1-8]xx }"));
    let out = dial_line(&mut p, t, "900");
    assert_eq!(
        out,
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Tone(ProgressTone::Reorder)
        ]
    );
    assert_eq!(p.state(), &FxoState::Refused);
    assert_eq!(
        p.poll(t + ms(400) + REFUSED_REORDER),
        vec![Output::Line(Command::Release)]
    );
    assert_eq!(p.state(), &FxoState::Idle);
}

fn with_pin(pin: &str) -> FxoPolicy {
    FxoPolicy {
        pin: Some(pin.into()),
        ..FxoPolicy::default()
    }
}

#[test]
fn disa_pin_then_hash_gives_a_second_dial_tone_and_the_dial_plan() {
    let (mut p, t) = two_stage(with_pin("4829"));
    assert_eq!(p.state(), &FxoState::Pin { tries: 0 });
    // Digits before the PIN is accepted reach no dial plan.
    let out = dial_line(&mut p, t, "4829#");
    assert_eq!(
        out,
        vec![
            Output::Tone(ProgressTone::Silence),
            Output::Tone(ProgressTone::Dial)
        ]
    );
    assert_eq!(p.state(), &FxoState::Collecting);
    let out = dial_line(&mut p, t + ms(2000), "100");
    assert!(placed(&out), "{out:?}");
}

#[test]
fn wrong_disa_pins_get_reorder_and_after_the_last_try_the_line_is_released() {
    let (mut p, t) = two_stage(with_pin("4829"));
    let mut all = Vec::new();
    for (i, wrong) in ["1234#", "4828#", "48290#"].iter().enumerate() {
        let at = t + ms(2000 * i as u64);
        let out = dial_line(&mut p, at, wrong);
        assert!(
            out.contains(&Output::Tone(ProgressTone::Reorder)),
            "{out:?}"
        );
        all.extend(out);
    }
    assert_eq!(p.state(), &FxoState::Refused);
    // Digits now reach nothing, not even the PIN.
    all.extend(dial_line(&mut p, t + ms(7000), "4829#100"));
    assert!(!placed(&all));
    assert_eq!(p.state(), &FxoState::Refused);
    assert_eq!(
        p.poll(t + ms(5000) + REFUSED_REORDER),
        vec![Output::Line(Command::Release)]
    );
}

#[test]
fn no_disa_pin_in_time_releases_the_line() {
    let (mut p, t) = two_stage(with_pin("4829"));
    dial_line(&mut p, t, "48");
    assert_eq!(p.next_deadline(), Some(t + ms(200) + PIN_TIMEOUT));
    assert_eq!(
        p.poll(t + ms(200) + PIN_TIMEOUT),
        vec![Output::Line(Command::Release)]
    );
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn a_call_longer_than_the_limit_is_ended_with_bye() {
    let (mut p, t) = talking(FxoConfig {
        disconnect: Disconnect {
            silence: None,
            ..FxoConfig::default().disconnect
        },
        policy: FxoPolicy {
            max_call: Some(Duration::from_secs(60)),
            ..FxoPolicy::default()
        },
        ..FxoConfig::default()
    });
    assert_eq!(p.next_deadline(), Some(t + ms(60_000)));
    assert_eq!(p.poll(t + ms(59_999)), vec![]);
    assert_eq!(p.poll(t + ms(60_000)), hung_up());
    assert_eq!(p.state(), &FxoState::Idle);
}

#[test]
fn seizures_beyond_the_hourly_limit_are_refused_both_ways() {
    let (mut p, t) = port(FxoConfig {
        rings: 1,
        inbound: FxoInbound::Hotline("100".into()),
        policy: FxoPolicy {
            max_calls_per_hour: Some(2),
            ..FxoPolicy::default()
        },
        ..FxoConfig::default()
    });
    for i in 0..2 {
        let at = t + ms(10_000 * i);
        assert_eq!(
            p.handle(at, incoming("5556")),
            vec![Output::Line(Command::Seize)]
        );
        p.handle(at + ms(100), sip(SipEvent::Cancelled));
        assert_eq!(p.state(), &FxoState::Idle);
    }
    assert_eq!(
        p.handle(t + ms(30_000), incoming("5556")),
        vec![Output::Sip(SipIntent::Reject(503))]
    );
    // A ringing line is left ringing.
    assert_eq!(ring(&mut p, t + ms(40_000), 1), vec![]);
    assert_eq!(p.state(), &FxoState::Idle);
    // An hour after the first seizure there is room again.
    assert_eq!(
        p.handle(t + ms(3_600_000), incoming("5556")),
        vec![Output::Line(Command::Seize)]
    );
}

#[test]
fn far_flash_is_refused_by_default() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(p.handle(t, Input::FarEvent(EVENT_FLASH)), vec![]);
    assert_eq!(p.state(), &FxoState::Talking);
}

#[test]
fn far_digits_reach_the_line_only_after_the_answer_and_when_allowed() {
    let (mut p, t) = port(FxoConfig::default());
    p.handle(t, incoming("5556"));
    p.handle(
        t + ms(400),
        Input::Audio(LineAudio::Tone(ProgressTone::Dial)),
    );
    assert_eq!(p.state(), &FxoState::Dialled);
    // While the number is still being dialled, nothing is added to it.
    assert_eq!(p.handle(t + ms(500), Input::FarEvent(1)), vec![]);
    let (mut p, t) = talking(FxoConfig {
        policy: FxoPolicy {
            digits_after_answer: false,
            ..FxoPolicy::default()
        },
        ..FxoConfig::default()
    });
    assert_eq!(p.handle(t, Input::FarEvent(1)), vec![]);
    assert_eq!(p.handle(t, Input::FarEvent(11)), vec![]);
}

#[test]
fn seizing_the_line_by_its_number_dials_only_what_the_allow_list_can_match() {
    let (mut p, t) = port(FxoConfig::default());
    // Refused unless allowed: the caller would get the line's dial tone.
    assert_eq!(
        p.handle(t, incoming("")),
        vec![Output::Sip(SipIntent::Reject(403))]
    );
    let (mut p, t) = port(FxoConfig {
        policy: FxoPolicy {
            direct_seize: true,
            ..allow("{ [1-8]xx | 911 }")
        },
        ..FxoConfig::default()
    });
    assert_eq!(
        p.handle(t, incoming("")),
        vec![Output::Line(Command::Seize)]
    );
    p.handle(
        t + ms(400),
        Input::Audio(LineAudio::Tone(ProgressTone::Dial)),
    );
    let mut dialled = String::new();
    for (i, code) in [10u8, 0, 9, 1, 1, 1, 5].into_iter().enumerate() {
        for o in p.handle(t + ms(500 + 300 * i as u64), Input::FarEvent(code)) {
            if let Output::DialDtmf(d) = o {
                dialled += &d;
            }
        }
    }
    // `*` and `0` can start no allowed number; 911 completes one; nothing may follow.
    assert_eq!(dialled, "911");
}

#[test]
fn dial_tone_once_the_call_is_up_ends_it_unless_flashes_are_allowed() {
    let (mut p, t) = talking(FxoConfig::default());
    assert_eq!(
        p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial))),
        hung_up()
    );
    assert_eq!(p.state(), &FxoState::Idle);
    // With flashes allowed, a recall dial tone is part of the call (transfer).
    let (mut p, t) = talking(FxoConfig {
        policy: FxoPolicy {
            flash: true,
            ..FxoPolicy::default()
        },
        ..FxoConfig::default()
    });
    assert_eq!(
        p.handle(t, Input::Audio(LineAudio::Tone(ProgressTone::Dial))),
        vec![]
    );
    assert_eq!(p.state(), &FxoState::Talking);
}
