//! Call-progress tones: oscillator, per-country profiles, generator and a cadence-aware
//! detector.

pub mod answer;
pub mod detect;
pub mod generator;
pub mod oscillator;
pub mod profile;

pub use answer::{AnswerConfig, AnswerDetector};
pub use detect::{ToneDetector, ToneDetectorConfig, ToneEvent};
pub use generator::ToneGenerator;
pub use profile::{Cadence, Country, CountryProfile, ToneError, ToneKind, ToneSpec};
