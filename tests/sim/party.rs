//! Who is on each line of a simulated card: a person at the phone of an FXS port, the
//! exchange (and the people beyond it) on an FXO line. Each speaks into the port's captured
//! audio with a voice of its own (one sine whose frequency names the speaker) and listens
//! to what the port plays, counting the frames in which it hears each voice of the
//! simulation.

use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_hal::model::{Event, RingCadence};
use tipring_hal::sim::SimPort;
use tipring_media::dtmf::{DtmfDetector, DtmfDetectorConfig, DtmfEvent, DtmfGenerator, DtmfParams};
use tipring_media::goertzel;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{CountryProfile, ToneGenerator};

/// Level of every voice: well below DTMF (-9/-7 dBm0), above the activity threshold.
const VOICE_DBM0: f32 = -20.0;

/// A voice: one sine. The frequencies of the simulation keep clear of the DTMF groups,
/// the call-progress tones and Bell 202's 1200/2200 Hz.
pub struct Voice {
    osc: Oscillator,
}

impl Voice {
    pub fn new(hz: f32) -> Voice {
        Voice {
            osc: Oscillator::new(hz, dbm0_amplitude(VOICE_DBM0)),
        }
    }

    fn add(&mut self, f: &mut Frame) {
        for s in f.iter_mut() {
            *s = s.saturating_add(to_i16(self.osc.next_sample()));
        }
    }
}

/// What a listener heard: frames in which each voice of the simulation was present.
#[derive(Debug, Clone, Default)]
pub struct Ear {
    /// The voices listened for, and the frames each was heard in (while counting).
    pub heard: Vec<(f32, u32)>,
}

impl Ear {
    pub fn new(voices: &[f32]) -> Ear {
        Ear {
            heard: voices.iter().map(|&hz| (hz, 0)).collect(),
        }
    }

    /// Listens to one frame. A voice is present when its energy is within 10 dB of a
    /// clean voice's (the jitter buffer's concealment fades; a lost frame is silence).
    pub fn listen(&mut self, f: &Frame) {
        let a = dbm0_amplitude(VOICE_DBM0);
        // Goertzel energy of a full-frame sine of amplitude a: (a * N / 2)^2.
        let clean = (a * FRAME_SAMPLES as f32 / 2.0).powi(2);
        for (hz, n) in &mut self.heard {
            if goertzel::energy(*hz, f) >= clean / 10.0 {
                *n += 1;
            }
        }
    }

    /// Frames `hz` was heard in.
    pub fn frames_of(&self, hz: f32) -> u32 {
        self.heard
            .iter()
            .find(|(v, _)| *v == hz)
            .map_or(0, |(_, n)| *n)
    }
}

/// The person at a phone: speaks while off-hook, may dial DTMF into the mouthpiece.
pub struct Person {
    pub voice: Voice,
    dtmf: DtmfGenerator,
}

impl Person {
    pub fn new(hz: f32) -> Person {
        Person {
            voice: Voice::new(hz),
            dtmf: DtmfGenerator::new(DtmfParams::default()),
        }
    }

    /// Dials `digits` as tones into the mouthpiece (the card does not decode them: the
    /// gateway's in-band detector must).
    pub fn dial_tones(&mut self, digits: &str) {
        let _ = self.dtmf.push_str(digits);
    }

    /// What the phone sends to the card: the voice while off-hook, and the tones
    /// being dialled (alone, as a person is silent while dialling).
    pub fn speak(&mut self, card: &SimPort) -> Frame {
        let mut f = [0; FRAME_SAMPLES];
        let SimPort::Fxs(phone) = card else {
            return f;
        };
        if !phone.is_off_hook() {
            return f;
        }
        if self.dtmf.is_idle() {
            self.voice.add(&mut f);
        } else {
            self.dtmf.fill(&mut f);
        }
        f
    }
}

/// Where the exchange is with the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExchangeState {
    /// Nothing on the line.
    Idle,
    /// Seized by the gateway: dial tone until a digit.
    DialTone,
    /// The number being dialled.
    Digits,
    /// Ringing the party the number reached; it answers at the given millisecond.
    Ringback { answer_at: Option<u32> },
    /// The far party (outgoing) or the caller (incoming, once the gateway seized) talks.
    Connected,
    /// The far party hung up; the exchange waits for the gateway to release.
    Cleared,
    /// Ringing the line for a caller beyond the exchange.
    RingingIn,
}

/// The exchange and the people beyond it, on an FXO line.
pub struct Exchange {
    pub state: ExchangeState,
    pub voice: Voice,
    /// Digits dialled into the line as tones so far (the pulse-dialled ones are the
    /// card model's `dialled`).
    pub digits: String,
    detector: DtmfDetector,
    dial_tone: ToneGenerator,
    ringback: ToneGenerator,
    /// How long the far party lets it ring before answering (`None`: never).
    pub answer_after_ms: Option<u32>,
    /// How long the far party talks before hanging up (`None`: until the gateway ends).
    pub talk_ms: Option<u32>,
    /// When the far party hangs up.
    hangup_at: Option<u32>,
    /// Digits the exchange waits for.
    number_len: usize,
}

impl Exchange {
    pub fn new(hz: f32, profile: &CountryProfile) -> Exchange {
        Exchange {
            state: ExchangeState::Idle,
            voice: Voice::new(hz),
            digits: String::new(),
            detector: DtmfDetector::new(DtmfDetectorConfig::default()),
            dial_tone: ToneGenerator::new(&profile.dial),
            ringback: ToneGenerator::new(&profile.ringback),
            answer_after_ms: None,
            talk_ms: None,
            hangup_at: None,
            number_len: 3,
        }
    }

    /// Whether a person beyond the exchange talks on the line now.
    pub fn speaking(&self) -> bool {
        self.state == ExchangeState::Connected
    }

    /// A caller beyond the exchange rings the line.
    pub fn ring_in(
        &mut self,
        now: u32,
        card: &mut SimPort,
        cadence: RingCadence,
        out: &mut Vec<Event>,
    ) {
        let SimPort::Fxo(line) = card else { return };
        if self.state != ExchangeState::Idle || line.seized {
            return;
        }
        line.ring(now, cadence, out);
        self.state = ExchangeState::RingingIn;
        self.hangup_at = None;
    }

    /// The person beyond the exchange hangs up: ringing stops, or loop current drops.
    pub fn hang_up(&mut self, card: &mut SimPort, out: &mut Vec<Event>) {
        let SimPort::Fxo(line) = card else { return };
        match self.state {
            ExchangeState::RingingIn => {
                line.stop_ring();
                self.state = ExchangeState::Idle;
            }
            ExchangeState::Connected | ExchangeState::Ringback { .. } => {
                line.far_hangup(out);
                self.state = ExchangeState::Cleared;
            }
            _ => {}
        }
    }

    /// When [`Exchange::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<u32> {
        match self.state {
            ExchangeState::Ringback { answer_at } => answer_at,
            ExchangeState::Connected => self.hangup_at,
            _ => None,
        }
    }

    /// Follows the line (seized, released) and the far party's timing.
    pub fn tick(&mut self, now: u32, card: &mut SimPort, out: &mut Vec<Event>) {
        let SimPort::Fxo(line) = card else { return };
        match self.state {
            ExchangeState::Idle if line.seized => {
                self.state = ExchangeState::DialTone;
                self.digits.clear();
                line.dialled.clear();
            }
            ExchangeState::RingingIn if line.seized => {
                self.state = ExchangeState::Connected;
                self.hangup_at = self.talk_ms.map(|t| now + t);
            }
            ExchangeState::RingingIn if !line.is_ringing() => self.state = ExchangeState::Idle,
            _ if !line.seized && !matches!(self.state, ExchangeState::RingingIn) => {
                self.state = ExchangeState::Idle;
            }
            ExchangeState::DialTone | ExchangeState::Digits => {
                let dialled = if line.dialled.is_empty() {
                    &self.digits
                } else {
                    &line.dialled
                };
                if !dialled.is_empty() {
                    self.state = ExchangeState::Digits;
                }
                if dialled.len() >= self.number_len {
                    self.state = ExchangeState::Ringback {
                        answer_at: self.answer_after_ms.map(|a| now + a),
                    };
                }
            }
            ExchangeState::Ringback {
                answer_at: Some(at),
            } if now >= at => {
                line.far_answer(out);
                self.state = ExchangeState::Connected;
                self.hangup_at = self.talk_ms.map(|t| now + t);
            }
            ExchangeState::Connected if self.hangup_at.is_some_and(|t| now >= t) => {
                self.hang_up(card, out);
            }
            _ => {}
        }
    }

    /// What the line sends to the card: the exchange's tones, or the far party's voice.
    pub fn speak(&mut self) -> Frame {
        let mut f = [0; FRAME_SAMPLES];
        match self.state {
            ExchangeState::DialTone => self.dial_tone.fill(&mut f),
            ExchangeState::Ringback { .. } => self.ringback.fill(&mut f),
            ExchangeState::Connected => self.voice.add(&mut f),
            _ => {}
        }
        f
    }

    /// What the card plays to the line: the exchange decodes the DTMF dialled into it.
    pub fn hear(&mut self, f: &Frame) {
        if !matches!(self.state, ExchangeState::DialTone | ExchangeState::Digits) {
            return;
        }
        let digits = &mut self.digits;
        self.detector.process(f, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                digits.push(digit.as_char());
            }
        });
    }
}
