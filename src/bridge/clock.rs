//! A media session's clock (the bridge's, `tipring answer`'s): the monotonic instants it
//! runs on, and the wall clock's NTP time at their zero (RFC 3550 §4) for its sender
//! reports.

use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tipring_media::instant::Instant as MediaInstant;

/// Seconds between 1900 (NTP era 0) and 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Monotonic time since the session started.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// The session's instant now.
    pub fn now(&self) -> MediaInstant {
        MediaInstant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    /// The NTP timestamp of this clock's zero, from the wall clock now.
    pub fn ntp_at_zero(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(self.epoch.elapsed());
        let secs = wall.as_secs() + NTP_UNIX_OFFSET;
        let frac = (u64::from(wall.subsec_nanos()) << 32) / 1_000_000_000;
        (secs << 32) | frac
    }
}
