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
        self.render(out, true);
    }

    /// Writes the next samples over `out` where the cadence is on and leaves it alone
    /// where it is off: a tone heard over a call (the call-waiting beep, ITU-T E.180
    /// §7), the far party muted only during its bursts.
    pub fn fill_over(&mut self, out: &mut [i16]) {
        self.render(out, false);
    }

    fn render(&mut self, out: &mut [i16], silence_off: bool) {
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
            if on {
                *o = to_i16(v);
            } else if silence_off {
                *o = 0;
            }
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
    fn over_a_call_the_off_segments_keep_the_far_audio() {
        let spec = ToneSpec::new(&[440.0], -13.0, &[300, 700]).unwrap();
        let mut a = vec![1000i16; 8000];
        ToneGenerator::new(&spec).fill_over(&mut a);
        let mut b = vec![0i16; 8000];
        ToneGenerator::new(&spec).fill(&mut b);
        assert_eq!(a[..2400], b[..2400], "the burst replaces the call");
        assert!(
            a[2400..].iter().all(|&s| s == 1000),
            "the call between bursts"
        );
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
