//! Failed digest attempts, counted per source address and per user name, so online
//! password guessing gets a few tries and then a growing back-off (RFC 7616 §5.13 leaves
//! the defence against dictionary attacks to the server; RFC 3261 §26.3.2.4 asks for it
//! against DoS through authentication). Sans-IO: times are milliseconds since the
//! server's epoch. The table is bounded: when it is full, expired records go first, then
//! the record whose lock-out ends first (never one still counting a live lock-out
//! longer than a newcomer's).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// The throttle's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures allowed within `window` before a lock-out.
    pub max_failures: u32,
    /// The window failures are counted in.
    pub window: Duration,
    /// The first lock-out; each further one in a row doubles it.
    pub lockout: Duration,
    /// The longest lock-out.
    pub max_lockout: Duration,
    /// Most records kept (sources and user names together).
    pub max_tracked: usize,
}

impl Default for ThrottleConfig {
    /// 5 failures a minute, then 30 s, 60 s, 120 s … up to 1 h; 4096 records.
    fn default() -> Self {
        ThrottleConfig {
            max_failures: 5,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
            max_lockout: Duration::from_secs(3600),
            max_tracked: 4096,
        }
    }
}

/// Whose failures a record counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A source address (IPv4-mapped IPv6 counted as IPv4).
    Source(IpAddr),
    /// A user name the credentials named.
    User(String),
}

#[derive(Debug, Clone, Copy)]
struct Record {
    /// Start of the current counting window.
    window_ms: u64,
    failures: u32,
    /// Locked until then (0: not locked).
    until_ms: u64,
    /// Lock-outs in a row (the back-off doubles with each).
    lockouts: u32,
    /// Last failure, for forgetting a quiet record.
    last_ms: u64,
}

/// Failure records with their lock-outs.
#[derive(Debug, Clone)]
pub struct Throttle {
    config: ThrottleConfig,
    records: HashMap<Subject, Record>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Throttle {
    /// An empty table.
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            records: HashMap::new(),
        }
    }

    /// Records kept now.
    pub fn tracked(&self) -> usize {
        self.records.len()
    }

    /// Whether `subject` is locked out at `now_ms`.
    pub fn locked(&self, subject: &Subject, now_ms: u64) -> bool {
        self.records
            .get(subject)
            .is_some_and(|r| now_ms < r.until_ms)
    }

    /// A failed attempt by `subject` at `now_ms`.
    pub fn fail(&mut self, subject: Subject, now_ms: u64) {
        if !self.records.contains_key(&subject) {
            self.make_room(now_ms);
        }
        let c = self.config;
        let r = self.records.entry(subject).or_insert(Record {
            window_ms: now_ms,
            failures: 0,
            until_ms: 0,
            lockouts: 0,
            last_ms: now_ms,
        });
        // A record quiet for a whole maximal lock-out starts over.
        if now_ms.saturating_sub(r.last_ms) > ms(c.max_lockout) {
            r.lockouts = 0;
        }
        if now_ms.saturating_sub(r.window_ms) > ms(c.window) {
            r.window_ms = now_ms;
            r.failures = 0;
        }
        r.last_ms = now_ms;
        r.failures += 1;
        if r.failures >= c.max_failures {
            let factor = 1u64 << r.lockouts.min(20);
            let back_off = ms(c.lockout).saturating_mul(factor).min(ms(c.max_lockout));
            r.until_ms = now_ms.saturating_add(back_off);
            r.lockouts += 1;
            r.failures = 0;
            r.window_ms = r.until_ms;
        }
    }

    /// `subject` authenticated: its failures are forgotten.
    pub fn succeed(&mut self, subject: &Subject) {
        self.records.remove(subject);
    }

    /// Frees a slot when the table is full: records neither locked nor counting in a
    /// live window first, else the one whose lock-out ends first.
    fn make_room(&mut self, now_ms: u64) {
        if self.records.len() < self.config.max_tracked {
            return;
        }
        let c = self.config;
        self.records.retain(|_, r| {
            now_ms < r.until_ms || now_ms.saturating_sub(r.window_ms) <= ms(c.window)
        });
        while self.records.len() >= c.max_tracked {
            let Some(k) = self
                .records
                .iter()
                .min_by_key(|(_, r)| (r.until_ms, r.last_ms))
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            self.records.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> Subject {
        Subject::Source(s.parse().unwrap())
    }

    #[test]
    fn five_failures_a_minute_lock_out_for_a_growing_back_off() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let a = src("192.0.2.1");
        for i in 0..4 {
            t.fail(a.clone(), i * 1000);
            assert!(!t.locked(&a, i * 1000));
        }
        t.fail(a.clone(), 4000);
        assert!(t.locked(&a, 4000) && t.locked(&a, 33_999));
        assert!(!t.locked(&a, 34_000), "30 s the first time");
        for i in 0..5 {
            t.fail(a.clone(), 34_000 + i);
        }
        assert!(t.locked(&a, 34_004 + 59_999));
        assert!(!t.locked(&a, 34_004 + 60_000), "60 s the second time");
        assert!(
            !t.locked(&src("192.0.2.2"), 5000),
            "others are not affected"
        );
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock_out() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let u = Subject::User("trunk".into());
        for i in 0..20 {
            t.fail(u.clone(), i * 20_000);
            assert!(!t.locked(&u, i * 20_000), "failure {i}");
        }
        t.succeed(&u);
        assert_eq!(t.tracked(), 0);
    }

    #[test]
    fn the_back_off_is_bounded() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let a = src("192.0.2.1");
        let mut now = 0;
        for round in 0..30 {
            for _ in 0..5 {
                t.fail(a.clone(), now);
            }
            // 30 s doubling: 30, 60, ..., 1920, then the 1 h bound from round 7 on.
            let expected = (30_000u64 << round.min(20)).min(3_600_000);
            assert!(t.locked(&a, now + expected - 1), "round {round}");
            assert!(!t.locked(&a, now + expected), "round {round}");
            now += expected;
        }
    }

    #[test]
    fn the_table_is_bounded_and_keeps_live_lockouts() {
        let c = ThrottleConfig {
            max_tracked: 8,
            ..ThrottleConfig::default()
        };
        let mut t = Throttle::new(c);
        let victim = Subject::User("trunk".into());
        for _ in 0..5 {
            t.fail(victim.clone(), 0);
        }
        for i in 0..1000u32 {
            t.fail(Subject::User(format!("flood{i}")), 1);
            assert!(t.tracked() <= 8);
        }
        assert!(
            t.locked(&victim, 2),
            "a flood of names does not free the victim"
        );
    }
}
