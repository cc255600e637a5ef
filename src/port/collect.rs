//! The dial plan ([`crate::dialplan::Collector`]) behind the port machines' narrow
//! [`DigitCollector`] interface: one collector per off-hook (or FXO two-stage seizure),
//! started afresh each time with the port's digit map, timers and line mode.

use crate::call::{Collect, DigitCollector};
use crate::dialplan::{Collector, Dialed, DigitMap, LineMode, Step, Timers};
use std::time::Instant;

/// A port's dial plan as a [`DigitCollector`].
#[derive(Debug, Clone)]
pub struct PlanCollector {
    map: DigitMap,
    timers: Timers,
    mode: LineMode,
    current: Option<Collector>,
    deadline: Option<Instant>,
}

impl PlanCollector {
    pub fn new(map: DigitMap, timers: Timers, mode: LineMode) -> Self {
        PlanCollector {
            map,
            timers,
            mode,
            current: None,
            deadline: None,
        }
    }

    fn verdict(&mut self, step: Step) -> Collect {
        match step {
            Step::NeedMore { deadline } => {
                self.deadline = Some(deadline);
                Collect::More
            }
            Step::Match(Dialed::Number(n) | Dialed::Line(n)) => {
                self.end();
                Collect::Complete(n)
            }
            Step::NoMatch(_) => {
                self.end();
                Collect::Invalid
            }
        }
    }

    fn end(&mut self) {
        self.current = None;
        self.deadline = None;
    }
}

impl DigitCollector for PlanCollector {
    fn start(&mut self, now: Instant) -> Collect {
        let (c, step) = Collector::start(self.map.clone(), self.timers, self.mode.clone(), now);
        self.current = Some(c);
        self.verdict(step)
    }

    fn digit(&mut self, now: Instant, digit: char) -> Collect {
        match self.current.as_mut() {
            Some(c) => {
                let step = c.digit(digit, now);
                self.verdict(step)
            }
            None => Collect::Invalid,
        }
    }

    fn poll(&mut self, now: Instant) -> Collect {
        match self.current.as_mut() {
            Some(c) => {
                let step = c.poll(now);
                self.verdict(step)
            }
            None => Collect::More,
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn timers() -> Timers {
        Timers {
            first_digit: Duration::from_secs(10),
            interdigit_short: Duration::from_secs(2),
            interdigit_long: Duration::from_secs(5),
        }
    }

    #[test]
    fn digits_complete_a_pattern_and_timers_reject_an_empty_line() {
        let t0 = Instant::now();
        let map = DigitMap::parse("{ [1-8]xx | 911 }").unwrap();
        let mut c = PlanCollector::new(map, timers(), LineMode::Normal);
        assert_eq!(c.start(t0), Collect::More);
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(c.digit(t0, '2'), Collect::More);
        assert_eq!(c.digit(t0, '0'), Collect::More);
        assert_eq!(c.digit(t0, '1'), Collect::Complete("201".into()));
        assert_eq!(c.next_deadline(), None);
        // A fresh start after the call; nothing dialled until the first-digit timer.
        assert_eq!(c.start(t0), Collect::More);
        assert_eq!(c.poll(t0 + Duration::from_secs(9)), Collect::More);
        assert_eq!(c.poll(t0 + Duration::from_secs(10)), Collect::Invalid);
    }

    #[test]
    fn hotline_completes_at_start_and_warm_line_after_its_delay() {
        let t0 = Instant::now();
        let map = DigitMap::parse("x.T").unwrap();
        let mut hot = PlanCollector::new(
            map.clone(),
            timers(),
            LineMode::Hotline {
                target: "sip:desk@127.0.0.1".into(),
            },
        );
        assert_eq!(
            hot.start(t0),
            Collect::Complete("sip:desk@127.0.0.1".into())
        );
        let mut warm = PlanCollector::new(
            map,
            timers(),
            LineMode::WarmLine {
                target: "sip:desk@127.0.0.1".into(),
                delay: Duration::from_secs(3),
            },
        );
        assert_eq!(warm.start(t0), Collect::More);
        assert_eq!(
            warm.poll(t0 + Duration::from_secs(3)),
            Collect::Complete("sip:desk@127.0.0.1".into())
        );
    }
}
