//! The hybrid of an analog line: the 2-wire/4-wire junction reflects part of what the
//! port plays back into what it captures. Here: one 20 ms frame of round trip through the
//! audio device, then a short dispersive response with 10 dB of echo return loss, so every
//! simulated call runs its echo canceller against a real echo.

use tipring_hal::audio::{FRAME_SAMPLES, Frame};

/// Echo return loss of every simulated line, dB.
const ERL_DB: f32 = 10.0;
/// Taps of the dispersive part (1 ms; kept short: the simulation runs unoptimised).
const TAPS: usize = 8;

/// One line's hybrid.
pub struct Hybrid {
    taps: [f32; TAPS],
    /// What the line was played, the last frame and the tail before it (oldest first).
    played: Vec<f32>,
}

impl Default for Hybrid {
    fn default() -> Self {
        Self::new()
    }
}

impl Hybrid {
    pub fn new() -> Hybrid {
        // A decaying, sign-alternating response, scaled to the return loss.
        let mut taps = [0f32; TAPS];
        for (i, t) in taps.iter_mut().enumerate() {
            let sign = if i % 3 == 1 { -1.0 } else { 1.0 };
            *t = sign * (-(i as f32) / 2.0).exp();
        }
        let energy: f32 = taps.iter().map(|t| t * t).sum();
        let gain = (10f32.powf(-ERL_DB / 10.0) / energy).sqrt();
        taps.iter_mut().for_each(|t| *t *= gain);
        Hybrid {
            taps,
            played: vec![0.0; FRAME_SAMPLES + TAPS],
        }
    }

    /// Adds to `capture` the echo of what was played one frame ago.
    pub fn echo_into(&self, capture: &mut Frame) {
        for (n, c) in capture.iter_mut().enumerate() {
            // Sample n of this frame echoes played sample n of the last frame and the
            // TAPS - 1 before it.
            let at = TAPS - 1 + n;
            let e: f32 = self
                .taps
                .iter()
                .enumerate()
                .map(|(k, t)| t * self.played[at - k])
                .sum();
            *c = (f32::from(*c) + e).round().clamp(-32768.0, 32767.0) as i16;
        }
    }

    /// Takes the frame the line is played now.
    pub fn played(&mut self, frame: &Frame) {
        self.played.copy_within(FRAME_SAMPLES.., 0);
        for (p, s) in self.played[TAPS..].iter_mut().zip(frame) {
            *p = f32::from(*s);
        }
    }
}
