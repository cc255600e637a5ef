//! Which source a message must come from to belong to one of our transactions or dialogs
//! (RFC 3261 §17.1.3, §18.1.2, §12.2.2): the transport the request went over, and over
//! UDP the address it went to. Anyone who can send UDP could otherwise answer our
//! requests (a 302 to his host, a 200 with his media, a 503 Retry-After: forever).

use crate::transaction::{Peer, Transport};

/// How closely the source of a response (or of an in-dialog request) must match the
/// address our request went to. The transport always has to match. Over TCP and TLS the
/// port is not compared: a server may answer over a new connection from another port
/// (§18.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceCheck {
    /// The same IP address and port (the default).
    #[default]
    Exact,
    /// The same IP address, any port (a NAT in front of the server that remaps ports).
    Host,
    /// Any address (the transport is still compared). Anyone on the path can then answer.
    Any,
}

impl SourceCheck {
    /// Whether a message received from `from` may belong to an exchange with `expected`.
    pub fn accepts(self, expected: Peer, from: Peer) -> bool {
        if expected.transport != from.transport {
            return false;
        }
        let stream = from.transport != Transport::Udp;
        match self {
            SourceCheck::Exact => {
                same_ip(expected, from) && (stream || expected.addr.port() == from.addr.port())
            }
            SourceCheck::Host => same_ip(expected, from),
            SourceCheck::Any => true,
        }
    }
}

/// IPv4 and its IPv4-mapped IPv6 form are one address (a dual-stack socket reports the
/// latter).
fn same_ip(a: Peer, b: Peer) -> bool {
    a.addr.ip().to_canonical() == b.addr.ip().to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: Transport, a: &str) -> Peer {
        Peer {
            transport: t,
            addr: a.parse().unwrap(),
        }
    }

    #[test]
    fn udp_needs_the_address_the_request_went_to() {
        let to = p(Transport::Udp, "192.0.2.1:5060");
        assert!(SourceCheck::Exact.accepts(to, to));
        assert!(!SourceCheck::Exact.accepts(to, p(Transport::Udp, "192.0.2.1:5070")));
        assert!(!SourceCheck::Exact.accepts(to, p(Transport::Udp, "192.0.2.66:5060")));
        assert!(SourceCheck::Exact.accepts(to, p(Transport::Udp, "[::ffff:192.0.2.1]:5060")));
        assert!(SourceCheck::Host.accepts(to, p(Transport::Udp, "192.0.2.1:5070")));
        assert!(!SourceCheck::Host.accepts(to, p(Transport::Udp, "192.0.2.66:5060")));
        assert!(SourceCheck::Any.accepts(to, p(Transport::Udp, "192.0.2.66:5060")));
    }

    #[test]
    fn the_transport_must_match_whatever_the_policy() {
        let tls = p(Transport::Tls, "192.0.2.1:5061");
        for c in [SourceCheck::Exact, SourceCheck::Host, SourceCheck::Any] {
            assert!(!c.accepts(tls, p(Transport::Udp, "192.0.2.1:5061")));
            assert!(!c.accepts(tls, p(Transport::Tcp, "192.0.2.1:5061")));
            // A new connection from the server's side comes from another port.
            assert!(c.accepts(tls, p(Transport::Tls, "192.0.2.1:40000")));
        }
        assert!(!SourceCheck::Exact.accepts(tls, p(Transport::Tls, "192.0.2.66:5061")));
    }
}
