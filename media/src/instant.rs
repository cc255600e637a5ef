//! Virtual time for the sans-IO media machines: an instant is a count of microseconds on
//! some monotonic clock chosen by the caller (the audio device clock, or a test's counter).

use core::ops::{Add, Sub};

/// A point in time, in microseconds since an arbitrary epoch chosen by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// The instant `us` microseconds after the epoch.
    pub const fn from_micros(us: u64) -> Self {
        Instant(us)
    }
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms * 1000)
    }
    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
}

impl Add<u64> for Instant {
    type Output = Instant;
    /// Adds a duration in microseconds.
    fn add(self, us: u64) -> Instant {
        Instant(self.0.saturating_add(us))
    }
}

impl Sub for Instant {
    type Output = i64;
    /// The signed distance in microseconds from `rhs` to `self`.
    fn sub(self, rhs: Instant) -> i64 {
        self.0 as i64 - rhs.0 as i64
    }
}
