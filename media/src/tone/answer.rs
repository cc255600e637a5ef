//! Answer detection by speech on an analog line (an FXO call out where the exchange gives
//! no polarity reversal): after dialling, the line carries call-progress tones (ringback,
//! busy) until the far party answers and talks. A 20 ms frame counts as voice when it is
//! loud enough, when little of its power sits at the country's call-progress frequencies,
//! and when it is louder than an echo of what the gateway itself plays to the line could
//! be (G.168 assumes at least 6 dB of echo return loss); enough voiced frames within one
//! second are the answer.
//!
//! Energy detection cannot tell a person from a recorded announcement or a loud noisy
//! line: the level and duration are the knobs, and polarity reversal stays the better
//! signal where the exchange gives it.

use super::{CountryProfile, ToneKind};
use crate::goertzel;
use crate::tone::oscillator::dbm0_amplitude;

/// Samples per analysed frame (20 ms at 8 kHz).
const FRAME: usize = 160;
/// Frames in the decision window (1 s).
const WINDOW: u32 = 50;
/// Most distinct call-progress frequencies watched.
const MAX_BINS: usize = 8;
/// Share of a frame's power at call-progress frequencies above which it is a tone.
const TONAL_SHARE: f32 = 0.5;
/// Played frames remembered for the echo guard (the echo path's delay, 80 ms).
const ECHO_FRAMES: usize = 4;
/// Capture must be within this ratio of the loudest recent playout (-3 dB) not to be
/// taken for its echo.
const ECHO_RATIO: f32 = 0.5;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerConfig {
    /// A frame quieter than this is silence, dBm0.
    pub level_dbm0: f32,
    /// Voiced time within one second that means an answer, ms.
    pub min_ms: u32,
}

impl Default for AnswerConfig {
    /// -35 dBm0 (speech on a line is around -20), 400 ms of voice within a second.
    fn default() -> Self {
        AnswerConfig {
            level_dbm0: -35.0,
            min_ms: 400,
        }
    }
}

/// Watches captured line audio for the far party's voice.
#[derive(Debug, Clone)]
pub struct AnswerDetector {
    coef: [f32; MAX_BINS],
    nbins: usize,
    /// Mean square of a sine at the level threshold.
    min_power: f32,
    need: u32,
    /// One bit per frame of the last second: voiced.
    voiced: u64,
    played: [f32; ECHO_FRAMES],
    next_played: usize,
    /// The frame before: the spectrum is taken over 40 ms, for bins ±25 Hz wide that a
    /// voice's harmonics seldom fill.
    prev: [i16; FRAME],
}

impl AnswerDetector {
    /// A detector for `profile`'s tones with `cfg`.
    pub fn new(profile: &CountryProfile, cfg: AnswerConfig) -> Self {
        let mut coef = [0f32; MAX_BINS];
        let mut nbins = 0;
        for kind in ToneKind::ALL {
            for &hz in profile.tone(kind).freqs() {
                let c = goertzel::coef(hz);
                if nbins < MAX_BINS && !coef[..nbins].contains(&c) {
                    coef[nbins] = c;
                    nbins += 1;
                }
            }
        }
        let a = dbm0_amplitude(cfg.level_dbm0);
        AnswerDetector {
            coef,
            nbins,
            min_power: a * a / 2.0,
            need: (cfg.min_ms / 20).clamp(1, WINDOW),
            voiced: 0,
            played: [0.0; ECHO_FRAMES],
            next_played: 0,
            prev: [0; FRAME],
        }
    }

    /// Forgets what was heard (a new call).
    pub fn reset(&mut self) {
        self.voiced = 0;
        self.played = [0.0; ECHO_FRAMES];
        self.prev = [0; FRAME];
    }

    /// One 20 ms frame captured from the line, and the frame played to the line at the
    /// same time; `true` when the frames of the last second add up to an answer (the
    /// history is then cleared, so another report needs as much voice again).
    pub fn frame(&mut self, capture: &[i16], played: &[i16]) -> bool {
        self.played[self.next_played] = power(played);
        self.next_played = (self.next_played + 1) % ECHO_FRAMES;
        let voiced = self.is_voice(capture);
        if capture.len() == FRAME {
            self.prev.copy_from_slice(capture);
        }
        self.voiced = ((self.voiced << 1) | u64::from(voiced)) & ((1 << WINDOW) - 1);
        if self.voiced.count_ones() >= self.need {
            self.voiced = 0;
            return true;
        }
        false
    }

    fn is_voice(&self, x: &[i16]) -> bool {
        let p = power(x);
        if x.len() != FRAME || p < self.min_power {
            return false;
        }
        let echo = self.played.iter().copied().fold(0.0, f32::max);
        if p < ECHO_RATIO * echo {
            return false;
        }
        let both = self.prev.iter().chain(x).map(|&v| f32::from(v));
        let e = goertzel::energies(both, &self.coef);
        let n = 2.0 * FRAME as f32;
        let p2 = (power(&self.prev) + p) / 2.0;
        // A sine of power P over N samples has Goertzel energy P N² / 2.
        let tonal: f32 = e[..self.nbins].iter().map(|&k| 2.0 * k / (n * n)).sum();
        tonal < TONAL_SHARE * p2
    }
}

/// Mean square of a frame.
fn power(x: &[i16]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|&v| f32::from(v) * f32::from(v)).sum::<f32>() / x.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{Country, ToneGenerator};

    fn frames(pcm: &[i16]) -> impl Iterator<Item = &[i16]> {
        pcm.chunks_exact(FRAME)
    }

    #[test]
    fn no_call_progress_tone_of_any_country_is_an_answer() {
        for c in Country::ALL {
            let p = CountryProfile::builtin(c);
            for kind in ToneKind::ALL {
                let mut pcm = vec![0i16; 8000 * 8];
                ToneGenerator::new(p.tone(kind)).fill(&mut pcm);
                let mut d = AnswerDetector::new(&p, AnswerConfig::default());
                let silent = [0i16; FRAME];
                assert!(
                    !frames(&pcm).any(|f| d.frame(f, &silent)),
                    "{c:?} {kind:?} taken for an answer"
                );
            }
        }
    }

    #[test]
    fn a_non_tonal_signal_answers_unless_it_is_the_echo_of_what_is_played() {
        let p = CountryProfile::builtin(Country::Us);
        // A chord off every call-progress frequency, -20 dBm0 per component.
        let a = dbm0_amplitude(-20.0);
        let pcm: Vec<i16> = (0..8000)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let s = (core::f32::consts::TAU * 1100.0 * t).sin()
                    + (core::f32::consts::TAU * 1650.0 * t).sin();
                (a * s) as i16
            })
            .collect();
        let silent = [0i16; FRAME];
        let mut d = AnswerDetector::new(&p, AnswerConfig::default());
        let at = frames(&pcm).position(|f| d.frame(f, &silent));
        assert_eq!(at, Some(19), "20 voiced frames make 400 ms");
        // The same heard while playing it 6 dB louder: an echo, no answer.
        let loud: Vec<i16> = pcm.iter().map(|&v| v.saturating_mul(2)).collect();
        let mut d = AnswerDetector::new(&p, AnswerConfig::default());
        assert!(
            !frames(&pcm)
                .zip(frames(&loud))
                .any(|(c, pl)| d.frame(c, pl))
        );
        // Below the level: nothing.
        let quiet: Vec<i16> = pcm.iter().map(|&v| v / 100).collect();
        let mut d = AnswerDetector::new(&p, AnswerConfig::default());
        assert!(!frames(&quiet).any(|f| d.frame(f, &silent)));
    }
}
