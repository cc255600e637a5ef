//! Dial plans: digit maps of the Cisco SPA / Grandstream family ([`DigitMap`]) and the
//! sans-IO digit [`Collector`] that applies one with interdigit timers, hotline and warm
//! line.
//!
//! Call control and the runtime use most of this API; items they do not use yet are allowed
//! to stand unused in the binary.

mod map;
mod matcher;
#[cfg(test)]
mod tests;

pub use map::DigitMap;
pub use matcher::{Collector, Dialed, LineMode, Step, Timers};
