//! The narrow interface between a port machine and the dial plan: digits go in, a verdict
//! (keep collecting, a complete number, a feature code, or no match) comes out, and the
//! collector owns its own interdigit timers (short/long `T`, hotline and warm-line delays).

#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

/// A collector's verdict after a digit or a timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collect {
    /// Keep collecting.
    More,
    /// Dial this number now.
    Complete(String),
    /// A feature code was dialled (with its number where it takes one).
    Feature(super::Feature),
    /// A code that takes a number was dialled: prompt for the number (stutter dial tone).
    Prompt,
    /// No dial-plan entry can match: play reorder.
    Invalid,
}

/// Collects dialled digits against a dial plan. Sans-IO like the port machines.
pub trait DigitCollector {
    /// Off-hook (or seizure for two-stage dialling): start afresh. A hotline answers
    /// `Complete` at once; a warm line arms a timer.
    fn start(&mut self, now: Instant) -> Collect;
    /// One digit (`0-9`, `*`, `#`, `A-D`).
    fn digit(&mut self, now: Instant, digit: char) -> Collect;
    /// Timers (interdigit, warm line) that have passed by `now`.
    fn poll(&mut self, now: Instant) -> Collect;
    /// When [`DigitCollector::poll`] next has something to say.
    fn next_deadline(&self) -> Option<Instant>;
}

/// The simplest real dial plan: a fixed number of digits, `#` to send what was dialled,
/// an interdigit timeout that sends what was dialled (or rejects an empty number). The
/// port machines' unit tests use it; the gateway runs the configured digit maps.
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct LengthCollector {
    length: usize,
    interdigit: Duration,
    digits: String,
    deadline: Option<Instant>,
}

#[cfg(test)]
impl LengthCollector {
    pub fn new(length: usize, interdigit: Duration) -> Self {
        LengthCollector {
            length,
            interdigit,
            digits: String::new(),
            deadline: None,
        }
    }
}

#[cfg(test)]
impl DigitCollector for LengthCollector {
    fn start(&mut self, now: Instant) -> Collect {
        self.digits.clear();
        self.deadline = Some(now + self.interdigit);
        Collect::More
    }

    fn digit(&mut self, now: Instant, digit: char) -> Collect {
        if digit == '#' && !self.digits.is_empty() {
            self.deadline = None;
            return Collect::Complete(std::mem::take(&mut self.digits));
        }
        self.digits.push(digit);
        if self.digits.len() >= self.length {
            self.deadline = None;
            return Collect::Complete(std::mem::take(&mut self.digits));
        }
        self.deadline = Some(now + self.interdigit);
        Collect::More
    }

    fn poll(&mut self, now: Instant) -> Collect {
        match self.deadline {
            Some(d) if now >= d => {
                self.deadline = None;
                if self.digits.is_empty() {
                    Collect::Invalid
                } else {
                    Collect::Complete(std::mem::take(&mut self.digits))
                }
            }
            _ => Collect::More,
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_on_length_hash_or_timeout() {
        let t0 = Instant::now();
        let mut c = LengthCollector::new(3, Duration::from_secs(4));
        assert_eq!(c.start(t0), Collect::More);
        assert_eq!(c.digit(t0, '1'), Collect::More);
        assert_eq!(c.digit(t0, '2'), Collect::More);
        assert_eq!(c.digit(t0, '3'), Collect::Complete("123".into()));
        c.start(t0);
        c.digit(t0, '7');
        assert_eq!(c.digit(t0, '#'), Collect::Complete("7".into()));
        c.start(t0);
        c.digit(t0, '5');
        assert_eq!(c.poll(t0 + Duration::from_secs(3)), Collect::More);
        assert_eq!(
            c.poll(t0 + Duration::from_secs(4)),
            Collect::Complete("5".into())
        );
        c.start(t0);
        assert_eq!(c.poll(t0 + Duration::from_secs(4)), Collect::Invalid);
    }
}
