//! A far digit regenerated to the line: the RFC 4733 event of a DTMF key played as its
//! two tones (RFC 4733 §2.5.2: the receiver reproduces the event for the line).

use crate::dtmf::Digit;
use crate::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

/// The shortest regeneration of an event known only by its end: long enough for any
/// DTMF receiver (ITU-T Q.24 accepts 40 ms digits).
const MIN_SAMPLES: u32 = 400;
/// The longest such regeneration (1 s), whatever duration the end packet claims.
const MAX_SAMPLES: u32 = 8000;

/// The two tones of one digit, for as long as the far event lasts or for a known length.
pub(super) struct Regen {
    low: Oscillator,
    high: Oscillator,
    /// Samples still to play when the event's length is already known (its first packet
    /// to arrive was its end); `None` while it lasts until its end packet or timeout.
    left: Option<u32>,
}

impl Regen {
    /// `digit`'s tones at the levels of a DTMF sender (-9/-7 dBm0 per group, twist
    /// toward the high group); `known` is the event's length in samples when its end has
    /// already been received (kept within 50 ms..1 s).
    pub fn new(digit: Digit, known: Option<u32>) -> Regen {
        let (lo, hi) = digit.frequencies();
        Regen {
            low: Oscillator::new(lo, dbm0_amplitude(-9.0)),
            high: Oscillator::new(hi, dbm0_amplitude(-7.0)),
            left: known.map(|n| n.clamp(MIN_SAMPLES, MAX_SAMPLES)),
        }
    }

    /// Writes the tones over `out` (the whole of it, or up to the known end); returns
    /// false once the known length has been played.
    pub fn fill(&mut self, out: &mut [i16]) -> bool {
        let n = self
            .left
            .map_or(out.len(), |left| out.len().min(left as usize));
        for s in &mut out[..n] {
            *s = to_i16(self.low.next_sample() + self.high.next_sample());
        }
        match &mut self.left {
            Some(left) => {
                *left -= n as u32;
                *left > 0
            }
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_length_is_played_and_then_nothing() {
        let d = Digit::from_char('1').unwrap();
        let mut r = Regen::new(d, Some(600));
        let mut f = [0i16; 160];
        let mut frames = 0;
        while r.fill(&mut f) {
            frames += 1;
            f = [0; 160];
        }
        // 600 samples: three whole frames and 120 samples of a fourth.
        assert_eq!(frames, 3);
        assert!(f[..120].iter().any(|&s| s != 0));
        assert!(f[120..].iter().all(|&s| s == 0));
    }

    #[test]
    fn known_lengths_are_kept_within_bounds() {
        let d = Digit::from_char('9').unwrap();
        assert_eq!(Regen::new(d, Some(0)).left, Some(MIN_SAMPLES));
        assert_eq!(Regen::new(d, Some(u32::MAX)).left, Some(MAX_SAMPLES));
        assert_eq!(Regen::new(d, None).left, None);
    }

    #[test]
    fn an_open_event_plays_until_dropped() {
        let mut r = Regen::new(Digit::from_char('#').unwrap(), None);
        let mut f = [0i16; 160];
        for _ in 0..100 {
            assert!(r.fill(&mut f));
        }
    }
}
