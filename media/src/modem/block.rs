//! One frequency in a 10 ms block: the single DFT bin the modem-tone detectors and the
//! echo canceller's tone disabler measure, with its phase (for phase reversals) and the
//! share of the block's energy it holds (a pure tone against speech or noise).
//!
//! At 8 kHz an 80-sample block holds a whole number of periods of 1100 Hz (11) and of
//! 2100 Hz (21), so a steady tone's bin phase stands still from block to block and a
//! phase reversal shows as a jump of π.

use crate::tone::oscillator::{SAMPLE_RATE, dbm0_amplitude};

/// Samples per block: 10 ms.
pub const BLOCK: usize = 80;
/// Milliseconds per block.
pub const BLOCK_MS: u32 = (BLOCK as u32 * 1000) / SAMPLE_RATE;

/// A DFT bin at one frequency over a block.
#[derive(Debug, Clone)]
pub struct Bin {
    basis: [(f32, f32); BLOCK],
}

/// What a block holds at the bin's frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// The bin's phasor.
    pub re: f32,
    pub im: f32,
    /// The tone's amplitude estimated from the bin (peak, linear).
    pub amplitude: f32,
    /// The block's energy (sum of squares).
    pub energy: f32,
    /// Share of the block's energy in the bin (1 for a pure tone at the frequency).
    pub purity: f32,
}

impl Measure {
    /// Whether the block is a tone at the frequency: at least `dbm0` and at least
    /// `purity` of the block's energy.
    pub fn is_tone(&self, dbm0: f32, purity: f32) -> bool {
        self.amplitude >= dbm0_amplitude(dbm0) && self.purity >= purity
    }

    /// Whether the phase turned by about π (within ±25°) since `before`.
    pub fn reversed_from(&self, before: &Measure) -> bool {
        let dot = self.re * before.re + self.im * before.im;
        let norm = ((self.re * self.re + self.im * self.im)
            * (before.re * before.re + before.im * before.im))
            .sqrt();
        norm > 0.0 && dot / norm < -0.9
    }
}

impl Bin {
    pub fn new(hz: f32) -> Bin {
        let mut basis = [(0.0, 0.0); BLOCK];
        for (n, b) in basis.iter_mut().enumerate() {
            let w = core::f32::consts::TAU * hz * n as f32 / SAMPLE_RATE as f32;
            *b = (w.cos(), w.sin());
        }
        Bin { basis }
    }

    /// Measures one block.
    pub fn measure(&self, x: &[f32; BLOCK]) -> Measure {
        let (mut re, mut im, mut energy) = (0f32, 0f32, 0f32);
        for (v, (c, s)) in x.iter().zip(&self.basis) {
            re += v * c;
            im -= v * s;
            energy += v * v;
        }
        // A sine of amplitude A over N samples: |bin|² = (A·N/2)², energy = A²·N/2.
        let n = BLOCK as f32;
        let bin = re * re + im * im;
        Measure {
            re,
            im,
            amplitude: 2.0 * bin.sqrt() / n,
            energy,
            purity: if energy > 0.0 {
                (bin * 2.0 / n / energy).min(1.0)
            } else {
                0.0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::oscillator::Oscillator;

    #[test]
    fn a_pure_tone_is_measured_at_its_level_and_phase() {
        let bin = Bin::new(2100.0);
        let mut osc = Oscillator::new(2100.0, dbm0_amplitude(-12.0));
        let a: [f32; BLOCK] = core::array::from_fn(|_| osc.next_sample());
        let b: [f32; BLOCK] = core::array::from_fn(|_| -osc.next_sample());
        let (ma, mb) = (bin.measure(&a), bin.measure(&b));
        assert!(
            ma.is_tone(-13.0, 0.95) && !ma.is_tone(-11.0, 0.95),
            "{ma:?}"
        );
        assert!(mb.reversed_from(&ma));
        let c: [f32; BLOCK] = core::array::from_fn(|_| osc.next_sample());
        assert!(!bin.measure(&c).reversed_from(&ma));
        // Another frequency holds little of the bin.
        let other = Bin::new(1100.0).measure(&a);
        assert!(other.purity < 0.05, "{other:?}");
    }
}
