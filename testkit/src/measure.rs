//! Measuring a test tone end to end through the testbed: a [`ToneSource`] plays a sine
//! into one simulated phone and notes when its first frame left; a [`Capture`] on the
//! other phone keeps every frame the gateway played with its arrival time; [`analyse`]
//! finds the tone there and reports its frequency, level, latency and lost frames.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_hal::sim::{FrameSink, FrameSource};
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

/// Frame period.
const FRAME: Duration = Duration::from_millis(20);
/// A received frame carries the tone when its energy at the tone's frequency is at least
/// that of a sine this far below the sent level.
const DETECT_BELOW_DB: f32 = 20.0;

/// Plays a sine for a number of frames; remembers when the first one was handed out.
pub struct ToneSource {
    osc: Oscillator,
    frames_left: u32,
    started: Arc<Mutex<Option<Instant>>>,
}

impl ToneSource {
    /// A `freq` Hz sine at `dbm0` for `frames` frames; the handle gives its start time.
    pub fn new(freq: f32, dbm0: f32, frames: u32) -> (ToneSource, Arc<Mutex<Option<Instant>>>) {
        let started = Arc::new(Mutex::new(None));
        (
            ToneSource {
                osc: Oscillator::new(freq, dbm0_amplitude(dbm0)),
                frames_left: frames,
                started: started.clone(),
            },
            started,
        )
    }
}

impl FrameSource for ToneSource {
    fn fill(&mut self, out: &mut Frame) -> bool {
        if self.frames_left == 0 {
            return false;
        }
        self.frames_left -= 1;
        if let Ok(mut s) = self.started.lock() {
            s.get_or_insert_with(Instant::now);
        }
        for s in out.iter_mut() {
            *s = to_i16(self.osc.next_sample());
        }
        true
    }
}

/// Keeps the frames a phone receives, with their arrival times.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<(Instant, Frame)>>>);

impl FrameSink for Capture {
    fn frame(&mut self, f: &Frame) {
        if let Ok(mut v) = self.0.lock() {
            v.push((Instant::now(), *f));
        }
    }
}

impl Capture {
    /// Frames received since `since`.
    pub fn since(&self, since: Instant) -> Vec<(Instant, Frame)> {
        self.0
            .lock()
            .map(|v| v.iter().filter(|(t, _)| *t >= since).copied().collect())
            .unwrap_or_default()
    }
}

/// What arrived of a tone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneFigures {
    /// Estimated frequency, Hz (zero crossings over the steady part).
    pub frequency_hz: f32,
    /// RMS level of the steady part, dBm0 (ITU-T G.711: 0 dBm0 = 3.17 dB below the
    /// largest sine).
    pub level_dbm0: f32,
    /// From the first frame played into one phone to the first tone frame out of the
    /// other, ms (the simulator's 20 ms frame clock bounds the resolution).
    pub latency_ms: f32,
    /// Frames with the tone received.
    pub frames: u32,
    /// Frames without it between the first and the last tone frame (lost, concealed).
    pub gaps: u32,
}

/// The frequency of one frame from its rising zero crossings; `None` below three.
fn crossing_frequency(x: &[i16]) -> Option<f32> {
    let mut first = None;
    let mut last = 0.0;
    let mut n = 0u32;
    for i in 1..x.len() {
        let (p, c) = (f32::from(x[i - 1]), f32::from(x[i]));
        if p < 0.0 && c >= 0.0 {
            let at = (i - 1) as f32 + p / (p - c);
            first.get_or_insert(at);
            last = at;
            n += 1;
        }
    }
    let first = first?;
    (n >= 3 && last > first).then(|| (n - 1) as f32 * 8000.0 / (last - first))
}

/// Finds the tone sent at `dbm0` from `started` in `frames`; `None` if it never arrived.
pub fn analyse(
    frames: &[(Instant, Frame)],
    freq: f32,
    dbm0: f32,
    started: Instant,
) -> Option<ToneFigures> {
    // A sine of amplitude A gives Goertzel energy about (A N / 2)^2 over N samples.
    let a = dbm0_amplitude(dbm0 - DETECT_BELOW_DB);
    let min = (a * FRAME_SAMPLES as f32 / 2.0).powi(2);
    let has: Vec<bool> = frames
        .iter()
        .map(|(_, f)| tipring_media::goertzel::energy(freq, f) >= min)
        .collect();
    let first = has.iter().position(|&h| h)?;
    let last = has.iter().rposition(|&h| h)?;
    let count = has[first..=last].iter().filter(|&&h| h).count() as u32;
    let gaps = (last - first + 1) as u32 - count;
    // The steady part: the longest run of tone frames, without its edge frames (onset,
    // jitter-buffer and concealment edges).
    let (mut best, mut run_start) = ((first, first), None);
    for (i, &h) in has.iter().enumerate().skip(first).take(last - first + 1) {
        match (h, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(s)) => {
                if i - s > best.1 + 1 - best.0 {
                    best = (s, i - 1);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = run_start
        && last + 1 - s > best.1 + 1 - best.0
    {
        best = (s, last);
    }
    let (a, b) = if best.1 >= best.0 + 4 {
        (best.0 + 1, best.1 - 1)
    } else {
        best
    };
    let steady: Vec<i16> = frames[a..=b]
        .iter()
        .flat_map(|(_, f)| f.iter().copied())
        .collect();
    let ms = steady.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / steady.len() as f64;
    let zero_dbm0_ms = f64::from(dbm0_amplitude(0.0)).powi(2) / 2.0;
    let level_dbm0 = (10.0 * (ms / zero_dbm0_ms).log10()) as f32;
    // Per frame of the steady part: rising zero crossings (interpolated between samples)
    // give a frequency; the median of those shrugs off a glitch (a phase jump where a
    // frame was concealed or an echo path slipped) that would bias a single long count.
    let mut per_frame: Vec<f32> = steady
        .chunks_exact(FRAME_SAMPLES)
        .filter_map(crossing_frequency)
        .collect();
    per_frame.sort_by(f32::total_cmp);
    let frequency_hz = per_frame.get(per_frame.len() / 2).copied().unwrap_or(0.0);
    // The frame's arrival is the end of its 20 ms: its first sample left one frame earlier.
    let arrived = frames[first]
        .0
        .checked_sub(FRAME)
        .unwrap_or(frames[first].0);
    let latency_ms = arrived.saturating_duration_since(started).as_secs_f32() * 1000.0;
    Some(ToneFigures {
        frequency_hz,
        level_dbm0,
        latency_ms,
        frames: count,
        gaps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(
        src: &mut ToneSource,
        n: usize,
        t0: Instant,
        offset: usize,
    ) -> Vec<(Instant, Frame)> {
        let mut out = Vec::new();
        for i in 0..n + offset {
            let mut f = [0i16; FRAME_SAMPLES];
            if i >= offset {
                src.fill(&mut f);
            }
            out.push((t0 + FRAME * (i as u32 + 1), f));
        }
        out
    }

    #[test]
    fn finds_frequency_level_latency_and_gaps_of_a_delayed_tone() {
        let t0 = Instant::now();
        let (mut src, _) = ToneSource::new(1000.0, -10.0, 50);
        // Arrives three frames late, with two frames lost in the middle.
        let mut rx = frames_of(&mut src, 50, t0, 3);
        rx[20].1 = [0; FRAME_SAMPLES];
        rx[21].1 = [0; FRAME_SAMPLES];
        let f = analyse(&rx, 1000.0, -10.0, t0).unwrap();
        assert!((f.frequency_hz - 1000.0).abs() < 1.0, "{f:?}");
        assert!((f.level_dbm0 + 10.0).abs() < 0.6, "{f:?}");
        assert!((f.latency_ms - 60.0).abs() < 0.5, "{f:?}");
        assert_eq!((f.frames, f.gaps), (48, 2));
        // Another frequency is not mistaken for it.
        let (mut other, _) = ToneSource::new(1400.0, -10.0, 50);
        assert!(analyse(&frames_of(&mut other, 50, t0, 0), 1000.0, -10.0, t0).is_none());
    }
}
