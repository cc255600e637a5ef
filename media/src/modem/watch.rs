//! A watch on one connect tone, block by block: the fax calling tone CNG (1100 Hz,
//! T.30 § 5.2: 0.5 s on, 3 s off) or the answer tone (2100 Hz: V.25 ANS / T.30 CED, V.8
//! ANSam amplitude-modulated at 15 Hz, and their phase-reversed forms /ANS, /ANSam with a
//! reversal every 450 ms).
//!
//! A tone *begins* once it has been held for [`HOLD_MS`] (a burst of speech or music
//! rarely keeps one pure frequency that long) and *ends* after [`GAP_BLOCKS`] blocks
//! without it (the block holding a phase reversal is partly cancelled and may not count).

use super::block::{BLOCK, BLOCK_MS, Bin, Measure};

/// How long a tone must be held before it is reported.
pub const HOLD_MS: u32 = 400;
/// Blocks without the tone that end it (30 ms).
pub const GAP_BLOCKS: u8 = 3;
/// The weakest tone reported (T.30 and V.25 senders are at −10 to −15 dBm0; G.164
/// detects at −31; this leaves room for a lossy line).
pub const MIN_DBM0: f32 = -43.0;
/// Share of a block's energy the tone must hold.
const PURITY: f32 = 0.7;
/// Blocks of amplitude over which the 15 Hz modulation of ANSam is measured: 400 ms,
/// six whole periods of 15 Hz.
const AM_BLOCKS: usize = 40;
/// Modulation depth above which the answer tone is ANSam (V.8 § 7.1: 20 ± 1 %).
const AM_DEPTH: f32 = 0.1;

/// What one block changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// The tone has been held for [`HOLD_MS`]; it began `held_ms` ago. `am`: it is
    /// amplitude-modulated at 15 Hz (ANSam).
    Began { held_ms: u32, am: bool },
    /// Its phase reversed in this block.
    Reversed,
    /// It stopped, having lasted `held_ms`.
    Ended { held_ms: u32 },
}

/// The watch on one tone.
#[derive(Debug, Clone)]
pub struct Watch {
    bin: Bin,
    held_ms: u32,
    gap: u8,
    began: bool,
    /// The last two blocks' measures with the tone (a reversal may straddle one).
    last: [Option<Measure>; 2],
    /// Amplitudes of the last [`AM_BLOCKS`] blocks, a ring.
    amplitudes: [f32; AM_BLOCKS],
    at: usize,
    /// Cos and sin of 15 Hz at each block of the ring.
    am_basis: [(f32, f32); AM_BLOCKS],
}

impl Watch {
    pub fn new(hz: f32) -> Watch {
        let am_basis = core::array::from_fn(|k| {
            let w = core::f32::consts::TAU * 15.0 * (k as f32 * BLOCK_MS as f32) / 1000.0;
            (w.cos(), w.sin())
        });
        Watch {
            bin: Bin::new(hz),
            held_ms: 0,
            gap: 0,
            began: false,
            last: [None; 2],
            amplitudes: [0.0; AM_BLOCKS],
            at: 0,
            am_basis,
        }
    }

    /// Whether the tone is on (reported and not ended).
    pub fn is_on(&self) -> bool {
        self.began
    }

    /// Ends the tone if it is on (the input ended): how long it was held.
    pub fn finish(&mut self) -> Option<u32> {
        let held = self.began.then_some(self.held_ms);
        self.held_ms = 0;
        self.gap = 0;
        self.began = false;
        self.last = [None; 2];
        held
    }

    /// The depth of the 15 Hz amplitude modulation over the last [`AM_BLOCKS`] blocks.
    fn am_depth(&self) -> f32 {
        let mean = self.amplitudes.iter().sum::<f32>() / AM_BLOCKS as f32;
        if mean <= 0.0 {
            return 0.0;
        }
        let (mut re, mut im) = (0f32, 0f32);
        for (k, a) in self.amplitudes.iter().enumerate() {
            let (c, s) = self.am_basis[(k + AM_BLOCKS - self.at) % AM_BLOCKS];
            re += (a - mean) * c;
            im += (a - mean) * s;
        }
        2.0 * (re * re + im * im).sqrt() / AM_BLOCKS as f32 / mean
    }

    /// One block; up to two changes (a reversal, and the beginning or end).
    pub fn block(&mut self, x: &[f32; BLOCK], out: &mut impl FnMut(Change)) {
        let m = self.bin.measure(x);
        if !m.is_tone(MIN_DBM0, PURITY) {
            if self.held_ms == 0 {
                return;
            }
            self.gap += 1;
            if self.gap >= GAP_BLOCKS {
                if self.began {
                    out(Change::Ended {
                        held_ms: self.held_ms,
                    });
                }
                self.held_ms = 0;
                self.gap = 0;
                self.began = false;
                self.last = [None; 2];
            }
            return;
        }
        self.held_ms += BLOCK_MS * (u32::from(self.gap) + 1);
        self.gap = 0;
        self.amplitudes[self.at] = m.amplitude;
        self.at = (self.at + 1) % AM_BLOCKS;
        if self.last.iter().flatten().any(|b| m.reversed_from(b)) {
            out(Change::Reversed);
            // One reversal is reported once, whichever block shows it: this block is
            // the new phase.
            self.last = [Some(m), None];
        } else {
            self.last = [Some(m), self.last[0]];
        }
        if !self.began && self.held_ms >= HOLD_MS {
            self.began = true;
            let am = self.held_ms as usize >= AM_BLOCKS * BLOCK_MS as usize
                && self.am_depth() > AM_DEPTH;
            out(Change::Began {
                held_ms: self.held_ms,
                am,
            });
        }
    }
}
