//! The dial plan ([`crate::dialplan::Collector`]) behind the port machines' narrow
//! [`DigitCollector`] interface: one collector per off-hook (or FXO two-stage seizure),
//! started afresh each time with the port's digit map, timers and line mode, and the
//! port's feature codes recognised ahead of the map.

use crate::call::{Collect, DigitCollector, FeatureCode, FeatureCodes, Lookup};
use crate::dialplan::{Collector, Dialed, DigitMap, LineMode, Step, Timers};
use std::time::Instant;

/// A port's dial plan as a [`DigitCollector`].
#[derive(Debug, Clone)]
pub struct PlanCollector {
    map: DigitMap,
    timers: Timers,
    mode: LineMode,
    features: FeatureCodes,
    current: Option<Collector>,
    deadline: Option<Instant>,
    /// The digits so far while they can still become a feature code. The map sees them
    /// too; a code, once complete, wins over the map.
    code: Option<String>,
    /// A code that takes a number was dialled; the map is collecting the number.
    pending: Option<FeatureCode>,
}

impl PlanCollector {
    pub fn new(map: DigitMap, timers: Timers, mode: LineMode) -> Self {
        PlanCollector {
            map,
            timers,
            mode,
            features: FeatureCodes::none(),
            current: None,
            deadline: None,
            code: None,
            pending: None,
        }
    }

    /// Recognises `features` ahead of the map.
    pub fn with_features(mut self, features: FeatureCodes) -> Self {
        self.features = features;
        self
    }

    fn verdict(&mut self, step: Step) -> Collect {
        match step {
            Step::NeedMore { deadline } => {
                self.deadline = Some(deadline);
                Collect::More
            }
            Step::Match(Dialed::Number(n) | Dialed::Line(n)) => {
                let pending = self.pending.take();
                self.end();
                match pending {
                    Some(code) => Collect::Feature(code.feature(Some(n))),
                    None => Collect::Complete(n),
                }
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
        self.code = None;
        self.pending = None;
    }

    /// The map collects afresh from `now` (the number after a code).
    fn restart_map(&mut self, now: Instant) -> Step {
        let (c, step) = Collector::start(self.map.clone(), self.timers, LineMode::Normal, now);
        self.current = Some(c);
        step
    }

    /// Digit `d` while the digits may still be a feature code; `None` once they cannot.
    fn code_digit(&mut self, now: Instant, d: char, map_step: &Step) -> Option<Collect> {
        let code = self.code.as_mut()?;
        code.push(d);
        match self.features.lookup(code) {
            Lookup::Code(fc) if fc.takes_number() => {
                self.code = None;
                self.pending = Some(fc);
                let step = self.restart_map(now);
                self.verdict(step);
                Some(Collect::Prompt)
            }
            Lookup::Code(fc) => {
                self.end();
                Some(Collect::Feature(fc.feature(None)))
            }
            Lookup::Prefix => {
                // The map's own verdict waits until the digits leave the code table.
                let map_deadline = match map_step {
                    Step::NeedMore { deadline } => *deadline,
                    _ => now,
                };
                self.deadline = Some(map_deadline.max(now + self.timers.interdigit_long));
                Some(Collect::More)
            }
            Lookup::None => {
                self.code = None;
                None
            }
        }
    }
}

impl DigitCollector for PlanCollector {
    fn start(&mut self, now: Instant) -> Collect {
        self.end();
        let (c, step) = Collector::start(self.map.clone(), self.timers, self.mode.clone(), now);
        self.current = Some(c);
        if !self.features.is_empty() {
            self.code = Some(String::new());
        }
        self.verdict(step)
    }

    fn digit(&mut self, now: Instant, digit: char) -> Collect {
        let Some(c) = self.current.as_mut() else {
            return Collect::Invalid;
        };
        let step = c.digit(digit, now);
        if let Some(v) = self.code_digit(now, digit, &step) {
            return v;
        }
        self.verdict(step)
    }

    fn poll(&mut self, now: Instant) -> Collect {
        if self.code.as_ref().is_some_and(|c| !c.is_empty())
            && self.deadline.is_some_and(|d| now >= d)
        {
            // An unfinished code: the map decides on what was dialled.
            self.code = None;
        }
        if self.code.as_ref().is_some_and(|c| !c.is_empty()) {
            return Collect::More;
        }
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
    use crate::call::FeatureCodes;
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

    fn with_codes(map: &str) -> PlanCollector {
        PlanCollector::new(DigitMap::parse(map).unwrap(), timers(), LineMode::Normal)
            .with_features(FeatureCodes::defaults())
    }

    fn dial(c: &mut PlanCollector, t: Instant, digits: &str) -> Collect {
        let mut last = Collect::More;
        for d in digits.chars() {
            last = c.digit(t, d);
        }
        last
    }

    #[test]
    fn a_feature_code_wins_over_the_map_and_a_number_follows_forwarding() {
        use crate::call::{Feature, ForwardWhen, Service};
        let t0 = Instant::now();
        let mut c = with_codes("{ [2-8]xx | *x.T | x.T }");
        c.start(t0);
        assert_eq!(
            dial(&mut c, t0, "*78"),
            Collect::Feature(Feature::Service(Service::DoNotDisturb(true)))
        );
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "*72"), Collect::Prompt);
        assert_eq!(dial(&mut c, t0, "301"), Collect::More);
        assert_eq!(
            c.poll(t0 + Duration::from_secs(2)),
            Collect::Feature(Feature::Service(Service::Forward(
                ForwardWhen::Always,
                Some("301".into())
            )))
        );
        c.start(t0);
        assert_eq!(
            dial(&mut c, t0, "*67"),
            Collect::Feature(Feature::CallerIdOnce(true))
        );
        // Not a code: the map has the digits.
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "*5"), Collect::More);
        assert_eq!(
            c.poll(t0 + Duration::from_secs(2)),
            Collect::Complete("*5".into())
        );
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "201"), Collect::More);
        assert_eq!(
            c.poll(t0 + Duration::from_secs(2)),
            Collect::Complete("201".into())
        );
    }

    #[test]
    fn an_unfinished_code_is_left_to_the_map_after_the_long_timer() {
        let t0 = Instant::now();
        let mut c = with_codes("[2-8]xx");
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "*7"), Collect::More);
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(c.poll(t0 + Duration::from_secs(4)), Collect::More);
        assert_eq!(c.poll(t0 + Duration::from_secs(5)), Collect::Invalid);
        // A forwarding number the map refuses is refused.
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "*72"), Collect::Prompt);
        assert_eq!(c.digit(t0, '9'), Collect::Invalid);
    }

    #[test]
    fn without_codes_star_digits_are_only_the_maps() {
        let t0 = Instant::now();
        let map = DigitMap::parse("{ *x.T | x.T }").unwrap();
        let mut c = PlanCollector::new(map, timers(), LineMode::Normal);
        c.start(t0);
        assert_eq!(dial(&mut c, t0, "*78"), Collect::More);
        assert_eq!(
            c.poll(t0 + Duration::from_secs(2)),
            Collect::Complete("*78".into())
        );
    }
}
