//! Which 3xx targets the UA follows (RFC 3261 §8.1.3.4, §26.3.1): a redirect is a request
//! from the network to send our INVITE (and perhaps our credentials) somewhere else, so a
//! gateway follows it only to its own servers or to hosts it was told to allow, never to
//! loopback, unspecified, multicast or its own addresses (a redirect to itself would come
//! back in as a trusted call).

use super::HostTable;
use crate::block::AddrBlock;
use crate::uri::{Host, Uri};
use std::net::IpAddr;

/// The redirect policy of a UA.
#[derive(Debug, Clone, Default)]
pub struct RedirectPolicy {
    /// Follow every target (diagnostic tools); credentials still never follow a redirect
    /// to a host that is not in `allowed_hosts` or `allowed_nets`.
    pub open: bool,
    /// Hosts always followed: the configured servers and explicitly allowed hosts (names,
    /// compared case-insensitively, or address literals; a name also matches the
    /// addresses it resolves to).
    pub allowed_hosts: Vec<String>,
    /// Address blocks always followed.
    pub allowed_nets: Vec<AddrBlock>,
    /// Our own addresses: refused unless allowed above.
    pub own: Vec<IpAddr>,
}

impl RedirectPolicy {
    /// Every target followed (the library default, for diagnostic tools).
    pub fn open() -> Self {
        RedirectPolicy {
            open: true,
            ..RedirectPolicy::default()
        }
    }

    /// Whether `uri` is explicitly allowed: a configured server or an allowed host or
    /// block. Credentials may follow a redirect only there.
    pub fn allows(&self, uri: &str, hosts: &HostTable) -> bool {
        let Some((name, ip)) = host_of(uri, hosts) else {
            return false;
        };
        self.allowed_hosts.iter().any(|h| {
            h.eq_ignore_ascii_case(&name)
                || ip.is_some_and(|ip| {
                    h.parse::<IpAddr>().ok().or_else(|| hosts.get(h)).map(canon) == Some(ip)
                })
        }) || ip.is_some_and(|ip| self.allowed_nets.iter().any(|n| n.contains(ip)))
    }

    /// Whether a 3xx target may be followed: anything when open, else only what
    /// [`allows`](Self::allows) lists. A loopback, unspecified, multicast or own address
    /// is thus refused unless it is a configured server or explicitly allowed.
    pub fn permits(&self, uri: &str, hosts: &HostTable) -> bool {
        self.open || self.allows(uri, hosts)
    }

    /// Whether an address is loopback, unspecified, multicast, broadcast or one of ours
    /// (what a refused redirect is logged as, beyond unknown).
    pub fn is_local_or_special(&self, ip: IpAddr) -> bool {
        let ip = canon(ip);
        ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
            || self.own.iter().any(|o| canon(*o) == ip)
    }
}

fn canon(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The host of a SIP URI as written (lowercase) and its address, if known.
fn host_of(uri: &str, hosts: &HostTable) -> Option<(String, Option<IpAddr>)> {
    let u = Uri::parse(uri).ok()?;
    let s = u.as_sip()?;
    let ip = match &s.host {
        Host::Ipv4(a) => Some(IpAddr::from(*a)),
        Host::Ipv6(a) => Some(IpAddr::from(*a)),
        Host::Domain(d) => d.parse().ok().or_else(|| hosts.get(d)),
    };
    Some((s.host.to_string().to_ascii_lowercase(), ip.map(canon)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> RedirectPolicy {
        RedirectPolicy {
            open: false,
            allowed_hosts: vec!["pbx.example".into(), "127.0.0.5".into()],
            allowed_nets: vec![AddrBlock {
                addr: "198.51.100.0".parse().unwrap(),
                prefix: 24,
            }],
            own: vec!["192.0.2.1".parse().unwrap()],
        }
    }

    #[test]
    fn only_configured_servers_and_allowed_blocks_are_followed() {
        let mut hosts = HostTable::new();
        hosts.insert("pbx.example", "203.0.113.7".parse().unwrap());
        let p = gateway();
        assert!(p.permits("sip:100@pbx.example", &hosts));
        assert!(p.permits("sip:100@PBX.example:5070", &hosts));
        assert!(
            p.permits("sip:100@203.0.113.7", &hosts),
            "the server's address"
        );
        assert!(
            p.permits("sip:100@127.0.0.5:5080", &hosts),
            "a configured loopback server"
        );
        assert!(p.permits("sip:100@198.51.100.9", &hosts));
        assert!(
            !p.permits("sip:100@127.0.0.1", &hosts),
            "loopback, not a server"
        );
        assert!(!p.permits("sip:100@192.0.2.1", &hosts), "ourselves");
        assert!(!p.permits("sip:100@0.0.0.0", &hosts));
        assert!(!p.permits("sip:100@224.0.0.1", &hosts));
        assert!(!p.permits("sip:100@192.0.2.66", &hosts), "a stranger");
        assert!(!p.permits("sip:100@evil.example", &hosts));
        assert!(!p.permits("tel:+15551234", &hosts));
    }

    #[test]
    fn open_follows_everything_but_allows_credentials_nowhere_new() {
        let p = RedirectPolicy::open();
        let hosts = HostTable::new();
        assert!(p.permits("sip:100@127.0.0.1", &hosts));
        assert!(!p.allows("sip:100@127.0.0.1", &hosts));
        assert!(p.is_local_or_special("::ffff:127.0.0.1".parse().unwrap()));
    }
}
