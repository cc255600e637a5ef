//! Hook-state classifier for an FXS port: turns raw loop open/close transitions into
//! off-hook, on-hook, hook-flash and pulse-digit events.
//!
//! A loop break shorter than [`HookTiming::flash_min_ms`] is a dial pulse (ITU-T Q.112:
//! 10 pulses/s, ~60 ms break, ~40 ms make); a break between the flash minimum and maximum
//! is a hook flash (register recall, ETSI ES 201 970 §16: typically 100-900 ms accepted);
//! a longer break is on-hook. A make lasting [`HookTiming::interdigit_ms`] ends a digit.
//! Pure state machine: fed `(now, transition)` and `poll(now)`, it reports its next deadline.

use super::Event;

/// Thresholds of the classifier, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookTiming {
    /// Breaks shorter than this are contact bounce and ignored.
    pub debounce_ms: u32,
    /// Shortest break taken as a hook flash; shorter breaks are dial pulses.
    pub flash_min_ms: u32,
    /// Longest break taken as a hook flash; longer breaks are on-hook.
    pub flash_max_ms: u32,
    /// A make this long after pulses ends the digit.
    pub interdigit_ms: u32,
}

impl Default for HookTiming {
    fn default() -> Self {
        HookTiming {
            debounce_ms: 10,
            flash_min_ms: 100,
            flash_max_ms: 900,
            interdigit_ms: 200,
        }
    }
}

/// The raw loop state seen by the SLIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loop {
    /// Loop open: the phone is on-hook (or breaking).
    Open,
    /// Loop closed: the phone is off-hook (or making).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// On-hook, settled.
    OnHook,
    /// Off-hook, no digit in progress.
    OffHook,
    /// Loop open since `since`; `pulses` counted so far in this digit.
    Break { since: u32, pulses: u8 },
    /// Loop closed again since `since` after `pulses` breaks.
    Make { since: u32, pulses: u8 },
}

/// Events produced by one input: at most a digit, then a flash or hook change.
pub type Classified = heapless::Vec<Event, 2>;

/// The classifier. Times are the card's millisecond clock (wrapping).
#[derive(Debug, Clone)]
pub struct HookClassifier {
    timing: HookTiming,
    state: State,
}

impl HookClassifier {
    /// A classifier for a phone that is on-hook.
    pub fn new(timing: HookTiming) -> Self {
        HookClassifier {
            timing,
            state: State::OnHook,
        }
    }

    /// Whether the phone is (taken to be) off-hook.
    pub fn is_off_hook(&self) -> bool {
        !matches!(self.state, State::OnHook)
    }

    /// Feed a loop transition seen at `now`.
    pub fn transition(&mut self, now: u32, to: Loop) -> Classified {
        let mut out = self.poll(now);
        self.state = match (self.state, to) {
            (State::OnHook, Loop::Closed) => {
                push(&mut out, Event::OffHook);
                State::OffHook
            }
            (State::OffHook, Loop::Open) => State::Break {
                since: now,
                pulses: 0,
            },
            (State::Make { pulses, .. }, Loop::Open) => State::Break { since: now, pulses },
            (State::Break { since, pulses }, Loop::Closed) => {
                let held = now.wrapping_sub(since);
                if held < self.timing.debounce_ms {
                    if pulses == 0 {
                        State::OffHook
                    } else {
                        State::Make { since: now, pulses }
                    }
                } else if held < self.timing.flash_min_ms {
                    State::Make {
                        since: now,
                        pulses: pulses.saturating_add(1),
                    }
                } else {
                    // poll() above already turned breaks over the maximum into on-hook.
                    if let Some(d) = pulse_digit(pulses) {
                        push(&mut out, d);
                    }
                    push(
                        &mut out,
                        Event::HookFlash {
                            duration_ms: u16::try_from(held).unwrap_or(u16::MAX),
                        },
                    );
                    State::OffHook
                }
            }
            // Repeated reports of the same loop state change nothing.
            (s @ (State::OnHook | State::Break { .. }), Loop::Open)
            | (s @ (State::OffHook | State::Make { .. }), Loop::Closed) => s,
        };
        out
    }

    /// Let time pass to `now`: ends digits and turns long breaks into on-hook.
    pub fn poll(&mut self, now: u32) -> Classified {
        let mut out = Classified::new();
        match self.state {
            State::Break { since, pulses }
                if now.wrapping_sub(since) > self.timing.flash_max_ms =>
            {
                if let Some(d) = pulse_digit(pulses) {
                    push(&mut out, d);
                }
                push(&mut out, Event::OnHook);
                self.state = State::OnHook;
            }
            State::Make { since, pulses }
                if now.wrapping_sub(since) >= self.timing.interdigit_ms =>
            {
                if let Some(d) = pulse_digit(pulses) {
                    push(&mut out, d);
                }
                self.state = State::OffHook;
            }
            _ => {}
        }
        out
    }

    /// When [`poll`](Self::poll) must next be called, if anything is pending.
    pub fn next_deadline(&self) -> Option<u32> {
        match self.state {
            State::Break { since, .. } => Some(since.wrapping_add(self.timing.flash_max_ms + 1)),
            State::Make { since, .. } => Some(since.wrapping_add(self.timing.interdigit_ms)),
            State::OnHook | State::OffHook => None,
        }
    }
}

fn push(out: &mut Classified, e: Event) {
    // Capacity 2 is enough: at most one digit plus one hook event per input.
    let _ = out.push(e);
}

/// 1..=9 breaks are digits 1..9, 10 breaks are digit 0 (ITU-T Q.23 decadic).
fn pulse_digit(pulses: u8) -> Option<Event> {
    match pulses {
        1..=9 => Some(Event::PulseDigit { digit: pulses }),
        10 => Some(Event::PulseDigit { digit: 0 }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: &[(u32, Loop)], end: u32) -> heapless::Vec<Event, 32> {
        let mut c = HookClassifier::new(HookTiming::default());
        let mut all = heapless::Vec::new();
        for &(t, l) in steps {
            for e in c.transition(t, l) {
                all.push(e).unwrap();
            }
        }
        for e in c.poll(end) {
            all.push(e).unwrap();
        }
        all
    }

    #[test]
    fn off_then_on_hook() {
        let ev = run(&[(0, Loop::Closed), (1000, Loop::Open)], 3000);
        assert_eq!(&ev[..], &[Event::OffHook, Event::OnHook]);
    }

    #[test]
    fn break_within_window_is_flash() {
        let ev = run(
            &[(0, Loop::Closed), (1000, Loop::Open), (1300, Loop::Closed)],
            5000,
        );
        assert_eq!(
            &ev[..],
            &[Event::OffHook, Event::HookFlash { duration_ms: 300 }]
        );
    }

    #[test]
    fn flash_bounds_are_configurable() {
        let mut c = HookClassifier::new(HookTiming {
            flash_min_ms: 200,
            flash_max_ms: 400,
            ..HookTiming::default()
        });
        c.transition(0, Loop::Closed);
        c.transition(1000, Loop::Open);
        assert_eq!(c.next_deadline(), Some(1401));
        assert_eq!(&c.poll(1401)[..], &[Event::OnHook]);
    }

    #[test]
    fn break_just_over_max_is_on_hook() {
        let ev = run(&[(0, Loop::Closed), (1000, Loop::Open)], 1901);
        assert_eq!(&ev[..], &[Event::OffHook, Event::OnHook]);
        let ev = run(&[(0, Loop::Closed), (1000, Loop::Open)], 1900);
        assert_eq!(&ev[..], &[Event::OffHook]);
    }

    #[test]
    fn bounce_is_ignored() {
        let ev = run(
            &[(0, Loop::Closed), (500, Loop::Open), (505, Loop::Closed)],
            2000,
        );
        assert_eq!(&ev[..], &[Event::OffHook]);
    }

    fn dial(c: &mut HookClassifier, t: &mut u32, pulses: u8, out: &mut heapless::Vec<Event, 32>) {
        for _ in 0..pulses {
            for e in c.transition(*t, Loop::Open) {
                out.push(e).unwrap();
            }
            *t += 60;
            for e in c.transition(*t, Loop::Closed) {
                out.push(e).unwrap();
            }
            *t += 40;
        }
        *t += 700;
        for e in c.poll(*t) {
            out.push(e).unwrap();
        }
    }

    #[test]
    fn pulse_digits_at_ten_pps() {
        let mut c = HookClassifier::new(HookTiming::default());
        let mut t = 0;
        let mut out = heapless::Vec::new();
        for e in c.transition(t, Loop::Closed) {
            out.push(e).unwrap();
        }
        t += 1000;
        for n in [2u8, 10, 1] {
            dial(&mut c, &mut t, n, &mut out);
        }
        assert_eq!(
            &out[..],
            &[
                Event::OffHook,
                Event::PulseDigit { digit: 2 },
                Event::PulseDigit { digit: 0 },
                Event::PulseDigit { digit: 1 },
            ]
        );
    }

    #[test]
    fn hang_up_mid_digit_reports_digit_then_on_hook() {
        let ev = run(
            &[
                (0, Loop::Closed),
                (1000, Loop::Open),
                (1060, Loop::Closed),
                (1100, Loop::Open),
            ],
            5000,
        );
        assert_eq!(
            &ev[..],
            &[
                Event::OffHook,
                Event::PulseDigit { digit: 1 },
                Event::OnHook
            ]
        );
    }
}
