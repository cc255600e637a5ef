//! The adaptive filter of the echo canceller: a partitioned-block frequency-domain
//! adaptive filter (overlap-save, gradient-constrained, normalised per frequency bin),
//! in the family of the multidelay block filter (Soo and Pang, 1990).
//!
//! The tail is cut into `P` partitions of [`BLOCK`] taps. Every block of far-end samples
//! is transformed once (an FFT of the last two blocks) and kept for `P` blocks; the echo
//! estimate of a block is the sum over partitions of weight × far spectrum, back in the
//! time domain by one inverse FFT. Each bin's step is normalised by the far power in that
//! bin over the whole tail, so coloured signals such as speech converge about as fast as
//! white noise (a time-domain NLMS is slowed by the spread of speech's spectrum).
//!
//! Two sets of weights are kept: the *background* adapts on every block without
//! double talk; the *foreground* makes the output and takes the background's weights
//! only when they cancel better, so a burst of undetected double talk that drives the
//! background off can never reach the line (the background is then reset to the
//! foreground).
//!
//! All buffers are allocated by [`Filter::new`]; a block allocates nothing.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Taps per partition and samples per block: 10 ms, two blocks per 20 ms frame.
pub const BLOCK: usize = 80;
/// The FFT size of overlap-save: two blocks.
const N: usize = 2 * BLOCK;
/// Bins of a real FFT of `N` samples.
const BINS: usize = N / 2 + 1;
/// Regularisation of each bin's normaliser: the far power of a −55 dBm0 white
/// noise (amplitude about 20) in one bin of one partition.
const FLOOR: f32 = N as f32 * 400.0;

/// Which weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// The weights that adapt.
    Background,
    /// The weights that make the output.
    Foreground,
}

/// A partitioned-block frequency-domain adaptive filter of `P × BLOCK` taps.
pub struct Filter {
    parts: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// The last two far blocks, oldest first (the FFT's input).
    far: [f32; N],
    /// Far spectra of the last `parts` blocks, a ring indexed from `head`.
    spectra: Vec<Complex<f32>>,
    head: usize,
    background: Vec<Complex<f32>>,
    foreground: Vec<Complex<f32>>,
    /// Per bin, the far power over the tail (sum over the kept spectra).
    power: [f32; BINS],
    time: [f32; N],
    spec: [Complex<f32>; BINS],
    grad: [Complex<f32>; BINS],
    scratch: Vec<Complex<f32>>,
}

impl Filter {
    /// A filter of `parts` partitions (`parts × BLOCK` taps), all weights zero.
    pub fn new(parts: usize) -> Filter {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(N);
        let inverse = planner.plan_fft_inverse(N);
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        let zero = Complex::new(0.0, 0.0);
        Filter {
            parts,
            forward,
            inverse,
            far: [0.0; N],
            spectra: vec![zero; parts * BINS],
            head: 0,
            background: vec![zero; parts * BINS],
            foreground: vec![zero; parts * BINS],
            power: [0.0; BINS],
            time: [0.0; N],
            spec: [zero; BINS],
            grad: [zero; BINS],
            scratch: vec![zero; scratch_len],
        }
    }

    /// Taps of the filter.
    pub fn taps(&self) -> usize {
        self.parts * BLOCK
    }

    /// Takes the next block of far-end samples: its spectrum enters the tail.
    pub fn push_far(&mut self, block: &[f32; BLOCK]) {
        self.far.copy_within(BLOCK.., 0);
        self.far[BLOCK..].copy_from_slice(block);
        self.head = (self.head + self.parts - 1) % self.parts;
        self.time = self.far;
        let at = self.head * BINS;
        let out = &mut self.spectra[at..at + BINS];
        // Lengths are fixed at construction, so the transform cannot fail.
        let _ = self
            .forward
            .process_with_scratch(&mut self.time, out, &mut self.scratch);
        self.power = [0.0; BINS];
        for part in self.spectra.chunks_exact(BINS) {
            for (p, x) in self.power.iter_mut().zip(part) {
                *p += x.norm_sqr();
            }
        }
    }

    /// The spectrum of the far block `age` blocks ago (0: the newest).
    fn spectrum(&self, age: usize) -> &[Complex<f32>] {
        let at = ((self.head + age) % self.parts) * BINS;
        &self.spectra[at..at + BINS]
    }

    /// The echo estimate of the newest block by `which` weights.
    pub fn estimate(&mut self, which: Weights, out: &mut [f32; BLOCK]) {
        let zero = Complex::new(0.0, 0.0);
        let mut y = [zero; BINS];
        let weights = match which {
            Weights::Background => &self.background,
            Weights::Foreground => &self.foreground,
        };
        for (age, w) in weights.chunks_exact(BINS).enumerate() {
            let x = self.spectrum(age);
            for ((y, w), x) in y.iter_mut().zip(w).zip(x) {
                *y += w * x;
            }
        }
        y[0].im = 0.0;
        y[BINS - 1].im = 0.0;
        let _ = self
            .inverse
            .process_with_scratch(&mut y, &mut self.time, &mut self.scratch);
        let scale = 1.0 / N as f32;
        for (o, t) in out.iter_mut().zip(&self.time[BLOCK..]) {
            *o = t * scale;
        }
    }

    /// Moves the background weights along the gradient of the block's error `e`
    /// (near minus the background's estimate) with step `mu` (0 < mu ≤ 1).
    pub fn adapt(&mut self, e: &[f32; BLOCK], mu: f32) {
        self.time[..BLOCK].fill(0.0);
        self.time[BLOCK..].copy_from_slice(e);
        let _ =
            self.forward
                .process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch);
        // The regulariser grows with the mean power so that bins a narrowband signal
        // leaves empty get no step (no drift on tones or DTMF).
        let mean = self.power.iter().sum::<f32>() / BINS as f32;
        let floor = FLOOR * self.parts as f32 + 1e-3 * mean;
        let mut norm = [0f32; BINS];
        for (n, p) in norm.iter_mut().zip(&self.power) {
            *n = mu / (p + floor);
        }
        let scale = 1.0 / N as f32;
        for age in 0..self.parts {
            let at = ((self.head + age) % self.parts) * BINS;
            for (k, g) in self.grad.iter_mut().enumerate() {
                *g = self.spectra[at + k].conj() * self.spec[k] * norm[k];
            }
            // Gradient constraint: keep the first BLOCK taps of the correction (a
            // linear, not circular, correlation).
            self.grad[0].im = 0.0;
            self.grad[BINS - 1].im = 0.0;
            let _ = self.inverse.process_with_scratch(
                &mut self.grad,
                &mut self.time,
                &mut self.scratch,
            );
            for t in &mut self.time[..BLOCK] {
                *t *= scale;
            }
            self.time[BLOCK..].fill(0.0);
            let _ = self.forward.process_with_scratch(
                &mut self.time,
                &mut self.grad,
                &mut self.scratch,
            );
            let w = (age) * BINS;
            for (w, g) in self.background[w..w + BINS].iter_mut().zip(&self.grad) {
                *w += g;
            }
        }
    }

    /// Copies one set of weights over the other: `from` is kept.
    pub fn copy(&mut self, from: Weights) {
        match from {
            Weights::Background => self.foreground.copy_from_slice(&self.background),
            Weights::Foreground => self.background.copy_from_slice(&self.foreground),
        }
    }

    /// Forgets the echo path: all weights zero (the far history is kept).
    pub fn reset(&mut self) {
        let zero = Complex::new(0.0, 0.0);
        self.background.fill(zero);
        self.foreground.fill(zero);
    }

    /// The time-domain taps of `which` weights (for tests and diagnostics).
    pub fn impulse_response(&mut self, which: Weights) -> Vec<f32> {
        let weights = match which {
            Weights::Background => self.background.clone(),
            Weights::Foreground => self.foreground.clone(),
        };
        let mut taps = Vec::with_capacity(self.taps());
        for part in weights.chunks_exact(BINS) {
            let mut w = [Complex::new(0.0, 0.0); BINS];
            w.copy_from_slice(part);
            w[0].im = 0.0;
            w[BINS - 1].im = 0.0;
            let _ = self
                .inverse
                .process_with_scratch(&mut w, &mut self.time, &mut self.scratch);
            taps.extend(self.time[..BLOCK].iter().map(|t| t / N as f32));
        }
        taps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tipring_rng::SplitMix64;

    fn noise(rng: &mut SplitMix64) -> f32 {
        (rng.next_f64() as f32 - 0.5) * 8000.0
    }

    /// Convolves `x` (newest last) with `h`.
    fn echo_of(history: &[f32], h: &[f32]) -> f32 {
        h.iter()
            .enumerate()
            .map(|(i, c)| c * history[history.len() - 1 - i])
            .sum()
    }

    #[test]
    fn it_learns_a_delayed_echo_path_from_white_noise() {
        // 3 partitions; the path: -6 dB at 100 samples, -12 dB at 170 (beyond one
        // partition: the partitions must line up).
        let mut f = Filter::new(3);
        let mut h = vec![0.0; 200];
        h[100] = 0.5;
        h[170] = -0.25;
        let mut rng = SplitMix64::new(7);
        let mut history = vec![0.0f32; 400];
        let mut last = (0.0, 0.0);
        for _ in 0..300 {
            let mut x = [0.0; BLOCK];
            let mut d = [0.0; BLOCK];
            for (x, d) in x.iter_mut().zip(&mut d) {
                *x = noise(&mut rng);
                history.remove(0);
                history.push(*x);
                *d = echo_of(&history, &h);
            }
            f.push_far(&x);
            let mut y = [0.0; BLOCK];
            f.estimate(Weights::Background, &mut y);
            let mut e = [0.0; BLOCK];
            for ((e, d), y) in e.iter_mut().zip(&d).zip(&y) {
                *e = d - y;
            }
            f.adapt(&e, 0.5);
            last = (
                d.iter().map(|v| v * v).sum::<f32>(),
                e.iter().map(|v| v * v).sum::<f32>(),
            );
        }
        let erle = 10.0 * (last.0 / last.1).log10();
        assert!(erle > 40.0, "ERLE {erle} dB");
        let taps = f.impulse_response(Weights::Background);
        assert!((taps[100] - 0.5).abs() < 0.01, "{}", taps[100]);
        assert!((taps[170] + 0.25).abs() < 0.01, "{}", taps[170]);
        assert!(taps[50].abs() < 0.01);
    }

    #[test]
    fn weights_are_copied_and_reset() {
        let mut f = Filter::new(2);
        f.background[3] = Complex::new(1.0, 0.0);
        f.copy(Weights::Background);
        assert_eq!(f.foreground[3], Complex::new(1.0, 0.0));
        f.background[3] = Complex::new(2.0, 0.0);
        f.copy(Weights::Foreground);
        assert_eq!(f.background[3], Complex::new(1.0, 0.0));
        f.reset();
        assert!(
            f.background
                .iter()
                .chain(&f.foreground)
                .all(|w| w.norm() == 0.0)
        );
    }
}
