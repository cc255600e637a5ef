//! Digit collection against a [`DigitMap`], sans-IO: feed digits with their times, get
//! [`Step::NeedMore`] with the next deadline, [`Step::Match`] with the number to send, or
//! [`Step::NoMatch`]; call [`Collector::poll`] at the deadline.
//!
//! Timers (Cisco SPA / MGCP, RFC 3435 §2.1.5): before the first digit the first-digit timer
//! runs (or the warm-line delay); while the digits could still complete some pattern only
//! with more digits, the long interdigit timer; once they complete a pattern (or reach a
//! `T`) but a longer pattern is still possible, the short one. A complete match no other
//! pattern could extend is sent at once. `#` that no pattern expects means "send now".

use super::map::{DigitMap, Elem, Repeat, symbol_bit};
use std::time::{Duration, Instant};

/// Timer values for a collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub first_digit: Duration,
    pub interdigit_short: Duration,
    pub interdigit_long: Duration,
}

/// What an off-hook port does besides collecting digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineMode {
    /// Collect digits only.
    Normal,
    /// Call `target` at once, without dial tone or digits.
    Hotline { target: String },
    /// Call `target` if no digit comes within `delay`; digits before it use the map.
    WarmLine { target: String, delay: Duration },
}

/// Result of a collector step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Wait for a digit or until `deadline`, then [`Collector::poll`].
    NeedMore { deadline: Instant },
    /// Place the call.
    Match(Dialed),
    /// Nothing can match: reorder tone.
    NoMatch(NoMatch),
}

/// What to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialed {
    /// The digits after the map's rewrites.
    Number(String),
    /// The hotline or warm-line target.
    Line(String),
}

/// Why collection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMatch {
    /// No digit before the first-digit timer.
    NoDigits,
    /// The digits so far match no pattern.
    Invalid,
    /// The long interdigit timer expired with no complete pattern.
    Incomplete,
    /// A symbol no caller can dial.
    BadSymbol(char),
}

/// What a pattern can still do with the digits so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reach {
    /// The digits complete the pattern.
    full: bool,
    /// The digits complete the pattern up to its `T`.
    timer: bool,
    /// More digits could still match.
    more: bool,
}

impl Reach {
    fn or(self, o: Reach) -> Reach {
        Reach {
            full: self.full || o.full,
            timer: self.timer || o.timer,
            more: self.more || o.more,
        }
    }
}

/// `elems[ei..]` against `dial[di..]`, memoised on `(ei, di)`.
struct Walk<'a> {
    elems: &'a [Elem],
    dial: &'a [u16],
    memo: Vec<Option<Reach>>,
}

impl Walk<'_> {
    fn new<'a>(elems: &'a [Elem], dial: &'a [u16]) -> Walk<'a> {
        Walk {
            elems,
            dial,
            memo: vec![None; (elems.len() + 1) * (dial.len() + 1)],
        }
    }

    fn reach(&mut self, ei: usize, di: usize) -> Reach {
        let key = ei * (self.dial.len() + 1) + di;
        if let Some(r) = self.memo[key] {
            return r;
        }
        let at_end = di == self.dial.len();
        let r = match self.elems.get(ei) {
            None => Reach {
                full: at_end,
                ..Reach::default()
            },
            Some(Elem::Insert(_)) => self.reach(ei + 1, di),
            Some(Elem::Timer) => Reach {
                timer: at_end,
                ..Reach::default()
            },
            Some(Elem::Sym { set, rep, .. }) => {
                let hit = !at_end && self.dial[di] & set != 0;
                match rep {
                    Repeat::One if at_end => Reach {
                        more: true,
                        ..Reach::default()
                    },
                    Repeat::One if hit => self.reach(ei + 1, di + 1),
                    Repeat::One => Reach::default(),
                    Repeat::Any => {
                        let skip = self.reach(ei + 1, di);
                        if at_end {
                            skip.or(Reach {
                                more: true,
                                ..Reach::default()
                            })
                        } else if hit {
                            skip.or(self.reach(ei, di + 1))
                        } else {
                            skip
                        }
                    }
                }
            }
        };
        self.memo[key] = Some(r);
        r
    }

    /// The number sent along a path that ends complete (`full`, or at `T` when `timer`).
    fn emit(&mut self, digits: &[char], timer: bool) -> String {
        let ok = |r: Reach| if timer { r.timer } else { r.full };
        let (mut ei, mut di) = (0, 0);
        let mut out = String::new();
        while let Some(e) = self.elems.get(ei) {
            match e {
                Elem::Insert(t) => {
                    out.push_str(t);
                    ei += 1;
                }
                Elem::Timer => break,
                Elem::Sym { rep, emit, .. } => {
                    let (emit, rep) = (*emit, *rep);
                    let take = di < self.dial.len()
                        && match rep {
                            Repeat::One => true,
                            Repeat::Any => {
                                let hit = self.dial[di] & self.sym_set(ei) != 0;
                                hit && ok(self.reach(ei, di + 1))
                            }
                        };
                    if take {
                        if emit {
                            out.push(digits[di]);
                        }
                        di += 1;
                        if rep == Repeat::One {
                            ei += 1;
                        }
                    } else {
                        ei += 1;
                    }
                }
            }
        }
        out
    }

    fn sym_set(&self, ei: usize) -> u16 {
        match self.elems.get(ei) {
            Some(Elem::Sym { set, .. }) => *set,
            _ => 0,
        }
    }
}

/// Where collection stands after the digits so far.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    any: Reach,
    /// Number of the first pattern the digits complete, and of the first complete up to `T`.
    full: Option<String>,
    timer: Option<String>,
}

fn judge(map: &DigitMap, digits: &[char]) -> Verdict {
    let dial: Vec<u16> = digits.iter().map(|&c| symbol_bit(c).unwrap_or(0)).collect();
    let mut v = Verdict {
        any: Reach::default(),
        full: None,
        timer: None,
    };
    for p in &map.patterns {
        let mut w = Walk::new(&p.elems, &dial);
        let r = w.reach(0, 0);
        v.any = v.any.or(r);
        if r.full && v.full.is_none() {
            v.full = Some(w.emit(digits, false));
        }
        if r.timer && v.timer.is_none() {
            v.timer = Some(w.emit(digits, true));
        }
    }
    v
}

impl DigitMap {
    /// Whether `number`, dialled as it stands, completes one of the map's patterns (at its
    /// end, or at its `T`): the map as an allow-list of whole dial strings. A character no
    /// caller can dial (`+`, letters) matches nothing.
    pub fn allows(&self, number: &str) -> bool {
        let digits: Vec<char> = number.chars().collect();
        let v = judge(self, &digits);
        !digits.is_empty() && (v.any.full || v.any.timer)
    }

    /// Whether `prefix` completes a pattern or could still with more digits.
    pub fn admits_prefix(&self, prefix: &str) -> bool {
        let digits: Vec<char> = prefix.chars().collect();
        let v = judge(self, &digits);
        v.any.full || v.any.timer || v.any.more
    }
}

/// Collects one call's digits.
#[derive(Debug, Clone)]
pub struct Collector {
    map: DigitMap,
    timers: Timers,
    mode: LineMode,
    digits: Vec<char>,
    deadline: Instant,
    /// What the deadline does.
    on_expiry: Expiry,
    /// The final step, once collection ended.
    result: Option<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expiry {
    NoDigits,
    Warm(String),
    /// Short timer: send the first complete number.
    Send(String),
    Incomplete,
}

impl Collector {
    /// Starts collecting at `now` (off-hook); returns the collector and its first step.
    pub fn start(map: DigitMap, timers: Timers, mode: LineMode, now: Instant) -> (Self, Step) {
        let (deadline, on_expiry) = match &mode {
            LineMode::WarmLine { target, delay } => (now + *delay, Expiry::Warm(target.clone())),
            _ => (now + timers.first_digit, Expiry::NoDigits),
        };
        let mut c = Collector {
            map,
            timers,
            mode,
            digits: Vec::new(),
            deadline,
            on_expiry,
            result: None,
        };
        let step = if let LineMode::Hotline { target } = &c.mode {
            let s = Step::Match(Dialed::Line(target.clone()));
            c.finish(s)
        } else {
            Step::NeedMore { deadline }
        };
        (c, step)
    }

    fn finish(&mut self, s: Step) -> Step {
        self.result = Some(s.clone());
        s
    }

    /// The final step, once collection has ended (further digits are ignored).
    #[cfg(test)]
    pub fn result(&self) -> Option<&Step> {
        self.result.as_ref()
    }

    /// One dialled symbol (`0`-`9`, `*`, `#`, `A`-`D`) at `now`.
    pub fn digit(&mut self, d: char, now: Instant) -> Step {
        if let Some(s) = &self.result {
            return s.clone();
        }
        if symbol_bit(d).is_none() {
            return self.finish(Step::NoMatch(NoMatch::BadSymbol(d)));
        }
        let before = self.digits.len();
        self.digits.push(d);
        let v = judge(&self.map, &self.digits);
        let alive = v.any.full || v.any.timer || v.any.more;
        if !alive && d == '#' {
            // `#` no pattern expects: send what is complete now (the short timer cut short).
            self.digits.truncate(before);
            let v = judge(&self.map, &self.digits);
            return match v.full.or(v.timer) {
                Some(n) if before > 0 => self.finish(Step::Match(Dialed::Number(n))),
                _ => self.finish(Step::NoMatch(NoMatch::Invalid)),
            };
        }
        self.decide(v, now)
    }

    fn decide(&mut self, v: Verdict, now: Instant) -> Step {
        let complete = v.full.clone().or(v.timer.clone());
        match complete {
            None if v.any.more => {
                self.deadline = now + self.timers.interdigit_long;
                self.on_expiry = Expiry::Incomplete;
                Step::NeedMore {
                    deadline: self.deadline,
                }
            }
            None => self.finish(Step::NoMatch(NoMatch::Invalid)),
            Some(n) => {
                if let (Some(full), false, false) = (&v.full, v.any.more, v.any.timer) {
                    let full = full.clone();
                    return self.finish(Step::Match(Dialed::Number(full)));
                }
                self.deadline = now + self.timers.interdigit_short;
                self.on_expiry = Expiry::Send(n);
                Step::NeedMore {
                    deadline: self.deadline,
                }
            }
        }
    }

    /// The step at `now`: timers that have expired act, otherwise the current wait.
    pub fn poll(&mut self, now: Instant) -> Step {
        if let Some(s) = &self.result {
            return s.clone();
        }
        if now < self.deadline {
            return Step::NeedMore {
                deadline: self.deadline,
            };
        }
        let s = match self.on_expiry.clone() {
            Expiry::NoDigits => Step::NoMatch(NoMatch::NoDigits),
            Expiry::Warm(t) => Step::Match(Dialed::Line(t)),
            Expiry::Send(n) => Step::Match(Dialed::Number(n)),
            Expiry::Incomplete => Step::NoMatch(NoMatch::Incomplete),
        };
        self.finish(s)
    }
}
