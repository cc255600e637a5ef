//! Locating SIP servers (RFC 3263 §4) from what a [`HostTable`] holds: which transport,
//! address and port a URI stands for, the services of a name in priority order and, among
//! those of one priority, in a weighted random order (RFC 2782), with the ones that failed
//! lately kept to the end ([`Avoided`], §4.3: "the client SHOULD try the next element").

use super::hosts::HostTable;
use crate::transaction::{Peer, Transport};
use crate::uri::{Host, Uri};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How long a target that timed out, failed at the transport or answered 503 is tried
/// only after every other one.
pub const AVOID_FOR: Duration = Duration::from_secs(60);

/// At most this many failed targets are remembered (each failure a remote host can cause
/// costs a slot; past the cap the one closest to its end is forgotten).
pub const MAX_AVOIDED: usize = 32;

/// One place a request for a URI may go, before ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub peer: Peer,
    /// Lower first.
    pub priority: u32,
    /// Share among candidates of one priority.
    pub weight: u16,
}

/// The places `uri` may be sent to (RFC 3263 §4.1, §4.2), lowest priority first: its own
/// address when its host is an IP literal or it names a port (then the name's A/AAAA
/// address), else the name's services of the URI's transport (any transport when it
/// names none), else the name's address at the transport's default port. Empty when the
/// URI is not a SIP URI or its name is unknown.
pub fn candidates(uri: &str, default: Transport, hosts: &HostTable) -> Vec<Candidate> {
    let Ok(u) = Uri::parse(uri) else {
        return Vec::new();
    };
    let Some(s) = u.as_sip() else {
        return Vec::new();
    };
    let named = match s.params.value("transport").flatten() {
        Some(t) => match Transport::from_via_token(t) {
            Some(t) => Some(t),
            None => return Vec::new(),
        },
        None if s.secure => Some(Transport::Tls),
        None => None,
    };
    let transport = named.unwrap_or(default);
    let port = s.port.unwrap_or(default_port(transport));
    let single = |ip: IpAddr| {
        vec![Candidate {
            peer: Peer {
                transport,
                addr: SocketAddr::new(ip, port),
            },
            priority: 0,
            weight: 0,
        }]
    };
    let name = match s.host {
        Host::Ipv4(a) => return single(a.into()),
        Host::Ipv6(a) => return single(a.into()),
        Host::Domain(d) => match d.parse::<IpAddr>() {
            Ok(ip) => return single(ip),
            Err(_) => d,
        },
    };
    let Some(r) = hosts.resolved(name) else {
        return Vec::new();
    };
    if s.port.is_none() {
        let mut found: Vec<Candidate> = r
            .services
            .iter()
            .filter(|svc| named.is_none_or(|t| svc.transport == t))
            .map(|svc| Candidate {
                peer: svc.peer(),
                priority: svc.priority,
                weight: svc.weight,
            })
            .collect();
        if !found.is_empty() {
            found.sort_by_key(|c| c.priority);
            return found;
        }
    }
    r.ips.first().map(|ip| single(*ip)).unwrap_or_default()
}

/// The well-known port of `t` (RFC 3261 §19.1.2).
pub fn default_port(t: Transport) -> u16 {
    match t {
        Transport::Tls => 5061,
        Transport::Udp | Transport::Tcp => 5060,
    }
}

/// `cands` in the order to try them: by priority; within a priority by RFC 2782's weighted
/// selection (each pick takes a candidate with probability weight / sum of the weights
/// left; weight 0 ones get a small chance, so they go last in practice); then every
/// candidate `avoided` says failed lately moved to the end, keeping that order.
pub fn order(
    mut cands: Vec<Candidate>,
    mut rand: impl FnMut() -> u64,
    avoided: impl Fn(&Peer) -> bool,
) -> Vec<Peer> {
    cands.sort_by_key(|c| c.priority);
    let mut out = Vec::with_capacity(cands.len());
    let mut rest = cands.as_slice();
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|c| c.priority == first.priority)
            .count();
        let mut group: Vec<Candidate> = rest[..n].to_vec();
        rest = &rest[n..];
        // RFC 2782: zero-weight entries first in the list, so they are picked only by a
        // running sum of zero, i.e. rarely.
        group.sort_by_key(|c| c.weight != 0);
        while !group.is_empty() {
            let total: u64 = group.iter().map(|c| u64::from(c.weight)).sum();
            let pick = rand() % (total + 1);
            let mut sum = 0;
            let i = group
                .iter()
                .position(|c| {
                    sum += u64::from(c.weight);
                    sum >= pick
                })
                .unwrap_or(0);
            out.push(group.remove(i).peer);
        }
    }
    let (fresh, failed): (Vec<Peer>, Vec<Peer>) = out.into_iter().partition(|p| !avoided(p));
    let mut ordered = fresh;
    for p in failed {
        if !ordered.contains(&p) {
            ordered.push(p);
        }
    }
    ordered.dedup();
    ordered
}

/// Targets that failed lately, each until its time is up (bounded: [`MAX_AVOIDED`]).
#[derive(Debug, Default)]
pub struct Avoided(HashMap<Peer, Instant>);

impl Avoided {
    /// Keeps `peer` to the end of the order until `now + AVOID_FOR`.
    pub fn add(&mut self, now: Instant, peer: Peer) {
        self.0.retain(|_, until| *until > now);
        if self.0.len() >= MAX_AVOIDED
            && !self.0.contains_key(&peer)
            && let Some(oldest) = self.0.iter().min_by_key(|(_, u)| **u).map(|(p, _)| *p)
        {
            self.0.remove(&oldest);
        }
        self.0.insert(peer, now + AVOID_FOR);
    }

    /// Whether `peer` failed within the last [`AVOID_FOR`].
    pub fn contains(&self, now: Instant, peer: &Peer) -> bool {
        self.0.get(peer).is_some_and(|until| *until > now)
    }

    /// How many are remembered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::hosts::{Resolved, Service};

    fn svc(t: Transport, prio: u32, weight: u16, addr: &str) -> Service {
        Service {
            transport: t,
            priority: prio,
            weight,
            addr: addr.parse().unwrap(),
        }
    }

    fn table() -> HostTable {
        let mut h = HostTable::new();
        h.set(
            "example.test",
            Resolved {
                ips: vec!["192.0.2.1".parse().unwrap()],
                services: vec![
                    svc(Transport::Udp, 20, 0, "192.0.2.20:5080"),
                    svc(Transport::Udp, 10, 60, "192.0.2.10:5060"),
                    svc(Transport::Tcp, 15, 0, "192.0.2.15:5090"),
                    svc(Transport::Tls, 30, 0, "192.0.2.30:5061"),
                ],
            },
        );
        h
    }

    fn addrs(c: &[Candidate]) -> Vec<String> {
        c.iter().map(|c| c.peer.addr.to_string()).collect()
    }

    #[test]
    fn services_by_priority_filtered_by_the_uri_transport() {
        let h = table();
        let all = candidates("sip:example.test", Transport::Udp, &h);
        assert_eq!(
            addrs(&all),
            [
                "192.0.2.10:5060",
                "192.0.2.15:5090",
                "192.0.2.20:5080",
                "192.0.2.30:5061"
            ]
        );
        assert_eq!(all[1].peer.transport, Transport::Tcp);
        let tcp = candidates("sip:example.test;transport=tcp", Transport::Udp, &h);
        assert_eq!(addrs(&tcp), ["192.0.2.15:5090"]);
        let tls = candidates("sips:100@example.test", Transport::Udp, &h);
        assert_eq!(addrs(&tls), ["192.0.2.30:5061"]);
    }

    #[test]
    fn an_explicit_port_or_no_service_uses_the_address() {
        let h = table();
        // RFC 3263 §4.2: a port in the URI means an A/AAAA lookup, no SRV.
        let c = candidates("sip:example.test:5070", Transport::Udp, &h);
        assert_eq!(addrs(&c), ["192.0.2.1:5070"]);
        let mut h = HostTable::new();
        h.insert("pbx.test", "192.0.2.7".parse().unwrap());
        let c = candidates("sip:pbx.test;transport=tls", Transport::Udp, &h);
        assert_eq!(addrs(&c), ["192.0.2.7:5061"]);
        assert_eq!(c[0].peer.transport, Transport::Tls);
        assert!(candidates("sip:unknown.test", Transport::Udp, &h).is_empty());
        assert!(candidates("sip:pbx.test;transport=sctp", Transport::Udp, &h).is_empty());
        let ip = candidates("sip:192.0.2.3", Transport::Tcp, &HostTable::new());
        assert_eq!(addrs(&ip), ["192.0.2.3:5060"]);
    }

    fn peer(addr: &str) -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: addr.parse().unwrap(),
        }
    }

    fn cand(prio: u32, weight: u16, addr: &str) -> Candidate {
        Candidate {
            peer: peer(addr),
            priority: prio,
            weight,
        }
    }

    #[test]
    fn weights_share_the_first_place_and_priorities_come_in_order() {
        let cands = vec![
            cand(10, 3, "192.0.2.1:5060"),
            cand(10, 1, "192.0.2.2:5060"),
            cand(20, 1, "192.0.2.3:5060"),
        ];
        let mut rng = tipring_rng::SplitMix64::new(7);
        let mut first = [0u32; 2];
        for _ in 0..4000 {
            let o = order(cands.clone(), || rng.next_u64(), |_| false);
            assert_eq!(o.len(), 3);
            assert_eq!(o[2], peer("192.0.2.3:5060"), "priority 20 after 10");
            first[usize::from(o[0] == peer("192.0.2.2:5060"))] += 1;
        }
        // Weight 3 against 1 (RFC 2782's draw over 0..=sum): about 3/4 and 1/4.
        let share = f64::from(first[0]) / 4000.0;
        assert!((0.68..0.82).contains(&share), "{first:?}");
    }

    #[test]
    fn failed_targets_go_last_until_their_time_is_up() {
        let now = Instant::now();
        let cands = vec![cand(10, 0, "192.0.2.1:5060"), cand(20, 0, "192.0.2.2:5060")];
        let mut avoided = Avoided::default();
        avoided.add(now, peer("192.0.2.1:5060"));
        let o = order(cands.clone(), || 0, |p| avoided.contains(now, p));
        assert_eq!(o, [peer("192.0.2.2:5060"), peer("192.0.2.1:5060")]);
        let later = now + AVOID_FOR;
        let o = order(cands, || 0, |p| avoided.contains(later, p));
        assert_eq!(o, [peer("192.0.2.1:5060"), peer("192.0.2.2:5060")]);
    }

    #[test]
    fn the_avoided_set_stays_bounded() {
        let now = Instant::now();
        let mut avoided = Avoided::default();
        for i in 0..1000u16 {
            avoided.add(
                now + Duration::from_millis(u64::from(i)),
                peer(&format!("192.0.2.1:{i}")),
            );
        }
        assert_eq!(avoided.len(), MAX_AVOIDED);
        assert!(avoided.contains(now + Duration::from_secs(1), &peer("192.0.2.1:999")));
    }
}
