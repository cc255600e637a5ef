//! Fax and modem signals in a line's audio, so a call carrying data can be told from
//! speech (and the echo canceller, concealment and adaptive jitter buffer, which would
//! corrupt it, stepped aside):
//!
//! - CNG, the fax calling tone: 1100 Hz (T.30 § 5.2);
//! - the answer tone at 2100 Hz: CED of a fax (T.30), ANS of a modem (V.25), ANSam
//!   amplitude-modulated at 15 Hz (V.8), and the phase reversals every 450 ms of /ANS and
//!   /ANSam;
//! - the T.30 preamble: HDLC flags in V.21 channel 2 FSK.
//!
//! [`ModemToneDetector`] takes audio in frames of any size and reports each signal's
//! start and end (in samples), like the DTMF detector. No allocation.

pub mod block;
pub mod v21;
pub mod watch;

use crate::tone::oscillator::dbm0_amplitude;
use block::{BLOCK, Bin};
use v21::{Preamble, V21Flags};
use watch::{Change, Watch};

/// Share of a block's energy at the two V.21 frequencies that wakes the demodulator.
const V21_SHARE: f32 = 0.4;

/// A fax or modem signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModemTone {
    /// 1100 Hz: a fax machine calling.
    Cng,
    /// 2100 Hz: a fax or modem answering (CED / ANS).
    Ans,
    /// 2100 Hz amplitude-modulated at 15 Hz: a V.8 modem answering (ANSam).
    AnsAm,
    /// HDLC flags in V.21 channel 2: T.30 fax control.
    V21Preamble,
}

impl ModemTone {
    /// A short name, as `tipring detect` prints it.
    pub fn name(self) -> &'static str {
        match self {
            ModemTone::Cng => "CNG",
            ModemTone::Ans => "CED/ANS",
            ModemTone::AnsAm => "ANSam",
            ModemTone::V21Preamble => "V.21 flags",
        }
    }
}

/// What the detector reports; times are sample indices from the first sample fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModemEvent {
    /// `tone` began at `at` (reported once it has been held long enough to be sure).
    Start { tone: ModemTone, at: u64 },
    /// `tone`, begun at `start`, lasted `duration` samples.
    End {
        tone: ModemTone,
        start: u64,
        duration: u64,
    },
    /// The answer tone's phase reversed (/ANS, /ANSam; G.165's echo-canceller disabler).
    PhaseReversal { at: u64 },
}

/// The fax and modem signal detector of one direction of a line.
#[derive(Debug, Clone)]
pub struct ModemToneDetector {
    cng: Watch,
    answer: Watch,
    /// What the answer tone was reported as.
    answer_kind: ModemTone,
    v21: V21Flags,
    /// The V.21 frequencies, measured per block to decide whether the (per-sample)
    /// demodulator runs at all.
    mark: Bin,
    space: Bin,
    /// The last block had energy at the V.21 frequencies.
    carrier: bool,
    block: [f32; BLOCK],
    fill: usize,
    /// Samples fed.
    n: u64,
}

impl Default for ModemToneDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ModemToneDetector {
    pub fn new() -> ModemToneDetector {
        ModemToneDetector {
            cng: Watch::new(1100.0),
            answer: Watch::new(2100.0),
            answer_kind: ModemTone::Ans,
            v21: V21Flags::new(),
            mark: Bin::new(1650.0),
            space: Bin::new(1850.0),
            carrier: false,
            block: [0.0; BLOCK],
            fill: 0,
            n: 0,
        }
    }

    /// Whether any of the signals is on now.
    pub fn data(&self) -> bool {
        self.cng.is_on() || self.answer.is_on() || self.v21.is_on()
    }

    /// Feeds samples; calls `on_event` for each event, in order.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(ModemEvent)) {
        for &s in samples {
            self.block[self.fill] = f32::from(s);
            self.fill += 1;
            self.n += 1;
            if self.fill == BLOCK {
                self.fill = 0;
                self.blocks(&mut on_event);
            }
        }
    }

    /// The V.21 demodulator over `samples` (or past them, when neither they nor the block
    /// before them carry energy at its frequencies: speech rarely does, so the per-sample
    /// work is mostly skipped).
    fn v21(&mut self, samples: &[f32], run: bool, on_event: &mut impl FnMut(ModemEvent)) {
        let n = self.n;
        let mut report = |p: Preamble| {
            on_event(match p {
                Preamble::Began { at } => ModemEvent::Start {
                    tone: ModemTone::V21Preamble,
                    at,
                },
                Preamble::Ended { at, end } => ModemEvent::End {
                    tone: ModemTone::V21Preamble,
                    start: at,
                    duration: end.saturating_sub(at).min(n),
                },
            })
        };
        if run {
            for &x in samples {
                self.v21.sample(x, &mut report);
            }
        } else {
            self.v21.skip(samples.len(), &mut report);
        }
    }

    /// Ends what is going on at the end of the input, reporting its end.
    pub fn finish(&mut self, mut on_event: impl FnMut(ModemEvent)) {
        let end = self.n;
        let rest = self.block;
        let carrier = self.carrier;
        self.v21(&rest[..self.fill], carrier, &mut on_event);
        self.fill = 0;
        self.v21.finish(&mut |p| {
            if let Preamble::Ended { at, end } = p {
                on_event(ModemEvent::End {
                    tone: ModemTone::V21Preamble,
                    start: at,
                    duration: end - at,
                });
            }
        });
        for (watch, tone) in [
            (&mut self.cng, ModemTone::Cng),
            (&mut self.answer, self.answer_kind),
        ] {
            if let Some(held_ms) = watch.finish() {
                let duration = u64::from(held_ms) * 8;
                on_event(ModemEvent::End {
                    tone,
                    start: end.saturating_sub(duration),
                    duration,
                });
            }
        }
    }

    /// The block just filled, through the CNG and answer-tone watches.
    fn blocks(&mut self, on_event: &mut impl FnMut(ModemEvent)) {
        let end = self.n;
        let (m, s) = (
            self.mark.measure(&self.block),
            self.space.measure(&self.block),
        );
        let now = m.purity + s.purity >= V21_SHARE
            && m.amplitude.max(s.amplitude) >= dbm0_amplitude(watch::MIN_DBM0);
        let block = self.block;
        self.v21(&block, now || self.carrier, on_event);
        self.carrier = now;
        let ms = |held_ms: u32| u64::from(held_ms) * 8;
        self.cng.block(&self.block, &mut |c| match c {
            Change::Began { held_ms, .. } => on_event(ModemEvent::Start {
                tone: ModemTone::Cng,
                at: end.saturating_sub(ms(held_ms)),
            }),
            Change::Ended { held_ms } => on_event(ModemEvent::End {
                tone: ModemTone::Cng,
                start: end.saturating_sub(ms(held_ms) + ms(30)),
                duration: ms(held_ms),
            }),
            Change::Reversed => {}
        });
        let kind = &mut self.answer_kind;
        self.answer.block(&self.block, &mut |c| match c {
            Change::Began { held_ms, am } => {
                *kind = if am { ModemTone::AnsAm } else { ModemTone::Ans };
                on_event(ModemEvent::Start {
                    tone: *kind,
                    at: end.saturating_sub(ms(held_ms)),
                });
            }
            Change::Ended { held_ms } => on_event(ModemEvent::End {
                tone: *kind,
                start: end.saturating_sub(ms(held_ms) + ms(30)),
                duration: ms(held_ms),
            }),
            Change::Reversed => on_event(ModemEvent::PhaseReversal {
                at: end.saturating_sub(BLOCK as u64),
            }),
        });
    }
}

#[cfg(test)]
pub(crate) mod tests;
