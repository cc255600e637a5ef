//! Caller-ID FSK at 1200 bit/s: Bell 202 (mark 1200 Hz, space 2200 Hz; Telcordia
//! GR-30-CORE) and ITU-T V.23 as used by ETSI EN 300 659-1 (mark 1300 Hz, space 2100 Hz).
//!
//! The transmitter sends the channel seizure (alternating bits), the mark signal, then
//! the message bytes as asynchronous 8N1 characters, LSB first, phase-continuous. The
//! receiver is a non-coherent quadrature correlator over one bit time per tone, a UART
//! that re-times on every start bit, and a message assembler that checks the checksum.

use super::message::{CallerIdError, MAX_MESSAGE, Message};
use crate::tone::oscillator::{SAMPLE_RATE, dbm0_amplitude};

/// Bit rate of both standards.
pub const BAUD: u32 = 1200;

/// Which FSK modem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FskStandard {
    /// Bell 202 (North America, GR-30-CORE).
    Bell202,
    /// V.23 (ETSI EN 300 659-1).
    V23,
}

impl FskStandard {
    /// (mark, space) in Hz.
    pub const fn tones(self) -> (u32, u32) {
        match self {
            FskStandard::Bell202 => (1200, 2200),
            FskStandard::V23 => (1300, 2100),
        }
    }
}

/// Transmitter settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FskParams {
    pub standard: FskStandard,
    /// Channel seizure: alternating 0/1 bits (GR-30 and EN 300 659-1: 300).
    pub seizure_bits: u16,
    /// Mark signal before the message (GR-30: 180; EN 300 659-1: 180 ± 25).
    pub mark_bits: u16,
    /// Mark bits after the checksum.
    pub trailing_bits: u16,
    /// Transmit level, dBm0.
    pub level_dbm0: f32,
}

impl FskParams {
    /// The standard's preamble at -13 dBm0.
    pub fn new(standard: FskStandard) -> Self {
        FskParams {
            standard,
            seizure_bits: 300,
            mark_bits: 180,
            trailing_bits: 10,
            level_dbm0: -13.0,
        }
    }
}

/// Sends one caller-ID message.
#[derive(Clone, Debug)]
pub struct FskTransmitter {
    p: FskParams,
    msg: [u8; MAX_MESSAGE],
    msg_len: usize,
    /// Index of the bit being sent over the whole burst.
    bit: usize,
    total_bits: usize,
    /// Sub-bit timing: adds BAUD per sample, a bit ends at SAMPLE_RATE.
    tick: u32,
    phase: u32,
    amp: f32,
}

impl FskTransmitter {
    /// Prepares to send `message` (a complete message, as from `CallerIdRepr::emit`).
    pub fn new(params: FskParams, message: &[u8]) -> Result<Self, CallerIdError> {
        let m = Message::new_checked(message)?;
        Self::with_bytes(params, m.as_bytes())
    }

    /// Sends `bytes` as they are, unchecked (other message types, receiver tests).
    pub fn with_bytes(params: FskParams, bytes: &[u8]) -> Result<Self, CallerIdError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(CallerIdError::BufferTooSmall(MAX_MESSAGE));
        }
        let mut msg = [0u8; MAX_MESSAGE];
        msg[..bytes.len()].copy_from_slice(bytes);
        let total_bits = usize::from(params.seizure_bits)
            + usize::from(params.mark_bits)
            + 10 * bytes.len()
            + usize::from(params.trailing_bits);
        Ok(FskTransmitter {
            p: params,
            msg,
            msg_len: bytes.len(),
            bit: 0,
            total_bits,
            tick: 0,
            phase: 0,
            amp: dbm0_amplitude(params.level_dbm0),
        })
    }

    /// True when every bit has been sent.
    pub fn is_done(&self) -> bool {
        self.bit >= self.total_bits
    }

    fn bit_value(&self, i: usize) -> bool {
        let seize = usize::from(self.p.seizure_bits);
        let mark = usize::from(self.p.mark_bits);
        if i < seize {
            // GR-30: the seizure starts with a 0 (space) and alternates.
            return i % 2 == 1;
        }
        let i = i - seize;
        if i < mark {
            return true;
        }
        let i = i - mark;
        if i < 10 * self.msg_len {
            let (byte, pos) = (self.msg[i / 10], i % 10);
            return match pos {
                0 => false,
                9 => true,
                k => (byte >> (k - 1)) & 1 == 1,
            };
        }
        true
    }

    /// Fills `out`; returns how many samples carry signal (the rest are zeroed).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let (mark, space) = self.p.standard.tones();
        let step = |hz: u32| ((u64::from(hz) << 32) / u64::from(SAMPLE_RATE)) as u32;
        let (sm, ss) = (step(mark), step(space));
        let mut n = 0;
        for o in out.iter_mut() {
            if self.is_done() {
                *o = 0;
                continue;
            }
            let angle = f64::from(self.phase) * (core::f64::consts::TAU / 4_294_967_296.0);
            *o = (angle.sin() as f32 * self.amp).round() as i16;
            self.phase = self
                .phase
                .wrapping_add(if self.bit_value(self.bit) { sm } else { ss });
            self.tick += BAUD;
            if self.tick >= SAMPLE_RATE {
                self.tick -= SAMPLE_RATE;
                self.bit += 1;
            }
            n += 1;
        }
        n
    }
}

/// Mark bits that must precede the message type byte (the mark signal is 180 bits in
/// GR-30 and at least 55 in EN 300 659-1); keeps noise and line transients from starting
/// a message.
const MIN_MARK_BITS: u32 = 40;

/// Correlator window: one bit time (6.67 samples) rounded up.
const WIN: usize = 7;
/// Length of the reference tables: a common period of all four tones at 8 kHz.
const TABLE: usize = 80;
/// Q14 scale of the reference tables.
const Q: f64 = 16384.0;

#[derive(Clone, Copy, Debug)]
struct Correlator {
    cos: [i16; TABLE],
    sin: [i16; TABLE],
    ring_i: [i32; WIN],
    ring_q: [i32; WIN],
    sum_i: i32,
    sum_q: i32,
}

impl Correlator {
    fn new(hz: u32) -> Self {
        let mut cos = [0i16; TABLE];
        let mut sin = [0i16; TABLE];
        for n in 0..TABLE {
            let a = core::f64::consts::TAU * f64::from(hz) * n as f64 / f64::from(SAMPLE_RATE);
            cos[n] = (a.cos() * Q).round() as i16;
            sin[n] = (a.sin() * Q).round() as i16;
        }
        Correlator {
            cos,
            sin,
            ring_i: [0; WIN],
            ring_q: [0; WIN],
            sum_i: 0,
            sum_q: 0,
        }
    }

    /// Adds one sample (exact integer running sums, so no drift over hours).
    #[inline]
    fn push(&mut self, x: i16, t: usize, slot: usize) -> i64 {
        let i = (i32::from(x) * i32::from(self.cos[t])) >> 14;
        let q = (i32::from(x) * i32::from(self.sin[t])) >> 14;
        self.sum_i += i - self.ring_i[slot];
        self.sum_q += q - self.ring_q[slot];
        self.ring_i[slot] = i;
        self.ring_q[slot] = q;
        i64::from(self.sum_i).pow(2) + i64::from(self.sum_q).pow(2)
    }
}

/// What the receiver reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FskEvent<'a> {
    /// A complete message whose checksum is right.
    Message(Message<'a>),
    /// A message was received but its checksum is wrong.
    ChecksumError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Uart {
    /// Waiting for a mark-to-space edge.
    Hunt,
    /// Start edge seen `age` samples ago (in units of 1/BAUD samples).
    Frame {
        age: u32,
        bits: u16,
        nbit: u8,
        acc: i64,
    },
}

/// Caller-ID FSK receiver and message assembler (FXO side). No allocation.
#[derive(Clone, Debug)]
pub struct FskReceiver {
    mark: Correlator,
    space: Correlator,
    t: usize,
    slot: usize,
    last_mark: bool,
    uart: Uart,
    msg: [u8; MAX_MESSAGE],
    msg_len: usize,
    /// Samples since the last byte (message timeout).
    idle: u32,
    /// Consecutive samples of mark with carrier.
    mark_run: u32,
    /// Whether the character being received followed a mark signal.
    after_mark: bool,
    min_power: i64,
}

impl FskReceiver {
    pub fn new(standard: FskStandard) -> Self {
        let (m, s) = standard.tones();
        // Carrier squelch at about -45 dBm0: the correlator magnitude of a tone of
        // peak a over WIN samples is about a·WIN/2.
        let a = f64::from(dbm0_amplitude(-45.0));
        let mag = a * WIN as f64 / 2.0;
        FskReceiver {
            mark: Correlator::new(m),
            space: Correlator::new(s),
            t: 0,
            slot: 0,
            last_mark: true,
            uart: Uart::Hunt,
            msg: [0; MAX_MESSAGE],
            msg_len: 0,
            idle: 0,
            mark_run: 0,
            after_mark: false,
            min_power: (mag * mag) as i64,
        }
    }

    /// Consumes samples, reporting each complete message.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(FskEvent<'_>)) {
        let samples_per_bit = SAMPLE_RATE;
        for &x in samples {
            let pm = self.mark.push(x, self.t, self.slot);
            let ps = self.space.push(x, self.t, self.slot);
            self.t = (self.t + 1) % TABLE;
            self.slot = (self.slot + 1) % WIN;
            let carrier = pm + ps >= self.min_power;
            let is_mark = pm >= ps;
            self.idle = self.idle.saturating_add(1);
            if self.msg_len > 0 && self.idle > 8 * 8000 / 1200 * 10 {
                // More than ~8 character times of silence inside a message: give up.
                self.msg_len = 0;
            }
            match self.uart {
                Uart::Hunt => {
                    if carrier && self.last_mark && !is_mark {
                        self.after_mark = self.mark_run >= MIN_MARK_BITS * SAMPLE_RATE / BAUD;
                        self.uart = Uart::Frame {
                            age: 0,
                            bits: 0,
                            nbit: 0,
                            acc: 0,
                        };
                    }
                }
                Uart::Frame {
                    age,
                    bits,
                    nbit,
                    acc,
                } => {
                    let age = age + BAUD;
                    // Bit k (0 = start) is centred (k + 0.5) bit times after the edge; the
                    // decision sums the discriminator over the three samples ending there (the
                    // edge is seen about half a window late, which this offsets).
                    let centre = (2 * u32::from(nbit) + 1) * samples_per_bit / 2;
                    let acc = if age + 2 * BAUD >= centre {
                        acc + if carrier { pm - ps } else { -1 }
                    } else {
                        acc
                    };
                    if age >= centre {
                        let b = acc > 0;
                        match nbit {
                            0 if b => self.uart = Uart::Hunt,
                            9 => {
                                self.uart = Uart::Hunt;
                                if b {
                                    self.byte((bits & 0xFF) as u8, &mut on_event);
                                }
                            }
                            _ => {
                                let bits = if nbit >= 1 && b {
                                    bits | 1 << (nbit - 1)
                                } else {
                                    bits
                                };
                                self.uart = Uart::Frame {
                                    age,
                                    bits,
                                    nbit: nbit + 1,
                                    acc: 0,
                                };
                            }
                        }
                    } else {
                        self.uart = Uart::Frame {
                            age,
                            bits,
                            nbit,
                            acc,
                        };
                    }
                }
            }
            self.last_mark = is_mark || !carrier;
            self.mark_run = if carrier && is_mark {
                self.mark_run.saturating_add(1)
            } else {
                0
            };
        }
    }

    fn byte(&mut self, b: u8, on_event: &mut impl FnMut(FskEvent<'_>)) {
        self.idle = 0;
        if self.msg_len == 0 && (!self.after_mark || !matches!(b, 0x04 | 0x06 | 0x80 | 0x82)) {
            return;
        }
        self.msg[self.msg_len] = b;
        self.msg_len += 1;
        if self.msg_len >= 2 {
            let need = usize::from(self.msg[1]) + 3;
            if self.msg_len == need {
                self.msg_len = 0;
                on_event(match Message::new_checked(&self.msg[..need]) {
                    Ok(m) => FskEvent::Message(m),
                    Err(_) => FskEvent::ChecksumError,
                });
            }
        }
    }
}
