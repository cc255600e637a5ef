//! What the bench does as the simulated phones: audio markers (one loud frame among
//! silent ones, its send time noted) and detectors of them; the switchboard that answers
//! ringing phones is testkit's ([`testkit::switchboard`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_hal::audio::Frame;
use tipring_hal::sim::{FrameSink, FrameSource};
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

/// A frame counts as loud when a sample reaches this (a -10 dBm0 sine peaks near 7300).
const LOUD: i16 = 2000;

/// Times at which something happened, shared between threads.
pub type Stamps = Arc<Mutex<Vec<Instant>>>;

/// Silence with one -10 dBm0 1 kHz frame every `every` frames; notes when each loud frame
/// was handed to the card (the instant it leaves for the gateway).
pub struct Marker {
    osc: Oscillator,
    every: u32,
    n: u32,
    pub sent: Stamps,
}

impl Marker {
    pub fn new(every: u32) -> (Marker, Stamps) {
        let sent = Stamps::default();
        (
            Marker {
                osc: Oscillator::new(1000.0, dbm0_amplitude(-10.0)),
                every,
                n: 0,
                sent: sent.clone(),
            },
            sent,
        )
    }
}

impl FrameSource for Marker {
    fn fill(&mut self, out: &mut Frame) -> bool {
        self.n += 1;
        if self.n % self.every == 0 {
            for s in out.iter_mut() {
                *s = to_i16(self.osc.next_sample());
            }
            if let Ok(mut v) = self.sent.lock() {
                v.push(Instant::now());
            }
        } else {
            out.fill(0);
        }
        true
    }
}

/// Notes when frames with a loud sample arrive.
pub struct LoudSink(pub Stamps);

impl LoudSink {
    pub fn new() -> (LoudSink, Stamps) {
        let s = Stamps::default();
        (LoudSink(s.clone()), s)
    }
}

/// Whether a frame has a loud sample.
pub fn loud(f: &[i16]) -> bool {
    f.iter().any(|s| s.unsigned_abs() >= LOUD as u16)
}

impl FrameSink for LoudSink {
    fn frame(&mut self, f: &Frame) {
        if loud(f)
            && let Ok(mut v) = self.0.lock()
        {
            v.push(Instant::now());
        }
    }
}

/// For each marker sent, ms until the first loud arrival after it (within `window`).
pub fn latencies(sent: &[Instant], got: &[Instant], window: Duration) -> Vec<f64> {
    sent.iter()
        .filter_map(|&s| {
            got.iter()
                .find(|&&g| g >= s && g < s + window)
                .map(|&g| (g - s).as_secs_f64() * 1000.0)
        })
        .collect()
}
