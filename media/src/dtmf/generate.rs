//! DTMF generator: queued digits played with configurable level, twist and on/off times
//! (ITU-T Q.23 frequencies), phase-continuous within each tone, no allocation.

use super::{Digit, NotADigit};
use crate::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

/// Capacity of the digit queue.
pub const QUEUE_LEN: usize = 64;

/// How digits are played.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DtmfParams {
    /// Level of the low-group (row) tone, dBm0.
    pub low_dbm0: f32,
    /// Level of the high-group (column) tone, dBm0.
    pub high_dbm0: f32,
    /// Tone duration per digit, ms.
    pub on_ms: u32,
    /// Silence after each digit, ms.
    pub off_ms: u32,
}

impl Default for DtmfParams {
    /// -9 dBm0 low group, -7 dBm0 high group (2 dB pre-emphasis), 80 ms on, 80 ms off.
    fn default() -> Self {
        DtmfParams {
            low_dbm0: -9.0,
            high_dbm0: -7.0,
            on_ms: 80,
            off_ms: 80,
        }
    }
}

/// The digit queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DtmfGenError {
    #[error(transparent)]
    NotADigit(#[from] NotADigit),
    #[error("DTMF queue full ({QUEUE_LEN} digits)")]
    QueueFull,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Idle,
    Tone {
        low: Oscillator,
        high: Oscillator,
        left: u32,
    },
    Pause {
        left: u32,
    },
}

/// Plays queued digits into 8 kHz linear frames.
#[derive(Clone, Debug)]
pub struct DtmfGenerator {
    params: DtmfParams,
    queue: [Digit; QUEUE_LEN],
    head: usize,
    len: usize,
    state: State,
}

impl DtmfGenerator {
    pub fn new(params: DtmfParams) -> Self {
        DtmfGenerator {
            params,
            queue: [Digit::D0; QUEUE_LEN],
            head: 0,
            len: 0,
            state: State::Idle,
        }
    }

    /// Queues one digit.
    pub fn push(&mut self, d: Digit) -> Result<(), DtmfGenError> {
        if self.len == QUEUE_LEN {
            return Err(DtmfGenError::QueueFull);
        }
        self.queue[(self.head + self.len) % QUEUE_LEN] = d;
        self.len += 1;
        Ok(())
    }

    /// Queues every character of `s` (all or nothing).
    pub fn push_str(&mut self, s: &str) -> Result<(), DtmfGenError> {
        let mut n = 0;
        for c in s.chars() {
            Digit::from_char(c)?;
            n += 1;
        }
        if self.len + n > QUEUE_LEN {
            return Err(DtmfGenError::QueueFull);
        }
        for c in s.chars() {
            self.push(Digit::from_char(c)?)?;
        }
        Ok(())
    }

    /// True when nothing is queued or playing.
    pub fn is_idle(&self) -> bool {
        self.len == 0 && self.state == State::Idle
    }

    /// Fills `out` with the signal (silence when idle).
    pub fn fill(&mut self, out: &mut [i16]) {
        for o in out.iter_mut() {
            *o = self.next_sample();
        }
    }

    fn next_sample(&mut self) -> i16 {
        loop {
            match &mut self.state {
                State::Idle => {
                    if self.len == 0 {
                        return 0;
                    }
                    let d = self.queue[self.head];
                    self.head = (self.head + 1) % QUEUE_LEN;
                    self.len -= 1;
                    let (lo, hi) = d.frequencies();
                    self.state = State::Tone {
                        low: Oscillator::new(lo, dbm0_amplitude(self.params.low_dbm0)),
                        high: Oscillator::new(hi, dbm0_amplitude(self.params.high_dbm0)),
                        left: self.params.on_ms * 8,
                    };
                }
                State::Tone { left: 0, .. } => {
                    self.state = State::Pause {
                        left: self.params.off_ms * 8,
                    };
                }
                State::Tone { low, high, left } => {
                    *left -= 1;
                    return to_i16(low.next_sample() + high.next_sample());
                }
                State::Pause { left: 0 } => self.state = State::Idle,
                State::Pause { left } => {
                    *left -= 1;
                    return 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_is_sample_exact() {
        let mut g = DtmfGenerator::new(DtmfParams {
            on_ms: 50,
            off_ms: 30,
            ..DtmfParams::default()
        });
        g.push_str("12").unwrap();
        let mut buf = [0i16; 1000];
        g.fill(&mut buf);
        // Tone occupies 0..400, pause 400..640, second tone 640..1040.
        assert!(buf[..400].iter().filter(|&&s| s != 0).count() > 390);
        assert!(buf[400..640].iter().all(|&s| s == 0));
        assert!(buf[640..].iter().filter(|&&s| s != 0).count() > 350);
        assert!(!g.is_idle());
    }

    #[test]
    fn rejects_bad_digit_and_full_queue() {
        let mut g = DtmfGenerator::new(DtmfParams::default());
        assert!(matches!(g.push_str("12x"), Err(DtmfGenError::NotADigit(_))));
        assert!(g.is_idle());
        let long: String = core::iter::repeat_n('1', QUEUE_LEN + 1).collect();
        assert_eq!(g.push_str(&long), Err(DtmfGenError::QueueFull));
    }
}
