//! The admission hook the SIP transport asks for every datagram, stream message and new
//! connection before parsing or queueing it ([`tipring_sip::transport::Admit`]): known
//! scanners are dropped, every source is held to its [`Pike`] bucket, and the accounts'
//! registrar/proxy addresses and the trusted peers get the server budget and the receive
//! queue's priority reserve. A new ban is noticed once, through [`Gate::take_notices`].

use super::pike::{Decision, Pike, PikeConfig};
use super::scanner::Scanners;
use crate::config::{Config, PeerFilter};
use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tipring_sip::transport::{Admission, Admit};
use tipring_sip::ua::HostTable;

/// Ban notices kept for the log at most; more are only counted.
const MAX_NOTICES: usize = 64;

/// The hook; shared between the transport's tasks and the SIP loop.
#[derive(Debug)]
pub struct Gate {
    enabled_scanners: bool,
    scanners: Scanners,
    trusted: PeerFilter,
    inner: Mutex<Inner>,
    /// Requests dropped as scanners.
    pub scanners_dropped: AtomicU64,
    /// Notices are waiting ([`Gate::take_notices`]).
    pub notify: tokio::sync::Notify,
}

#[derive(Debug)]
struct Inner {
    pike: Pike,
    servers: HashSet<IpAddr>,
    notices: VecDeque<String>,
}

impl Gate {
    /// The gate of `cfg`: `trusted` are the trusted peers, `hosts` the names resolved so
    /// far (registrar/proxy addresses named by host name).
    pub fn new(cfg: &Config, trusted: PeerFilter, hosts: &HostTable, now: Instant) -> Gate {
        let l = &cfg.limits;
        let pike = PikeConfig {
            rate: f64::from(l.rate_per_s),
            burst: f64::from(l.burst),
            server_rate: f64::from(l.server_rate_per_s),
            server_burst: f64::from(l.server_burst),
            ban_min: Duration::from_secs(l.ban_min_s.into()),
            ban_max: Duration::from_secs(l.ban_max_s.into()),
            max_sources: l.max_sources as usize,
        };
        Gate {
            enabled_scanners: l.drop_scanners,
            scanners: Scanners::new(&l.scanner_user_agents),
            trusted,
            inner: Mutex::new(Inner {
                pike: Pike::new(pike, now),
                servers: crate::gateway::names::server_ips(cfg, hosts),
                notices: VecDeque::new(),
            }),
            scanners_dropped: AtomicU64::new(0),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// The registrar/proxy addresses after the names were looked up again.
    pub fn set_hosts(&self, cfg: &Config, hosts: &HostTable) {
        if let Ok(mut i) = self.inner.lock() {
            i.servers = crate::gateway::names::server_ips(cfg, hosts);
        }
    }

    /// Whether `ip` is one of the accounts' servers or a trusted peer.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.inner
            .lock()
            .is_ok_and(|i| self.is_server(&i.servers, ip))
    }

    /// Whether `ip` gets the server budget.
    fn is_server(&self, servers: &HashSet<IpAddr>, ip: IpAddr) -> bool {
        servers.contains(&ip) || self.trusted.trusts(ip)
    }

    /// What to do with `bytes` (empty: a new connection) from `from` at `now`.
    pub fn decide(&self, now: Instant, from: SocketAddr, bytes: &[u8]) -> Admission {
        let Ok(mut inner) = self.inner.lock() else {
            return Admission::Normal;
        };
        let ip = from.ip();
        let server = self.is_server(&inner.servers, ip);
        if self.enabled_scanners && !server && self.scanners.matches(bytes) {
            self.scanners_dropped.fetch_add(1, Ordering::Relaxed);
            return Admission::Drop;
        }
        match inner.pike.check(now, ip, server) {
            Decision::Pass if server => Admission::Priority,
            Decision::Pass => Admission::Normal,
            Decision::Drop { new_ban } => {
                if new_ban {
                    let line = format!(
                        "flood: {ip} over its rate, ignored for a while ({} bans, {} messages dropped so far)",
                        inner.pike.bans, inner.pike.dropped
                    );
                    if inner.notices.len() < MAX_NOTICES {
                        inner.notices.push_back(line);
                    }
                    self.notify.notify_one();
                }
                Admission::Drop
            }
        }
    }

    /// The ban notices since the last call, for the log.
    pub fn take_notices(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|mut i| i.notices.drain(..).collect())
            .unwrap_or_default()
    }

    /// (bans, messages dropped over a rate, scanner requests dropped) so far.
    pub fn counters(&self) -> (u64, u64, u64) {
        let (bans, dropped) = self
            .inner
            .lock()
            .map(|i| (i.pike.bans, i.pike.dropped))
            .unwrap_or_default();
        (bans, dropped, self.scanners_dropped.load(Ordering::Relaxed))
    }
}

impl Admit for Gate {
    fn admit(&self, from: SocketAddr, bytes: &[u8]) -> Admission {
        self.decide(Instant::now(), from, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrustedPeer;

    const CFG: &str = r#"
board = "sim-4"
[identity]
listen = [{ transport = "udp", address = "127.0.0.1:5060" }]
[[accounts]]
name = "pbx"
registrar = "sip:192.0.2.50"
proxy = "sip:pbx.example;lr"
username = "100"
[[ports]]
index = 0
kind = "fxs"
account = "pbx"
[limits]
rate_per_s = 10
burst = 10
server_rate_per_s = 1000
server_burst = 1000
"#;

    fn gate() -> Gate {
        let cfg: Config = toml::from_str(CFG).unwrap();
        let trusted = PeerFilter {
            peers: vec![TrustedPeer::parse("198.51.100.0/24").unwrap()],
        };
        let mut hosts = HostTable::new();
        hosts.insert("pbx.example", "192.0.2.60".parse().unwrap());
        Gate::new(&cfg, trusted, &hosts, Instant::now())
    }

    fn from(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 5060)
    }

    const INVITE: &[u8] = b"INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";

    #[test]
    fn a_flooding_source_is_dropped_while_servers_and_trusted_peers_go_on() {
        let g = gate();
        let now = Instant::now();
        let mut passed = 0;
        for _ in 0..1000 {
            if g.decide(now, from("203.0.113.7"), INVITE) != Admission::Drop {
                passed += 1;
            }
        }
        assert_eq!(passed, 10);
        // Logged once for the whole flood.
        assert_eq!(g.take_notices().len(), 1);
        assert!(g.take_notices().is_empty());
        for server in ["192.0.2.50", "192.0.2.60", "198.51.100.9"] {
            for _ in 0..500 {
                assert_eq!(g.decide(now, from(server), INVITE), Admission::Priority);
            }
        }
        assert_eq!(
            g.decide(now, from("203.0.113.8"), INVITE),
            Admission::Normal
        );
    }

    #[test]
    fn scanners_are_dropped_unless_disabled() {
        let g = gate();
        let now = Instant::now();
        let scan = b"OPTIONS sip:1@x SIP/2.0\r\nUser-Agent: friendly-scanner\r\n\r\n";
        assert_eq!(g.decide(now, from("203.0.113.7"), scan), Admission::Drop);
        assert_eq!(g.counters().2, 1);
        let mut cfg: Config = toml::from_str(CFG).unwrap();
        cfg.limits.drop_scanners = false;
        let g = Gate::new(&cfg, PeerFilter::default(), &HostTable::new(), now);
        assert_eq!(g.decide(now, from("203.0.113.7"), scan), Admission::Normal);
    }
}
