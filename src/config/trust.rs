//! Trusted peers: addresses and CIDR blocks whose INVITEs may reach FXO lines without
//! digest authentication.

use std::net::IpAddr;

/// An address block, `addr/prefix` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedPeer {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl TrustedPeer {
    /// Parses `192.0.2.1`, `10.0.0.0/8` or `2001:db8::/32`; the error says what is wrong.
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
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix \"{p}\" is not in 0..={max}")),
            },
        };
        Ok(TrustedPeer { addr, prefix })
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses match IPv4 blocks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The set of trusted blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerFilter {
    pub peers: Vec<TrustedPeer>,
}

impl PeerFilter {
    /// Whether `ip` is trusted.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.peers.iter().any(|p| p.contains(ip))
    }
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
        let all = TrustedPeer::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("203.0.113.7")));
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
                .contains("0..=32")
        );
        assert!(TrustedPeer::parse("host.example").is_err());
        assert!(TrustedPeer::parse("::/129").is_err());
    }
}
