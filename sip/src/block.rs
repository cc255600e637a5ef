//! Address blocks (`192.0.2.0/24`, `2001:db8::/32`): what a policy names when it trusts,
//! allows or refuses a range of peers rather than one address.

use std::net::IpAddr;

/// An address and a prefix length: every address whose first `prefix` bits are those of
/// `addr`. An IPv4-mapped IPv6 address looked up is its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrBlock {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl AddrBlock {
    /// The block of one address (/32 or /128).
    pub fn host(addr: IpAddr) -> AddrBlock {
        AddrBlock {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// Whether `ip` lies in the block (IPv4-mapped IPv6 addresses match IPv4 blocks; a
    /// prefix longer than the family's is taken as the whole address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix.min(32)))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix.min(128)))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_and_no_others() {
        let b = AddrBlock {
            addr: ip("10.1.0.0"),
            prefix: 16,
        };
        assert!(b.contains(ip("10.1.255.7")));
        assert!(b.contains(ip("::ffff:10.1.0.1")), "IPv4-mapped IPv6");
        assert!(!b.contains(ip("10.2.0.1")));
        assert!(!b.contains(ip("::1")));
        let v6 = AddrBlock {
            addr: ip("2001:db8::"),
            prefix: 32,
        };
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::5")));
        assert!(AddrBlock::host(ip("192.0.2.1")).contains(ip("192.0.2.1")));
        assert!(!AddrBlock::host(ip("192.0.2.1")).contains(ip("192.0.2.2")));
        let all = AddrBlock {
            addr: ip("0.0.0.0"),
            prefix: 0,
        };
        assert!(all.contains(ip("203.0.113.9")));
    }
}
