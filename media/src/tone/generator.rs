//! Sample-accurate, phase-continuous call-progress tone generator.

use super::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use super::profile::{MAX_FREQS, ToneSpec};

/// Plays a [`ToneSpec`] with its cadence, forever. The oscillators keep running through
/// the off segments, so every burst continues the phase of the previous one.
#[derive(Clone, Debug)]
pub struct ToneGenerator {
    osc: [Oscillator; MAX_FREQS],
    nfreqs: usize,
    spec: ToneSpec,
    segment: usize,
    left: u32,
}

impl ToneGenerator {
    pub fn new(spec: &ToneSpec) -> Self {
        let amp = dbm0_amplitude(spec.level_dbm0);
        let mut osc = [Oscillator::new(0.0, 0.0); MAX_FREQS];
        for (o, &hz) in osc.iter_mut().zip(spec.freqs()) {
            *o = Oscillator::new(hz, amp);
        }
        let left = spec.cadence.segments().first().map_or(0, |ms| ms * 8);
        ToneGenerator {
            osc,
            nfreqs: spec.freqs().len(),
            spec: *spec,
            segment: 0,
            left,
        }
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        let segs = self.spec.cadence.segments();
        for o in out.iter_mut() {
            let on = if segs.is_empty() {
                true
            } else {
                while self.left == 0 {
                    self.segment = (self.segment + 1) % segs.len();
                    self.left = segs[self.segment] * 8;
                }
                self.left -= 1;
                self.segment % 2 == 0
            };
            let mut v = 0.0;
            for osc in &mut self.osc[..self.nfreqs] {
                v += osc.next_sample();
            }
            *o = if on { to_i16(v) } else { 0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_is_sample_exact_and_frames_do_not_matter() {
        let spec = ToneSpec::new(&[425.0], -10.0, &[480, 480]).unwrap();
        let mut a = vec![0i16; 8000 * 3];
        ToneGenerator::new(&spec).fill(&mut a);
        let mut b = vec![0i16; 8000 * 3];
        let mut g = ToneGenerator::new(&spec);
        for f in b.chunks_mut(160) {
            g.fill(f);
        }
        assert_eq!(a, b);
        // Off segments are exactly 3840 samples of zero starting at 3840, 11520, ...
        assert!(a[3840..7680].iter().all(|&s| s == 0));
        assert!(a[7680..7690].iter().any(|&s| s != 0));
        assert!(a[3830..3840].iter().any(|&s| s != 0));
    }

    #[test]
    fn bursts_continue_the_phase() {
        // 500 Hz with 100 ms segments: the first sample of burst two equals the sample a
        // continuous oscillator would have at that index.
        let spec = ToneSpec::new(&[500.0], -10.0, &[100, 100]).unwrap();
        let mut gated = vec![0i16; 1700];
        ToneGenerator::new(&spec).fill(&mut gated);
        let cont = ToneSpec::new(&[500.0], -10.0, &[]).unwrap();
        let mut full = vec![0i16; 1700];
        ToneGenerator::new(&cont).fill(&mut full);
        assert_eq!(gated[1600..1700], full[1600..1700]);
    }
}
