//! The T.30 preamble: HDLC flags (0x7E) sent with V.21 channel 2 FSK at 300 bit/s
//! (ITU-T V.21: mark, binary 1, at 1650 Hz; space, binary 0, at 1850 Hz). Both fax
//! terminals send their T.30 control frames this way, each after one second of flags, so
//! flags on either side of a call mark it as fax even when CNG and CED were missed.
//!
//! Per sample: two sliding single-bin DFTs over about one bit give the mark and space
//! energies; their comparison is the bit; a clock recovered from the transitions samples
//! it mid-bit; a shift register finds the flags. [`FLAGS`] flags in a row, each eight bits
//! after the last, make a preamble.

use crate::tone::oscillator::{SAMPLE_RATE, dbm0_amplitude};

/// Mark and space of V.21 channel 2.
const MARK_HZ: f32 = 1650.0;
const SPACE_HZ: f32 = 1850.0;
/// Samples per bit at 300 bit/s.
const BIT: f32 = SAMPLE_RATE as f32 / 300.0;
/// The sliding window: 24 samples (3 ms), a little under one bit.
const WINDOW: usize = 24;
/// Consecutive flags that make a preamble.
pub const FLAGS: u8 = 3;
/// The weakest signal demodulated (T.30 senders are at about −10 dBm0).
const MIN_DBM0: f32 = -43.0;
/// Share of the window's energy the two tones must hold.
const PURITY: f32 = 0.6;
/// Bits without a flag that end a preamble (two flag times).
const END_BITS: u32 = 16;

/// What the detector found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    /// [`FLAGS`] flags in a row; the first began at sample `at`.
    Began { at: u64 },
    /// No flag for [`END_BITS`] bits (or the carrier went); it began at `at` and the
    /// last flag ended at sample `end`.
    Ended { at: u64, end: u64 },
}

/// A sliding single-bin DFT over [`WINDOW`] samples.
#[derive(Debug, Clone)]
struct Slide {
    step: (f32, f32),
    phase: (f32, f32),
    terms: [(f32, f32); WINDOW],
    sum: (f32, f32),
}

impl Slide {
    fn new(hz: f32) -> Slide {
        let w = core::f32::consts::TAU * hz / SAMPLE_RATE as f32;
        Slide {
            step: (w.cos(), -w.sin()),
            phase: (1.0, 0.0),
            terms: [(0.0, 0.0); WINDOW],
            sum: (0.0, 0.0),
        }
    }

    /// Adds sample `x` (the `n`th), drops the oldest; returns |X|².
    fn push(&mut self, n: usize, x: f32) -> f32 {
        let t = (x * self.phase.0, x * self.phase.1);
        let old = core::mem::replace(&mut self.terms[n % WINDOW], t);
        self.sum.0 += t.0 - old.0;
        self.sum.1 += t.1 - old.1;
        let (c, s) = self.phase;
        self.phase = (
            c * self.step.0 - s * self.step.1,
            c * self.step.1 + s * self.step.0,
        );
        // Keep the rotating phasor on the unit circle (and the sums exact) every window.
        if n % WINDOW == WINDOW - 1 {
            let norm = (self.phase.0 * self.phase.0 + self.phase.1 * self.phase.1).sqrt();
            self.phase = (self.phase.0 / norm, self.phase.1 / norm);
            self.sum = self
                .terms
                .iter()
                .fold((0.0, 0.0), |a, t| (a.0 + t.0, a.1 + t.1));
        }
        self.sum.0 * self.sum.0 + self.sum.1 * self.sum.1
    }
}

/// The V.21 channel 2 flag detector.
#[derive(Debug, Clone)]
pub struct V21Flags {
    mark: Slide,
    space: Slide,
    energy: [f32; WINDOW],
    window_energy: f32,
    n: u64,
    bit: Option<bool>,
    /// Samples until the next mid-bit sample.
    clock: f32,
    shift: u8,
    bits_since_flag: u32,
    run: u8,
    first_flag_at: u64,
    on: bool,
    /// Samples in a row without the carrier.
    dropout: u32,
}

impl Default for V21Flags {
    fn default() -> Self {
        Self::new()
    }
}

impl V21Flags {
    pub fn new() -> V21Flags {
        V21Flags {
            mark: Slide::new(MARK_HZ),
            space: Slide::new(SPACE_HZ),
            energy: [0.0; WINDOW],
            window_energy: 0.0,
            n: 0,
            bit: None,
            clock: BIT,
            shift: 0,
            // No flag yet: the first one starts a run.
            bits_since_flag: u32::MAX,
            run: 0,
            first_flag_at: 0,
            on: false,
            dropout: 0,
        }
    }

    /// Whether a preamble is going on.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Passes over `n` samples without demodulating them (no V.21 carrier in them): a
    /// preamble going on ends.
    pub fn skip(&mut self, n: usize, out: &mut impl FnMut(Preamble)) {
        self.lose(out);
        self.n += n as u64;
        self.dropout = 0;
    }

    /// Ends a preamble going on (the input ended).
    pub fn finish(&mut self, out: &mut impl FnMut(Preamble)) {
        self.lose(out);
    }

    fn lose(&mut self, out: &mut impl FnMut(Preamble)) {
        if self.on {
            let end = self.n;
            out(Preamble::Ended {
                at: self.first_flag_at,
                end,
            });
        }
        self.on = false;
        self.run = 0;
        self.bit = None;
        self.bits_since_flag = u32::MAX;
    }

    /// One sample.
    pub fn sample(&mut self, x: f32, out: &mut impl FnMut(Preamble)) {
        let i = (self.n % WINDOW as u64) as usize;
        let m = self.mark.push(i, x);
        let s = self.space.push(i, x);
        self.window_energy += x * x - core::mem::replace(&mut self.energy[i], x * x);
        if i == WINDOW - 1 {
            self.window_energy = self.energy.iter().sum();
        }
        self.n += 1;
        // A tone of amplitude A fills a bin with (A·W/2)² and the window with A²·W/2.
        let w = WINDOW as f32;
        let a = dbm0_amplitude(MIN_DBM0);
        let carrier = (m + s) * 2.0 / w >= PURITY * self.window_energy
            && (m + s) >= (a * w / 2.0) * (a * w / 2.0);
        if !carrier {
            // A bit's worth of samples without it: the carrier is gone.
            self.dropout += 1;
            if self.dropout as f32 >= BIT {
                self.lose(out);
            }
            return;
        }
        self.dropout = 0;
        let bit = m > s;
        if self.bit.is_some_and(|b| b != bit) {
            // A transition: the next sample point is half a bit on.
            self.clock = BIT / 2.0;
        }
        self.bit = Some(bit);
        self.clock -= 1.0;
        if self.clock > 0.0 {
            return;
        }
        self.clock += BIT;
        self.shift = (self.shift >> 1) | (u8::from(bit) << 7);
        self.bits_since_flag = self.bits_since_flag.saturating_add(1);
        if self.shift == 0x7E {
            if self.bits_since_flag == 8 {
                self.run = self.run.saturating_add(1);
            } else {
                self.run = 1;
                self.first_flag_at = self.n.saturating_sub((8.0 * BIT) as u64);
            }
            self.bits_since_flag = 0;
            if self.run == FLAGS && !self.on {
                self.on = true;
                out(Preamble::Began {
                    at: self.first_flag_at,
                });
            }
        } else if self.bits_since_flag > END_BITS {
            self.run = 0;
            if self.on {
                self.on = false;
                out(Preamble::Ended {
                    at: self.first_flag_at,
                    end: self.n,
                });
            }
        }
    }
}
