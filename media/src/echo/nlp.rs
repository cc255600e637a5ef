//! The non-linear processor (G.168 § 3.x, "NLP"): what the adaptive filter leaves of the
//! echo is replaced by comfort noise at the level of the line's own background, so the far
//! talker hears neither the residual echo nor the line go dead.
//!
//! It suppresses a block only when the far end is talking, no double talk is flagged, and
//! the residual is well below the near signal (the filter has removed most of what came
//! back: an echo, not a near talker). Near speech makes the residual about as loud as the
//! near signal, so the NLP lets it through from its first block.

use super::filter::BLOCK;
use tipring_rng::SplitMix64;

/// Residual-to-near power ratio below which a block is taken for echo only (−6 dB).
const ECHO_ONLY: f32 = 0.25;
/// Per-block rise of the background estimate: slow, so echo bursts barely lift it
/// (+0.5 dB per 10 ms block at most).
const NOISE_RISE: f32 = 1.122;
/// Weight of a quieter block in the estimate: falls fast.
const NOISE_FALL: f32 = 0.3;
/// The quietest background the comfort noise imitates (mean square; about −80 dBm0),
/// and the loudest (about −40 dBm0: a louder steady "background" is a signal).
const NOISE_MIN: f32 = 1.0;
const NOISE_MAX: f32 = 1.0e4;

/// The NLP and its comfort-noise generator.
#[derive(Debug, Clone)]
pub struct Nlp {
    /// Mean square of the line's background (the residual between talk spurts).
    noise: f32,
    rng: SplitMix64,
    /// Blocks suppressed so far.
    pub suppressed: u64,
}

impl Nlp {
    pub fn new(seed: u64) -> Nlp {
        Nlp {
            noise: NOISE_MIN,
            rng: SplitMix64::new(seed),
            suppressed: 0,
        }
    }

    /// The background level estimated (mean square).
    pub fn noise(&self) -> f32 {
        self.noise
    }

    /// One block: `e` is the canceller's output (near minus echo estimate), `near_power`
    /// the mean square of the near input, `far_active` whether echo can be present.
    /// Replaces `e` with comfort noise when it is residual echo only; returns whether it
    /// did.
    pub fn block(
        &mut self,
        e: &mut [f32; BLOCK],
        near_power: f32,
        far_active: bool,
        double_talk: bool,
    ) -> bool {
        let power = e.iter().map(|v| v * v).sum::<f32>() / BLOCK as f32;
        // Minimum tracking: follows quiet blocks down quickly and creeps up slowly.
        self.noise = if power < self.noise {
            self.noise + NOISE_FALL * (power - self.noise)
        } else {
            self.noise * NOISE_RISE
        }
        .clamp(NOISE_MIN, NOISE_MAX);
        let echo_only = power < ECHO_ONLY * near_power;
        if !(far_active && !double_talk && echo_only) {
            return false;
        }
        // Uniform noise in [-a, a) has mean square a²/3.
        let a = (3.0 * self.noise.min(power.max(NOISE_MIN))).sqrt();
        for v in e.iter_mut() {
            let u = (self.rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
            *v = (2.0 * u - 1.0) * a;
        }
        self.suppressed += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(level: f32, rng: &mut SplitMix64) -> [f32; BLOCK] {
        core::array::from_fn(|_| ((rng.next_f64() as f32) * 2.0 - 1.0) * level)
    }

    fn ms(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32
    }

    #[test]
    fn residual_echo_becomes_noise_at_the_background_level() {
        let mut nlp = Nlp::new(1);
        let mut rng = SplitMix64::new(2);
        // The line's background, amplitude 30, while the far end is quiet.
        for _ in 0..100 {
            let mut e = block(30.0, &mut rng);
            assert!(!nlp.block(&mut e, 300.0, false, false));
        }
        let background = nlp.noise();
        assert!(
            (background / (30.0 * 30.0 / 3.0) - 1.0).abs() < 0.5,
            "{background}"
        );
        // Far talks; the residual (amplitude 200) is far below the echo that came back.
        let mut e = block(200.0, &mut rng);
        assert!(nlp.block(&mut e, 1.0e6, true, false));
        let out = ms(&e);
        assert!(out < 2.0 * background, "{out} vs {background}");
    }

    #[test]
    fn near_speech_and_double_talk_pass_untouched() {
        let mut nlp = Nlp::new(3);
        let mut rng = SplitMix64::new(4);
        // Near speech: the residual is as loud as the near input.
        let e0 = block(3000.0, &mut rng);
        let mut e = e0;
        assert!(!nlp.block(&mut e, ms(&e0) * 1.1, true, false));
        assert_eq!(e, e0);
        // Flagged double talk.
        let mut e = block(100.0, &mut rng);
        let before = e;
        assert!(!nlp.block(&mut e, 1.0e6, true, true));
        assert_eq!(e, before);
    }
}
