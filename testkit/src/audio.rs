//! A sound card in memory for bridge tests: capture paced at one 20 ms frame per period
//! of the wall clock from a source the test gives, playback recorded with the wall time
//! of each frame.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_hal::audio::{AudioCounters, AudioError, AudioPort, Frame};

/// One audio period.
const PERIOD: Duration = Duration::from_millis(20);

/// What fills each captured frame.
pub type Source = Box<dyn FnMut(&mut Frame) + Send>;

/// What a port played, with the wall time of each frame.
pub type Played = Arc<Mutex<Vec<(Instant, Frame)>>>;

/// The in-memory port; `played` and `first_signal` are shared with the test.
pub struct MemPort {
    next: Option<Instant>,
    source: Source,
    /// Wall time of the first captured frame with signal in it.
    pub first_signal: Arc<Mutex<Option<Instant>>>,
    pub played: Played,
    counters: AudioCounters,
}

impl MemPort {
    /// A port capturing from `source`.
    pub fn new(source: Source) -> MemPort {
        MemPort {
            next: None,
            source,
            first_signal: Arc::default(),
            played: Arc::default(),
            counters: AudioCounters::default(),
        }
    }
}

impl AudioPort for MemPort {
    fn start(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
    fn stop(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
    fn read_frame(&mut self, frame: &mut Frame) -> Result<(), AudioError> {
        let next = *self.next.get_or_insert_with(Instant::now);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        self.next = Some(next + PERIOD);
        (self.source)(frame);
        if frame.iter().any(|&s| s != 0)
            && let Ok(mut first) = self.first_signal.lock()
        {
            first.get_or_insert(Instant::now());
        }
        self.counters.frames_in += 1;
        Ok(())
    }
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        if let Ok(mut p) = self.played.lock() {
            p.push((Instant::now(), *frame));
        }
        self.counters.frames_out += 1;
        Ok(())
    }
    fn counters(&self) -> AudioCounters {
        self.counters
    }
}
