//! Per-source rate limiting and banning, sans-IO (fed `now`): a token bucket per source IP
//! address in a bounded table. A source that empties its bucket is banned: everything it
//! sends is ignored until the ban ends, and each new ban within [`PikeConfig::ban_max`] of
//! the last one lasts twice as long (up to `ban_max`). Server sources (the accounts'
//! registrar/proxy, trusted peers) have their own, larger bucket and are never banned,
//! only held to it, so legitimate calls go on during a flood from elsewhere.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How fast sources may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PikeConfig {
    /// Ordinary source: messages per second, sustained.
    pub rate: f64,
    /// Ordinary source: bucket depth.
    pub burst: f64,
    /// Server source: messages per second.
    pub server_rate: f64,
    /// Server source: bucket depth.
    pub server_burst: f64,
    /// First ban.
    pub ban_min: Duration,
    /// Longest ban; a source quiet this long after a ban starts again at `ban_min`.
    pub ban_max: Duration,
    /// Sources tracked at once.
    pub max_sources: usize,
}

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Within its rate.
    Pass,
    /// Over its rate: ignore. `new` is true for the message that started a ban (log it
    /// once), false while the ban lasts or for a server source over its budget.
    Drop { new_ban: bool },
}

/// One source's bucket and ban.
#[derive(Debug, Clone, Copy)]
struct Source {
    tokens: f64,
    last: Instant,
    banned_until: Option<Instant>,
    /// Length of the last ban (the next one doubles it).
    last_ban: Duration,
}

impl Source {
    fn new(now: Instant, burst: f64) -> Self {
        Source {
            tokens: burst,
            last: now,
            banned_until: None,
            last_ban: Duration::ZERO,
        }
    }

    /// Whether the entry carries nothing worth keeping at `now`: its bucket is full again
    /// and no ban (or ban history) remains.
    fn forgettable(&self, now: Instant, cfg: &PikeConfig) -> bool {
        let refill = Duration::from_secs_f64(cfg.burst / cfg.rate.max(f64::MIN_POSITIVE));
        let quiet = now.saturating_duration_since(self.last) >= refill;
        let ban_over = self
            .banned_until
            .is_none_or(|u| now >= u + cfg.ban_max.max(refill));
        quiet && ban_over
    }
}

/// The limiter.
#[derive(Debug)]
pub struct Pike {
    cfg: PikeConfig,
    sources: HashMap<IpAddr, Source>,
    /// The bucket shared by the sources that find the table full.
    overflow: Source,
    servers: HashMap<IpAddr, Source>,
    /// The bucket shared by server sources that find their table full.
    server_overflow: Source,
    last_sweep: Option<Instant>,
    /// Bans started so far.
    pub bans: u64,
    /// Messages dropped so far.
    pub dropped: u64,
}

/// The table is swept for forgettable entries at most this often (a sweep is linear).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl Pike {
    /// An empty limiter.
    pub fn new(cfg: PikeConfig, now: Instant) -> Self {
        Pike {
            cfg,
            sources: HashMap::new(),
            overflow: Source::new(now, cfg.burst),
            servers: HashMap::new(),
            server_overflow: Source::new(now, cfg.server_burst),
            last_sweep: None,
            bans: 0,
            dropped: 0,
        }
    }

    /// Sources tracked now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// One message from `ip` at `now`; `server` when it is a registrar/proxy/trusted peer.
    pub fn check(&mut self, now: Instant, ip: IpAddr, server: bool) -> Decision {
        let d = if server {
            self.check_server(now, ip)
        } else {
            self.check_source(now, ip)
        };
        if d != Decision::Pass {
            self.dropped += 1;
        }
        d
    }

    fn check_server(&mut self, now: Instant, ip: IpAddr) -> Decision {
        let (rate, burst) = (self.cfg.server_rate, self.cfg.server_burst);
        // A trusted block can hold many addresses: beyond max_sources of them tracked,
        // the rest share one server bucket.
        let s = if self.servers.len() < self.cfg.max_sources || self.servers.contains_key(&ip) {
            self.servers
                .entry(ip)
                .or_insert_with(|| Source::new(now, burst))
        } else {
            &mut self.server_overflow
        };
        if take(s, now, rate, burst) {
            Decision::Pass
        } else {
            Decision::Drop { new_ban: false }
        }
    }

    fn check_source(&mut self, now: Instant, ip: IpAddr) -> Decision {
        let cfg = self.cfg;
        if !self.sources.contains_key(&ip) && self.sources.len() >= cfg.max_sources {
            self.sweep(now);
        }
        let s = if self.sources.len() < cfg.max_sources || self.sources.contains_key(&ip) {
            self.sources
                .entry(ip)
                .or_insert_with(|| Source::new(now, cfg.burst))
        } else {
            &mut self.overflow
        };
        if let Some(until) = s.banned_until
            && now < until
        {
            return Decision::Drop { new_ban: false };
        }
        if take(s, now, cfg.rate, cfg.burst) {
            return Decision::Pass;
        }
        // A source banned again soon after its last ban gets twice as long.
        let again = s
            .banned_until
            .is_some_and(|u| now.saturating_duration_since(u) < cfg.ban_max);
        let ban = if again {
            (s.last_ban * 2).clamp(cfg.ban_min, cfg.ban_max)
        } else {
            cfg.ban_min
        };
        s.last_ban = ban;
        s.banned_until = Some(now + ban);
        // The ban is served in full: the bucket starts full again after it.
        s.tokens = cfg.burst;
        s.last = now + ban;
        self.bans += 1;
        Decision::Drop { new_ban: true }
    }

    /// Forgets the entries that carry nothing (at most once per [`SWEEP_EVERY`]).
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        let cfg = self.cfg;
        self.sources.retain(|_, s| !s.forgettable(now, &cfg));
    }
}

/// Refills `s` for the time since its last message and takes one token.
fn take(s: &mut Source, now: Instant, rate: f64, burst: f64) -> bool {
    if now > s.last {
        let dt = now.duration_since(s.last).as_secs_f64();
        s.tokens = (s.tokens + dt * rate).min(burst);
        s.last = now;
    }
    if s.tokens >= 1.0 {
        s.tokens -= 1.0;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PikeConfig {
        PikeConfig {
            rate: 10.0,
            burst: 20.0,
            server_rate: 100.0,
            server_burst: 200.0,
            ban_min: Duration::from_secs(10),
            ban_max: Duration::from_secs(80),
            max_sources: 4,
        }
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    /// Sends `n` messages from `ip` at `now`; how many pass and how many bans started.
    fn burst(p: &mut Pike, now: Instant, ip: IpAddr, server: bool, n: usize) -> (usize, usize) {
        let mut pass = 0;
        let mut bans = 0;
        for _ in 0..n {
            match p.check(now, ip, server) {
                Decision::Pass => pass += 1,
                Decision::Drop { new_ban: true } => bans += 1,
                Decision::Drop { new_ban: false } => {}
            }
        }
        (pass, bans)
    }

    #[test]
    fn a_source_within_its_rate_is_never_dropped() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(i * 100);
            assert_eq!(p.check(now, ip(1), false), Decision::Pass, "message {i}");
        }
        assert_eq!(p.bans, 0);
    }

    #[test]
    fn a_source_over_its_burst_is_banned_once_and_ignored_until_the_ban_ends() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        assert_eq!(burst(&mut p, t0, ip(1), false, 1000), (20, 1));
        // Still banned just before the ban ends, whatever it sends.
        let late = t0 + Duration::from_millis(9_999);
        assert_eq!(burst(&mut p, late, ip(1), false, 50), (0, 0));
        // Another source is unaffected.
        assert_eq!(burst(&mut p, late, ip(2), false, 5), (5, 0));
        // After the ban: a full bucket again.
        let after = t0 + Duration::from_secs(10);
        assert_eq!(burst(&mut p, after, ip(1), false, 20), (20, 0));
    }

    #[test]
    fn bans_grow_while_the_flood_goes_on_and_reset_after_quiet() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        let mut now = t0;
        let mut lengths = Vec::new();
        for _ in 0..5 {
            burst(&mut p, now, ip(1), false, 100);
            let s = p.sources[&ip(1)];
            lengths.push(s.last_ban.as_secs());
            now = s.banned_until.unwrap();
        }
        assert_eq!(lengths, [10, 20, 40, 80, 80]);
        // Quiet for ban_max after the last ban: back to the shortest ban.
        now += Duration::from_secs(80);
        burst(&mut p, now, ip(1), false, 100);
        assert_eq!(p.sources[&ip(1)].last_ban.as_secs(), 10);
    }

    #[test]
    fn servers_have_a_larger_budget_and_are_never_banned() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        assert_eq!(burst(&mut p, t0, ip(9), true, 500), (200, 0));
        // Only held to the rate: 100 more a second later.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(burst(&mut p, later, ip(9), true, 500), (100, 0));
    }

    #[test]
    fn the_server_table_is_bounded_too() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        let mut passed = 0;
        for n in 0..250u8 {
            passed += burst(&mut p, t0, ip(n), true, 1).0;
        }
        assert_eq!(p.servers.len(), 4);
        // 4 tracked got one each; the other 246 shared a 200-deep bucket.
        assert_eq!(passed, 4 + 200);
    }

    #[test]
    fn the_table_is_bounded_and_spoofed_sources_share_one_bucket() {
        let t0 = Instant::now();
        let mut p = Pike::new(cfg(), t0);
        let mut passed = 0;
        for n in 0..200u8 {
            passed += burst(&mut p, t0, ip(n), false, 1).0;
        }
        assert_eq!(p.len(), 4);
        // 4 tracked sources got one each; the other 196 shared a 20-deep bucket.
        assert_eq!(passed, 4 + 20);
        // Once the tracked sources are quiet they are forgotten and room is made.
        let later = t0 + Duration::from_secs(3);
        assert_eq!(p.check(later, ip(250), false), Decision::Pass);
        assert!(p.sources.contains_key(&ip(250)));
        assert!(p.len() <= 4);
    }
}
