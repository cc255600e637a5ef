//! Host names resolved for the core. The user agent does no I/O, DNS included (RFC 3263
//! lookups belong to whoever drives it): that caller looks up the names it knows it will
//! need (its registrar, proxies) and hands the answers over in a [`HostTable`]: for each
//! name its addresses (A/AAAA, used with a URI's explicit port or the transport's default
//! port) and the services its NAPTR/SRV records publish (RFC 3263 §4.1, §4.2), each a
//! transport, an address and port, a priority and a weight. Which of them a request goes
//! to is [`super::locate`]'s business. A URI whose host is a name not in the table stays
//! unreachable.

use crate::transaction::{Peer, Transport};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// One place a SIP service of a name is offered (an SRV record's target address, RFC 2782,
/// reached through a NAPTR record or an SRV query of its own, RFC 3263 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The transport of the NAPTR service field or of the SRV name (`_sip._udp`, …).
    pub transport: Transport,
    /// Lower is tried first: the rank of the NAPTR record (order, then preference), then
    /// the SRV priority.
    pub priority: u32,
    /// The SRV weight: among services of one priority, the share of requests (RFC 2782).
    pub weight: u16,
    /// The target's address and the SRV port.
    pub addr: SocketAddr,
}

impl Service {
    /// Where a request to this service goes.
    pub fn peer(&self) -> Peer {
        Peer {
            transport: self.transport,
            addr: self.addr,
        }
    }
}

/// What a name resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Its A/AAAA addresses, the preferred family first.
    pub ips: Vec<IpAddr>,
    /// Its NAPTR/SRV services, in the order the records gave (not yet weighted).
    pub services: Vec<Service>,
}

impl Resolved {
    /// Every address the name stands for: its own and its services'.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ips
            .iter()
            .copied()
            .chain(self.services.iter().map(|s| s.addr.ip()))
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty() && self.services.is_empty()
    }
}

impl fmt::Display for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for ip in &self.ips {
            write!(f, "{}{ip}", if first { "" } else { ", " })?;
            first = false;
        }
        for s in &self.services {
            write!(
                f,
                "{}{} {} (priority {}, weight {})",
                if first { "" } else { ", " },
                s.transport.via_token().to_ascii_lowercase(),
                s.addr,
                s.priority,
                s.weight
            )?;
            first = false;
        }
        Ok(())
    }
}

/// Names and what they resolved to; names compare case-insensitively (RFC 3261 §19.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTable(BTreeMap<String, Resolved>);

impl HostTable {
    /// An empty table.
    pub fn new() -> HostTable {
        HostTable::default()
    }

    /// Records that `name` has the address `ip` (its only one; its services stay).
    pub fn insert(&mut self, name: &str, ip: IpAddr) {
        self.0.entry(name.to_ascii_lowercase()).or_default().ips = vec![ip];
    }

    /// Records everything `name` resolved to (a later answer replaces an earlier one).
    pub fn set(&mut self, name: &str, resolved: Resolved) {
        self.0.insert(name.to_ascii_lowercase(), resolved);
    }

    /// The first address of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<IpAddr> {
        self.resolved(name).and_then(|r| r.ips.first().copied())
    }

    /// Everything `name` resolved to.
    pub fn resolved(&self, name: &str) -> Option<&Resolved> {
        self.0.get(&name.to_ascii_lowercase())
    }

    /// Every name (lower case) and what it resolved to.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Resolved)> {
        self.0.iter().map(|(n, r)| (n.as_str(), r))
    }

    /// How many names are known.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no name is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_case_insensitively() {
        let mut t = HostTable::new();
        t.insert("PBX.example.com", "192.0.2.5".parse().unwrap());
        assert_eq!(t.get("pbx.EXAMPLE.com"), Some("192.0.2.5".parse().unwrap()));
        assert_eq!(t.get("other.example.com"), None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn addresses_cover_the_name_and_its_services() {
        let mut t = HostTable::new();
        let svc = Service {
            transport: Transport::Tcp,
            priority: 10,
            weight: 5,
            addr: "192.0.2.9:5070".parse().unwrap(),
        };
        t.set(
            "example.com",
            Resolved {
                ips: vec!["192.0.2.1".parse().unwrap()],
                services: vec![svc],
            },
        );
        let r = t.resolved("example.com").unwrap();
        let all: Vec<IpAddr> = r.addresses().collect();
        assert_eq!(
            all,
            [
                "192.0.2.1".parse::<IpAddr>().unwrap(),
                "192.0.2.9".parse().unwrap()
            ]
        );
        assert_eq!(
            r.to_string(),
            "192.0.2.1, tcp 192.0.2.9:5070 (priority 10, weight 5)"
        );
        // A later A answer keeps the services.
        t.insert("example.com", "192.0.2.2".parse().unwrap());
        assert_eq!(t.resolved("example.com").unwrap().services, [svc]);
    }
}
