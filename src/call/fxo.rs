//! The FXO port machine: the port hangs on a PBX extension or a PSTN line.
//!
//! From the line: ringing is counted (caller ID, decoded between rings, is kept) → after
//! the configured number of rings the line is seized → a hotline call to a fixed URI, or
//! two-stage dialling (dial tone to the line, digits to the [`DigitCollector`]) → bridge
//! on 200. From SIP: seize → wait for dial tone (or a fixed delay) → dial (DTMF or pulse)
//! → early media so the caller hears the line → answer right after dialling or on polarity
//! reversal. Far hangup: loop-current drop, polarity reversal, busy/reorder tone, silence.
//!
//! The line's [`FxoPolicy`] bounds what it can be made to do: numbers outside the
//! allow-list are refused (403 to SIP, reorder to the line) before anything is seized or
//! called, a two-stage caller enters a PIN first, calls are limited in length and number,
//! and the far end's RFC 4733 digits and flash reach the line only as the policy says
//! (the bridge does not regenerate far digits for an FXO port: this machine dials them).

use super::collector::{Collect, DigitCollector};
use super::events::{
    CallerInfo, EVENT_FLASH, Input, LineAudio, MediaCmd, Output, ProgressTone, SipEvent, SipIntent,
    digit_char,
};
use super::timers::{Timer, Timers};
use std::time::{Duration, Instant};
use tipring_hal::model::{Command, Event};

mod policy;

pub use policy::{CallRate, DEFAULT_PIN_TRIES, DialAllow, FxoPolicy, MAX_PIN, pin_weakness};
use policy::{event_digit, pin_matches};

/// A PSTN caller has this long for each PIN attempt.
pub const PIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Reorder plays this long to a refused PSTN caller before the line is released.
pub const REFUSED_REORDER: Duration = Duration::from_secs(4);

/// What a call ringing in from the line does once the line is seized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FxoInbound {
    /// Call this SIP URI (or number) at once.
    Hotline(String),
    /// Give the caller dial tone and collect digits against the dial plan.
    TwoStage,
}

/// How to know the line is ready for digits after seizure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialWait {
    /// Wait for the exchange's dial tone; dial anyway after `timeout`.
    DialTone { timeout: Duration },
    /// Wait a fixed delay (the line has no dial tone detector).
    Fixed(Duration),
}

/// How to dial the number into the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialMethod {
    /// DTMF tones in the audio (ITU-T Q.23), `per_digit` tone plus pause.
    Dtmf { per_digit: Duration },
    /// Decadic pulses by the card (ITU-T Q.112: 10 pulses/s plus an interdigit pause).
    Pulse,
}

/// After a polarity reversal on an idle line, how long caller ID and the first ring may
/// take by default (ETSI EN 300 659-1 §6.1.2: the first ring follows the data within
/// seconds); [`FxoConfig::caller_id_window`].
pub const CALLER_ID_WINDOW: Duration = Duration::from_secs(6);

/// Speech supervision starts listening this long after the last digit (the line settles
/// from the dialling).
pub const SPEECH_GUARD: Duration = Duration::from_millis(300);

/// When the far party counts as answered (an analog line has no answer signal unless
/// the exchange reverses the polarity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSupervision {
    /// Answer the SIP call this long after the last digit.
    AfterDialling(Duration),
    /// Answer on the exchange's polarity reversal.
    PolarityReversal,
    /// Answer when the far party's voice is heard once dialling is over.
    Speech,
}

/// Which signals of the line mean the far party hung up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect {
    /// Loop-current drop (open switch interval, "CPC").
    pub loop_current_drop: bool,
    /// A polarity reversal (a second one after answer supervision by reversal).
    pub polarity_reversal: bool,
    /// Busy or reorder tone heard from the exchange.
    pub tone: bool,
    /// No audio from the line for this long.
    pub silence: Option<Duration>,
}

/// Per-port settings.
#[derive(Debug, Clone)]
pub struct FxoConfig {
    /// Rings counted before the line is seized (the seizure follows the end of that ring,
    /// so caller ID sent after the first ring is in by then).
    pub rings: u32,
    pub inbound: FxoInbound,
    pub dial_wait: DialWait,
    pub dial_method: DialMethod,
    pub answer: AnswerSupervision,
    pub disconnect: Disconnect,
    /// No ring for this long: the caller gave up before the seizure.
    pub ring_gone: Duration,
    /// After a polarity reversal or a DT-AS, how long caller ID and the first ring may
    /// take before the line counts as idle again.
    pub caller_id_window: Duration,
    /// A SIP call into the line unanswered this long is released with 480.
    pub no_answer: Duration,
    /// Length of the hook flash sent to the line when the far end signals one (RFC 4733
    /// event 16): the exchange's recall / register-recall, e.g. to transfer.
    pub flash: Duration,
    /// What the line may be made to do.
    pub policy: FxoPolicy,
}

impl Default for FxoConfig {
    fn default() -> Self {
        FxoConfig {
            rings: 2,
            inbound: FxoInbound::TwoStage,
            dial_wait: DialWait::DialTone {
                timeout: Duration::from_secs(3),
            },
            dial_method: DialMethod::Dtmf {
                per_digit: Duration::from_millis(200),
            },
            answer: AnswerSupervision::AfterDialling(Duration::from_secs(1)),
            disconnect: Disconnect {
                loop_current_drop: true,
                polarity_reversal: false,
                tone: true,
                silence: Some(Duration::from_secs(30)),
            },
            ring_gone: Duration::from_secs(8),
            caller_id_window: CALLER_ID_WINDOW,
            no_answer: Duration::from_secs(90),
            flash: Duration::from_millis(u64::from(DEFAULT_FLASH_MS)),
            policy: FxoPolicy::default(),
        }
    }
}

/// Default hook flash toward the exchange, ms: inside the window North American switches
/// commonly accept (about 300-1100 ms); a short timed-break recall (100 ms, UK) is a
/// per-port setting.
pub const DEFAULT_FLASH_MS: u16 = 500;

/// Where the port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FxoState {
    Idle,
    /// The exchange reversed the polarity of the idle line: caller ID may come before the
    /// first ring (ETSI EN 300 659-1 §6.1.2, FSK or DTMF).
    Alerted,
    /// The line rings; `rings` ended so far.
    Ringing {
        rings: u32,
    },
    /// Seized, dial tone to the line, collecting the DISA PIN; `tries` wrong so far.
    Pin {
        tries: u32,
    },
    /// Seized, dial tone to the line, collecting digits.
    Collecting,
    /// Seized, reorder to the line (wrong PIN, or a number the policy refuses): released
    /// when it has played, without a SIP call.
    Refused,
    /// Seized, our INVITE out, waiting for the answer.
    Calling,
    /// A SIP call for the line: seized, waiting for dial tone or the delay.
    Seized,
    /// Digits going out; waiting for answer supervision.
    Dialled,
    /// Bridged.
    Talking,
}

/// One FXO port.
pub struct FxoPort<C> {
    cfg: FxoConfig,
    collector: C,
    state: FxoState,
    timers: Timers,
    caller: CallerInfo,
    number: String,
    /// The answer came by polarity reversal: the next reversal is the far hangup.
    reversed: bool,
    /// The media bridge runs.
    media: bool,
    /// A tone (dial tone, reorder after a wrong PIN) plays to the line until the next digit.
    dial_tone: bool,
    /// Digits entered so far: the DISA PIN (two-stage), or the far end's digits dialled
    /// into the line (direct seizure).
    entry: String,
    /// Seizures of the last hour.
    rate: CallRate,
    /// A SIP call seized the line without a number (the port's own number): the far end's
    /// digits are its dialling, each let through only while the allow-list can match.
    direct: bool,
    /// Speech supervision: our own dialling is over, a voice now means the answer.
    listening: bool,
}

impl<C: DigitCollector> FxoPort<C> {
    pub fn new(cfg: FxoConfig, collector: C) -> Self {
        FxoPort {
            cfg,
            collector,
            state: FxoState::Idle,
            timers: Timers::default(),
            caller: CallerInfo::default(),
            number: String::new(),
            reversed: false,
            listening: false,
            media: false,
            dial_tone: false,
            entry: String::new(),
            rate: CallRate::default(),
            direct: false,
        }
    }

    pub fn state(&self) -> &FxoState {
        &self.state
    }

    /// The earliest instant at which [`FxoPort::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        let collector = match self.state {
            FxoState::Collecting => self.collector.next_deadline(),
            _ => None,
        };
        [self.timers.next(), collector].into_iter().flatten().min()
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match (&self.state, input) {
            (FxoState::Idle, Input::Line(Event::PolarityReversal))
            | (FxoState::Idle, Input::Audio(LineAudio::CallerIdAlert)) => {
                self.caller = CallerInfo::default();
                self.state = FxoState::Alerted;
                self.timers
                    .set(Timer::RingGone, now + self.cfg.caller_id_window);
            }
            (FxoState::Idle | FxoState::Alerted, Input::Line(Event::RingStart)) => {
                // Caller ID sent before the ring (after the reversal) is kept.
                if self.state == FxoState::Idle {
                    self.caller = CallerInfo::default();
                }
                self.state = FxoState::Ringing { rings: 0 };
                self.timers.set(Timer::RingGone, now + self.cfg.ring_gone);
            }
            (FxoState::Ringing { .. }, Input::Line(Event::RingStart)) => {
                self.timers.set(Timer::RingGone, now + self.cfg.ring_gone);
            }
            (FxoState::Ringing { rings }, Input::Line(Event::RingStop { .. })) => {
                let rings = rings + 1;
                self.timers.set(Timer::RingGone, now + self.cfg.ring_gone);
                if rings >= self.cfg.rings {
                    self.answer_line(now, &mut out);
                } else {
                    self.state = FxoState::Ringing { rings };
                }
            }
            (
                FxoState::Idle | FxoState::Alerted | FxoState::Ringing { .. },
                Input::CallerId(info),
            ) => {
                self.caller = info;
            }
            (FxoState::Collecting, input @ Input::InbandDigit(_))
            | (FxoState::Collecting, input @ Input::Line(Event::Digit { .. })) => {
                if let Some(c) = digit_char(&input) {
                    if std::mem::take(&mut self.dial_tone) {
                        out.push(Output::Tone(ProgressTone::Silence));
                    }
                    let verdict = self.collector.digit(now, c);
                    self.collected(now, verdict, &mut out);
                }
            }
            (FxoState::Pin { tries }, input @ Input::InbandDigit(_))
            | (FxoState::Pin { tries }, input @ Input::Line(Event::Digit { .. })) => {
                let tries = *tries;
                if let Some(c) = digit_char(&input) {
                    self.pin_digit(now, tries, c, &mut out);
                }
            }
            (FxoState::Calling, Input::Sip(SipEvent::Ringing)) => {
                out.push(Output::Tone(ProgressTone::Ringback));
            }
            (FxoState::Calling, Input::Sip(SipEvent::EarlyMedia)) => {
                out.push(Output::Tone(ProgressTone::Silence));
                self.media_start(&mut out);
            }
            (FxoState::Calling, Input::Sip(SipEvent::Answered)) => {
                out.push(Output::Tone(ProgressTone::Silence));
                self.media_start(&mut out);
                self.talk(now);
            }
            (FxoState::Calling, Input::Sip(SipEvent::Rejected(_)))
            | (FxoState::Calling | FxoState::Talking, Input::Sip(SipEvent::RemoteHangup)) => {
                self.release(&mut out);
            }
            // A SIP call for the line (a reversal with no ring yet does not hold it).
            (
                FxoState::Idle | FxoState::Alerted,
                Input::Sip(SipEvent::IncomingCall { number, .. }),
            ) => {
                // An empty number seizes the line itself (the port's own number).
                let allowed = if number.is_empty() {
                    self.cfg.policy.direct_seize
                } else {
                    self.cfg.policy.allow.allows(&number)
                };
                if !allowed {
                    out.push(Output::Sip(SipIntent::Reject(403)));
                    return out;
                }
                if !self.rate.admit(now, self.cfg.policy.max_calls_per_hour) {
                    out.push(Output::Sip(SipIntent::Reject(503)));
                    return out;
                }
                self.timers.cancel_all();
                self.direct = number.is_empty();
                self.number = number;
                out.push(Output::Line(Command::Seize));
                let wait = match self.cfg.dial_wait {
                    DialWait::DialTone { timeout } => timeout,
                    DialWait::Fixed(d) => d,
                };
                self.timers.set(Timer::DialDelay, now + wait);
                self.timers.set(Timer::NoAnswer, now + self.cfg.no_answer);
                self.state = FxoState::Seized;
            }
            (_, Input::Sip(SipEvent::IncomingCall { .. })) => {
                out.push(Output::Sip(SipIntent::Reject(486)));
            }
            // A PBX extension with a message waiting gives stutter dial tone: ready as well.
            (
                FxoState::Seized,
                Input::Audio(LineAudio::Tone(ProgressTone::Dial | ProgressTone::Confirm)),
            ) if matches!(self.cfg.dial_wait, DialWait::DialTone { .. }) => {
                self.timers.cancel(Timer::DialDelay);
                self.dial(now, &mut out);
            }
            (FxoState::Dialled, Input::Audio(LineAudio::Speech))
                if self.cfg.answer == AnswerSupervision::Speech && self.listening =>
            {
                out.push(Output::Sip(SipIntent::Answer));
                self.talk(now);
            }
            (FxoState::Dialled, Input::Line(Event::PolarityReversal))
                if self.cfg.answer == AnswerSupervision::PolarityReversal =>
            {
                self.reversed = true;
                out.push(Output::Sip(SipIntent::Answer));
                self.talk(now);
            }
            (
                FxoState::Seized | FxoState::Dialled,
                Input::Sip(SipEvent::Cancelled | SipEvent::RemoteHangup),
            ) => {
                self.release(&mut out);
            }
            // The caller on the line hung up before our call was answered.
            (
                FxoState::Pin { .. } | FxoState::Collecting | FxoState::Refused | FxoState::Calling,
                Input::Line(Event::LoopCurrentOff),
            ) if self.cfg.disconnect.loop_current_drop => {
                if self.state == FxoState::Calling {
                    out.push(Output::Sip(SipIntent::Hangup));
                }
                self.release(&mut out);
            }
            (FxoState::Dialled | FxoState::Talking, Input::Line(Event::LoopCurrentOff))
                if self.cfg.disconnect.loop_current_drop =>
            {
                self.far_hangup(&mut out);
            }
            (FxoState::Talking, Input::Line(Event::PolarityReversal))
                if self.cfg.disconnect.polarity_reversal || self.reversed =>
            {
                self.far_hangup(&mut out);
            }
            (
                FxoState::Talking,
                Input::Audio(LineAudio::Tone(ProgressTone::Busy | ProgressTone::Reorder)),
            ) if self.cfg.disconnect.tone => {
                self.far_hangup(&mut out);
            }
            // Dial tone once the call is up: the far party has gone and the exchange offers
            // the line for a new number, which far digits (RFC 4733 or in the audio) would
            // dial past the allow-list. Unless flashes are allowed (a recall dial tone is
            // then expected), that ends the call.
            (FxoState::Talking, Input::Audio(LineAudio::Tone(ProgressTone::Dial)))
                if !self.cfg.policy.flash =>
            {
                self.far_hangup(&mut out);
            }
            // The far party flashed (a phone's recall on the far gateway): flash the line.
            (FxoState::Talking, Input::FarEvent(EVENT_FLASH)) if self.cfg.policy.flash => {
                let duration_ms = u16::try_from(self.cfg.flash.as_millis()).unwrap_or(u16::MAX);
                out.push(Output::Line(Command::HookFlash { duration_ms }));
            }
            (FxoState::Dialled | FxoState::Talking, Input::FarEvent(code)) => {
                if let Some(c) = event_digit(code) {
                    self.far_digit(c, &mut out);
                }
            }
            (FxoState::Talking, Input::Audio(LineAudio::Activity)) => {
                if let Some(s) = self.cfg.disconnect.silence {
                    self.timers.set(Timer::Silence, now + s);
                }
            }
            _ => {}
        }
        out
    }

    /// Runs the timers due by `now`.
    pub fn poll(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state == FxoState::Collecting
            && self.collector.next_deadline().is_some_and(|d| d <= now)
        {
            let verdict = self.collector.poll(now);
            self.collected(now, verdict, &mut out);
        }
        while let Some(t) = self.timers.expired(now) {
            match (t, &self.state) {
                (Timer::RingGone, FxoState::Ringing { .. } | FxoState::Alerted) => self.idle(),
                (Timer::DialDelay, FxoState::Seized) => self.dial(now, &mut out),
                (Timer::DialDone, FxoState::Dialled) => match self.cfg.answer {
                    AnswerSupervision::AfterDialling(_) => {
                        out.push(Output::Sip(SipIntent::Answer));
                        self.talk(now);
                    }
                    // Our own digits are over: what is heard now is the line's.
                    AnswerSupervision::Speech => self.listening = true,
                    AnswerSupervision::PolarityReversal => {}
                },
                (Timer::NoAnswer, FxoState::Seized | FxoState::Dialled) => {
                    out.push(Output::Sip(SipIntent::Reject(480)));
                    self.release(&mut out);
                }
                (Timer::Silence | Timer::MaxDuration, FxoState::Talking) => {
                    self.far_hangup(&mut out)
                }
                (Timer::Pin, FxoState::Pin { .. }) | (Timer::Lockout, FxoState::Refused) => {
                    self.release(&mut out)
                }
                _ => {}
            }
        }
        out
    }

    /// Seizes a ringing line and starts the call toward SIP.
    fn answer_line(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.timers.cancel(Timer::RingGone);
        if !self.rate.admit(now, self.cfg.policy.max_calls_per_hour) {
            // Over the hourly limit: the line rings on unanswered.
            self.idle();
            return;
        }
        out.push(Output::Line(Command::Seize));
        match &self.cfg.inbound {
            FxoInbound::Hotline(uri) => {
                out.push(Output::Sip(SipIntent::PlaceCall {
                    target: uri.clone(),
                    caller: self.caller.clone(),
                    hide_caller_id: None,
                }));
                self.state = FxoState::Calling;
            }
            FxoInbound::TwoStage if self.cfg.policy.pin.is_some() => {
                out.push(Output::Tone(ProgressTone::Dial));
                self.dial_tone = true;
                self.entry.clear();
                self.timers.set(Timer::Pin, now + PIN_TIMEOUT);
                self.state = FxoState::Pin { tries: 0 };
            }
            FxoInbound::TwoStage => self.start_collecting(now, out),
        }
    }

    /// Dial tone and the dial plan, for a two-stage caller (after the PIN, if any).
    fn start_collecting(&mut self, now: Instant, out: &mut Vec<Output>) {
        out.push(Output::Tone(ProgressTone::Dial));
        self.dial_tone = true;
        self.state = FxoState::Collecting;
        let verdict = self.collector.start(now);
        self.collected(now, verdict, out);
    }

    /// One digit of the DISA PIN; `#` ends it.
    fn pin_digit(&mut self, now: Instant, tries: u32, c: char, out: &mut Vec<Output>) {
        if std::mem::take(&mut self.dial_tone) {
            out.push(Output::Tone(ProgressTone::Silence));
        }
        self.timers.set(Timer::Pin, now + PIN_TIMEOUT);
        if c != '#' {
            if self.entry.len() <= MAX_PIN {
                self.entry.push(c);
            }
            return;
        }
        let entered = std::mem::take(&mut self.entry);
        let pin = self.cfg.policy.pin.as_deref().unwrap_or_default();
        if pin_matches(&entered, pin) {
            self.timers.cancel(Timer::Pin);
            self.start_collecting(now, out);
        } else if tries + 1 >= self.cfg.policy.pin_tries {
            self.refuse(now, out);
        } else {
            out.push(Output::Tone(ProgressTone::Reorder));
            self.dial_tone = true;
            self.state = FxoState::Pin { tries: tries + 1 };
        }
    }

    /// Reorder to the line, released once it has played; no SIP call.
    fn refuse(&mut self, now: Instant, out: &mut Vec<Output>) {
        out.push(Output::Tone(ProgressTone::Reorder));
        self.dial_tone = false;
        self.timers.cancel_all();
        self.timers.set(Timer::Lockout, now + REFUSED_REORDER);
        self.state = FxoState::Refused;
    }

    /// An RFC 4733 digit from the far end, in a call dialled or up on the line.
    fn far_digit(&mut self, c: char, out: &mut Vec<Output>) {
        let pass = if self.direct {
            // The far end dials through the line's own dial tone: the whole string so far
            // must still be able to become an allowed number.
            let mut next = self.entry.clone();
            next.push(c);
            let ok = next.len() <= MAX_PIN && self.cfg.policy.allow.admits_prefix(&next);
            if ok {
                self.entry = next;
            }
            ok
        } else {
            self.state == FxoState::Talking && self.cfg.policy.digits_after_answer
        };
        if pass {
            out.push(Output::DialDtmf(c.to_string()));
        }
    }

    fn collected(&mut self, now: Instant, verdict: Collect, out: &mut Vec<Output>) {
        match verdict {
            Collect::More => {}
            Collect::Complete(target) => {
                if std::mem::take(&mut self.dial_tone) {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                if !self.cfg.policy.allow.allows(&target) {
                    self.refuse(now, out);
                    return;
                }
                out.push(Output::Sip(SipIntent::PlaceCall {
                    target,
                    caller: self.caller.clone(),
                    hide_caller_id: None,
                }));
                self.state = FxoState::Calling;
            }
            Collect::Invalid => {
                // Nothing to call: give the line back (the exchange plays its own tone).
                self.release(out);
            }
            // A line has no feature codes (a PSTN caller must not change the box's
            // services); a collector that reported one is refused like a barred number.
            Collect::Feature(_) | Collect::Prompt => self.refuse(now, out),
        }
    }

    /// Dials the SIP call's number into the line; the caller hears its progress.
    fn dial(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.media_start(out);
        out.push(Output::Sip(SipIntent::EarlyMedia));
        let digits = self.number.len() as u32;
        let dialling = match self.cfg.dial_method {
            DialMethod::Dtmf { per_digit } => {
                out.push(Output::DialDtmf(self.number.clone()));
                per_digit * digits
            }
            DialMethod::Pulse => {
                let mut pulses = heapless::Vec::new();
                let mut time = Duration::ZERO;
                for c in self.number.chars() {
                    if let Some(d) = c.to_digit(10) {
                        let _ = pulses.push(d as u8);
                        // 100 ms per pulse (10 for digit 0) plus 700 ms interdigit.
                        time += Duration::from_millis(
                            100 * u64::from(if d == 0 { 10 } else { d }) + 700,
                        );
                    }
                }
                out.push(Output::Line(Command::PulseDial { digits: pulses }));
                time
            }
        };
        match self.cfg.answer {
            AnswerSupervision::AfterDialling(after) => {
                self.timers.set(Timer::DialDone, now + dialling + after);
            }
            AnswerSupervision::Speech => {
                self.listening = false;
                self.timers
                    .set(Timer::DialDone, now + dialling + SPEECH_GUARD);
            }
            AnswerSupervision::PolarityReversal => {}
        }
        self.state = FxoState::Dialled;
    }

    fn talk(&mut self, now: Instant) {
        self.timers.cancel_all();
        if let Some(s) = self.cfg.disconnect.silence {
            self.timers.set(Timer::Silence, now + s);
        }
        if let Some(max) = self.cfg.policy.max_call {
            self.timers.set(Timer::MaxDuration, now + max);
        }
        self.state = FxoState::Talking;
    }

    /// The far party on the line hung up: end the SIP call and release.
    fn far_hangup(&mut self, out: &mut Vec<Output>) {
        out.push(Output::Sip(SipIntent::Hangup));
        self.release(out);
    }

    fn release(&mut self, out: &mut Vec<Output>) {
        if std::mem::take(&mut self.media) {
            out.push(Output::Media(MediaCmd::Stop));
        }
        out.push(Output::Line(Command::Release));
        self.idle();
    }

    fn media_start(&mut self, out: &mut Vec<Output>) {
        if !std::mem::replace(&mut self.media, true) {
            out.push(Output::Media(MediaCmd::Start));
        }
    }

    fn idle(&mut self) {
        self.timers.cancel_all();
        self.reversed = false;
        self.dial_tone = false;
        self.number.clear();
        self.entry.clear();
        self.direct = false;
        self.state = FxoState::Idle;
    }
}

#[cfg(test)]
mod tests;
