//! Transaction timers (RFC 3261 §17, table 4 in appendix A; RFC 6026 §8.4 Timers L and M):
//! a small table keyed by [`TimerName`], no spawned tasks. The owner asks for the earliest
//! deadline and fires every timer that is due.

use std::time::{Duration, Instant};

/// T1, T2 and T4 (RFC 3261 §17.1.1.1, §17.1.2.2, appendix A) and the 100 Trying delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Maximum time a message remains in the network, 5 s.
    pub t4: Duration,
    /// How long an INVITE server transaction waits for the TU's first response before it
    /// sends 100 Trying itself: 200 ms by default (§17.2.1: unless the TU answers within
    /// 200 ms). Zero sends the 100 at once, as gateways that always show the caller a
    /// 100 do.
    pub trying: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            trying: super::server_invite::TRYING_AFTER,
        }
    }
}

impl TimerConfig {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// The transaction timers, named as in RFC 3261 appendix A and RFC 6026 §8.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerName {
    /// INVITE request retransmit interval (client, unreliable only).
    A,
    /// INVITE transaction timeout (client).
    B,
    /// Wait time for response retransmits (INVITE client, Completed).
    D,
    /// Non-INVITE request retransmit interval (client, unreliable only).
    E,
    /// Non-INVITE transaction timeout (client).
    F,
    /// INVITE response retransmit interval (server, unreliable only).
    G,
    /// Wait time for ACK receipt (INVITE server).
    H,
    /// Wait time for ACK retransmits (INVITE server, Confirmed).
    I,
    /// Wait time for non-INVITE request retransmits (server, Completed).
    J,
    /// Wait time for response retransmits (non-INVITE client, Completed).
    K,
    /// Wait time for INVITE request retransmits after a 2xx (server, Accepted; RFC 6026).
    L,
    /// Wait time for 2xx retransmits (INVITE client, Accepted; RFC 6026).
    M,
    /// The 200 ms after which an INVITE server sends 100 Trying if the TU has not answered
    /// (RFC 3261 §17.2.1).
    Trying,
}

impl TimerName {
    const ALL: [TimerName; 13] = [
        TimerName::A,
        TimerName::B,
        TimerName::D,
        TimerName::E,
        TimerName::F,
        TimerName::G,
        TimerName::H,
        TimerName::I,
        TimerName::J,
        TimerName::K,
        TimerName::L,
        TimerName::M,
        TimerName::Trying,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The running timers of one transaction: a deadline per [`TimerName`].
#[derive(Debug, Clone, Default)]
pub struct Timers {
    at: [Option<Instant>; 13],
}

impl Timers {
    /// Starts (or restarts) `t` to fire at `now + after`.
    pub fn start(&mut self, t: TimerName, now: Instant, after: Duration) {
        self.at[t.index()] = Some(now + after);
    }

    /// Stops `t`.
    pub fn stop(&mut self, t: TimerName) {
        self.at[t.index()] = None;
    }

    /// Stops every timer.
    pub fn clear(&mut self) {
        self.at = [None; 13];
    }

    /// When `t` fires, if running.
    pub fn deadline(&self, t: TimerName) -> Option<Instant> {
        self.at[t.index()]
    }

    /// The earliest deadline of all running timers.
    pub fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Removes and returns the earliest timer due at `now` (ties in [`TimerName`] order).
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerName> {
        let t = TimerName::ALL
            .iter()
            .copied()
            .filter(|t| self.at[t.index()].is_some_and(|d| d <= now))
            .min_by_key(|t| self.at[t.index()])?;
        self.at[t.index()] = None;
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_orders_and_pops_due_timers() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.start(TimerName::B, t0, Duration::from_secs(32));
        t.start(TimerName::A, t0, Duration::from_millis(500));
        assert_eq!(t.next(), Some(t0 + Duration::from_millis(500)));
        assert_eq!(t.pop_due(t0), None);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(40)), Some(TimerName::A));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(40)), Some(TimerName::B));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(40)), None);
        t.start(TimerName::L, t0, Duration::ZERO);
        t.stop(TimerName::L);
        assert_eq!(t.deadline(TimerName::L), None);
    }

    #[test]
    fn defaults_are_rfc3261() {
        let c = TimerConfig::default();
        assert_eq!(c.t1x64(), Duration::from_secs(32));
        assert_eq!(c.t2, Duration::from_secs(4));
        assert_eq!(c.t4, Duration::from_secs(5));
    }
}
