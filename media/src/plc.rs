//! Packet-loss concealment for G.711 in the manner of ITU-T G.711 Appendix I: the decoded
//! signal passes through a short history; on a lost frame the pitch period is estimated by
//! normalised autocorrelation over that history and the last period is repeated, with an
//! overlap-add at the start of the erasure so the repetition joins the real signal, more
//! periods used as the erasure goes on (one period for the first 10 ms, then two, then three,
//! to avoid a buzzy tone), full level for the first 10 ms and a linear fade to silence at
//! 60 ms after the start of the loss, and a cross-fade into the first good frame afterwards
//! (4 ms plus 4 ms per further 10 ms of erasure, at most 10 ms).
//!
//! Like Appendix I the output is delayed by [`DELAY`] samples (3.75 ms), which gives room for
//! the overlap-add at the start of an erasure without altering samples already played.

/// Shortest pitch period searched: 5 ms (200 Hz... 8 kHz / 40).
pub const PITCH_MIN: usize = 40;
/// Longest pitch period searched: 15 ms (8 kHz / 120 = 66.7 Hz).
pub const PITCH_MAX: usize = 120;
/// Output delay in samples: the longest start overlap, a quarter of `PITCH_MAX`.
pub const DELAY: usize = PITCH_MAX / 4;
/// Samples per 10 ms at 8 kHz.
const TEN_MS: usize = 80;
/// Correlation window for the pitch search: 20 ms.
const CORR_LEN: usize = 160;
/// History kept: three longest periods plus the delay line.
const HIST_LEN: usize = 3 * PITCH_MAX + DELAY;
/// Longest frame handled in one call (longer frames are processed in pieces).
const MAX_CHUNK: usize = HIST_LEN - DELAY;
/// Erased samples after which the output is silent: 60 ms from the start of the loss as
/// heard (the synthetic part starts `DELAY` samples into the first concealed frame).
const SILENT_AFTER: usize = 6 * TEN_MS - DELAY;

/// The concealment state of one decoded channel.
#[derive(Clone, Debug)]
pub struct Plc {
    /// Past signal, oldest first; the last `DELAY` samples are not yet output.
    hist: [i16; HIST_LEN],
    /// The last three periods at the start of the erasure (after the start overlap-add).
    pitch_buf: [i16; 3 * PITCH_MAX],
    pitch: usize,
    /// Periods in use: 1, 2 or 3.
    periods: usize,
    /// Read position within the periods in use.
    pos: usize,
    /// Samples synthesised in the current erasure (0: not erasing).
    erased: usize,
    /// Remaining samples of a cross-fade after `periods` grew.
    switch_left: usize,
    /// Samples to overlap when real signal returns.
    merge_len: usize,
}

impl Default for Plc {
    fn default() -> Self {
        Self::new()
    }
}

impl Plc {
    /// A channel with a silent history.
    pub fn new() -> Self {
        Plc {
            hist: [0; HIST_LEN],
            pitch_buf: [0; 3 * PITCH_MAX],
            pitch: PITCH_MAX,
            periods: 1,
            pos: 0,
            erased: 0,
            switch_left: 0,
            merge_len: 0,
        }
    }

    /// The pitch period (samples) estimated at the start of the last erasure.
    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// Whether the last frame was concealed.
    pub fn is_concealing(&self) -> bool {
        self.erased > 0
    }

    /// A good frame: `input` decoded audio in, the delayed output out (same length; the
    /// shorter of the two is used).
    pub fn good_frame(&mut self, input: &[i16], out: &mut [i16]) {
        let n = input.len().min(out.len());
        let mut done = 0;
        while done < n {
            let len = (n - done).min(MAX_CHUNK);
            self.good_chunk(&input[done..done + len], &mut out[done..done + len]);
            done += len;
        }
    }

    /// A lost frame: fills `out` with concealment.
    pub fn lost_frame(&mut self, out: &mut [i16]) {
        let n = out.len();
        let mut done = 0;
        while done < n {
            let len = (n - done).min(MAX_CHUNK);
            self.lost_chunk(&mut out[done..done + len]);
            done += len;
        }
    }

    fn good_chunk(&mut self, input: &[i16], out: &mut [i16]) {
        let len = input.len();
        self.hist.copy_within(len.., 0);
        let base = HIST_LEN - len;
        self.hist[base..].copy_from_slice(input);
        if self.erased > 0 {
            // Cross-fade from the continued synthesis into the real signal.
            let m = self.merge_len.min(len);
            for i in 0..m {
                let synth = f32::from(self.synth_sample());
                let w = (i + 1) as f32 / (m + 1) as f32;
                let real = f32::from(self.hist[base + i]);
                self.hist[base + i] = (synth * (1.0 - w) + real * w) as i16;
            }
            self.erased = 0;
        }
        out.copy_from_slice(&self.hist[HIST_LEN - DELAY - len..HIST_LEN - DELAY]);
    }

    fn lost_chunk(&mut self, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_erasure();
        }
        let len = out.len();
        self.hist.copy_within(len.., 0);
        let base = HIST_LEN - len;
        for i in 0..len {
            self.hist[base + i] = self.synth_sample();
        }
        out.copy_from_slice(&self.hist[HIST_LEN - DELAY - len..HIST_LEN - DELAY]);
        // Overlap when the signal returns: 4 ms, plus 4 ms per further 10 ms, at most 10 ms.
        let tens = self.erased.div_ceil(TEN_MS).max(1);
        self.merge_len = (32 * tens).min(TEN_MS);
    }

    /// Estimates the pitch and prepares the period buffer (G.711 Appendix I, start of an
    /// erasure).
    fn start_erasure(&mut self) {
        self.pitch = self.find_pitch();
        let p = self.pitch;
        // Overlap-add the last quarter period (still in the delay line) with the quarter
        // period one pitch earlier, so that repeating the last period joins smoothly.
        let ov = p / 4;
        for i in 0..ov {
            let w = (i + 1) as f32 / (ov + 1) as f32;
            let k = HIST_LEN - ov + i;
            let now = f32::from(self.hist[k]);
            let before = f32::from(self.hist[k - p]);
            self.hist[k] = (now * (1.0 - w) + before * w) as i16;
        }
        self.pitch_buf
            .copy_from_slice(&self.hist[HIST_LEN - 3 * PITCH_MAX..]);
        self.periods = 1;
        self.pos = 0;
        self.switch_left = 0;
    }

    /// Normalised autocorrelation over the last 20 ms, lags `PITCH_MIN..=PITCH_MAX`, a
    /// coarse search on even lags refined at the neighbours, then a check of submultiples.
    fn find_pitch(&self) -> usize {
        let x = &self.hist;
        let end = HIST_LEN - DELAY;
        // Normalised correlation score of `lag`, every `step`th sample of the window.
        let score_step = |lag: usize, step: usize| -> f64 {
            let (mut c, mut e) = (0i64, 0i64);
            for i in (end - CORR_LEN..end).step_by(step) {
                let a = i64::from(x[i]);
                let b = i64::from(x[i - lag]);
                c += a * b;
                e += b * b;
            }
            if c <= 0 || e <= 0 {
                0.0
            } else {
                (c as f64) * (c as f64) / e as f64
            }
        };
        let score = |lag: usize| score_step(lag, 1);
        // Coarse search: even lags over a 2:1 decimated window.
        let mut best = (PITCH_MAX, 0.0);
        for lag in (PITCH_MIN..=PITCH_MAX).step_by(2) {
            let s = score_step(lag, 2);
            if s > best.1 {
                best = (lag, s);
            }
        }
        let coarse = best.0;
        best = (coarse, score(coarse));
        for lag in [coarse.saturating_sub(1), coarse + 1] {
            if (PITCH_MIN..=PITCH_MAX).contains(&lag) {
                let s = score(lag);
                if s > best.1 {
                    best = (lag, s);
                }
            }
        }
        // A multiple of the period correlates as well as the period itself: prefer the
        // shortest submultiple that scores nearly as high (avoids octave errors).
        let (lag, top) = best;
        for div in [3, 2] {
            let sub = lag / div;
            if sub < PITCH_MIN {
                continue;
            }
            for cand in [sub, sub + 1] {
                if score(cand) >= 0.85 * top {
                    return cand;
                }
            }
        }
        lag
    }

    /// The sample of the repeated waveform at `pos` with `periods` periods in use.
    fn read(&self, periods: usize, pos: usize) -> f32 {
        let span = periods * self.pitch;
        f32::from(self.pitch_buf[3 * PITCH_MAX - span + pos % span])
    }

    /// The next synthetic sample, with the period growth and attenuation applied.
    fn synth_sample(&mut self) -> i16 {
        let t = self.erased;
        let wanted = if t >= 2 * TEN_MS {
            3
        } else if t >= TEN_MS {
            2
        } else {
            1
        };
        if wanted != self.periods {
            self.periods = wanted;
            self.switch_left = self.pitch / 4;
        }
        let mut v = self.read(self.periods, self.pos);
        if self.switch_left > 0 {
            // Cross-fade from the previous period count (Appendix I).
            let ov = self.pitch / 4;
            let w = (ov - self.switch_left + 1) as f32 / (ov + 1) as f32;
            let old = self.read(self.periods - 1, self.pos);
            v = old * (1.0 - w) + v * w;
            self.switch_left -= 1;
        }
        self.pos = (self.pos + 1) % (self.periods * self.pitch);
        self.erased += 1;
        // Full level for 10 ms, then a linear fade reaching silence at `SILENT_AFTER`.
        let gain = if t < TEN_MS {
            1.0
        } else if t >= SILENT_AFTER {
            0.0
        } else {
            1.0 - (t - TEN_MS) as f32 / (SILENT_AFTER - TEN_MS) as f32
        };
        (v * gain) as i16
    }
}

#[cfg(test)]
mod tests;
