//! The FXS port machine: a phone (or a PBX trunk) on the port.
//!
//! Outgoing: off-hook → dial tone → digits (card, pulse or in-band) to the
//! [`DigitCollector`] → `PlaceCall` → ringback on 180, far audio on early media → talk on
//! 200; on-hook → `Hangup`. Far BYE or a failure response → busy/reorder until on-hook.
//! Incoming: `IncomingCall` → ring with the country's cadence, caller ID between the first
//! and second ring → off-hook → `Answer`. Hook flash in a call → RFC 4733 event 16.
//! Feature codes: a per-call code (caller ID withheld or shown) is kept for the next
//! number; a service code goes to the SIP side (`SetService`) and, once applied, the phone
//! hears the confirmation tone, then dial tone again.
//! Message waiting: the lamp follows the voicemail's state; an idle phone is told by
//! on-hook FSK (visual indication), and lifting the handset gives stutter dial tone.
//! Call waiting: a second call while the phone talks plays the call-waiting tone over the
//! call; a flash swaps the two (`Swap`: the current one is held), again and again; hanging
//! up with the other call still there ends the current one and rings the phone back for
//! it; a waiting call left unanswered is refused (`EndWaiting`). A code dialled before the
//! number (`*70`) turns call waiting off for that call.

use super::collector::{Collect, DigitCollector};
use super::events::{
    CallerInfo, EVENT_FLASH, Input, MediaCmd, Output, ProgressTone, SipEvent, SipIntent, digit_char,
};
use super::feature::Feature;
use super::timers::{Timer, Timers};
use std::time::{Duration, Instant};
use tipring_hal::model::{Command, Event, RingCadence};

/// The confirmation tone plays this long (five bursts) before dial tone returns.
pub const CONFIRMATION: Duration = Duration::from_millis(1000);
/// Stutter dial tone (messages waiting) before steady dial tone: ten bursts (Telcordia
/// GR-506 "recall dial tone" timing).
pub const STUTTER: Duration = Duration::from_millis(2000);
/// On-hook transmission stays open this long for the message-waiting FSK (channel
/// seizure, marks and a six-byte message take under half a second at 1200 baud).
pub const INDICATION: Duration = Duration::from_millis(1000);

/// Per-port settings (from the configuration's port and country sections).
#[derive(Debug, Clone)]
pub struct FxsConfig {
    /// The country's ringing cadence, sent to the card.
    pub ring_cadence: RingCadence,
    /// Send caller ID between the first and second ring.
    pub caller_id: bool,
    /// Gap after the end of the first ring before the FSK starts (ETSI EN 300 659-1
    /// §6.1.1 and Telcordia GR-30: at least 500 ms).
    pub caller_id_gap: Duration,
    /// An incoming call rings this long unanswered, then is refused with 480.
    pub no_answer: Duration,
    /// Busy or reorder plays this long, then the line falls silent until on-hook.
    pub lockout: Duration,
    /// A second call while the phone talks waits for a flash (else it gets 486).
    pub call_waiting: bool,
    /// A waiting call unanswered this long is refused with `call_waiting_status`.
    pub call_waiting_timeout: Duration,
    /// 480 (Temporarily Unavailable) or 486 (Busy Here).
    pub call_waiting_status: u16,
    /// The phone's flash is its own (call waiting swaps, hold for a consultation and
    /// transfer); else every flash in a call goes to the far end (RFC 4733 event 16).
    pub flash_features: bool,
}

impl FxsConfig {
    /// Defaults around a cadence: caller ID on, 500 ms gap, 60 s no-answer, 30 s lockout.
    pub fn with_cadence(ring_cadence: RingCadence) -> Self {
        FxsConfig {
            ring_cadence,
            caller_id: true,
            caller_id_gap: Duration::from_millis(500),
            no_answer: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
            call_waiting: true,
            call_waiting_timeout: Duration::from_secs(30),
            call_waiting_status: 480,
            flash_features: true,
        }
    }
}

/// Where the port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FxsState {
    /// On-hook, no call.
    Idle,
    /// On-hook, the message-waiting FSK is being sent.
    Indicating,
    /// Off-hook, dial tone or collecting digits.
    Collecting,
    /// A feature code's setting is with the SIP side.
    Setting,
    /// `PlaceCall` sent, waiting for the far end; `early` once far audio flows.
    Calling { early: bool },
    /// Ringing the phone for an incoming call.
    Ringing,
    /// In a call.
    Talking,
    /// Off-hook, the current call over, another one waiting or held: a flash takes it.
    Holding,
    /// On-hook with a call waiting or held: the phone rings again for it.
    Recall,
    /// Three-way: the phone, its consultation and the call it held, mixed.
    Conference,
    /// Off-hook after the call ended or failed: the tone plays until on-hook.
    Disconnected,
}

/// The port's second call, beside the current one (call waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    None,
    /// Offered while the phone talked, not answered yet.
    Waiting,
    /// Answered, then put on hold by a flash.
    Held,
}

/// One FXS port.
pub struct FxsPort<C> {
    cfg: FxsConfig,
    collector: C,
    state: FxsState,
    timers: Timers,
    caller: CallerInfo,
    /// The first digit stops the dial tone.
    dial_tone: bool,
    /// On-hook transmission was enabled for caller ID.
    on_hook_audio: bool,
    /// A per-call feature code dialled before the number: withhold (`true`) or show the
    /// caller ID on this call.
    hide_caller_id: Option<bool>,
    /// Messages wait in the port's voicemail.
    mwi: bool,
    /// What the phone was last told by FSK.
    vmwi_sent: bool,
    /// The port's second call.
    other: Other,
    /// Call waiting is off for this call (a code dialled before the number).
    no_call_waiting: bool,
    /// The current call (or the number being dialled) is a consultation: hanging up
    /// transfers the held party to it.
    consult: bool,
}

impl<C: DigitCollector> FxsPort<C> {
    pub fn new(cfg: FxsConfig, collector: C) -> Self {
        FxsPort {
            cfg,
            collector,
            state: FxsState::Idle,
            timers: Timers::default(),
            caller: CallerInfo::default(),
            dial_tone: false,
            on_hook_audio: false,
            hide_caller_id: None,
            mwi: false,
            vmwi_sent: false,
            other: Other::None,
            no_call_waiting: false,
            consult: false,
        }
    }

    pub fn state(&self) -> &FxsState {
        &self.state
    }

    /// The port's second call.
    pub fn other(&self) -> Other {
        self.other
    }

    /// The earliest instant at which [`FxsPort::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        let collector = match self.state {
            FxsState::Collecting => self.collector.next_deadline(),
            _ => None,
        };
        [self.timers.next(), collector].into_iter().flatten().min()
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state == FxsState::Indicating
            && matches!(
                input,
                Input::Line(Event::OffHook) | Input::Sip(SipEvent::IncomingCall { .. })
            )
        {
            // The phone comes first: the indication is cut short (and sent again later).
            self.stop_indication(&mut out);
            self.vmwi_sent = !self.mwi;
        }
        self.step(now, input, &mut out);
        self.indicate_if_due(now, &mut out);
        out
    }

    fn step(&mut self, now: Instant, input: Input, out: &mut Vec<Output>) {
        match (&self.state, input) {
            (_, Input::Sip(SipEvent::MessageWaiting(on))) if on != self.mwi => {
                self.mwi = on;
                out.push(Output::Line(Command::MessageWaiting { on }));
            }
            // Incoming calls are offered only to an idle port.
            (FxsState::Idle, Input::Sip(SipEvent::IncomingCall { caller, ring, .. })) => {
                self.caller = caller;
                let cadence = ring.unwrap_or_else(|| self.cfg.ring_cadence.clone());
                // Caller ID goes in the long pause after the cadence's bursts (a
                // distinctive ring's short pauses would cut the FSK).
                let cycle: u64 = cadence
                    .steps
                    .iter()
                    .map(|s| u64::from(s.on_ms) + u64::from(s.off_ms))
                    .sum();
                let first_on = cycle - cadence.steps.last().map_or(0, |s| u64::from(s.off_ms));
                out.push(Output::Line(Command::Ring(cadence)));
                out.push(Output::Sip(SipIntent::Alerting));
                if self.cfg.caller_id {
                    let at = now + Duration::from_millis(first_on) + self.cfg.caller_id_gap;
                    self.timers.set(Timer::CallerId, at);
                }
                self.timers.set(Timer::NoAnswer, now + self.cfg.no_answer);
                self.state = FxsState::Ringing;
            }
            (_, Input::Sip(SipEvent::IncomingCall { .. })) => {
                out.push(Output::Sip(SipIntent::Reject(486)));
            }
            (FxsState::Talking, Input::Sip(SipEvent::CallWaiting { caller }))
                if self.cfg.call_waiting && !self.no_call_waiting && self.other == Other::None =>
            {
                self.other = Other::Waiting;
                out.push(Output::Tone(ProgressTone::CallWaiting));
                if self.cfg.caller_id {
                    out.push(Output::SendCallWaitingId(caller));
                }
                self.timers
                    .set(Timer::Waiting, now + self.cfg.call_waiting_timeout);
            }
            (_, Input::Sip(SipEvent::CallWaiting { .. })) => {
                out.push(Output::Sip(SipIntent::EndWaiting(486)));
            }
            (FxsState::Talking, Input::Line(Event::HookFlash { .. }))
                if self.other == Other::None && self.cfg.flash_features =>
            {
                // A consultation: the call is held, the phone hears dial tone.
                out.push(Output::Sip(SipIntent::Hold));
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Tone(ProgressTone::Dial));
                self.other = Other::Held;
                self.consult = true;
                self.dial_tone = true;
                self.state = FxsState::Collecting;
                let verdict = self.collector.start(now);
                self.collected(now, verdict, out);
            }
            (
                FxsState::Collecting | FxsState::Setting | FxsState::Disconnected,
                Input::Line(Event::HookFlash { .. }),
            ) if self.other != Other::None => {
                // The consultation abandoned: back to the held call.
                self.take_other(out);
            }
            (
                FxsState::Collecting | FxsState::Setting | FxsState::Disconnected,
                Input::Line(Event::OnHook),
            ) if self.other != Other::None => {
                out.push(Output::Tone(ProgressTone::Silence));
                self.recall(now, out);
            }
            (FxsState::Calling { early }, Input::Line(Event::HookFlash { .. }))
                if self.other != Other::None =>
            {
                // The consultation abandoned before its answer.
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                }
                out.push(Output::Sip(SipIntent::Hangup));
                self.take_other(out);
            }
            (FxsState::Calling { early }, Input::Line(Event::OnHook))
                if self.consult && self.other != Other::None =>
            {
                // Blind (or semi-attended) transfer: the held party calls the target.
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                } else {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                out.push(Output::Sip(SipIntent::Transfer));
                self.idle();
            }
            (FxsState::Talking, Input::Line(Event::HookFlash { .. }))
                if self.consult && self.other != Other::None =>
            {
                // Three-way: the held call joins the consultation.
                out.push(Output::Sip(SipIntent::Conference));
                self.state = FxsState::Conference;
            }
            (FxsState::Conference, Input::Line(Event::HookFlash { .. })) => {
                // The party added last is dropped; the first one stays.
                out.push(Output::Media(MediaCmd::Split));
                out.push(Output::Sip(SipIntent::Hangup));
                out.push(Output::Sip(SipIntent::Swap));
                self.other = Other::None;
                self.consult = false;
                self.state = FxsState::Talking;
            }
            (FxsState::Conference, Input::Sip(SipEvent::RemoteHangup)) => {
                // The party added last left: the first one is the call again.
                out.push(Output::Media(MediaCmd::Split));
                out.push(Output::Sip(SipIntent::Swap));
                self.other = Other::None;
                self.consult = false;
                self.state = FxsState::Talking;
            }
            (FxsState::Conference, Input::Sip(SipEvent::WaitingEnded)) => {
                // The first party left: the one added last is the call.
                out.push(Output::Media(MediaCmd::Split));
                self.other = Other::None;
                self.consult = false;
                self.state = FxsState::Talking;
            }
            (FxsState::Conference, Input::Line(Event::OnHook)) => {
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Sip(SipIntent::Hangup));
                out.push(Output::Sip(SipIntent::EndWaiting(480)));
                self.idle();
            }
            (FxsState::Talking, Input::Line(Event::OnHook))
                if self.consult && self.other != Other::None =>
            {
                // Attended transfer: the held party takes the consultation's place.
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Sip(SipIntent::Transfer));
                self.idle();
            }
            (FxsState::Calling { early }, Input::Sip(SipEvent::Rejected(code)))
                if self.other != Other::None =>
            {
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                }
                out.push(Output::Tone(failure_tone(code)));
                self.state = FxsState::Holding;
            }
            (FxsState::Calling { early }, Input::Sip(SipEvent::RemoteHangup))
                if self.other != Other::None =>
            {
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                }
                out.push(Output::Tone(ProgressTone::Reorder));
                self.state = FxsState::Holding;
            }
            (FxsState::Idle, Input::Sip(SipEvent::TransferFailed)) => {
                // The held party is back: the phone rings for it.
                self.other = Other::Held;
                self.recall(now, out);
            }
            (_, Input::Sip(SipEvent::TransferFailed)) => {
                // The phone is busy with something else: the held party is let go.
                out.push(Output::Sip(SipIntent::EndWaiting(480)));
            }
            (FxsState::Talking, Input::Line(Event::HookFlash { .. }))
                if self.other != Other::None =>
            {
                self.timers.cancel(Timer::Waiting);
                out.push(Output::Tone(ProgressTone::Silence));
                out.push(Output::Sip(SipIntent::Swap));
                self.other = Other::Held;
            }
            (FxsState::Holding, Input::Line(Event::HookFlash { .. })) => {
                self.take_other(out);
            }
            (FxsState::Talking, Input::Sip(SipEvent::WaitingEnded)) => {
                if self.other == Other::Waiting {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                self.timers.cancel(Timer::Waiting);
                self.other = Other::None;
            }
            (FxsState::Holding, Input::Sip(SipEvent::WaitingEnded)) => {
                self.timers.cancel(Timer::Waiting);
                self.other = Other::None;
                self.disconnect(now, ProgressTone::Reorder, out);
            }
            (FxsState::Recall, Input::Sip(SipEvent::WaitingEnded)) => {
                out.push(Output::Line(Command::StopRing));
                self.idle();
            }
            (
                FxsState::Collecting
                | FxsState::Setting
                | FxsState::Calling { .. }
                | FxsState::Disconnected,
                Input::Sip(SipEvent::WaitingEnded),
            ) => {
                // The held party hung up during the consultation: what the phone dials
                // now is an ordinary call.
                self.other = Other::None;
                self.consult = false;
            }
            (FxsState::Recall, Input::Line(Event::OffHook)) => {
                out.push(Output::Line(Command::StopRing));
                self.take_other(out);
            }
            (FxsState::Talking, Input::Sip(SipEvent::RemoteHangup))
                if self.other != Other::None =>
            {
                // The other call reminds the phone it is there.
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Tone(ProgressTone::CallWaiting));
                self.state = FxsState::Holding;
            }
            (FxsState::Talking, Input::Line(Event::OnHook)) if self.other != Other::None => {
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Sip(SipIntent::Hangup));
                self.recall(now, out);
            }
            (FxsState::Holding, Input::Line(Event::OnHook)) => {
                out.push(Output::Tone(ProgressTone::Silence));
                self.recall(now, out);
            }
            (FxsState::Idle, Input::Line(Event::OffHook)) => {
                if self.mwi {
                    // Stutter dial tone: the confirmation cadence, then steady.
                    out.push(Output::Tone(ProgressTone::Confirm));
                    self.timers.set(Timer::Confirmation, now + STUTTER);
                } else {
                    out.push(Output::Tone(ProgressTone::Dial));
                }
                self.dial_tone = true;
                self.state = FxsState::Collecting;
                let verdict = self.collector.start(now);
                self.collected(now, verdict, out);
            }
            (FxsState::Collecting, input @ Input::Line(Event::Digit { .. }))
            | (FxsState::Collecting, input @ Input::Line(Event::PulseDigit { .. }))
            | (FxsState::Collecting, input @ Input::InbandDigit(_)) => {
                if let Some(c) = digit_char(&input) {
                    if std::mem::take(&mut self.dial_tone) {
                        out.push(Output::Tone(ProgressTone::Silence));
                    }
                    let verdict = self.collector.digit(now, c);
                    self.collected(now, verdict, out);
                }
            }
            (FxsState::Setting, Input::Sip(SipEvent::ServiceSet(ok))) => {
                if ok {
                    self.confirm(now, out);
                    let verdict = self.collector.start(now);
                    self.collected(now, verdict, out);
                } else {
                    self.disconnect(now, ProgressTone::Reorder, out);
                }
            }
            (FxsState::Ringing, Input::Line(Event::OffHook)) => {
                self.timers.cancel_all();
                out.push(Output::Line(Command::StopRing));
                self.end_on_hook_audio(out);
                out.push(Output::Sip(SipIntent::Answer));
                out.push(Output::Media(MediaCmd::Start));
                self.state = FxsState::Talking;
            }
            (FxsState::Ringing, Input::Sip(SipEvent::Cancelled))
            | (FxsState::Ringing, Input::Sip(SipEvent::RemoteHangup)) => {
                self.timers.cancel_all();
                out.push(Output::Line(Command::StopRing));
                self.end_on_hook_audio(out);
                self.state = FxsState::Idle;
            }
            (FxsState::Calling { early: false }, Input::Sip(SipEvent::Ringing)) => {
                out.push(Output::Tone(ProgressTone::Ringback));
            }
            (FxsState::Calling { early: false }, Input::Sip(SipEvent::EarlyMedia)) => {
                out.push(Output::Tone(ProgressTone::Silence));
                out.push(Output::Media(MediaCmd::Start));
                self.state = FxsState::Calling { early: true };
            }
            (FxsState::Calling { early }, Input::Sip(SipEvent::Answered)) => {
                if !early {
                    out.push(Output::Tone(ProgressTone::Silence));
                    out.push(Output::Media(MediaCmd::Start));
                }
                self.state = FxsState::Talking;
            }
            (FxsState::Calling { early }, Input::Sip(SipEvent::Rejected(code))) => {
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                }
                self.disconnect(now, failure_tone(code), out);
            }
            (FxsState::Calling { early }, Input::Sip(SipEvent::RemoteHangup)) => {
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                }
                self.disconnect(now, ProgressTone::Reorder, out);
            }
            (FxsState::Talking, Input::Sip(SipEvent::RemoteHangup)) => {
                out.push(Output::Media(MediaCmd::Stop));
                self.disconnect(now, ProgressTone::Reorder, out);
            }
            (FxsState::Talking, Input::Line(Event::HookFlash { .. })) => {
                out.push(Output::SendEvent(EVENT_FLASH));
            }
            (FxsState::Calling { early }, Input::Line(Event::OnHook)) => {
                if *early {
                    out.push(Output::Media(MediaCmd::Stop));
                } else {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                out.push(Output::Sip(SipIntent::Hangup));
                self.idle();
            }
            (FxsState::Talking, Input::Line(Event::OnHook)) => {
                out.push(Output::Media(MediaCmd::Stop));
                out.push(Output::Sip(SipIntent::Hangup));
                self.idle();
            }
            (
                FxsState::Collecting | FxsState::Setting | FxsState::Disconnected,
                Input::Line(Event::OnHook),
            ) => {
                out.push(Output::Tone(ProgressTone::Silence));
                self.idle();
            }
            // Everything else (a digit in a call goes as audio or RFC 4733 through the
            // bridge, a stray ring-stop report, ...) does not change the call.
            _ => {}
        }
    }

    /// Runs the timers due by `now`.
    pub fn poll(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state == FxsState::Collecting
            && self.collector.next_deadline().is_some_and(|d| d <= now)
        {
            let verdict = self.collector.poll(now);
            self.collected(now, verdict, &mut out);
        }
        while let Some(t) = self.timers.expired(now) {
            match (t, &self.state) {
                (Timer::CallerId, FxsState::Ringing) => {
                    // The audio path must be live on-hook (ETSI EN 300 659-1 §5.2).
                    out.push(Output::Line(Command::OnHookTransmission { enable: true }));
                    out.push(Output::SendCallerId(self.caller.clone()));
                    self.on_hook_audio = true;
                }
                (Timer::NoAnswer, FxsState::Ringing) => {
                    self.timers.cancel_all();
                    out.push(Output::Line(Command::StopRing));
                    self.end_on_hook_audio(&mut out);
                    out.push(Output::Sip(SipIntent::Reject(480)));
                    self.state = FxsState::Idle;
                }
                (Timer::Lockout, FxsState::Disconnected) => {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                (Timer::Confirmation, FxsState::Collecting) if self.dial_tone => {
                    out.push(Output::Tone(ProgressTone::Dial));
                }
                (Timer::Indication, FxsState::Indicating) => {
                    self.stop_indication(&mut out);
                }
                (Timer::Waiting, FxsState::Talking | FxsState::Holding)
                    if self.other == Other::Waiting =>
                {
                    self.other = Other::None;
                    out.push(Output::Sip(SipIntent::EndWaiting(
                        self.cfg.call_waiting_status,
                    )));
                    if self.state == FxsState::Holding {
                        self.disconnect(now, ProgressTone::Reorder, &mut out);
                    } else {
                        out.push(Output::Tone(ProgressTone::Silence));
                    }
                }
                (Timer::NoAnswer, FxsState::Recall) => {
                    out.push(Output::Line(Command::StopRing));
                    out.push(Output::Sip(SipIntent::EndWaiting(480)));
                    self.idle();
                }
                _ => {}
            }
        }
        self.indicate_if_due(now, &mut out);
        out
    }

    /// An idle phone not yet told the voicemail's state by FSK is told now (on-hook
    /// transmission without ringing, ETSI EN 300 659-1 §6.2 / GR-30 on-hook data).
    fn indicate_if_due(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.state != FxsState::Idle || self.vmwi_sent == self.mwi || !self.cfg.caller_id {
            return;
        }
        self.vmwi_sent = self.mwi;
        out.push(Output::Line(Command::OnHookTransmission { enable: true }));
        out.push(Output::SendMessageWaiting(self.mwi));
        self.on_hook_audio = true;
        self.timers.set(Timer::Indication, now + INDICATION);
        self.state = FxsState::Indicating;
    }

    fn stop_indication(&mut self, out: &mut Vec<Output>) {
        self.timers.cancel(Timer::Indication);
        self.end_on_hook_audio(out);
        self.state = FxsState::Idle;
    }

    fn collected(&mut self, now: Instant, verdict: Collect, out: &mut Vec<Output>) {
        match verdict {
            Collect::More => {}
            Collect::Complete(number) => {
                if std::mem::take(&mut self.dial_tone) {
                    out.push(Output::Tone(ProgressTone::Silence));
                }
                out.push(Output::Sip(SipIntent::PlaceCall {
                    target: number,
                    caller: CallerInfo::default(),
                    hide_caller_id: self.hide_caller_id.take(),
                }));
                self.state = FxsState::Calling { early: false };
            }
            Collect::Prompt => self.confirm(now, out),
            Collect::Feature(Feature::CallerIdOnce(hide)) => {
                self.hide_caller_id = Some(hide);
                self.confirm(now, out);
                let verdict = self.collector.start(now);
                self.collected(now, verdict, out);
            }
            Collect::Feature(Feature::NoCallWaitingOnce) => {
                self.no_call_waiting = true;
                self.confirm(now, out);
                let verdict = self.collector.start(now);
                self.collected(now, verdict, out);
            }
            Collect::Feature(Feature::Service(s)) => {
                self.dial_tone = false;
                out.push(Output::Sip(SipIntent::SetService(s)));
                self.state = FxsState::Setting;
            }
            Collect::Invalid => {
                self.dial_tone = false;
                self.disconnect(now, ProgressTone::Reorder, out);
            }
        }
    }

    /// Confirmation tone, then dial tone unless a digit comes first.
    fn confirm(&mut self, now: Instant, out: &mut Vec<Output>) {
        out.push(Output::Tone(ProgressTone::Confirm));
        self.dial_tone = true;
        self.state = FxsState::Collecting;
        self.timers.set(Timer::Confirmation, now + CONFIRMATION);
    }

    fn end_on_hook_audio(&mut self, out: &mut Vec<Output>) {
        if std::mem::take(&mut self.on_hook_audio) {
            out.push(Output::Line(Command::OnHookTransmission { enable: false }));
        }
    }

    fn disconnect(&mut self, now: Instant, tone: ProgressTone, out: &mut Vec<Output>) {
        out.push(Output::Tone(tone));
        self.timers.set(Timer::Lockout, now + self.cfg.lockout);
        self.state = FxsState::Disconnected;
    }

    fn idle(&mut self) {
        self.timers.cancel_all();
        self.dial_tone = false;
        self.hide_caller_id = None;
        self.no_call_waiting = false;
        self.other = Other::None;
        self.consult = false;
        self.state = FxsState::Idle;
    }

    /// The phone rings again for the other call (its own call just ended on-hook).
    fn recall(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.timers.cancel_all();
        self.dial_tone = false;
        out.push(Output::Line(Command::Ring(self.cfg.ring_cadence.clone())));
        self.timers.set(Timer::NoAnswer, now + self.cfg.no_answer);
        self.state = FxsState::Recall;
    }

    /// The phone, alone off-hook, takes the other call.
    fn take_other(&mut self, out: &mut Vec<Output>) {
        self.timers.cancel_all();
        out.push(Output::Tone(ProgressTone::Silence));
        out.push(Output::Sip(SipIntent::Swap));
        out.push(Output::Media(MediaCmd::Start));
        self.other = Other::None;
        self.consult = false;
        self.state = FxsState::Talking;
    }
}

/// The tone for a failed call by response class (RFC 3261 §21): 486 Busy Here and
/// 600 Busy Everywhere are busy, everything else (404, 408, 480, 503, ...) is reorder.
pub fn failure_tone(code: u16) -> ProgressTone {
    match code {
        486 | 600 => ProgressTone::Busy,
        _ => ProgressTone::Reorder,
    }
}

#[cfg(test)]
mod tests;
