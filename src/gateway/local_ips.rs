//! The box's own interface addresses, for a SIP listener on the wildcard address (the
//! shipped default `0.0.0.0:5060`): the address policy ([`super::sip_side::targets`])
//! must know them to refuse a peer that names the box itself, and a change of them
//! renews the registrations. Read at start and every few seconds from the kernel's tables (Linux `/proc/net/fib_trie` for IPv4, `/proc/net/if_inet6` for
//! IPv6); an unreadable table gives no address, never an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address the kernel would send from toward `dest` (a connected UDP socket's own
/// address; nothing is sent), if it has a route there.
pub fn source_toward(dest: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = match dest {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let s = std::net::UdpSocket::bind((any, 0)).ok()?;
    s.connect((dest, 9)).ok()?;
    s.local_addr()
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
}

/// The address a gateway bound to `bind` names in its Via, Contact and SDP: `bind` itself,
/// or for the wildcard address the one the kernel sends from toward the first of `servers`
/// it can reach, else the first of `locals` of `bind`'s family that is not loopback, else
/// loopback (a box without a network reaches nothing else anyway).
pub fn advertised(bind: IpAddr, servers: &[IpAddr], locals: &[IpAddr]) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    let family = |ip: &IpAddr| ip.is_ipv4() == bind.is_ipv4();
    servers
        .iter()
        .filter(|s| family(s))
        .find_map(|s| source_toward(*s))
        .or_else(|| {
            locals
                .iter()
                .copied()
                .find(|ip| family(ip) && !ip.is_loopback())
        })
        .unwrap_or(match bind {
            IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        })
}

/// Every address the kernel counts as local.
pub fn read() -> Vec<IpAddr> {
    let mut out = std::fs::read_to_string("/proc/net/fib_trie")
        .map(|t| ipv4_locals(&t))
        .unwrap_or_default();
    out.extend(
        std::fs::read_to_string("/proc/net/if_inet6")
            .map(|t| ipv6_locals(&t))
            .unwrap_or_default(),
    );
    out.sort();
    out.dedup();
    out
}

/// The host routes (`/32 host LOCAL`) of a `fib_trie` dump: each follows its address
/// (`|-- 192.0.2.2`).
fn ipv4_locals(fib_trie: &str) -> Vec<IpAddr> {
    let mut last = None;
    let mut out = Vec::new();
    for line in fib_trie.lines().map(str::trim) {
        if let Some(a) = line.strip_prefix("|-- ") {
            last = a.parse::<Ipv4Addr>().ok();
        } else if line.starts_with("/32 host LOCAL")
            && let Some(a) = last
        {
            out.push(IpAddr::V4(a));
        }
    }
    out
}

/// The first field of each `if_inet6` line: the address as 32 hex digits.
fn ipv6_locals(if_inet6: &str) -> Vec<IpAddr> {
    if_inet6
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|h| u128::from_str_radix(h, 16).ok().filter(|_| h.len() == 32))
        .map(|v| IpAddr::V6(Ipv6Addr::from(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_routes_and_inet6_addresses_are_read() {
        let fib = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n\
                   \x20    +-- 127.0.0.0/8 2 0 2\n           |-- 127.0.0.0\n              /8 host LOCAL\n\
                   \x20          |-- 127.0.0.1\n              /32 host LOCAL\n\
                   \x20          |-- 192.0.2.2\n              /32 host LOCAL\n\
                   \x20          |-- 192.0.2.255\n              /32 link BROADCAST\n";
        let v4: Vec<IpAddr> = ["127.0.0.1", "192.0.2.2"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(ipv4_locals(fib), v4);
        let inet6 = "fd000000000000000000000000000002 04 40 00 82     eth0\n\
                     00000000000000000000000000000001 01 80 10 80       lo\nbad line\n";
        let v6: Vec<IpAddr> = ["fd00::2", "::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(ipv6_locals(inet6), v6);
    }

    #[test]
    fn this_host_has_loopback() {
        assert!(read().iter().any(IpAddr::is_loopback));
    }

    #[test]
    fn the_advertised_address_is_the_bound_one_or_the_way_to_the_servers() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(advertised(ip("192.0.2.5"), &[], &[]), ip("192.0.2.5"));
        // Loopback servers are reached from a loopback address.
        assert_eq!(
            advertised(ip("0.0.0.0"), &[ip("127.0.0.9")], &[ip("192.0.2.5")]),
            ip("127.0.0.1")
        );
        // No server: the first local address that is not loopback.
        assert_eq!(
            advertised(
                ip("0.0.0.0"),
                &[],
                &[ip("127.0.0.1"), ip("2001:db8::5"), ip("192.0.2.5")]
            ),
            ip("192.0.2.5")
        );
        assert_eq!(advertised(ip("0.0.0.0"), &[], &[]), ip("127.0.0.1"));
        assert_eq!(advertised(ip("::"), &[], &[ip("192.0.2.5")]), ip("::1"));
    }
}
