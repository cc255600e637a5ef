//! A line echo canceller (ITU-T G.168) for the 2-wire/4-wire hybrid of an FXS or FXO
//! line: the far talker's voice, played to the line, comes back in what the line
//! captures; the canceller learns that echo path and subtracts its estimate.
//!
//! Per 10 ms block ([`BLOCK`] samples):
//! 1. the far block enters the [`filter`] (a partitioned frequency-domain adaptive
//!    filter over the tail) and the echo is estimated and subtracted;
//! 2. the Geigel double-talk detector (G.168 Appendix: the near signal's peak against
//!    the far signal's peak over the tail) freezes adaptation while the near end talks;
//! 3. the background weights adapt; the foreground takes them when they cancel better
//!    and gives its own back when they have gone astray;
//! 4. the [`nlp`] replaces residual echo with comfort noise;
//! 5. the [`disabler`] steps aside for a modem's or fax's 2100 Hz answer tone.
//!
//! Sans-IO and allocation-free after [`EchoCanceller::new`]: the owner hands it each
//! frame played to the line and the frame captured at the same time.

pub mod disabler;
pub mod filter;
pub mod nlp;

pub use disabler::{Disabled, ToneDisabler};
pub use filter::BLOCK;

use filter::{Filter, Weights};
use nlp::Nlp;

/// The shortest and longest tails a canceller may be configured with.
pub const TAIL_MS_MIN: u16 = 16;
pub const TAIL_MS_MAX: u16 = 128;
/// The default tail (G.168 canceller of 64 ms).
pub const TAIL_MS_DEFAULT: u16 = 64;

/// Step of the background filter (normalised per bin; 1 is the fastest stable).
const MU: f32 = 0.5;
/// Geigel threshold: near peaks above 0.7 of the far peak over the tail are near
/// speech (an echo path has at least 6 dB of loss, G.168 § 6.4; the margin keeps
/// dispersive paths from looking like double talk).
const GEIGEL: f32 = 0.7;
/// Once the filter cancels at least this much (power ratio, 20 dB)...
const CONVERGED: f32 = 100.0;
/// ...a block cancelled this much worse than usual (10 dB) makes it suspect near
/// speech the Geigel test cannot see (a quiet near talker) or a changed echo path: the
/// background keeps adapting (a changed path is learnt again), but the foreground takes
/// its weights only when they are clearly better ([`MUCH_BETTER`]).
const DROP: f32 = 0.1;
/// Per-block decay of the usual cancellation while suspect (10 dB in about 4.6 s), so
/// that a lasting change of the line (more noise) ends the suspicion in time.
const DECAY: f32 = 0.995;
/// The usual cancellation counts no higher than 50 dB.
const USUAL_MAX: f32 = 1.0e5;
/// Blocks adaptation stays frozen after double talk was last seen (30 ms).
const HANGOVER: u8 = 3;
/// Far peak over the tail below which nothing is learnt (about −50 dBm0).
const FAR_QUIET: f32 = 30.0;
/// The background replaces the foreground when its residual is this much lower.
const BETTER: f32 = 0.98;
/// ...or this much lower (10 dB) while double talk is suspected: a changed echo path is
/// learnt that much better by the adapting weights, a near talker is not.
const MUCH_BETTER: f32 = 0.25;
/// The foreground replaces the background when the background's residual is this much
/// higher (it diverged).
const DIVERGED: f32 = 4.0;

/// A canceller's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoConfig {
    /// The longest echo it cancels, in ms ([`TAIL_MS_MIN`]..=[`TAIL_MS_MAX`]). It must
    /// cover the audio device's round trip plus the line's echo.
    pub tail_ms: u16,
    /// Whether the non-linear processor and comfort noise run.
    pub nlp: bool,
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            tail_ms: TAIL_MS_DEFAULT,
            nlp: true,
        }
    }
}

/// A configuration the canceller cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EchoError {
    #[error("echo tail {0} ms is outside {TAIL_MS_MIN}..={TAIL_MS_MAX} ms")]
    Tail(u16),
}

/// What a canceller has done, for status and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EchoStats {
    /// Blocks processed.
    pub blocks: u64,
    /// Blocks in which double talk froze adaptation.
    pub double_talk: u64,
    /// Blocks cancelled much worse than usual (quiet near speech or a changed path).
    pub suspect: u64,
    /// Blocks the NLP replaced with comfort noise.
    pub suppressed: u64,
    /// Times the foreground took the background's weights.
    pub updates: u64,
    /// Times the background diverged and was reset to the foreground.
    pub resets: u64,
    /// Blocks passed through untouched by the G.165 disabler.
    pub bypassed: u64,
    /// Echo return loss enhancement of the filter (near power over residual power,
    /// smoothed over blocks with far speech and no double talk), dB.
    pub erle_db: f32,
}

/// One line's echo canceller.
pub struct EchoCanceller {
    config: EchoConfig,
    filter: Filter,
    nlp: Nlp,
    disabler: ToneDisabler,
    /// Peak |far| of each of the last blocks covering the tail (a ring).
    far_peaks: Vec<f32>,
    peak_at: usize,
    hangover: u8,
    /// Smoothed residual powers of the two weight sets.
    background_residual: f32,
    foreground_residual: f32,
    /// Smoothed near and residual power for the ERLE figure.
    erle_near: f32,
    erle_residual: f32,
    /// The foreground's usual cancellation (near over residual power, linear).
    usual: f32,
    stats: EchoStats,
}

impl EchoCanceller {
    /// A canceller with `config`, all its memory allocated now.
    pub fn new(config: EchoConfig) -> Result<EchoCanceller, EchoError> {
        if !(TAIL_MS_MIN..=TAIL_MS_MAX).contains(&config.tail_ms) {
            return Err(EchoError::Tail(config.tail_ms));
        }
        let taps = usize::from(config.tail_ms) * 8;
        let parts = taps.div_ceil(BLOCK);
        Ok(EchoCanceller {
            config,
            filter: Filter::new(parts),
            nlp: Nlp::new(0x6563_686f ^ u64::from(config.tail_ms)),
            disabler: ToneDisabler::new(),
            far_peaks: vec![0.0; parts + 1],
            peak_at: 0,
            hangover: 0,
            background_residual: 0.0,
            foreground_residual: 0.0,
            erle_near: 0.0,
            erle_residual: 0.0,
            usual: 1.0,
            stats: EchoStats::default(),
        })
    }

    /// The settings it runs with.
    pub fn config(&self) -> EchoConfig {
        self.config
    }

    /// Turns the non-linear processor on or off (off for voice-band data).
    pub fn set_nlp(&mut self, on: bool) {
        self.config.nlp = on;
    }

    /// What it has done so far.
    pub fn stats(&self) -> EchoStats {
        EchoStats {
            suppressed: self.nlp.suppressed,
            ..self.stats
        }
    }

    /// What the tone disabler has switched off.
    pub fn disabled(&self) -> Disabled {
        self.disabler.state()
    }

    /// The taps of the echo path it has learnt (the foreground's), for diagnostics.
    pub fn echo_path(&mut self) -> Vec<f32> {
        self.filter.impulse_response(Weights::Foreground)
    }

    /// Forgets the echo path (a new call on the line: the path may have changed).
    pub fn reset(&mut self) {
        self.filter.reset();
        self.background_residual = 0.0;
        self.foreground_residual = 0.0;
        self.usual = 1.0;
    }

    /// Cancels the echo in `near` (captured from the line) of `far` (played to the line
    /// over the same span of time). Both are the same length, a multiple of [`BLOCK`]
    /// (a 20 ms frame is two blocks); a trailing partial block passes untouched.
    pub fn process(&mut self, far: &[i16], near: &mut [i16]) {
        for (f, n) in far.chunks_exact(BLOCK).zip(near.chunks_exact_mut(BLOCK)) {
            let x: [f32; BLOCK] = core::array::from_fn(|i| f32::from(f[i]));
            let d: [f32; BLOCK] = core::array::from_fn(|i| f32::from(n[i]));
            let e = self.block(&x, &d);
            for (o, v) in n.iter_mut().zip(e) {
                *o = v.round().clamp(-32768.0, 32767.0) as i16;
            }
        }
    }

    /// One block: returns the near signal with the echo removed.
    pub fn block(&mut self, x: &[f32; BLOCK], d: &[f32; BLOCK]) -> [f32; BLOCK] {
        self.stats.blocks += 1;
        let disabled = self.disabler.block(x, d);
        self.filter.push_far(x);
        let far_peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
        self.far_peaks[self.peak_at] = far_peak;
        self.peak_at = (self.peak_at + 1) % self.far_peaks.len();
        if disabled == Disabled::Canceller {
            self.stats.bypassed += 1;
            return *d;
        }
        let tail_peak = self.far_peaks.iter().fold(0f32, |m, &v| m.max(v));
        let far_active = tail_peak > FAR_QUIET;

        let mut yb = [0.0; BLOCK];
        let mut yf = [0.0; BLOCK];
        self.filter.estimate(Weights::Background, &mut yb);
        self.filter.estimate(Weights::Foreground, &mut yf);
        let mut eb = [0.0; BLOCK];
        let mut ef = [0.0; BLOCK];
        for i in 0..BLOCK {
            eb[i] = d[i] - yb[i];
            ef[i] = d[i] - yf[i];
        }
        let power = |v: &[f32; BLOCK]| v.iter().map(|s| s * s).sum::<f32>() / BLOCK as f32;
        let (pb, pf, pd) = (power(&eb), power(&ef), power(d));

        // Double talk: the Geigel test, or a converged filter suddenly cancelling much
        // less than usual.
        let near_peak = d.iter().fold(0f32, |m, v| m.max(v.abs()));
        let cancelled = pd / pf.max(1.0);
        let geigel = near_peak > GEIGEL * tail_peak;
        let suspect = self.usual > CONVERGED && cancelled < DROP * self.usual;
        if far_active && geigel {
            self.hangover = HANGOVER;
        } else {
            self.hangover = self.hangover.saturating_sub(1);
        }
        let double_talk = self.hangover > 0;

        let mut out = ef;
        if far_active {
            self.background_residual = 0.7 * self.background_residual + 0.3 * pb;
            self.foreground_residual = 0.7 * self.foreground_residual + 0.3 * pf;
            let margin = if suspect { MUCH_BETTER } else { BETTER };
            if double_talk {
                self.stats.double_talk += 1;
            } else if self.background_residual < margin * self.foreground_residual {
                self.filter.copy(Weights::Background);
                self.foreground_residual = self.background_residual;
                self.stats.updates += 1;
                out = eb;
                if suspect {
                    // Learnt that much better: the path changed; what it cancels now
                    // is the new usual.
                    self.usual = pd / pb.max(1.0);
                }
            } else if self.background_residual > DIVERGED * self.foreground_residual
                && self.foreground_residual > 0.0
            {
                self.filter.copy(Weights::Foreground);
                self.background_residual = self.foreground_residual;
                self.stats.resets += 1;
            }
            if !double_talk {
                self.filter.adapt(&eb, MU);
            }
            if suspect {
                self.stats.suspect += 1;
                self.usual *= DECAY;
            } else if !double_talk {
                let now = pd / power(&out).max(1.0);
                self.usual = (0.8 * self.usual + 0.2 * now).min(USUAL_MAX);
                self.erle_near = 0.9 * self.erle_near + 0.1 * pd;
                self.erle_residual = 0.9 * self.erle_residual + 0.1 * power(&out);
                if self.erle_residual > 0.0 {
                    self.stats.erle_db = 10.0 * (self.erle_near / self.erle_residual).log10();
                }
            }
        }
        if self.config.nlp && disabled == Disabled::No {
            // A block cancelled much worse than usual holds near speech the Geigel test
            // missed (a quiet talker under a loud echo): the NLP must not clip it.
            self.nlp
                .block(&mut out, pd, far_active, double_talk || suspect);
        }
        out
    }
}

#[cfg(test)]
mod tests;
