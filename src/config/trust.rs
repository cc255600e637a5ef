//! Trusted peers: addresses and CIDR blocks whose INVITEs may reach FXO lines without
//! digest authentication, optionally bound to one transport.
//!
//! Trust by source address alone (a plain string, or `transport = "udp"`) is only as good
//! as the network's filtering of forged source addresses: over UDP anyone on the path, or
//! anyone whose network does not filter spoofed sources, can send a request that claims a
//! trusted address (RFC 3261 §26.1.1, §26.3.2.1). An entry bound to `tcp` or `tls` only
//! trusts requests that arrived over such a connection, whose source a blind attacker
//! cannot forge (the TCP handshake answers the real address).

use super::schema::{Transport, TrustedPeerEntry};
use std::net::IpAddr;
use tipring_sip::block::AddrBlock;

/// An address block, `addr/prefix` (a bare address is a /32 or /128), trusted over
/// `transport` only, or over any transport when `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedPeer {
    pub addr: IpAddr,
    pub prefix: u8,
    pub transport: Option<Transport>,
}

impl TrustedPeer {
    /// Parses `192.0.2.1`, `10.0.0.0/8` or `2001:db8::/32` (trusted over any transport);
    /// the error says what is wrong. A prefix of 0 (`0.0.0.0/0`, `::/0`) would trust
    /// everyone and is refused.
    pub fn parse(s: &str) -> Result<TrustedPeer, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("\"{a}\" is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(0) => {
                    return Err(format!(
                        "\"{s}\" trusts every address: name the peers (prefix 1..={max})"
                    ));
                }
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix \"{p}\" is not in 1..={max}")),
            },
        };
        Ok(TrustedPeer {
            addr,
            prefix,
            transport: None,
        })
    }

    /// Whether a request from `ip` that arrived over `transport` is trusted by this entry.
    pub fn admits(&self, ip: IpAddr, transport: Transport) -> bool {
        self.transport.is_none_or(|t| t == transport) && self.contains(ip)
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses match IPv4 blocks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.block().contains(ip)
    }

    /// The address block, without the transport.
    pub fn block(&self) -> AddrBlock {
        AddrBlock {
            addr: self.addr,
            prefix: self.prefix,
        }
    }
}

/// The set of trusted blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerFilter {
    pub peers: Vec<TrustedPeer>,
}

impl PeerFilter {
    /// Whether `ip` is trusted over some transport.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.peers.iter().any(|p| p.contains(ip))
    }

    /// Whether a request from `ip` that arrived over `transport` is trusted.
    pub fn trusts_over(&self, ip: IpAddr, transport: Transport) -> bool {
        self.peers.iter().any(|p| p.admits(ip, transport))
    }

    /// Whether some entry trusts a source address over UDP (spoofable, §26.1.1).
    pub fn trusts_udp(&self) -> bool {
        self.peers
            .iter()
            .any(|p| p.transport.is_none_or(|t| t == Transport::Udp))
    }
}

/// What `check-config` says about trust that holds only by source address: every entry
/// trusted over UDP (a plain string, or `transport = "udp"`) whose block reaches beyond
/// loopback (a loopback source cannot arrive from the network: the kernel drops it).
pub fn udp_trust_warnings(entries: &[TrustedPeerEntry]) -> Vec<String> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.transport().is_none_or(|t| t == Transport::Udp))
        .filter(|(_, e)| {
            TrustedPeer::parse(e.address()).is_ok_and(|p| {
                !(p.addr.is_loopback() && p.prefix >= if p.addr.is_ipv4() { 8 } else { 128 })
            })
        })
        .map(|(i, e)| {
            format!(
                "warning: security.trusted_peers[{i}] \"{}\" is trusted by source address over \
                 UDP, which anyone who can reach the box may forge (RFC 3261 §26.1.1): bind it \
                 with {{ address = \"{}\", transport = \"tcp\" }} (or \"tls\") and have the \
                 peer use that transport",
                e.address(),
                e.address()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let net = TrustedPeer::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        let host = TrustedPeer::parse("127.0.0.2").unwrap();
        assert!(host.contains(ip("127.0.0.2")));
        assert!(!host.contains(ip("127.0.0.3")));
        let wide = TrustedPeer::parse("0.0.0.0/1").unwrap();
        assert!(wide.contains(ip("100.0.113.7")));
        assert!(!wide.contains(ip("203.0.113.7")));
        let v6 = TrustedPeer::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
    }

    #[test]
    fn rejects_bad_blocks() {
        assert!(
            TrustedPeer::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("1..=32")
        );
        assert!(TrustedPeer::parse("host.example").is_err());
        assert!(TrustedPeer::parse("::/129").is_err());
    }

    #[test]
    fn refuses_trusting_everyone() {
        for all in ["0.0.0.0/0", "::/0", "10.0.0.0/0"] {
            let e = TrustedPeer::parse(all).unwrap_err();
            assert!(e.contains("trusts every address"), "{all}: {e}");
        }
    }

    #[test]
    fn udp_trust_beyond_loopback_is_warned_about() {
        let entries = [
            TrustedPeerEntry::Address("127.0.0.0/8".into()),
            TrustedPeerEntry::Address("::1".into()),
            TrustedPeerEntry::Address("192.0.2.10".into()),
            TrustedPeerEntry::Bound(super::super::schema::BoundPeer {
                address: "192.0.2.11".into(),
                transport: Transport::Tls,
            }),
            TrustedPeerEntry::Bound(super::super::schema::BoundPeer {
                address: "192.0.2.12".into(),
                transport: Transport::Udp,
            }),
        ];
        let w = udp_trust_warnings(&entries);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("trusted_peers[2] \"192.0.2.10\""), "{}", w[0]);
        assert!(w[1].contains("trusted_peers[4] \"192.0.2.12\""), "{}", w[1]);
    }

    #[test]
    fn bound_entries_trust_only_their_transport() {
        let mut p = TrustedPeer::parse("192.0.2.10").unwrap();
        assert!(p.admits(ip("192.0.2.10"), Transport::Udp));
        p.transport = Some(Transport::Tcp);
        assert!(p.admits(ip("192.0.2.10"), Transport::Tcp));
        assert!(!p.admits(ip("192.0.2.10"), Transport::Udp));
        assert!(!p.admits(ip("192.0.2.10"), Transport::Tls));
        assert!(!p.admits(ip("192.0.2.11"), Transport::Tcp));
        let f = PeerFilter { peers: vec![p] };
        assert!(!f.trusts_udp());
        assert!(f.trusts_over(ip("192.0.2.10"), Transport::Tcp));
        assert!(!f.trusts_over(ip("192.0.2.10"), Transport::Udp));
    }
}
