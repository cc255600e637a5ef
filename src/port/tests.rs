//! The per-port glue on virtual time: what reaches the card, the SIP side and the bridge
//! for each step of the seed's call flows.

use super::*;
use crate::bridge::FaxParams;
use crate::call::CallerInfo;
use crate::dialplan::DigitMap;
use std::path::Path;
use std::time::Duration;
use tipring_media::g711::Law;

/// The port fed one input at a time, its outputs drained after each (line idleness left
/// out: [`idleness_is_given_once_per_change`] checks it).
trait Drive {
    fn feed(&mut self, now: Instant, input: Input) -> Vec<Output>;
    fn line_event(&mut self, now: Instant, e: Event) -> Vec<Output> {
        self.feed(now, Input::Line(e))
    }
    fn sip_event(&mut self, now: Instant, e: SipEvent) -> Vec<Output> {
        self.feed(now, Input::Sip(e))
    }
    fn media(&mut self, now: Instant, m: MediaParams) -> Vec<Output> {
        self.feed(now, Input::FarMedia(m))
    }
    fn bridge_report(&mut self, now: Instant, r: Report) -> Vec<Output> {
        self.feed(now, Input::Media(r))
    }
    fn poll(&mut self, now: Instant) -> Vec<Output> {
        self.feed(now, Input::Timeout)
    }
    fn shutdown(&mut self) -> Vec<Output> {
        self.feed(Instant::now(), Input::Shutdown)
    }
}

impl Drive for Port {
    fn feed(&mut self, now: Instant, input: Input) -> Vec<Output> {
        self.handle(now, input);
        std::iter::from_fn(|| self.poll_output())
            .filter(|o| !matches!(o, Output::Idle(_)))
            .collect()
    }
}

fn ctl(c: Control) -> Output {
    Output::Media(MediaCommand::Control(c))
}

fn start(m: Option<MediaParams>) -> Output {
    Output::Media(MediaCommand::Start(m))
}

fn stop() -> Output {
    Output::Media(MediaCommand::Stop)
}

const CONFIG: &str = r#"
board = "sim"
[[identity.listen]]
transport = "udp"
address = "127.0.0.1:5060"
[[accounts]]
name = "peer"
proxy = "sip:127.0.0.2:5060"
[[ports]]
index = 0
kind = "fxs"
number = "100"
dial_plan = "ext"
[[ports]]
index = 2
kind = "fxo"
number = "200"
inbound = "hotline"
hotline = "sip:desk@127.0.0.2"
rings_before_seize = 1
dialing = "pulse"
answer_supervision = "polarity-reversal"
dial_allow = "{ 2x | [1-8]xx }"
[dial_plans]
ext = "[1-8]xx"
[security]
trusted_peers = ["127.0.0.0/8"]
"#;

fn runners() -> (Port, Port) {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("board");
    let l = crate::config::load_str("t.toml", CONFIG, &board).unwrap();
    (
        Port::from_config(&l, &l.config.ports[0]),
        Port::from_config(&l, &l.config.ports[1]),
    )
}

fn far() -> MediaParams {
    MediaParams {
        law: Law::Ulaw,
        payload_type: 0,
        event_payload_type: Some(101),
        remote: "127.0.0.2:10000".parse().unwrap(),
        send: true,
        receive: true,
        srtp: None,
    }
}

/// The bridge command that sends to `m`.
fn to(m: MediaParams) -> Output {
    ctl(Control::Remote {
        remote: Some(m.remote),
        law: m.law,
        payload_type: m.payload_type,
        event_payload_type: m.event_payload_type,
        send: m.send,
        receive: m.receive,
        srtp: m.srtp,
    })
}

/// The bridge command that stops sending (the line side runs on).
fn detached() -> Output {
    ctl(Control::Remote {
        remote: None,
        law: Law::Ulaw,
        payload_type: 0,
        event_payload_type: Some(101),
        send: false,
        receive: false,
        srtp: None,
    })
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

#[test]
fn fxs_dials_out_hears_ringback_talks_and_hangs_up() {
    let (mut fxs, _) = runners();
    let t0 = Instant::now();
    assert!(fxs.is_idle());
    assert_eq!(
        fxs.line_event(t0, Event::OffHook),
        vec![start(None), ctl(Control::Tone(ProgressTone::Dial))]
    );
    assert_eq!(
        fxs.poll_timeout(),
        Some(ms(t0, 10_000)),
        "first-digit timer"
    );
    let digit = |d| Event::Digit {
        digit: d,
        duration_ms: 80,
    };
    assert_eq!(
        fxs.line_event(ms(t0, 500), digit(Digit::D2)),
        vec![ctl(Control::Tone(ProgressTone::Silence))]
    );
    assert!(fxs.line_event(ms(t0, 700), digit(Digit::D0)).is_empty());
    assert_eq!(
        fxs.line_event(ms(t0, 900), digit(Digit::D1)),
        vec![Output::Sip(SipIntent::PlaceCall {
            target: "201".into(),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        })]
    );
    assert_eq!(
        fxs.sip_event(ms(t0, 950), SipEvent::Ringing),
        vec![ctl(Control::Tone(ProgressTone::Ringback))]
    );
    // The far SDP may come before the 200's call event: nothing connects yet.
    assert!(fxs.media(ms(t0, 2000), far()).is_empty());
    assert_eq!(
        fxs.sip_event(ms(t0, 2000), SipEvent::Answered),
        vec![ctl(Control::Tone(ProgressTone::Silence)), to(far())]
    );
    // The same far end again (a re-INVITE without change) restarts nothing.
    assert!(fxs.media(ms(t0, 2500), far()).is_empty());
    // A flash holds the call: the line alone hears dial tone (a consultation); a flash
    // again takes the call back, the bridge waiting for its media from the SIP side.
    let line_only = ctl(Control::Remote {
        remote: None,
        law: far().law,
        payload_type: far().payload_type,
        event_payload_type: far().event_payload_type,
        send: false,
        receive: false,
        srtp: None,
    });
    assert_eq!(
        fxs.line_event(ms(t0, 3000), Event::HookFlash { duration_ms: 300 }),
        vec![
            Output::Sip(SipIntent::Hold),
            ctl(Control::Tone(ProgressTone::Dial)),
            line_only
        ]
    );
    assert_eq!(
        fxs.line_event(ms(t0, 4000), Event::HookFlash { duration_ms: 300 }),
        vec![
            ctl(Control::Tone(ProgressTone::Silence)),
            Output::Sip(SipIntent::Swap)
        ]
    );
    assert_eq!(fxs.media(ms(t0, 4100), far()), vec![to(far())]);
    assert_eq!(
        fxs.line_event(ms(t0, 9000), Event::OnHook),
        vec![Output::Sip(SipIntent::Hangup), stop()]
    );
    assert!(fxs.is_idle());
    assert_eq!(fxs.poll_timeout(), None);
}

#[test]
fn fxs_rings_with_caller_id_and_answers_into_the_offer() {
    let (mut fxs, _) = runners();
    let t0 = Instant::now();
    let caller = CallerInfo {
        name: Some("ALICE".into()),
        number: Some("100".into()),
    };
    // An INVITE's offer arrives with the call.
    assert!(fxs.media(t0, far()).is_empty());
    let a = fxs.sip_event(
        t0,
        SipEvent::IncomingCall {
            caller: caller.clone(),
            number: "100".into(),
            ring: None,
        },
    );
    assert!(matches!(a[0], Output::Card(Command::Ring(_))));
    assert_eq!(a[1], Output::Sip(SipIntent::Alerting));
    assert_eq!(a[2], start(None));
    // US cadence: 2 s on, then the caller-ID gap.
    let at = fxs.poll_timeout().unwrap();
    assert_eq!(at, ms(t0, 2500));
    assert_eq!(
        fxs.poll(at),
        vec![
            Output::Card(Command::OnHookTransmission { enable: true }),
            ctl(Control::CallerId(caller))
        ]
    );
    assert_eq!(
        fxs.line_event(ms(t0, 7000), Event::OffHook),
        vec![
            Output::Card(Command::StopRing),
            Output::Card(Command::OnHookTransmission { enable: false }),
            Output::Sip(SipIntent::Answer),
            to(far())
        ]
    );
    // The far end hangs up: reorder on the line, no RTP, until on-hook.
    assert_eq!(
        fxs.sip_event(ms(t0, 9000), SipEvent::RemoteHangup),
        vec![ctl(Control::Tone(ProgressTone::Reorder)), detached()]
    );
    assert_eq!(
        fxs.line_event(ms(t0, 9500), Event::OnHook),
        vec![ctl(Control::Tone(ProgressTone::Silence)), stop()]
    );
}

#[test]
fn fxo_seizes_for_a_sip_call_dials_and_answers_on_polarity_reversal() {
    let (_, mut fxo) = runners();
    let t0 = Instant::now();
    assert!(fxo.media(t0, far()).is_empty());
    assert_eq!(
        fxo.sip_event(
            t0,
            SipEvent::IncomingCall {
                caller: CallerInfo::default(),
                number: "21".into(),
                ring: None,
            }
        ),
        vec![Output::Card(Command::Seize), start(None)]
    );
    // The exchange's dial tone, heard by the bridge, starts the dialling; the caller
    let a = fxo.bridge_report(ms(t0, 800), Report::LineTone(ProgressTone::Dial));
    assert_eq!(a[0], to(far()), "the running bridge now also sends");
    assert_eq!(a[1], Output::Sip(SipIntent::EarlyMedia));
    let Output::Card(Command::PulseDial { digits }) = &a[2] else {
        panic!("{a:?}")
    };
    assert_eq!(digits.as_slice(), &[2, 1]);
    assert!(fxo.poll(ms(t0, 5000)).is_empty(), "no answer by timer");
    assert_eq!(
        fxo.line_event(ms(t0, 6000), Event::PolarityReversal),
        vec![Output::Sip(SipIntent::Answer)]
    );
    assert_eq!(
        fxo.line_event(ms(t0, 9000), Event::LoopCurrentOff),
        vec![
            Output::Sip(SipIntent::Hangup),
            Output::Card(Command::Release),
            stop()
        ]
    );
    assert!(fxo.is_idle());
}

#[test]
fn fxo_ringing_line_listens_for_caller_id_then_calls_the_hotline() {
    let (_, mut fxo) = runners();
    let t0 = Instant::now();
    assert_eq!(
        fxo.line_event(t0, Event::RingStart),
        vec![start(None)],
        "the bridge listens for caller ID between rings"
    );
    let caller = CallerInfo {
        name: None,
        number: Some("5551234".into()),
    };
    assert!(
        fxo.bridge_report(ms(t0, 1500), Report::CallerId(caller.clone()))
            .is_empty()
    );
    assert_eq!(
        fxo.line_event(
            ms(t0, 2000),
            Event::RingStop {
                on_ms: 2000,
                off_ms: 0
            }
        ),
        vec![
            Output::Card(Command::Seize),
            Output::Sip(SipIntent::PlaceCall {
                target: "sip:desk@127.0.0.2".into(),
                caller,
                hide_caller_id: None,
            })
        ]
    );
    // The far end answers while the media's address is not known yet, then it comes.
    assert!(fxo.sip_event(ms(t0, 3000), SipEvent::Answered).len() == 1);
    assert_eq!(fxo.media(ms(t0, 3001), far()), vec![to(far())]);
    let moved = MediaParams {
        remote: "127.0.0.3:10002".parse().unwrap(),
        ..far()
    };
    assert_eq!(
        fxo.media(ms(t0, 4000), moved),
        vec![to(moved)],
        "a re-INVITE moving the far end retargets the bridge"
    );
}

#[test]
fn shutdown_hangs_up_calls_and_refuses_offered_ones() {
    let (mut fxs, _) = runners();
    let t0 = Instant::now();
    assert!(fxs.shutdown().is_empty(), "an idle port has nothing to do");
    fxs.sip_event(
        t0,
        SipEvent::IncomingCall {
            caller: CallerInfo::default(),
            number: "100".into(),
            ring: None,
        },
    );
    assert_eq!(
        fxs.shutdown(),
        vec![
            Output::Sip(SipIntent::Reject(503)),
            Output::Card(Command::StopRing),
            stop()
        ]
    );
    let (mut fxs, _) = runners();
    fxs.line_event(t0, Event::OffHook);
    for d in [Digit::D2, Digit::D0, Digit::D1] {
        fxs.line_event(
            t0,
            Event::Digit {
                digit: d,
                duration_ms: 80,
            },
        );
    }
    assert_eq!(fxs.shutdown(), vec![Output::Sip(SipIntent::Hangup), stop()]);
}

#[test]
fn shutdown_of_fxo_lines_refuses_unanswered_calls_and_releases_seized_lines() {
    let t0 = Instant::now();
    let (mut off, mut fxo) = runners();
    // Off-hook, still dialling: no SIP call to end, only the bridge.
    off.line_event(t0, Event::OffHook);
    assert_eq!(off.shutdown(), vec![stop()]);
    // A SIP call seized the line and is not answered yet: refused, line released.
    fxo.sip_event(
        t0,
        SipEvent::IncomingCall {
            caller: CallerInfo::default(),
            number: "21".into(),
            ring: None,
        },
    );
    assert_eq!(
        fxo.shutdown(),
        vec![
            Output::Sip(SipIntent::Reject(503)),
            Output::Card(Command::Release),
            stop()
        ]
    );
    // The line only rings (not seized, no SIP call): nothing but the listening bridge.
    let (_, mut ringing) = runners();
    ringing.line_event(t0, Event::RingStart);
    assert_eq!(ringing.shutdown(), vec![stop()]);
}

#[test]
fn the_fallback_digit_map_parses() {
    assert!(DigitMap::parse(ANY_NUMBER).is_ok());
}

/// The shipped policy of an FXO port with no policy fields: outside the default allow-list
/// (`{ [1-8]xx | 911 }`) a SIP caller gets 403 and the line is not seized; the bridge
/// leaves far digits to the machine on FXO and plays them itself on FXS.
#[test]
fn fxo_default_allow_list_refuses_star_codes_premium_and_plus() {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("board");
    let text = CONFIG.replace("dial_allow = \"{ 2x | [1-8]xx }\"\n", "");
    let l = crate::config::load_str("t.toml", &text, &board).unwrap();
    let mut fxo = Port::from_config(&l, &l.config.ports[1]);
    let fxs = Port::from_config(&l, &l.config.ports[0]);
    assert!(fxs.far_digits() && !fxo.far_digits());
    let t0 = Instant::now();
    for number in ["*7215550100", "19005550199", "+15550100", "011441234567"] {
        let call = SipEvent::IncomingCall {
            caller: CallerInfo::default(),
            number: number.into(),
            ring: None,
        };
        assert_eq!(
            fxo.sip_event(t0, call),
            vec![Output::Sip(SipIntent::Reject(403))],
            "{number}"
        );
        assert!(fxo.is_idle());
    }
    let call = SipEvent::IncomingCall {
        caller: CallerInfo::default(),
        number: "911".into(),
        ring: None,
    };
    assert_eq!(
        fxo.sip_event(t0, call),
        vec![Output::Card(Command::Seize), start(None)]
    );
}

#[test]
fn idleness_is_given_once_per_change() {
    let (mut fxs, _) = runners();
    let t0 = Instant::now();
    let idle = |p: &mut Port, now, input| {
        p.handle(now, input);
        std::iter::from_fn(|| p.poll_output())
            .filter_map(|o| match o {
                Output::Idle(i) => Some(i),
                _ => None,
            })
            .collect::<Vec<bool>>()
    };
    assert_eq!(idle(&mut fxs, t0, Input::Line(Event::OffHook)), [false]);
    assert_eq!(
        idle(
            &mut fxs,
            ms(t0, 500),
            Input::Line(Event::Digit {
                digit: Digit::D2,
                duration_ms: 80
            })
        ),
        Vec::<bool>::new()
    );
    assert_eq!(
        idle(&mut fxs, ms(t0, 600), Input::Timeout),
        Vec::<bool>::new()
    );
    assert_eq!(
        idle(&mut fxs, ms(t0, 700), Input::Line(Event::OnHook)),
        [true]
    );
    assert_eq!(
        idle(&mut fxs, ms(t0, 800), Input::Timeout),
        Vec::<bool>::new()
    );
}

fn fax_far() -> FaxParams {
    FaxParams {
        remote: "127.0.0.2:10000".parse().unwrap(),
        version: 0,
        max_bit_rate: 14_400,
        transferred_tcf: true,
        max_datagram: 400,
        redundancy: 3,
    }
}

/// An FXS call up with the far end at [`far`], at `t0 + 2 s`.
fn fxs_talking(mut fxs: Port, t0: Instant) -> Port {
    fxs.line_event(t0, Event::OffHook);
    for (k, d) in [Digit::D2, Digit::D0, Digit::D1].into_iter().enumerate() {
        let digit = Event::Digit {
            digit: d,
            duration_ms: 80,
        };
        fxs.line_event(ms(t0, 500 + 200 * k as u64), digit);
    }
    fxs.media(ms(t0, 2000), far());
    fxs.sip_event(ms(t0, 2000), SipEvent::Answered);
    assert!(fxs.is_talking());
    fxs
}

/// The line's answering fax (its V.21 flags) asks the SIP side for T.38, once per call;
/// CNG or an answer tone do not (they may be a data modem's).
#[test]
fn the_line_fax_v21_flags_ask_for_t38_once() {
    let (fxs, _) = runners();
    let t0 = Instant::now();
    let mut fxs = fxs_talking(fxs.with_fax(FaxMode::T38), t0);
    for tone in [ModemTone::Cng, ModemTone::Ans, ModemTone::AnsAm] {
        let r = fxs.bridge_report(ms(t0, 3000), Report::LineModemTone(tone));
        assert!(r.is_empty(), "{tone:?}: {r:?}");
    }
    assert_eq!(
        fxs.bridge_report(ms(t0, 4000), Report::LineModemTone(ModemTone::V21Preamble)),
        vec![Output::Sip(SipIntent::OfferFax)]
    );
    let again = fxs.bridge_report(ms(t0, 5000), Report::LineModemTone(ModemTone::V21Preamble));
    assert!(again.is_empty());
}

#[test]
fn a_passthrough_port_never_asks_for_t38() {
    let (fxs, _) = runners();
    let t0 = Instant::now();
    let mut fxs = fxs_talking(fxs.with_fax(FaxMode::Passthrough), t0);
    let r = fxs.bridge_report(ms(t0, 4000), Report::LineModemTone(ModemTone::V21Preamble));
    assert!(r.is_empty());
}

/// T.38 negotiated: the bridge relays the fax; the far end going back to audio (the same
/// address and codec as before) brings the bridge back to audio; hanging up stops it.
#[test]
fn t38_media_moves_the_bridge_to_the_relay_and_back() {
    let (fxs, _) = runners();
    let t0 = Instant::now();
    let mut fxs = fxs_talking(fxs.with_fax(FaxMode::T38), t0);
    assert_eq!(
        fxs.feed(ms(t0, 4000), Input::FarFax(fax_far())),
        vec![ctl(Control::Fax(fax_far()))]
    );
    assert_eq!(fxs.media(ms(t0, 60_000), far()), vec![to(far())]);
    assert_eq!(
        fxs.feed(ms(t0, 61_000), Input::FarFax(fax_far())),
        vec![ctl(Control::Fax(fax_far()))]
    );
    assert_eq!(
        fxs.line_event(ms(t0, 90_000), Event::OnHook),
        vec![Output::Sip(SipIntent::Hangup), stop()]
    );
    // A new call may ask for T.38 again.
    let mut fxs = fxs_talking(fxs, ms(t0, 100_000));
    assert_eq!(
        fxs.bridge_report(
            ms(t0, 105_000),
            Report::LineModemTone(ModemTone::V21Preamble)
        ),
        vec![Output::Sip(SipIntent::OfferFax)]
    );
}

/// T.38 for a port whose line is not in a call (a stray re-INVITE after the hangup)
/// starts nothing.
#[test]
fn t38_media_without_a_call_starts_nothing() {
    let (mut fxs, _) = runners();
    assert!(
        fxs.feed(Instant::now(), Input::FarFax(fax_far()))
            .is_empty()
    );
}

/// Everything a port emitted for `digits` dialled by card events at `t`.
fn dial_digits(p: &mut Port, t: Instant, digits: &str) -> Vec<Output> {
    digits
        .chars()
        .flat_map(|c| {
            p.line_event(
                t,
                Event::Digit {
                    digit: tipring_hal::model::Digit::from_char(c).unwrap(),
                    duration_ms: 80,
                },
            )
        })
        .collect()
}

fn set_service(out: &[Output]) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Sip(SipIntent::SetService(_))))
}

/// Feature codes are a phone's: an FXS port recognises them unless switched off; an FXO
/// line's caller dialling one two-stage (with an allow-list that lets it through) places
/// a call to those digits and changes nothing.
#[test]
fn only_an_fxs_phone_dials_feature_codes() {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("board");
    let text = CONFIG
        .replace(
            "inbound = \"hotline\"\nhotline = \"sip:desk@127.0.0.2\"\n",
            "inbound = \"two-stage\"\ndial_plan = \"ext\"\ndisa_pin_required = false\n",
        )
        .replace("dial_allow = \"{ 2x | [1-8]xx }\"", "dial_allow = \"*xx\"")
        .replace("ext = \"[1-8]xx\"", "ext = \"{ [1-8]xx | *xx }\"");
    let l = crate::config::load_str("t.toml", &text, &board).unwrap();
    let t0 = Instant::now();
    let mut fxs = Port::from_config(&l, &l.config.ports[0]);
    fxs.line_event(t0, Event::OffHook);
    assert!(set_service(&dial_digits(&mut fxs, t0, "*78")));

    let off = text.replace(
        "dial_plan = \"ext\"\n[[ports]]",
        "dial_plan = \"ext\"\nfeature_codes = false\n[[ports]]",
    );
    let l_off = crate::config::load_str("t.toml", &off, &board).unwrap();
    assert_eq!(l_off.config.ports[0].feature_codes, Some(false));
    let mut plain = Port::from_config(&l_off, &l_off.config.ports[0]);
    plain.line_event(t0, Event::OffHook);
    let out = dial_digits(&mut plain, t0, "*78");
    assert!(!set_service(&out), "{out:?}");

    let mut fxo = Port::from_config(&l, &l.config.ports[1]);
    fxo.line_event(t0, Event::RingStart);
    fxo.line_event(
        ms(t0, 2000),
        Event::RingStop {
            on_ms: 2000,
            off_ms: 0,
        },
    );
    let out = dial_digits(&mut fxo, ms(t0, 3000), "*78");
    assert!(!set_service(&out), "{out:?}");
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Sip(SipIntent::PlaceCall { target, .. }) if target == "*78")
        ),
        "{out:?}"
    );
}
