//! One line of the card at run time, as one sans-IO state machine: its configuration, the
//! FXS or FXO machine ([`crate::call`]) with its digit collection ([`PlanCollector`]), and
//! where its media bridge stands. Fed `(now, Input)` — line-card events, SIP call events,
//! the far end's media, the bridge's reports, its own deadline — and drained for
//! [`Output`]s after each input ([`Port::poll_output`]) until it reports its next deadline
//! ([`Port::poll_timeout`]). The runtime carries the outputs out: card commands to the
//! driver, SIP intents and line idleness to the SIP side, media commands to the bridge.
//!
//! The bridge is the port's audio path, so it runs whenever the line is engaged (dial
//! tone, caller ID, listening for the exchange's dial tone or caller ID, dialling DTMF into
//! the line), without a far end until the machine connects media and the SIP side has
//! given the far address. Connecting, moving to another far end (re-INVITE) and
//! disconnecting (far BYE while the line still hears reorder) retarget the running bridge
//! (`Control::Remote`), so what the line side is doing carries on; the bridge stops when
//! the port is idle again, and the next call starts a fresh one. RFC 4733 events (a hook
//! flash) and tones are media commands: they travel in the call's RTP.

mod collect;
mod config;
#[cfg(test)]
use config::ANY_NUMBER;

pub use collect::PlanCollector;
pub use config::ring_cadence;

use crate::bridge::{Control, FaxParams, MediaParams, Report};
use crate::call::fxo::{FxoPort, FxoState};
use crate::call::fxs::{FxsPort, FxsState};
use crate::call::{self, LineAudio, MediaCmd, ProgressTone, SipEvent, SipIntent};
use crate::config::FaxMode;
use std::collections::VecDeque;
use std::time::Instant;
use tipring_hal::model::{Command, Digit, Event};
use tipring_media::g711::Law;
use tipring_media::modem::ModemTone;

/// Length of an RFC 4733 event the port machine asks for (hook flash, RFC 4733 §3.2).
const EVENT_MS: u16 = 200;

/// One input to a port.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An event from the line card for this port.
    Line(Event),
    /// A call event from the SIP side.
    Sip(SipEvent),
    /// The far end's media for this port's call (from an SDP offer or answer).
    FarMedia(MediaParams),
    /// The call's media moved to T.38 (a re-INVITE offered or accepted `image/t38`).
    FarFax(FaxParams),
    /// Three-way calling: the port's other call's media, mixed in beside the current
    /// one's (`None`: no more).
    JoinMedia(Option<MediaParams>),
    /// A report of the port's media bridge.
    Media(Report),
    /// The deadline [`Port::poll_timeout`] gave has passed.
    Timeout,
    /// Clean shutdown: end the call (BYE/CANCEL, or refuse an offered call), put the line
    /// down and stop the bridge.
    Shutdown,
}

/// One output of a port, for the runtime to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A command for the line card.
    Card(Command),
    /// An intent for the SIP side.
    Sip(SipIntent),
    /// The line became free for a new call (`true`: idle, or only sending a phone its
    /// message-waiting FSK, or reversed by the exchange with no ring yet) or engaged
    /// (`false`): the SIP side hunts only free lines. Given once per change; every line
    /// starts free.
    Idle(bool),
    /// A command for the port's media bridge.
    Media(MediaCommand),
}

/// What the port's media bridge must do.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaCommand {
    /// (Re)start the bridge: towards this far end, or playing and listening on the line
    /// only. A running bridge is stopped first.
    Start(Option<MediaParams>),
    /// Stop the bridge.
    Stop,
    /// A command for the running bridge (tones, RFC 4733 events, DTMF dialling, caller
    /// ID, far end).
    Control(Control),
}

/// The port machine of either kind.
enum Machine {
    Fxs(FxsPort<PlanCollector>),
    Fxo(FxoPort<PlanCollector>),
}

impl Machine {
    fn handle(&mut self, now: Instant, input: call::Input) -> Vec<call::Output> {
        match self {
            Machine::Fxs(m) => m.handle(now, input),
            Machine::Fxo(m) => m.handle(now, input),
        }
    }
    fn poll(&mut self, now: Instant) -> Vec<call::Output> {
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
    /// Whether a new call may be offered: idle, or on-hook with only a signal under way
    /// (a phone being sent its message-waiting FSK, a line reversed with no ring yet).
    fn is_free(&self) -> bool {
        match self {
            Machine::Fxs(m) => matches!(m.state(), FxsState::Idle | FxsState::Indicating),
            Machine::Fxo(m) => matches!(m.state(), FxoState::Idle | FxoState::Alerted),
        }
    }
    fn is_talking(&self) -> bool {
        match self {
            Machine::Fxs(m) => *m.state() == FxsState::Talking,
            Machine::Fxo(m) => *m.state() == FxoState::Talking,
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
    /// Relaying the call's fax as T.38 to this far end.
    Fax(FaxParams),
}

/// One port.
pub struct Port {
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
    /// The line's idleness as last given out ([`Output::Idle`]).
    idle: bool,
    /// How the port's fax calls travel.
    fax: FaxMode,
    /// This call's media was offered as T.38 already (once per call).
    fax_offered: bool,
    /// The line's audio is listened to while idle (FXO: caller ID announced by a
    /// dual-tone alert, without a polarity reversal).
    monitor: bool,
    outputs: VecDeque<Output>,
}

impl Port {
    fn new(index: u8, machine: Machine) -> Port {
        Port {
            index,
            machine,
            bridge: BridgeState::Off,
            connected: false,
            media: None,
            tone: ProgressTone::Silence,
            detach: false,
            idle: true,
            fax: FaxMode::Passthrough,
            fax_offered: false,
            monitor: false,
            outputs: VecDeque::new(),
        }
    }

    /// The port listening to its idle line (a bridge on the line alone, started now and
    /// again, fresh, after each call).
    pub fn with_idle_monitor(mut self) -> Port {
        self.monitor = true;
        self.start_bridge(None);
        self
    }

    /// The port with its calls' faxes travelling as `fax` says.
    pub fn with_fax(mut self, fax: FaxMode) -> Port {
        self.fax = fax;
        self
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

    /// Whether the call is up: the line talks to the far end.
    pub fn is_talking(&self) -> bool {
        self.machine.is_talking()
    }

    /// When the port next needs [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.machine.next_deadline()
    }

    /// The next output, until none is left.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        // The machine's outputs, when the input went to the machine.
        let outputs = match input {
            Input::Line(e) => Some(self.machine.handle(now, call::Input::Line(e))),
            Input::Sip(e) => {
                if matches!(e, SipEvent::IncomingCall { .. }) && self.machine.is_free() {
                    // A new call: forget the last one's far end unless the offer came first.
                    self.connected = false;
                }
                Some(self.machine.handle(now, call::Input::Sip(e)))
            }
            Input::FarMedia(m) => {
                self.media = Some(m);
                if self.connected {
                    self.connect(m);
                }
                None
            }
            Input::JoinMedia(m) => {
                if matches!(self.bridge, BridgeState::Remote(_)) {
                    self.control(Control::Join(m));
                }
                None
            }
            Input::FarFax(p) => {
                if self.connected && self.bridge != BridgeState::Off {
                    self.control(Control::Fax(p));
                    self.bridge = BridgeState::Fax(p);
                }
                None
            }
            Input::Media(Report::LineModemTone(tone)) => {
                self.line_modem_tone(tone);
                None
            }
            Input::Media(Report::AudioFailed) => {
                // The bridge's thread has ended; the next need for audio starts a new one.
                self.bridge = BridgeState::Off;
                None
            }
            Input::Media(r) => report_input(r).map(|i| self.machine.handle(now, i)),
            Input::Timeout => self
                .poll_timeout()
                .is_some_and(|d| d <= now)
                .then(|| self.machine.poll(now)),
            Input::Shutdown => {
                self.close();
                None
            }
        };
        if let Some(o) = outputs {
            self.absorb(o);
        }
        let idle = self.machine.is_free();
        if idle != self.idle {
            self.idle = idle;
            self.outputs.push_back(Output::Idle(idle));
        }
    }

    fn close(&mut self) {
        // The SIP call, if any: one offered to us and not answered is refused, one we
        // placed or answered is ended (CANCEL or BYE).
        let (offered, ours, line) = match &self.machine {
            Machine::Fxs(m) => match m.state() {
                FxsState::Ringing => (true, false, Some(Command::StopRing)),
                FxsState::Calling { .. } | FxsState::Talking | FxsState::Conference => {
                    (false, true, None)
                }
                // The other call is the SIP side's to end.
                FxsState::Recall => (false, false, Some(Command::StopRing)),
                FxsState::Holding => (false, false, None),
                FxsState::Idle
                | FxsState::Indicating
                | FxsState::Collecting
                | FxsState::Setting
                | FxsState::Disconnected => (false, false, None),
            },
            Machine::Fxo(m) => match m.state() {
                FxoState::Idle | FxoState::Alerted | FxoState::Ringing { .. } => {
                    (false, false, None)
                }
                FxoState::Pin { .. } | FxoState::Collecting | FxoState::Refused => {
                    (false, false, Some(Command::Release))
                }
                FxoState::Seized | FxoState::Dialled => (true, false, Some(Command::Release)),
                FxoState::Calling | FxoState::Talking => (false, true, Some(Command::Release)),
            },
        };
        if offered {
            self.outputs.push_back(Output::Sip(SipIntent::Reject(503)));
        } else if ours {
            self.outputs.push_back(Output::Sip(SipIntent::Hangup));
        }
        self.outputs.extend(line.map(Output::Card));
        if self.bridge != BridgeState::Off {
            self.media_out(MediaCommand::Stop);
            self.bridge = BridgeState::Off;
        }
    }

    /// Turns the machine's outputs into the port's and keeps the bridge where the line is.
    fn absorb(&mut self, outputs: Vec<call::Output>) {
        for o in outputs {
            match o {
                call::Output::Line(c) => self.outputs.push_back(Output::Card(c)),
                call::Output::Sip(SipIntent::Swap) => {
                    // The phone leaves this far end (held now, or gone): the line alone
                    // until the SIP side gives the other call's media.
                    if matches!(self.bridge, BridgeState::Remote(_)) {
                        self.control(self.remote_control(None));
                        self.bridge = BridgeState::Local;
                    }
                    self.media = None;
                    self.outputs.push_back(Output::Sip(SipIntent::Swap));
                }
                call::Output::Sip(i) => self.outputs.push_back(Output::Sip(i)),
                call::Output::SendEvent(code) => {
                    self.control(Control::SendEvent {
                        code,
                        duration_ms: EVENT_MS,
                    });
                }
                call::Output::Tone(t) => {
                    self.ensure_bridge();
                    self.tone = t;
                    self.control(Control::Tone(t));
                }
                call::Output::SendCallerId(info) => {
                    self.ensure_bridge();
                    self.control(Control::CallerId(info));
                }
                call::Output::SendCallWaitingId(info) => {
                    self.control(Control::CallWaitingId(info));
                }
                call::Output::SendMessageWaiting(on) => {
                    self.ensure_bridge();
                    self.control(Control::MessageWaiting(on));
                }
                call::Output::DialDtmf(d) => {
                    self.ensure_bridge();
                    self.control(Control::DialDtmf(d));
                }
                call::Output::Media(MediaCmd::Start) => {
                    self.connected = true;
                    self.detach = false;
                    match self.media {
                        Some(m) => self.connect(m),
                        None => self.ensure_bridge(),
                    }
                }
                call::Output::Media(MediaCmd::Split) => {
                    if self.bridge != BridgeState::Off {
                        self.control(Control::Join(None));
                    }
                }
                call::Output::Media(MediaCmd::Stop) => {
                    self.connected = false;
                    self.detach =
                        matches!(self.bridge, BridgeState::Remote(_) | BridgeState::Fax(_));
                }
            }
        }
        if self.machine.is_idle() {
            let listening = self.monitor && self.bridge == BridgeState::Local;
            if self.bridge != BridgeState::Off && !listening {
                self.media_out(MediaCommand::Stop);
                self.bridge = BridgeState::Off;
            }
            if self.monitor && self.bridge == BridgeState::Off {
                // A fresh bridge (new identifiers) listens to the idle line.
                self.tone = ProgressTone::Silence;
                self.start_bridge(None);
            }
            self.detach = false;
            self.connected = false;
            self.media = None;
            self.tone = ProgressTone::Silence;
            self.fax_offered = false;
        } else {
            self.ensure_bridge();
            if std::mem::take(&mut self.detach) {
                self.control(self.remote_control(None));
                self.bridge = BridgeState::Local;
            }
        }
    }

    fn media_out(&mut self, c: MediaCommand) {
        self.outputs.push_back(Output::Media(c));
    }

    fn control(&mut self, c: Control) {
        self.media_out(MediaCommand::Control(c));
    }

    /// Sends media to `m`: retargets the running bridge (the line side, e.g. DTMF being
    /// dialled into an FXO line, carries on), or starts one towards it.
    fn connect(&mut self, m: MediaParams) {
        match self.bridge {
            BridgeState::Remote(now) if now == m => {}
            BridgeState::Off => self.start_bridge(Some(m)),
            BridgeState::Local | BridgeState::Remote(_) | BridgeState::Fax(_) => {
                self.control(self.remote_control(Some(m)));
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
            srtp: codec.and_then(|c| c.srtp),
        }
    }

    /// A fax or modem signal on the line: the answering fax's V.21 flags (its first T.30
    /// frame, DIS) move a call in audio to T.38 when the port relays faxes, asked once
    /// per call. Only the line's own fax triggers it, and only the answering machine's
    /// control channel: CNG or a modem's answer tone could be a data modem's call, which
    /// T.38 would break, and one side asking avoids re-INVITE glare.
    fn line_modem_tone(&mut self, tone: ModemTone) {
        if tone == ModemTone::V21Preamble
            && self.fax == FaxMode::T38
            && !self.fax_offered
            && self.machine.is_talking()
            && matches!(self.bridge, BridgeState::Remote(_))
        {
            self.fax_offered = true;
            self.outputs.push_back(Output::Sip(SipIntent::OfferFax));
        }
    }

    fn ensure_bridge(&mut self) {
        if self.bridge == BridgeState::Off {
            self.start_bridge(None);
        }
    }

    fn start_bridge(&mut self, media: Option<MediaParams>) {
        self.media_out(MediaCommand::Start(media));
        self.bridge = match media {
            Some(m) => BridgeState::Remote(m),
            None => BridgeState::Local,
        };
        if self.tone != ProgressTone::Silence {
            self.control(Control::Tone(self.tone));
        }
    }
}

/// The machine's input for a bridge report (none for a character that is no digit, the
/// audio having failed, which only the port notes, or voice-band data, which the media
/// path handles itself and the log records).
fn report_input(report: Report) -> Option<call::Input> {
    Some(match report {
        Report::InbandDigit(c) => call::Input::InbandDigit(Digit::from_char(c)?),
        Report::LineTone(t) => call::Input::Audio(LineAudio::Tone(t)),
        Report::LineActivity => call::Input::Audio(LineAudio::Activity),
        Report::LineSpeech => call::Input::Audio(LineAudio::Speech),
        Report::CallerId(c) => call::Input::CallerId(c),
        Report::CallerIdAlert => call::Input::Audio(LineAudio::CallerIdAlert),
        Report::EventReceived(code) => call::Input::FarEvent(code),
        Report::AudioFailed
        | Report::VoiceBandData(_)
        | Report::LineModemTone(_)
        | Report::FaxUnavailable => return None,
    })
}

#[cfg(test)]
mod tests;
