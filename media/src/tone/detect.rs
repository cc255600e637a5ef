//! Cadence-aware call-progress tone detector (FXO side: far-end hangup shows up as busy
//! or congestion tone, or dial tone returning).
//!
//! Audio is analysed in 20 ms blocks: Goertzel energies at each frequency of the watched
//! tones decide, per tone kind, whether the tone is "on" (every component above the
//! minimum level and the components together holding most of the block's power, which
//! keeps speech and noise out). On/off run lengths are then matched against the kind's
//! cadence with a tolerance; a kind is reported once it has matched for
//! [`ToneDetectorConfig::cycles`] periods (continuous tones: once on for
//! [`ToneDetectorConfig::continuous_ms`]).

use super::oscillator::dbm0_amplitude;
use super::profile::{CountryProfile, MAX_SEGMENTS, ToneKind, ToneSpec};
use crate::goertzel;

/// Analysis block: 20 ms.
pub const BLOCK: usize = 160;
const BLOCK_MS: u32 = 20;
/// Segment history kept per kind: enough for two periods of the longest cadence.
const HISTORY: usize = 2 * MAX_SEGMENTS;

/// Detector settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToneDetectorConfig {
    /// Minimum level of each component, dBm0.
    pub min_level_dbm0: f32,
    /// Minimum share of the block's power in the tone's components (0..1).
    pub min_share: f32,
    /// Periods a cadenced tone must match before it is reported.
    pub cycles: u32,
    /// How long a continuous tone must last before it is reported, ms (longer than any
    /// ringback burst, 2 s in the US, so ringback is not taken for dial tone).
    pub continuous_ms: u32,
    /// Relative tolerance on each segment (0..1).
    pub tolerance: f32,
    /// Absolute tolerance floor on each segment, ms.
    pub tolerance_ms: u32,
}

impl Default for ToneDetectorConfig {
    fn default() -> Self {
        ToneDetectorConfig {
            min_level_dbm0: -45.0,
            min_share: 0.6,
            cycles: 2,
            continuous_ms: 2500,
            tolerance: 0.2,
            tolerance_ms: 50,
        }
    }
}

/// A call-progress tone was recognised, or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToneEvent {
    /// `kind` matched; `at_ms` is the stream time of the decision.
    Detected { kind: ToneKind, at_ms: u64 },
    /// A reported tone has been absent for longer than its longest off segment.
    Ended { kind: ToneKind, at_ms: u64 },
}

#[derive(Clone, Copy, Debug)]
struct Tracker {
    kind: ToneKind,
    spec: ToneSpec,
    /// Indices into the detector's frequency table.
    bins: [usize; 2],
    on: bool,
    run_ms: u32,
    /// Completed segments, oldest first; `hist_on` says whether each was an on segment.
    hist: [u32; HISTORY],
    hist_on: [bool; HISTORY],
    hist_len: usize,
    reported: bool,
}

impl Tracker {
    fn push_segment(&mut self, ms: u32, on: bool) {
        if self.hist_len == HISTORY {
            self.hist.copy_within(1.., 0);
            self.hist_on.copy_within(1.., 0);
            self.hist_len -= 1;
        }
        self.hist[self.hist_len] = ms;
        self.hist_on[self.hist_len] = on;
        self.hist_len += 1;
    }

    fn matches(&self, cfg: &ToneDetectorConfig) -> bool {
        let segs = self.spec.cadence.segments();
        if segs.is_empty() {
            return self.on && self.run_ms >= cfg.continuous_ms;
        }
        let need = segs.len() * cfg.cycles as usize;
        if self.hist_len < need {
            return false;
        }
        let window = self.hist_len - need..self.hist_len;
        'rotation: for r in 0..segs.len() {
            for (j, i) in window.clone().enumerate() {
                let k = (r + j) % segs.len();
                let want = segs[k];
                let tol = (want as f32 * cfg.tolerance).max(cfg.tolerance_ms as f32);
                if self.hist_on[i] != (k % 2 == 0)
                    || (self.hist[i] as f32 - want as f32).abs() > tol
                {
                    continue 'rotation;
                }
            }
            return true;
        }
        false
    }

    fn longest_off(&self) -> u32 {
        let segs = self.spec.cadence.segments();
        segs.iter().skip(1).step_by(2).copied().max().unwrap_or(0)
    }
}

/// Watches a stream for the dial, busy, congestion, ringback and confirmation tones of one
/// profile.
#[derive(Clone, Debug)]
pub struct ToneDetector {
    cfg: ToneDetectorConfig,
    coef: [f32; 8],
    nbins: usize,
    trackers: [Tracker; 5],
    block: [f32; BLOCK],
    fill: usize,
    now_ms: u64,
    min_energy: f32,
}

impl ToneDetector {
    /// A detector for `profile`'s dial, ringback, busy, congestion and confirmation tones.
    pub fn new(profile: &CountryProfile, cfg: ToneDetectorConfig) -> Self {
        let kinds = [
            ToneKind::Busy,
            ToneKind::Congestion,
            ToneKind::Dial,
            ToneKind::Ringback,
            ToneKind::Confirmation,
        ];
        let mut coef = [0f32; 8];
        let mut nbins = 0;
        let mut trackers = kinds.map(|kind| Tracker {
            kind,
            spec: *profile.tone(kind),
            bins: [usize::MAX; 2],
            on: false,
            run_ms: 0,
            hist: [0; HISTORY],
            hist_on: [false; HISTORY],
            hist_len: 0,
            reported: false,
        });
        for t in trackers.iter_mut() {
            for (b, &hz) in t.spec.freqs().iter().enumerate() {
                let c = goertzel::coef(hz);
                let idx = match coef[..nbins].iter().position(|&x| x == c) {
                    Some(i) => i,
                    None => {
                        coef[nbins] = c;
                        nbins += 1;
                        nbins - 1
                    }
                };
                t.bins[b] = idx;
            }
        }
        let a = dbm0_amplitude(cfg.min_level_dbm0);
        let n = BLOCK as f32;
        ToneDetector {
            cfg,
            coef,
            nbins,
            trackers,
            block: [0.0; BLOCK],
            fill: 0,
            now_ms: 0,
            min_energy: (a * n / 2.0) * (a * n / 2.0),
        }
    }

    /// Consumes samples; calls `on_event` for each recognition or end.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(ToneEvent)) {
        for &s in samples {
            self.block[self.fill] = f32::from(s);
            self.fill += 1;
            if self.fill == BLOCK {
                self.fill = 0;
                self.now_ms += u64::from(BLOCK_MS);
                self.analyse(&mut on_event);
            }
        }
    }

    fn analyse(&mut self, on_event: &mut impl FnMut(ToneEvent)) {
        let total: f32 = self.block.iter().map(|v| v * v).sum();
        let mut e = goertzel::energies(self.block.iter().copied(), &self.coef);
        e[self.nbins..].fill(0.0);
        let now = self.now_ms;
        let cfg = self.cfg;
        for t in self.trackers.iter_mut() {
            let n = t.spec.freqs().len();
            let bins = &t.bins[..n];
            let loud = bins.iter().all(|&b| e[b] >= self.min_energy);
            let sum: f32 = bins.iter().map(|&b| e[b]).sum();
            let on = loud && 2.0 * sum >= cfg.min_share * BLOCK as f32 * total;
            if on == t.on {
                t.run_ms = t.run_ms.saturating_add(BLOCK_MS);
            } else {
                let (ms, was) = (t.run_ms, t.on);
                t.push_segment(ms, was);
                t.on = on;
                t.run_ms = BLOCK_MS;
            }
            if !t.reported && t.matches(&cfg) {
                t.reported = true;
                on_event(ToneEvent::Detected {
                    kind: t.kind,
                    at_ms: now,
                });
            } else if t.reported && !t.on {
                let limit =
                    (t.longest_off() as f32 * (1.0 + cfg.tolerance)) as u32 + cfg.tolerance_ms;
                if t.run_ms > limit {
                    t.reported = false;
                    t.hist_len = 0;
                    on_event(ToneEvent::Ended {
                        kind: t.kind,
                        at_ms: now,
                    });
                }
            }
        }
    }
}
