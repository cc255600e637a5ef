//! The per-message log (`SIP -> peer INVITE …` lines) held to a rate: at most
//! `per_s` lines in any one-second window, the rest counted and summed up in one line when
//! the window ends, so a flood costs the log a line per second instead of one per message.

use std::time::{Duration, Instant};

/// A budget of message log lines per second.
#[derive(Debug, Clone)]
pub struct WireLog {
    per_s: u32,
    window: Option<Instant>,
    used: u32,
    suppressed: u64,
}

/// What to do with one message's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Log it (first: the number of lines suppressed in the last window, to log before it).
    Log { suppressed: u64 },
    /// Count it only.
    Suppress,
}

impl WireLog {
    /// At most `per_s` lines a second (0: none).
    pub fn new(per_s: u32) -> Self {
        WireLog {
            per_s,
            window: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// One message at `now`.
    pub fn line(&mut self, now: Instant) -> Line {
        if self.per_s == 0 {
            return Line::Suppress;
        }
        let fresh = self
            .window
            .is_none_or(|w| now.saturating_duration_since(w) >= Duration::from_secs(1));
        if fresh {
            self.window = Some(now);
            self.used = 0;
        }
        if self.used < self.per_s {
            self.used += 1;
            let suppressed = std::mem::take(&mut self.suppressed);
            Line::Log { suppressed }
        } else {
            self.suppressed += 1;
            Line::Suppress
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_beyond_the_rate_are_counted_and_reported_once() {
        let t0 = Instant::now();
        let mut w = WireLog::new(3);
        let first: Vec<Line> = (0..10).map(|_| w.line(t0)).collect();
        assert_eq!(first[..3], [Line::Log { suppressed: 0 }; 3]);
        assert!(first[3..].iter().all(|l| *l == Line::Suppress));
        let next = t0 + Duration::from_secs(1);
        assert_eq!(w.line(next), Line::Log { suppressed: 7 });
        assert_eq!(w.line(next), Line::Log { suppressed: 0 });
    }

    #[test]
    fn zero_logs_nothing() {
        let mut w = WireLog::new(0);
        assert_eq!(w.line(Instant::now()), Line::Suppress);
    }
}
