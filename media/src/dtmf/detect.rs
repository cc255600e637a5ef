//! DTMF detector for 8 kHz linear audio, per ITU-T Q.24 (receiver characteristics).
//!
//! Block-based Goertzel: samples are gathered into blocks of [`BLOCK`] samples (10 ms)
//! whatever the frame size the caller feeds. For each block the eight Q.23 frequencies
//! are measured; a block carries a digit when
//! - both the strongest row and the strongest column are above the minimum level
//!   (Q.24 sensitivity, 35 dB of dynamic range and more);
//! - the twist (level difference of the two tones) is within limits;
//! - each of the two tones stands out from the other tones of its group;
//! - the two tones hold most of the block's energy (rejects speech and music);
//! - each tone is nearer its nominal frequency than a probe 5 % away on either side, which
//!   puts the accept/reject boundary at 2.5 % deviation (Q.24: operate within 1.5 %,
//!   never operate beyond 3.5 %). The probes are only computed for candidate blocks;
//! - neither tone has a strong second harmonic: a DTMF generator sends pure sines, while a
//!   sung or played note (talk-off) carries harmonics. The row tone's harmonic is only
//!   judged when it lies clear of the column tone (770 × 2 = 1540 Hz is within one
//!   Goertzel bin of 1477 Hz, whose leakage would count as harmonic).
//!
//! A digit starts after [`HITS`] consecutive blocks agree (a 40 ms tone always covers three
//! full blocks; a 20 ms tone can never fill three blocks to the share threshold) and ends
//! after [`MISSES`] consecutive blocks without it (a 40 ms pause always covers three full
//! blocks, while a drop-out of 10 ms or less touches at most two). One digit is reported
//! per tone, so a long tone never yields a double digit.

use super::{COL_HZ, Digit, ROW_HZ};
use crate::goertzel::{coef, energies};
use crate::tone::oscillator::dbm0_amplitude;

/// Goertzel block length in samples (10 ms at 8 kHz; two per 20 ms frame).
pub const BLOCK: usize = 102;
/// Relative offset of the frequency probes either side of each nominal frequency.
const PROBE_OFFSET: f32 = 0.05;
/// A tone's second harmonic must be this much weaker (power ratio, 15 dB).
const HARMONIC: f32 = 31.6;
/// The row tone's harmonic is judged only this far (Hz) from the column tone: about three
/// Goertzel bins of [`BLOCK`] samples, where a column tone up to 7 dB louder than the row
/// leaks less than the harmonic limit.
const HARMONIC_CLEARANCE: f32 = 250.0;
/// Consecutive agreeing blocks that start a digit.
pub const HITS: u8 = 2;
/// Consecutive blocks without the digit that end it.
pub const MISSES: u8 = 2;

/// Tunable acceptance limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DtmfDetectorConfig {
    /// Minimum level of each tone, dBm0.
    pub min_level_dbm0: f32,
    /// Largest accepted excess of the low-group tone over the high-group tone, dB.
    pub max_low_louder_db: f32,
    /// Largest accepted excess of the high-group tone over the low-group tone, dB.
    pub max_high_louder_db: f32,
    /// How far each tone must stand out from the other tones of its group, dB.
    pub min_relative_peak_db: f32,
    /// Minimum share of the block's power held by the two tones (0..1).
    pub min_tone_share: f32,
}

impl Default for DtmfDetectorConfig {
    /// Limits that meet Q.24: 8 dB low-group-louder and 4 dB high-group-louder twist are
    /// accepted with margin for G.711 and off-frequency loss; sensitivity down to
    /// -40 dBm0 per tone.
    fn default() -> Self {
        DtmfDetectorConfig {
            min_level_dbm0: -40.0,
            max_low_louder_db: 10.0,
            max_high_louder_db: 7.0,
            min_relative_peak_db: 8.0,
            min_tone_share: 0.75,
        }
    }
}

/// What the detector reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtmfEvent {
    /// A digit was recognised; `at` is the sample index where its first block began.
    Start { digit: Digit, at: u64 },
    /// The digit ended; `start` as in `Start`, `duration` in samples.
    End {
        digit: Digit,
        start: u64,
        duration: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Thresholds {
    min_energy: f32,
    low_louder: f32,
    high_louder: f32,
    rel_peak: f32,
    share: f32,
}

/// A streaming DTMF detector. Feed it frames of any size; no allocation.
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    th: Thresholds,
    nominal: [f32; 8],
    probes: [[f32; 2]; 8],
    /// Goertzel coefficients of each tone's second harmonic.
    harmonics: [f32; 8],
    /// Whether row `r`'s harmonic is clear of column `c` (`[r][c]`).
    row_harmonic_clear: [[bool; 4]; 4],
    block: [f32; BLOCK],
    fill: usize,
    /// Sample index of the first sample of the current block.
    block_start: u64,
    prev_raw: Option<Digit>,
    prev_start: u64,
    hits: u8,
    current: Option<(Digit, u64)>,
    misses: u8,
    miss_start: u64,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DtmfDetectorConfig::default())
    }
}

impl DtmfDetector {
    pub fn new(cfg: DtmfDetectorConfig) -> Self {
        let a = dbm0_amplitude(cfg.min_level_dbm0);
        let n = BLOCK as f32;
        let db = |d: f32| 10f32.powf(d / 10.0);
        let mut nominal = [0f32; 8];
        let mut probes = [[0f32; 2]; 8];
        let mut harmonics = [0f32; 8];
        let row_harmonic_clear =
            ROW_HZ.map(|r| COL_HZ.map(|c| (2.0 * r - c).abs() > HARMONIC_CLEARANCE));
        for (i, hz) in ROW_HZ.iter().chain(COL_HZ.iter()).enumerate() {
            nominal[i] = coef(*hz);
            harmonics[i] = coef(2.0 * hz);
            probes[i] = [
                coef(hz * (1.0 - PROBE_OFFSET)),
                coef(hz * (1.0 + PROBE_OFFSET)),
            ];
        }
        DtmfDetector {
            th: Thresholds {
                // |X|² of a bin-centred tone of peak a is (a·N/2)².
                min_energy: (a * n / 2.0) * (a * n / 2.0),
                low_louder: db(cfg.max_low_louder_db),
                high_louder: db(cfg.max_high_louder_db),
                rel_peak: db(cfg.min_relative_peak_db),
                share: cfg.min_tone_share,
            },
            nominal,
            probes,
            harmonics,
            row_harmonic_clear,
            block: [0.0; BLOCK],
            fill: 0,
            block_start: 0,
            prev_raw: None,
            prev_start: 0,
            hits: 0,
            current: None,
            misses: 0,
            miss_start: 0,
        }
    }

    /// The digit currently being received, if any.
    pub fn current(&self) -> Option<Digit> {
        self.current.map(|(d, _)| d)
    }

    /// The digit the last 10 ms block looked like, before the blocks that confirm it: the
    /// earliest sign of a digit, for muting one (may be a false alarm).
    pub fn block_digit(&self) -> Option<Digit> {
        self.prev_raw
    }

    /// Total samples consumed so far.
    pub fn samples_seen(&self) -> u64 {
        self.block_start + self.fill as u64
    }

    /// Consumes `samples`, calling `on_event` for each digit start and end.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(DtmfEvent)) {
        for &s in samples {
            self.block[self.fill] = f32::from(s);
            self.fill += 1;
            if self.fill == BLOCK {
                let raw = self.analyse_block();
                self.step(raw, &mut on_event);
                self.fill = 0;
                self.block_start += BLOCK as u64;
            }
        }
    }

    /// Ends a digit in progress (at end of input). Reports its `End` if there was one.
    pub fn flush(&mut self, mut on_event: impl FnMut(DtmfEvent)) {
        if let Some((digit, start)) = self.current.take() {
            let end = if self.misses > 0 {
                self.miss_start
            } else {
                self.samples_seen()
            };
            on_event(DtmfEvent::End {
                digit,
                start,
                duration: end - start,
            });
        }
        self.misses = 0;
        self.hits = 0;
        self.prev_raw = None;
    }

    fn step(&mut self, raw: Option<Digit>, on_event: &mut impl FnMut(DtmfEvent)) {
        let here = self.block_start;
        if let Some((digit, start)) = self.current {
            if raw == Some(digit) {
                self.misses = 0;
            } else {
                if self.misses == 0 {
                    self.miss_start = here;
                }
                self.misses += 1;
                if self.misses >= MISSES {
                    on_event(DtmfEvent::End {
                        digit,
                        start,
                        duration: self.miss_start - start,
                    });
                    self.current = None;
                    self.misses = 0;
                }
            }
        } else if raw.is_some() && raw == self.prev_raw {
            self.hits += 1;
        } else {
            self.hits = 1;
            self.prev_start = here;
        }
        self.prev_raw = raw;
        if let (None, Some(d)) = (self.current, raw)
            && self.hits >= HITS
        {
            self.current = Some((d, self.prev_start));
            self.misses = 0;
            self.hits = 0;
            on_event(DtmfEvent::Start {
                digit: d,
                at: self.prev_start,
            });
        }
    }

    /// Decides whether the buffered block carries a digit.
    fn analyse_block(&self) -> Option<Digit> {
        let e = energies(self.block.iter().copied(), &self.nominal);
        let (r, er) = best(&e[..4]);
        let (c, ec) = best(&e[4..]);
        let th = &self.th;
        if er < th.min_energy || ec < th.min_energy {
            return None;
        }
        if er > ec * th.low_louder || ec > er * th.high_louder {
            return None;
        }
        for i in 0..4 {
            if (i != r && e[i] * th.rel_peak > er) || (i != c && e[4 + i] * th.rel_peak > ec) {
                return None;
            }
        }
        let total: f32 = self.block.iter().map(|x| x * x).sum();
        // Tone power 2|X|²/N² against mean power total/N.
        if 2.0 * (er + ec) < th.share * BLOCK as f32 * total {
            return None;
        }
        let p = energies(
            self.block.iter().copied(),
            &[
                self.probes[r][0],
                self.probes[r][1],
                self.probes[4 + c][0],
                self.probes[4 + c][1],
            ],
        );
        if p[0] > er || p[1] > er || p[2] > ec || p[3] > ec {
            return None;
        }
        let h = energies(
            self.block.iter().copied(),
            &[self.harmonics[r], self.harmonics[4 + c]],
        );
        if h[1] * HARMONIC > ec || (self.row_harmonic_clear[r][c] && h[0] * HARMONIC > er) {
            return None;
        }
        Some(Digit::from_row_col(r, c))
    }
}

fn best(e: &[f32]) -> (usize, f32) {
    let mut bi = 0;
    for i in 1..e.len() {
        if e[i] > e[bi] {
            bi = i;
        }
    }
    (bi, e[bi])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::{DtmfGenerator, DtmfParams};

    fn detect_all(signal: &[i16], frame: usize) -> Vec<(Digit, u64, u64)> {
        let mut d = DtmfDetector::default();
        let mut out = Vec::new();
        for f in signal.chunks(frame) {
            d.process(f, |e| {
                if let DtmfEvent::End {
                    digit,
                    start,
                    duration,
                } = e
                {
                    out.push((digit, start, duration))
                }
            });
        }
        d.flush(|e| {
            if let DtmfEvent::End {
                digit,
                start,
                duration,
            } = e
            {
                out.push((digit, start, duration))
            }
        });
        out
    }

    #[test]
    fn sixteen_digits_in_160_sample_frames_with_times() {
        let mut g = DtmfGenerator::new(DtmfParams::default());
        g.push_str("123A456B789C*0#D").unwrap();
        let mut sig = vec![0i16; 16 * 160 * 8 + 800];
        g.fill(&mut sig);
        let got = detect_all(&sig, 160);
        let s: String = got.iter().map(|(d, _, _)| d.as_char()).collect();
        assert_eq!(s, "123A456B789C*0#D");
        for (i, (_, start, dur)) in got.iter().enumerate() {
            let want = i as u64 * 1280;
            assert!(
                start.abs_diff(want) <= BLOCK as u64,
                "start {start} vs {want}"
            );
            assert!(dur.abs_diff(640) <= 2 * BLOCK as u64, "duration {dur}");
        }
    }

    #[test]
    fn frame_size_does_not_change_the_result() {
        let mut g = DtmfGenerator::new(DtmfParams::default());
        g.push_str("159#").unwrap();
        let mut sig = vec![0i16; 6000];
        g.fill(&mut sig);
        assert_eq!(detect_all(&sig, 160), detect_all(&sig, 7));
        assert_eq!(detect_all(&sig, 160), detect_all(&sig, 6000));
    }
}
