//! One port at run time, sans-IO: the port machine ([`FxsPort`] or [`FxoPort`]) between
//! the line card, the port's media bridge and the SIP side. Fed line-card events, bridge
//! reports, SIP call events and media parameters with their instants; returns [`Action`]s
//! for the runtime (commands to the card, intents to the SIP side, bridge start/stop and
//! control) and its next deadline.
//!
//! The bridge is the port's audio path, so it runs whenever the line is engaged (dial
//! tone, caller ID, listening for the exchange's dial tone or caller ID, dialling DTMF into
//! the line), without a far end until the machine connects media and the SIP side has
//! given the far address. Connecting, moving to another far end (re-INVITE) and
//! disconnecting (far BYE while the line still hears reorder) retarget the running bridge
//! (`Control::Remote`), so what the line side is doing carries on; the bridge stops when
//! the port is idle again, and the next call starts a fresh one.

use super::collect::PlanCollector;
use super::sip_side::MediaParams;
use crate::bridge::{Control, Report};
use crate::call::fxo::{
    AnswerSupervision as Supervision, DEFAULT_PIN_TRIES, DialAllow, DialMethod, DialWait,
    Disconnect, FxoConfig, FxoInbound, FxoPolicy, FxoPort, FxoState,
};
use crate::call::fxs::{FxsConfig, FxsPort, FxsState};
use crate::call::{Input, LineAudio, MediaCmd, Output, ProgressTone, SipEvent, SipIntent};
use crate::config::{self, FxoInboundRole, Loaded, PortRole};
use crate::dialplan::{DigitMap, LineMode};
use std::time::{Duration, Instant};
use tipring_hal::model::{Command, Digit, Event, RingCadence, RingStep};
use tipring_media::g711::Law;
use tipring_media::tone::CountryProfile;

/// Digit map of a port that has none (hotline): anything, sent after the short timer.
const ANY_NUMBER: &str = "x.T";
/// Length of an RFC 4733 event the port machine asks for (hook flash, RFC 4733 §3.2).
const EVENT_MS: u16 = 200;
/// FXO: longest wait for the exchange's dial tone before dialling anyway.
const DIAL_TONE_TIMEOUT: Duration = Duration::from_secs(4);
/// FXO with immediate answer supervision: 200 OK this long after the last digit.
const ANSWER_AFTER_DIALLING: Duration = Duration::from_millis(500);

/// What the runtime must do for a port.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A command for the line card.
    Line(Command),
    /// An intent for the SIP side.
    Sip(SipIntent),
    /// (Re)start the port's bridge: towards this far end, or playing and listening on the
    /// line only. A running bridge is stopped first.
    StartBridge(Option<MediaParams>),
    /// Stop the port's bridge.
    StopBridge,
    /// A command for the running bridge.
    Bridge(Control),
}

/// The port machine of either kind.
enum Machine {
    Fxs(FxsPort<PlanCollector>),
    Fxo(FxoPort<PlanCollector>),
}

impl Machine {
    fn handle(&mut self, now: Instant, input: Input) -> Vec<Output> {
        match self {
            Machine::Fxs(m) => m.handle(now, input),
            Machine::Fxo(m) => m.handle(now, input),
        }
    }
    fn poll(&mut self, now: Instant) -> Vec<Output> {
        match self {
            Machine::Fxs(m) => m.poll(now),
            Machine::Fxo(m) => m.poll(now),
        }
    }
    fn next_deadline(&self) -> Option<Instant> {
        match self {
            Machine::Fxs(m) => m.next_deadline(),
            Machine::Fxo(m) => m.next_deadline(),
        }
    }
    fn is_idle(&self) -> bool {
        match self {
            Machine::Fxs(m) => *m.state() == FxsState::Idle,
            Machine::Fxo(m) => *m.state() == FxoState::Idle,
        }
    }
    fn state(&self) -> String {
        match self {
            Machine::Fxs(m) => format!("{:?}", m.state()),
            Machine::Fxo(m) => format!("{:?}", m.state()),
        }
    }
}

/// Where the port's bridge is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BridgeState {
    Off,
    /// Running on the line only.
    Local,
    /// Running towards this far end.
    Remote(MediaParams),
}

/// One port's runner.
pub struct PortRunner {
    index: u8,
    machine: Machine,
    bridge: BridgeState,
    /// The machine wants media connected (between `MediaCmd::Start` and `Stop`).
    connected: bool,
    /// The current call's far media, from the SIP side.
    media: Option<MediaParams>,
    /// The tone playing, replayed after a bridge restart.
    tone: ProgressTone,
    /// Media was disconnected: the bridge towards the far end is to become a local one
    /// (done once the batch of outputs shows the line is still engaged).
    detach: bool,
}

/// The country's ring cadence as a line-card command (pairs of on/off milliseconds).
pub fn ring_cadence(p: &CountryProfile) -> RingCadence {
    let mut steps = heapless::Vec::new();
    for pair in p.ring.segments().chunks(2) {
        let clamp = |v: u32| v.min(u32::from(u16::MAX)) as u16;
        let _ = steps.push(RingStep {
            on_ms: clamp(pair[0]),
            off_ms: clamp(pair.get(1).copied().unwrap_or(0)),
        });
    }
    RingCadence {
        frequency_hz: 20,
        steps,
    }
}

impl PortRunner {
    /// The runner of the configured port `port` (a validated configuration).
    pub fn from_config(loaded: &Loaded, port: &config::Port) -> PortRunner {
        let map = |name: Option<&str>| {
            name.and_then(|n| loaded.digit_map(n).cloned())
                .unwrap_or_else(any_number)
        };
        let timers = loaded.dial_timers();
        let machine = match port.role() {
            PortRole::Fxo(role) => {
                let (inbound, plan) = match role.inbound {
                    FxoInboundRole::Hotline { uri } => (FxoInbound::Hotline(uri.into()), None),
                    FxoInboundRole::TwoStage { dial_plan } => {
                        (FxoInbound::TwoStage, Some(dial_plan))
                    }
                };
                let f = role.far_hangup;
                let cfg = FxoConfig {
                    rings: u32::from(role.rings_before_seize),
                    inbound,
                    dial_wait: DialWait::DialTone {
                        timeout: DIAL_TONE_TIMEOUT,
                    },
                    dial_method: match role.dialing {
                        config::DialMode::Dtmf => DialMethod::Dtmf {
                            per_digit: Duration::from_millis(200),
                        },
                        config::DialMode::Pulse => DialMethod::Pulse,
                    },
                    answer: match role.answer_supervision {
                        config::AnswerSupervision::Immediate => {
                            Supervision::AfterDialling(ANSWER_AFTER_DIALLING)
                        }
                        config::AnswerSupervision::PolarityReversal => {
                            Supervision::PolarityReversal
                        }
                    },
                    disconnect: Disconnect {
                        loop_current_drop: f.loop_current_drop,
                        polarity_reversal: f.polarity_reversal,
                        tone: f.busy_tone,
                        silence: (f.silence_ms > 0)
                            .then(|| Duration::from_millis(f.silence_ms.into())),
                    },
                    flash: Duration::from_millis(role.flash_ms.into()),
                    policy: FxoPolicy {
                        // Validated; a map that did not parse would allow nothing.
                        allow: DigitMap::parse(role.dial_allow)
                            .map_or(DialAllow::Nothing, DialAllow::Only),
                        pin: role.disa_pin.map(str::to_owned),
                        pin_tries: DEFAULT_PIN_TRIES,
                        max_call: Some(Duration::from_secs(role.max_call_s.into())),
                        max_calls_per_hour: Some(role.max_calls_per_hour),
                        digits_after_answer: role.allow_digits_after_answer,
                        flash: role.allow_flash,
                        direct_seize: role.allow_direct_seize,
                    },
                    ..FxoConfig::default()
                };
                let collector = PlanCollector::new(map(plan), timers, LineMode::Normal);
                Machine::Fxo(FxoPort::new(cfg, collector))
            }
            role => {
                let plan = match role {
                    PortRole::FxsDialPlan { dial_plan } => Some(dial_plan),
                    PortRole::FxsWarmLine { dial_plan, .. } => dial_plan,
                    _ => None,
                };
                let collector = PlanCollector::new(map(plan), timers, port.line_mode());
                let cfg = FxsConfig::with_cadence(ring_cadence(&loaded.tone_profile()));
                Machine::Fxs(FxsPort::new(cfg, collector))
            }
        };
        PortRunner::new(port.index, machine)
    }

    fn new(index: u8, machine: Machine) -> PortRunner {
        PortRunner {
            index,
            machine,
            bridge: BridgeState::Off,
            connected: false,
            media: None,
            tone: ProgressTone::Silence,
            detach: false,
        }
    }

    /// The port's index on the card.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The machine's state, for the log.
    pub fn state(&self) -> String {
        self.machine.state()
    }

    /// Whether the port's bridge plays the far end's RFC 4733 digits to the line itself:
    /// an FXS port's phone hears them; an FXO port's machine dials the ones its policy
    /// lets through.
    pub fn far_digits(&self) -> bool {
        matches!(self.machine, Machine::Fxs(_))
    }

    /// Whether the port has no call.
    pub fn is_idle(&self) -> bool {
        self.machine.is_idle()
    }

    /// When [`PortRunner::poll`] next has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.machine.next_deadline()
    }

    /// A line-card event for this port.
    pub fn line_event(&mut self, now: Instant, event: Event) -> Vec<Action> {
        self.input(now, Input::Line(event))
    }

    /// A report of the port's bridge.
    pub fn bridge_report(&mut self, now: Instant, report: Report) -> Vec<Action> {
        let input = match report {
            Report::InbandDigit(c) => match Digit::from_char(c) {
                Some(d) => Input::InbandDigit(d),
                None => return Vec::new(),
            },
            Report::LineTone(t) => Input::Audio(LineAudio::Tone(t)),
            Report::LineActivity => Input::Audio(LineAudio::Activity),
            Report::CallerId(c) => Input::CallerId(c),
            Report::EventReceived(code) => Input::FarEvent(code),
            Report::AudioFailed => {
                // The thread has ended; the next need for audio starts a new one.
                self.bridge = BridgeState::Off;
                return Vec::new();
            }
        };
        self.input(now, input)
    }

    /// A call event from the SIP side.
    pub fn sip_event(&mut self, now: Instant, event: SipEvent) -> Vec<Action> {
        if matches!(event, SipEvent::IncomingCall { .. }) && self.machine.is_idle() {
            // A new call: forget the last one's far end unless the offer came first.
            self.connected = false;
        }
        self.input(now, Input::Sip(event))
    }

    /// The far end's media for this port's call (from an SDP offer or answer).
    pub fn media(&mut self, _now: Instant, media: MediaParams) -> Vec<Action> {
        self.media = Some(media);
        let mut out = Vec::new();
        if self.connected {
            self.connect(media, &mut out);
        }
        out
    }

    /// Timers due by `now`.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let outputs = self.machine.poll(now);
        self.carry_out(outputs)
    }

    /// Clean shutdown: end the call (BYE/CANCEL, or refuse an offered call), put the line
    /// down and stop the bridge.
    pub fn shutdown(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        // The SIP call, if any: one offered to us and not answered is refused, one we
        // placed or answered is ended (CANCEL or BYE).
        let (offered, ours, line) = match &self.machine {
            Machine::Fxs(m) => match m.state() {
                FxsState::Ringing => (true, false, Some(Command::StopRing)),
                FxsState::Calling { .. } | FxsState::Talking => (false, true, None),
                FxsState::Idle | FxsState::Collecting | FxsState::Disconnected => {
                    (false, false, None)
                }
            },
            Machine::Fxo(m) => match m.state() {
                FxoState::Idle | FxoState::Ringing { .. } => (false, false, None),
                FxoState::Pin { .. } | FxoState::Collecting | FxoState::Refused => {
                    (false, false, Some(Command::Release))
                }
                FxoState::Seized | FxoState::Dialled => (true, false, Some(Command::Release)),
                FxoState::Calling | FxoState::Talking => (false, true, Some(Command::Release)),
            },
        };
        if offered {
            out.push(Action::Sip(SipIntent::Reject(503)));
        } else if ours {
            out.push(Action::Sip(SipIntent::Hangup));
        }
        out.extend(line.map(Action::Line));
        if self.bridge != BridgeState::Off {
            out.push(Action::StopBridge);
            self.bridge = BridgeState::Off;
        }
        out
    }

    fn input(&mut self, now: Instant, input: Input) -> Vec<Action> {
        let outputs = self.machine.handle(now, input);
        self.carry_out(outputs)
    }

    /// Turns the machine's outputs into actions and keeps the bridge where the line is.
    fn carry_out(&mut self, outputs: Vec<Output>) -> Vec<Action> {
        let mut out = Vec::new();
        for o in outputs {
            match o {
                Output::Line(c) => out.push(Action::Line(c)),
                Output::Sip(SipIntent::SendDtmfEvent(code)) => {
                    // RFC 4733 events travel in the call's RTP.
                    out.push(Action::Bridge(Control::SendEvent {
                        code,
                        duration_ms: EVENT_MS,
                    }));
                }
                Output::Sip(i) => out.push(Action::Sip(i)),
                Output::Tone(t) => {
                    self.ensure_bridge(&mut out);
                    self.tone = t;
                    out.push(Action::Bridge(Control::Tone(t)));
                }
                Output::SendCallerId(info) => {
                    self.ensure_bridge(&mut out);
                    out.push(Action::Bridge(Control::CallerId(info)));
                }
                Output::DialDtmf(d) => {
                    self.ensure_bridge(&mut out);
                    out.push(Action::Bridge(Control::DialDtmf(d)));
                }
                Output::Media(MediaCmd::Start) => {
                    self.connected = true;
                    self.detach = false;
                    match self.media {
                        Some(m) => self.connect(m, &mut out),
                        None => self.ensure_bridge(&mut out),
                    }
                }
                Output::Media(MediaCmd::Stop) => {
                    self.connected = false;
                    self.detach = matches!(self.bridge, BridgeState::Remote(_));
                }
            }
        }
        if self.machine.is_idle() {
            if self.bridge != BridgeState::Off {
                out.push(Action::StopBridge);
                self.bridge = BridgeState::Off;
            }
            self.detach = false;
            self.connected = false;
            self.media = None;
            self.tone = ProgressTone::Silence;
        } else {
            self.ensure_bridge(&mut out);
            if std::mem::take(&mut self.detach) {
                out.push(Action::Bridge(self.remote_control(None)));
                self.bridge = BridgeState::Local;
            }
        }
        out
    }

    /// Sends media to `m`: retargets the running bridge (the line side, e.g. DTMF being
    /// dialled into an FXO line, carries on), or starts one towards it.
    fn connect(&mut self, m: MediaParams, out: &mut Vec<Action>) {
        match self.bridge {
            BridgeState::Remote(now) if now == m => {}
            BridgeState::Off => self.start_bridge(Some(m), out),
            BridgeState::Local | BridgeState::Remote(_) => {
                out.push(Action::Bridge(self.remote_control(Some(m))));
                self.bridge = BridgeState::Remote(m);
            }
        }
    }

    /// The bridge command sending to `m`, or stopping to send.
    fn remote_control(&self, m: Option<MediaParams>) -> Control {
        // Stopping keeps the call's codec (only the line side runs on).
        let codec = m.or(self.media);
        Control::Remote {
            remote: m.map(|m| m.remote),
            law: codec.map_or(Law::Ulaw, |c| c.law),
            payload_type: codec.map_or(0, |c| c.payload_type),
            event_payload_type: codec.and_then(|c| c.event_payload_type),
            send: m.is_some_and(|m| m.send),
            receive: m.is_some_and(|m| m.receive),
        }
    }

    fn ensure_bridge(&mut self, out: &mut Vec<Action>) {
        if self.bridge == BridgeState::Off {
            self.start_bridge(None, out);
        }
    }

    fn start_bridge(&mut self, media: Option<MediaParams>, out: &mut Vec<Action>) {
        out.push(Action::StartBridge(media));
        self.bridge = match media {
            Some(m) => BridgeState::Remote(m),
            None => BridgeState::Local,
        };
        if self.tone != ProgressTone::Silence {
            out.push(Action::Bridge(Control::Tone(self.tone)));
        }
    }
}

fn any_number() -> DigitMap {
    // A constant, not input: `x.T` parses (checked by the tests).
    DigitMap::parse(ANY_NUMBER).expect("x.T is a valid digit map")
}

#[cfg(test)]
mod tests;
