//! Host names resolved for the core. The user agent does no I/O, DNS included (RFC 3263
//! lookups belong to whoever drives it): that caller looks up the names it knows it will
//! need (its registrar, proxies) and hands the addresses over in a [`HostTable`]; a URI
//! whose host is a name in the table goes to that address, one that is not stays
//! unreachable as before. Only the A/AAAA step of RFC 3263 §4.2 is modelled: no NAPTR or
//! SRV, so the port is the URI's or the transport's default.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// Names and their addresses; names compare case-insensitively (RFC 3261 §19.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTable(BTreeMap<String, IpAddr>);

impl HostTable {
    /// An empty table.
    pub fn new() -> HostTable {
        HostTable::default()
    }

    /// Records that `name` resolved to `ip` (a later answer replaces an earlier one).
    pub fn insert(&mut self, name: &str, ip: IpAddr) {
        self.0.insert(name.to_ascii_lowercase(), ip);
    }

    /// The address of `name`, if it was resolved.
    pub fn get(&self, name: &str) -> Option<IpAddr> {
        self.0.get(&name.to_ascii_lowercase()).copied()
    }

    /// Every name (lower case) and its address.
    pub fn iter(&self) -> impl Iterator<Item = (&str, IpAddr)> {
        self.0.iter().map(|(n, ip)| (n.as_str(), *ip))
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
}
