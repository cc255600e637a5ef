//! The dual-tone alert that announces caller ID: 2130 Hz + 2750 Hz, the DT-AS an exchange
//! sends an idle line before an on-hook message (ETSI EN 300 659-1 §6.1.2, 100 ms) and the
//! CAS a phone hears before caller ID on call waiting (Telcordia GR-30-CORE, 80 ms).
//! [`AlertDetector`] recognises it frame by frame.

use super::offhook::CAS_HZ;
use crate::goertzel::{coef, energies};
use crate::tone::oscillator::dbm0_amplitude;

/// Frames (20 ms) both tones must fill: 60 ms, so an 80 ms CAS fills them whatever the
/// frames' alignment.
pub const ALERT_FRAMES: u32 = 3;
/// The quietest tone taken, per component, dBm0 (EN 300 659-1 allows -40 at the TE).
const MIN_DBM0: f32 = -40.0;
/// The share of a frame's power that must be in the two tones (not speech or noise).
const MIN_SHARE: f32 = 0.6;

/// Recognises the dual-tone alert.
#[derive(Debug, Clone)]
pub struct AlertDetector {
    coefs: [f32; 2],
    /// Least Goertzel energy of each tone over a frame of `frame_len` samples.
    min_energy: f32,
    frame_len: usize,
    run: u32,
}

impl AlertDetector {
    /// A detector for frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> AlertDetector {
        // A sine of amplitude A over N samples has Goertzel energy about (A N / 2)^2.
        let a = dbm0_amplitude(MIN_DBM0);
        AlertDetector {
            coefs: [coef(CAS_HZ[0]), coef(CAS_HZ[1])],
            min_energy: (a * frame_len as f32 / 2.0).powi(2),
            frame_len,
            run: 0,
        }
    }

    /// Feeds one frame; `true` once, on the frame that completes an alert.
    pub fn frame(&mut self, f: &[i16]) -> bool {
        if f.len() != self.frame_len {
            self.run = 0;
            return false;
        }
        let e = energies(f.iter().map(|&v| f32::from(v)), &self.coefs);
        let total: f32 = f.iter().map(|&v| f32::from(v).powi(2)).sum();
        // A sine's sum of squares over the frame is 2 e / N of its Goertzel energy e.
        let tones = 2.0 * (e[0] + e[1]) / self.frame_len as f32;
        let present = e.iter().all(|&x| x >= self.min_energy) && tones >= MIN_SHARE * total;
        self.run = if present { self.run + 1 } else { 0 };
        self.run == ALERT_FRAMES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{ToneGenerator, ToneSpec};

    fn frames(freqs: &[f32], ms: u32, offset_ms: u32) -> Vec<[i16; 160]> {
        let spec = ToneSpec::new(freqs, -15.0, &[]).unwrap();
        let mut g = ToneGenerator::new(&spec);
        let total = (offset_ms + ms + 100) as usize * 8;
        let mut s = vec![0i16; total];
        g.fill(&mut s[offset_ms as usize * 8..(offset_ms + ms) as usize * 8]);
        s.chunks_exact(160).map(|c| c.try_into().unwrap()).collect()
    }

    fn alerts(frames: &[[i16; 160]]) -> usize {
        let mut d = AlertDetector::new(160);
        frames.iter().filter(|f| d.frame(&f[..])).count()
    }

    #[test]
    fn an_80_ms_cas_or_a_100_ms_dt_as_is_recognised_once_whatever_the_alignment() {
        for offset in [0, 5, 10, 15] {
            assert_eq!(
                alerts(&frames(&CAS_HZ, 80, offset)),
                1,
                "CAS at +{offset} ms"
            );
            assert_eq!(
                alerts(&frames(&CAS_HZ, 100, offset)),
                1,
                "DT-AS at +{offset} ms"
            );
        }
    }

    #[test]
    fn one_tone_alone_speech_band_tones_or_a_short_burst_are_not_an_alert() {
        assert_eq!(alerts(&frames(&[2130.0], 100, 0)), 0);
        assert_eq!(alerts(&frames(&[440.0, 480.0], 100, 0)), 0);
        assert_eq!(alerts(&frames(&CAS_HZ, 40, 0)), 0);
    }
}
