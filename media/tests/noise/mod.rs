//! Noise for the signal tests: a xorshift64 sequence (reproducible from its seed) and
//! Gaussian samples from it (Box–Muller). Each test binary uses what it needs.
#![allow(dead_code)]

/// A xorshift64 sequence; the seed must not be 0.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A uniform value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal value.
    pub fn gauss(&mut self) -> f32 {
        let (a, b) = (self.unit().max(1e-12), self.unit());
        ((-2.0 * a.ln()).sqrt() * (core::f64::consts::TAU * b).cos()) as f32
    }
}
