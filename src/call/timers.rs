//! A port machine's timers: a small table keyed by an enum, never spawned tasks.

use std::time::Instant;

/// Every timer a port machine can arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// FXS: send caller ID after the first ring's on-time (ETSI EN 300 659-1 §6.1.1,
    /// Telcordia GR-30 first-ring-then-data).
    CallerId,
    /// FXS/FXO: an offered call rang this long unanswered.
    NoAnswer,
    /// FXS: reorder (or busy) played this long; fall silent.
    Lockout,
    /// FXO: ring cadence lost; the far end stopped ringing.
    RingGone,
    /// FXO: after seizure, the fixed delay before dialling (no dial-tone detector).
    DialDelay,
    /// FXO: dialling time; answer supervision by timer after it.
    DialDone,
    /// FXO: no far audio for this long means the far end hung up.
    Silence,
    /// FXO: a PSTN caller has this long to enter the DISA PIN.
    Pin,
    /// FXO: the call has lasted the longest allowed.
    MaxDuration,
    /// FXS: the confirmation tone has played; dial tone follows.
    Confirmation,
    /// FXS: the message-waiting FSK has been sent; on-hook transmission ends.
    Indication,
    /// FXS: a waiting call (call waiting) went unanswered this long.
    Waiting,
}

const COUNT: usize = 12;

impl Timer {
    fn index(self) -> usize {
        match self {
            Timer::CallerId => 0,
            Timer::NoAnswer => 1,
            Timer::Lockout => 2,
            Timer::RingGone => 3,
            Timer::DialDelay => 4,
            Timer::DialDone => 5,
            Timer::Silence => 6,
            Timer::Pin => 7,
            Timer::MaxDuration => 8,
            Timer::Confirmation => 9,
            Timer::Indication => 10,
            Timer::Waiting => 11,
        }
    }
    const ALL: [Timer; COUNT] = [
        Timer::CallerId,
        Timer::NoAnswer,
        Timer::Lockout,
        Timer::RingGone,
        Timer::DialDelay,
        Timer::DialDone,
        Timer::Silence,
        Timer::Pin,
        Timer::MaxDuration,
        Timer::Confirmation,
        Timer::Indication,
        Timer::Waiting,
    ];
}

/// Deadlines, one slot per [`Timer`].
#[derive(Debug, Clone, Default)]
pub struct Timers([Option<Instant>; COUNT]);

impl Timers {
    pub fn set(&mut self, t: Timer, at: Instant) {
        self.0[t.index()] = Some(at);
    }
    pub fn cancel(&mut self, t: Timer) {
        self.0[t.index()] = None;
    }
    pub fn cancel_all(&mut self) {
        self.0 = [None; COUNT];
    }
    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
    /// Disarms and returns the earliest timer due by `now`.
    pub fn expired(&mut self, now: Instant) -> Option<Timer> {
        let t = Timer::ALL
            .into_iter()
            .filter(|t| self.0[t.index()].is_some_and(|d| d <= now))
            .min_by_key(|t| self.0[t.index()])?;
        self.cancel(t);
        Some(t)
    }
}
