//! The Goertzel algorithm: the energy |X(f)|² of a block of samples at a few chosen
//! frequencies, cheaper than an FFT when only a handful of bins are wanted (DTMF digits,
//! call-progress tones). One second-order resonator per frequency:
//! s[n] = x[n] + 2cos(2πf/fs)·s[n-1] − s[n-2], and |X(f)|² = s1² + s2² − c·s1·s2 after the
//! block. A sine of amplitude A over N samples gives about (A·N/2)².

use crate::tone::oscillator::SAMPLE_RATE;

/// The coefficient 2cos(2πf/fs) of `hz` at 8 kHz.
pub fn coef(hz: f32) -> f32 {
    2.0 * (core::f32::consts::TAU * hz / SAMPLE_RATE as f32).cos()
}

/// The energies |X(f)|² of the samples `x` at each coefficient of `c` (from [`coef`]).
#[inline]
pub fn energies<const K: usize>(x: impl IntoIterator<Item = f32>, c: &[f32; K]) -> [f32; K] {
    let mut s1 = [0f32; K];
    let mut s2 = [0f32; K];
    for v in x {
        for k in 0..K {
            let s = v + c[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s;
        }
    }
    let mut e = [0f32; K];
    for k in 0..K {
        e[k] = s1[k] * s1[k] + s2[k] * s2[k] - c[k] * s1[k] * s2[k];
    }
    e
}

/// The energy at `hz` of 16-bit linear samples.
pub fn energy(hz: f32, x: &[i16]) -> f32 {
    energies(x.iter().map(|&v| f32::from(v)), &[coef(hz)])[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f32, amplitude: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                (amplitude * (core::f32::consts::TAU * hz * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn a_sine_has_its_energy_at_its_frequency() {
        let x = sine(1000.0, 8000.0, 160);
        let at = energy(1000.0, &x);
        let expected = (8000.0f32 * 160.0 / 2.0).powi(2);
        assert!((at / expected - 1.0).abs() < 0.05, "{at} vs {expected}");
        assert!(energy(1500.0, &x) < at / 100.0);
    }

    #[test]
    fn energies_match_one_at_a_time() {
        let x = sine(697.0, 3000.0, 80);
        let c = [coef(697.0), coef(1209.0)];
        let both = energies(x.iter().map(|&v| f32::from(v)), &c);
        assert_eq!(both[0], energy(697.0, &x));
        assert_eq!(both[1], energy(1209.0, &x));
    }
}
