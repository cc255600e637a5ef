//! Phase-continuous sine oscillator and the dBm0 level convention shared by every
//! signal generator in this crate.
//!
//! Level convention (ITU-T G.711 / G.168 usage): a full-scale 16-bit sine (peak 32767)
//! carries +3.14 dBm0, so a 0 dBm0 sine has a peak of about 22 826.

/// Sample rate of all telephony signals in this crate, in Hz.
pub const SAMPLE_RATE: u32 = 8000;

/// Level of a full-scale 16-bit sine, in dBm0.
#[allow(clippy::approx_constant)] // 3.14 dBm0 is the G.711 figure, not π.
pub const FULL_SCALE_SINE_DBM0: f32 = 3.14;

/// Peak amplitude (in 16-bit linear units) of a sine at `dbm0`.
pub fn dbm0_amplitude(dbm0: f32) -> f32 {
    32767.0 * 10f32.powf((dbm0 - FULL_SCALE_SINE_DBM0) / 20.0)
}

/// A sample-accurate, phase-continuous sine oscillator at 8 kHz.
///
/// The phase is a 32-bit accumulator, so frequency resolution is 8000 / 2^32 Hz and the
/// phase never drifts however long the oscillator runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Oscillator {
    phase: u32,
    step: u32,
    amplitude: f32,
}

impl Oscillator {
    /// An oscillator at `freq_hz` with peak `amplitude`, starting at phase 0.
    pub fn new(freq_hz: f32, amplitude: f32) -> Self {
        Self::with_phase(freq_hz, amplitude, 0.0)
    }

    /// As [`Oscillator::new`], starting at `phase_turns` (fraction of a cycle, 0..1).
    pub fn with_phase(freq_hz: f32, amplitude: f32, phase_turns: f64) -> Self {
        let turns = f64::from(freq_hz) / f64::from(SAMPLE_RATE);
        Oscillator {
            phase: (phase_turns.rem_euclid(1.0) * 4_294_967_296.0) as u32,
            step: (turns.rem_euclid(1.0) * 4_294_967_296.0) as u32,
            amplitude,
        }
    }

    /// Changes the amplitude without disturbing the phase.
    pub fn set_amplitude(&mut self, amplitude: f32) {
        self.amplitude = amplitude;
    }

    /// The next sample.
    #[inline]
    pub fn next_sample(&mut self) -> f32 {
        let angle = f64::from(self.phase) * (core::f64::consts::TAU / 4_294_967_296.0);
        self.phase = self.phase.wrapping_add(self.step);
        (angle.sin() as f32) * self.amplitude
    }
}

/// Converts a float sample to i16 with rounding and saturation.
#[inline]
pub fn to_i16(x: f32) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_dbm0_is_about_22826_peak() {
        let a = dbm0_amplitude(0.0);
        assert!((a - 22826.0).abs() < 10.0, "{a}");
    }

    #[test]
    fn oscillator_is_phase_continuous_over_a_long_run() {
        let mut o = Oscillator::new(1000.0, 1000.0);
        // 1000 Hz at 8 kHz repeats every 8 samples exactly.
        let first: Vec<f32> = (0..8).map(|_| o.next_sample()).collect();
        for _ in 0..100_000 {
            o.next_sample();
        }
        // 100_000 is a multiple of 8, so the next 8 samples match the first 8.
        let later: Vec<f32> = (0..8).map(|_| o.next_sample()).collect();
        for (a, b) in first.iter().zip(&later) {
            assert!((a - b).abs() < 0.01, "{a} vs {b}");
        }
    }
}
