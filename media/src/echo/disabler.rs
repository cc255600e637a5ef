//! The tone disabler of ITU-T G.164/G.165 (as G.168 §§ 3.x and 8 require of a line echo
//! canceller): a modem or fax answering with 2100 Hz asks the network to step aside.
//!
//! - 2100 Hz held for [`HOLD_MS`] (the G.164 answer tone, CED of a fax): the non-linear
//!   processor goes off, so low-level data is not chopped; the canceller keeps working.
//! - 2100 Hz with a phase reversal (the G.165 answer tone, ANS/ANSam of V-series
//!   modems, reversals every 450 ms): the canceller is bypassed altogether.
//!
//! The disabler releases when the signal in both directions has stayed below
//! [`RELEASE_DBM0`] for [`RELEASE_MS`] (the end of the data session: G.164 §5.4.2).
//!
//! The tone is measured on each 10 ms block with one DFT bin ([`crate::modem::block`]).

use super::filter::BLOCK;
use crate::modem::block::{BLOCK_MS, Bin, Measure};
use crate::tone::oscillator::dbm0_amplitude;

/// The tone must be held this long before the disabler acts (G.164: 300 ± 100 ms).
pub const HOLD_MS: u32 = 300;
/// Silence in both directions this long releases the disabler (G.164: 250 ± 150 ms).
pub const RELEASE_MS: u32 = 250;
/// Below this level a direction counts as silent for the release.
pub const RELEASE_DBM0: f32 = -36.0;
/// The tone's frequency.
const TONE_HZ: f32 = 2100.0;
/// The weakest tone that is acted on (G.164: detect at −31 dBm0 and above).
const DETECT_DBM0: f32 = -31.0;
/// Share of a block's energy that must lie in the 2100 Hz bin (≈ −1 dB).
const PURITY: f32 = 0.8;

/// What the canceller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabled {
    /// Cancel and suppress as usual.
    No,
    /// G.164 tone: cancel, but the non-linear processor is off.
    Nlp,
    /// G.165 tone (with phase reversals): pass the signal through untouched.
    Canceller,
}

/// The 2100 Hz watch of one direction.
#[derive(Debug, Clone, Default)]
struct Watch {
    /// Milliseconds the tone has been present without a break.
    held_ms: u32,
    /// The previous two blocks' measures (a reversal may straddle one).
    last: [Option<Measure>; 2],
    reversed: bool,
}

impl Watch {
    /// One block: whether the tone is present, and whether it has reversed its phase.
    fn block(&mut self, x: &[f32; BLOCK], bin: &Bin) -> (bool, bool) {
        let m = bin.measure(x);
        if !m.is_tone(DETECT_DBM0, PURITY) {
            *self = Watch::default();
            return (false, false);
        }
        self.held_ms += BLOCK_MS;
        if self.last.iter().flatten().any(|b| m.reversed_from(b)) {
            self.reversed = true;
        }
        self.last = [Some(m), self.last[0]];
        (true, self.reversed)
    }
}

/// The G.164/G.165 tone disabler of one canceller, watching both directions.
#[derive(Debug, Clone)]
pub struct ToneDisabler {
    bin: Bin,
    far: Watch,
    near: Watch,
    state: Disabled,
    quiet_ms: u32,
}

impl Default for ToneDisabler {
    fn default() -> Self {
        Self::new()
    }
}

impl ToneDisabler {
    pub fn new() -> ToneDisabler {
        ToneDisabler {
            bin: Bin::new(TONE_HZ),
            far: Watch::default(),
            near: Watch::default(),
            state: Disabled::No,
            quiet_ms: 0,
        }
    }

    /// What is disabled now.
    pub fn state(&self) -> Disabled {
        self.state
    }

    /// One block of each direction; returns the state for this block.
    pub fn block(&mut self, far: &[f32; BLOCK], near: &[f32; BLOCK]) -> Disabled {
        for (watch, x) in [(&mut self.far, far), (&mut self.near, near)] {
            let (present, reversed) = watch.block(x, &self.bin);
            if present && watch.held_ms >= HOLD_MS {
                let now = if reversed {
                    Disabled::Canceller
                } else {
                    Disabled::Nlp
                };
                // A reversal can only deepen the disabling, never undo it.
                if self.state != Disabled::Canceller {
                    self.state = now;
                }
            }
        }
        if self.state != Disabled::No {
            let floor = dbm0_amplitude(RELEASE_DBM0);
            let limit = floor * floor / 2.0 * BLOCK as f32;
            let quiet = [far, near]
                .iter()
                .all(|x| x.iter().map(|v| v * v).sum::<f32>() < limit);
            self.quiet_ms = if quiet { self.quiet_ms + BLOCK_MS } else { 0 };
            if self.quiet_ms >= RELEASE_MS {
                self.state = Disabled::No;
                self.quiet_ms = 0;
            }
        }
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::oscillator::Oscillator;

    /// Blocks of 2100 Hz at -12 dBm0, the phase reversed every `reversal_ms` when given.
    fn answer_tone(ms: u32, reversal_ms: Option<u32>) -> Vec<[f32; BLOCK]> {
        let mut osc = Oscillator::new(TONE_HZ, dbm0_amplitude(-12.0));
        let mut sign = 1.0;
        let mut blocks = Vec::new();
        for b in 0..ms / BLOCK_MS {
            if let Some(r) = reversal_ms
                && b > 0
                && (b * BLOCK_MS) % r == 0
            {
                sign = -sign;
            }
            let mut x = [0.0; BLOCK];
            for s in &mut x {
                *s = sign * osc.next_sample();
            }
            blocks.push(x);
        }
        blocks
    }

    fn run(d: &mut ToneDisabler, far: &[[f32; BLOCK]]) -> Vec<Disabled> {
        far.iter().map(|x| d.block(x, &[0.0; BLOCK])).collect()
    }

    #[test]
    fn a_steady_2100_hz_tone_turns_the_nlp_off_after_300_ms() {
        let mut d = ToneDisabler::new();
        let states = run(&mut d, &answer_tone(1000, None));
        let first = states.iter().position(|s| *s != Disabled::No).unwrap();
        assert_eq!((first as u32 + 1) * BLOCK_MS, HOLD_MS);
        assert!(states[first..].iter().all(|s| *s == Disabled::Nlp));
    }

    #[test]
    fn phase_reversals_bypass_the_canceller_until_silence() {
        let mut d = ToneDisabler::new();
        let states = run(&mut d, &answer_tone(2000, Some(450)));
        assert_eq!(*states.last().unwrap(), Disabled::Canceller);
        // Data keeps it disabled; 250 ms of silence both ways releases it.
        let quiet = vec![[0.0; BLOCK]; (RELEASE_MS / BLOCK_MS) as usize];
        let after = run(&mut d, &quiet);
        assert_eq!(after[after.len() - 2], Disabled::Canceller);
        assert_eq!(*after.last().unwrap(), Disabled::No);
    }

    #[test]
    fn speech_like_signals_and_weak_tones_do_not_disable() {
        let mut d = ToneDisabler::new();
        // 2100 Hz below the detection level.
        let mut osc = Oscillator::new(TONE_HZ, dbm0_amplitude(-40.0));
        let weak: Vec<[f32; BLOCK]> = (0..100)
            .map(|_| core::array::from_fn(|_| osc.next_sample()))
            .collect();
        assert!(run(&mut d, &weak).iter().all(|s| *s == Disabled::No));
        // 2100 Hz mixed with an equally strong 1000 Hz: not a pure answer tone.
        let mut a = Oscillator::new(TONE_HZ, dbm0_amplitude(-12.0));
        let mut b = Oscillator::new(1000.0, dbm0_amplitude(-12.0));
        let mixed: Vec<[f32; BLOCK]> = (0..100)
            .map(|_| core::array::from_fn(|_| a.next_sample() + b.next_sample()))
            .collect();
        assert!(run(&mut d, &mixed).iter().all(|s| *s == Disabled::No));
    }

    #[test]
    fn the_tone_is_heard_from_the_line_too() {
        let mut d = ToneDisabler::new();
        for x in answer_tone(1000, Some(450)) {
            d.block(&[0.0; BLOCK], &x);
        }
        assert_eq!(d.state(), Disabled::Canceller);
    }
}
