//! Call-progress tones: oscillator, per-country profiles, generator and a cadence-aware
//! detector.

pub mod oscillator;
