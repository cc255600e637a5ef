//! What goes into and comes out of a port machine. Inputs are line-card events from hal,
//! digits detected in the port's audio, far-audio observations from the media bridge and
//! call events from the SIP user agent; outputs are line-card commands, call-progress tones,
//! SIP intents for the user agent, media control, RFC 4733 events and caller-ID
//! transmission.

use tipring_hal::model::{Command, Digit, Event, RingCadence};

/// Who is calling, as the SIP side knows it (display name and user part of
/// P-Asserted-Identity or From) or as FXO caller-ID decoding found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerInfo {
    pub name: Option<String>,
    pub number: Option<String>,
}

/// Call events from the SIP user agent, already stripped of SIP detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEvent {
    /// An INVITE for this port; `ring`: the distinctive cadence its `Alert-Info` picked
    /// (FXS), else the country's.
    IncomingCall {
        caller: CallerInfo,
        number: String,
        ring: Option<RingCadence>,
    },
    /// 100 Trying or another 1xx without meaning for the line.
    Proceeding,
    /// 180 Ringing without early media.
    Ringing,
    /// 183 (or 180) with SDP: the far end's audio is the progress indication.
    EarlyMedia,
    /// 200 OK to our INVITE (the ACK is the user agent's business).
    Answered,
    /// A final failure response to our INVITE.
    Rejected(u16),
    /// BYE from the far end.
    RemoteHangup,
    /// CANCEL of the incoming call before we answered.
    Cancelled,
    /// The answer to [`SipIntent::SetService`]: applied, or refused (a forwarding number
    /// that does not route).
    ServiceSet(bool),
    /// FXS: a second call for the port while its phone talks (call waiting): the phone
    /// hears the call-waiting tone; the SIP side has sent 180 Ringing.
    CallWaiting { caller: CallerInfo },
    /// FXS: the port's other call (waiting, or held by a flash) ended: the waiting caller
    /// gave up or the held party hung up.
    WaitingEnded,
    /// FXS: the transfer the phone asked for by hanging up failed (the held party
    /// refused it, or its call to the target failed): the held call is back.
    TransferFailed,
    /// Messages wait (or no longer) in the port's voicemail (a message-summary NOTIFY,
    /// RFC 3842).
    MessageWaiting(bool),
}

/// Call-progress tones played to the line (ITU-T E.180 / the country profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressTone {
    Dial,
    Ringback,
    Busy,
    Reorder,
    CallWaiting,
    /// A feature code was accepted; heard on a line, the stutter dial tone of an exchange
    /// (the dial tone interrupted 100/100 ms).
    Confirm,
    /// No tone (stop whatever plays).
    Silence,
}

/// What the line's audio looks like, reported by the media bridge's detectors (FXO far
/// hangup by tone or silence, dial-tone wait before dialling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAudio {
    /// A call-progress tone heard on the line.
    Tone(ProgressTone),
    /// Speech or other energy heard from the line (resets the silence timer).
    Activity,
    /// A voice, not a call-progress tone (answer detection after dialling).
    Speech,
    /// The exchange's dual-tone alert (DT-AS, ETSI EN 300 659-1 §6.1.2): caller ID follows
    /// on the idle line before the first ring.
    CallerIdAlert,
}

/// One input to a port machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An event from the line card (hook, ring, loop current, polarity, card digits).
    Line(Event),
    /// A DTMF digit detected in the port's captured audio.
    InbandDigit(Digit),
    /// What the bridge hears on the line.
    Audio(LineAudio),
    /// FXO: caller ID decoded from the line between rings.
    CallerId(CallerInfo),
    /// The SIP side.
    Sip(SipEvent),
    /// An RFC 4733 event the far end began in the call's RTP (digits are already played
    /// to the line by the bridge; the machine acts on the others, such as a hook flash).
    FarEvent(u8),
}

/// What the port machine asks the SIP user agent to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipIntent {
    /// Send an INVITE to this number or URI; `hide_caller_id` overrides the port's
    /// caller-ID blocking for this call (a feature code dialled before the number).
    PlaceCall {
        target: String,
        caller: CallerInfo,
        hide_caller_id: Option<bool>,
    },
    /// Change a phone service of the port (a feature code); answered by
    /// [`SipEvent::ServiceSet`].
    SetService(super::Service),
    /// Send 180 Ringing for the incoming call.
    Alerting,
    /// Send 183 with our SDP (FXO: the caller hears the line's progress).
    EarlyMedia,
    /// Send 200 OK to the incoming call.
    Answer,
    /// Refuse the incoming call with this final status (486, 480, 403, ...).
    Reject(u16),
    /// End the call: CANCEL before the answer, BYE after.
    Hangup,
    /// FXS call waiting, the phone's flash: hold the current call (re-INVITE with
    /// `a=sendonly`, RFC 3264 §8.4 and RFC 6337 §5.3) and make the other one current,
    /// answering it if it still waits or taking it back (`a=sendrecv`) if it was held.
    /// Without a current call (the phone hung up on it) the other one alone is taken.
    Swap,
    /// FXS: end the other call (the waiting one with this final status, a held one with
    /// BYE).
    EndWaiting(u16),
    /// FXS, the phone's flash in a call: hold it (re-INVITE with `a=sendonly`) and keep
    /// it aside while the phone dials another number (a consultation, RFC 5589 §7).
    Hold,
    /// FXS, the phone's flash while consulting: take the held call back and join it to
    /// the current one (three-way calling: the bridge mixes the three parties).
    Conference,
    /// FXS, the phone hung up while consulting: transfer the held party to the
    /// consultation's target (REFER, RFC 3515; with `Replaces` when the consultation was
    /// answered, RFC 3891), then let both calls go.
    Transfer,
    /// Move the call's media to T.38 (re-INVITE offering `image/t38`): the line's fax
    /// has answered.
    OfferFax,
}

/// Media bridge control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCmd {
    /// Start moving audio between the port and RTP.
    Start,
    /// Stop it.
    Stop,
    /// A three-way call is over: the bridge carries the current call alone again.
    Split,
}

/// One output of a port machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A command for the line card.
    Line(Command),
    /// The tone to play to the line (replaces any other).
    Tone(ProgressTone),
    /// The SIP side.
    Sip(SipIntent),
    /// The media bridge.
    Media(MediaCmd),
    /// Transmit caller ID (FSK, on-hook) to the phone now.
    SendCallerId(CallerInfo),
    /// Caller ID on call waiting to the phone in its call now (CAS, the phone's
    /// acknowledgement, FSK).
    SendCallWaitingId(CallerInfo),
    /// Transmit the visual message-waiting indication (FSK, on-hook) to the phone now.
    SendMessageWaiting(bool),
    /// Dial these digits as DTMF tones into the line's audio (FXO).
    DialDtmf(String),
    /// Send this RFC 4733 telephone-event in the call's RTP (16 = hook flash, RFC 4733
    /// §3.2 table).
    SendEvent(u8),
}

/// RFC 4733 §3.2: event code of a hook flash.
pub const EVENT_FLASH: u8 = 16;

/// The dialled character of a line-card digit event, pulse count or detected digit.
pub fn digit_char(input: &Input) -> Option<char> {
    match input {
        Input::Line(Event::Digit { digit, .. }) | Input::InbandDigit(digit) => {
            Some(digit.as_char())
        }
        // Decadic: ten pulses dial 0 (ITU-T Q.23 numbering of the dial).
        Input::Line(Event::PulseDigit { digit }) => match digit {
            1..=9 => char::from_digit(u32::from(*digit), 10),
            0 | 10 => Some('0'),
            _ => None,
        },
        _ => None,
    }
}
