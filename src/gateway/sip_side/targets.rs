//! Where a peer may make the gateway send: the SDP `c=` address of an audio stream (our
//! RTP goes there), a request's Contact (the dialog's remote target, RFC 3261 §12.1.1)
//! and its Record-Route (the route set, §12.1.1). Each is an address a remote party picks
//! and the gateway then sends to, so each is a way to aim the box at something:
//!
//! - an **unspecified** address (`0.0.0.0`, `::`, `0.0.0.0/8`): Linux delivers a datagram
//!   to 0.0.0.0 to the host itself, so it is a loop, not a peer. In an *initial* offer it
//!   is refused; in a re-offer or an answer `c=0.0.0.0` keeps its RFC 3264 §8.4 meaning
//!   (old-style hold: no address is used, nothing is sent) and is let through;
//! - a **multicast** (`224.0.0.0/4`, `ff00::/8`) or **broadcast** (`255.255.255.255`)
//!   address: one call's audio sprayed at every host of a segment;
//! - **loopback** (`127.0.0.0/8`, `::1`): services of the box itself. Refused unless the
//!   box listens for SIP on a loopback address (then its peers are on this host by design:
//!   the demo, the tests, a local proxy). A box listening on a LAN address (or on the
//!   wildcard `0.0.0.0`) never sends RTP to 127.0.0.1 because a SIP peer said so;
//! - the box's **own addresses**: its SIP listeners and RTP sockets, exactly (a loop that
//!   feeds the gateway its own packets, whatever the configuration says), and, when
//!   loopback is refused, any port of an address it listens on (no remote peer shares it);
//!   behind a wildcard listener, the interface addresses read at start
//!   ([`TargetPolicy::add_local_ips`]).
//!
//! `[security] allow_targets` (address blocks) lets an address of these kinds through
//! (multicast paging, a media server on the box), except the box's own sockets. Refused
//! offers get 488 (RFC 3261 §21.4.26), refused Contact or Record-Route 403 (§21.4.4).

use crate::config::TrustedPeer;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tipring_sip::MessageBuilder;
use tipring_sip::header::Contact;
use tipring_sip::sdp::SessionDescription;
use tipring_sip::transaction::Transport;
use tipring_sip::ua::{HostTable, reason_phrase};
use tipring_sip::{Host, Message, Uri};

/// Why an address a peer gave is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is unspecified")]
    Unspecified(IpAddr),
    #[error("{0} is multicast")]
    Multicast(IpAddr),
    #[error("{0} is broadcast")]
    Broadcast(IpAddr),
    #[error("{0} is loopback and the gateway does not listen on loopback")]
    Loopback(IpAddr),
    #[error("{0} is the gateway's own address")]
    Own(SocketAddr),
}

/// Which SDP is checked: an offer that starts a session, or one that changes it / answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpRole {
    /// The INVITE's offer: `c=0.0.0.0` is refused.
    InitialOffer,
    /// A re-offer or an answer: `c=0.0.0.0` is a hold (RFC 3264 §8.4).
    Update,
}

/// The address policy of one gateway.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// SIP listeners and RTP sockets (possibly on the wildcard address).
    own: Vec<SocketAddr>,
    /// Specific addresses the box has (listeners, RTP, its interfaces when known).
    own_ips: Vec<IpAddr>,
    /// The box listens on loopback: peers on this host are expected.
    loopback: bool,
    /// `[security] allow_targets`.
    allow: Vec<TrustedPeer>,
}

fn unspecified(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 0,
        IpAddr::V6(v6) => v6.is_unspecified(),
    }
}

impl TargetPolicy {
    /// The policy of a box listening for SIP at `listen`, with RTP sockets `rtp`, letting
    /// the blocks `allow` through.
    pub fn new(listen: &[SocketAddr], rtp: &[SocketAddr], allow: Vec<TrustedPeer>) -> Self {
        let own: Vec<SocketAddr> = listen
            .iter()
            .chain(rtp)
            .map(|a| SocketAddr::new(a.ip().to_canonical(), a.port()))
            .collect();
        let mut p = TargetPolicy {
            loopback: own.iter().any(|a| a.ip().is_loopback()),
            own,
            own_ips: Vec::new(),
            allow,
        };
        let ips: Vec<IpAddr> = p.own.iter().map(SocketAddr::ip).collect();
        p.add_local_ips(&ips);
        p
    }

    /// More sockets of the box (the forwarding relays'): never a peer's target.
    pub fn add_own_rtp(&mut self, addrs: &[SocketAddr]) {
        for a in addrs {
            let a = SocketAddr::new(a.ip().to_canonical(), a.port());
            if !self.own.contains(&a) {
                self.own.push(a);
            }
        }
        let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
        self.add_local_ips(&ips);
    }

    /// More addresses of the box (its interfaces, for listeners on the wildcard address).
    pub fn add_local_ips(&mut self, ips: &[IpAddr]) {
        for ip in ips.iter().map(|ip| ip.to_canonical()) {
            if !unspecified(ip) && !self.own_ips.contains(&ip) {
                self.own_ips.push(ip);
            }
        }
    }

    /// Whether the box listens on loopback (so loopback peers are taken).
    pub fn allows_loopback(&self) -> bool {
        self.loopback
    }

    fn own_socket(&self, a: SocketAddr) -> bool {
        self.own.iter().any(|o| {
            o.port() == a.port()
                && (o.ip() == a.ip()
                    || (o.ip().is_unspecified()
                        && (a.ip().is_loopback() || self.own_ips.contains(&a.ip()))))
        })
    }

    /// Whether the gateway may send to `addr`.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refusal> {
        let ip = addr.ip().to_canonical();
        let addr = SocketAddr::new(ip, addr.port());
        if self.own_socket(addr) {
            return Err(Refusal::Own(addr));
        }
        if self.allow.iter().any(|b| b.contains(ip)) {
            return Ok(());
        }
        if unspecified(ip) {
            return Err(Refusal::Unspecified(ip));
        }
        if ip.is_multicast() {
            return Err(Refusal::Multicast(ip));
        }
        if ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            return Err(Refusal::Broadcast(ip));
        }
        if !self.loopback {
            if ip.is_loopback() {
                return Err(Refusal::Loopback(ip));
            }
            if self.own_ips.contains(&ip) {
                return Err(Refusal::Own(addr));
            }
        }
        Ok(())
    }

    /// The `c=` of every stream of `body` that is not disabled (port 0): audio and T.38. A host name
    /// is not an address the bridge uses (it sends nothing there), so it passes; a body
    /// that does not parse is left to the offer/answer code (which answers 400/488).
    pub fn check_sdp(&self, body: &[u8], role: SdpRole) -> Result<(), Refusal> {
        let Ok(sd) = SessionDescription::parse(body) else {
            return Ok(());
        };
        // Every stream the far end would have us send to: audio RTP and a T.38 fax's
        // UDPTL (m=image) alike.
        for m in sd.media.iter().filter(|m| m.port != 0) {
            let Some(ip) = sd.media_connection(m).and_then(|c| c.ip_addr()) else {
                continue;
            };
            if role == SdpRole::Update && ip.is_unspecified() {
                continue;
            }
            self.check(SocketAddr::new(ip, m.port))?;
        }
        Ok(())
    }

    /// The Contact and Record-Route URIs of a request (`sip:`/`sips:` with an address, or
    /// a name `hosts` resolves; the port as RFC 3263 defaults it). Other URIs pass: the
    /// UA cannot send to them.
    pub fn check_request(&self, msg: &Message<'_>, hosts: &HostTable) -> Result<(), Refusal> {
        let contacts = msg.contacts().filter_map(|c| match c {
            Contact::Addr(a) => Some(a.uri),
            Contact::Star => None,
        });
        let routes = msg.record_routes().map(|r| r.uri);
        for uri in contacts.chain(routes) {
            if let Some(addr) = target_of(&uri, hosts) {
                self.check(addr)?;
            }
        }
        Ok(())
    }
}

/// A stateless final response refusing `msg` (RFC 3261 §8.2.7). An initial request gets
/// a To tag derived from its Call-ID and top Via branch, so each retransmission gets the
/// same answer and no state is kept.
pub fn refusal(msg: &Message<'_>, code: u16) -> Vec<u8> {
    let tag = msg.to().and_then(|t| t.tag()).is_none().then(|| {
        let branch = msg.top_via().and_then(|v| v.branch()).unwrap_or_default();
        let call_id = msg.call_id().unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in call_id.bytes().chain(branch.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    });
    MessageBuilder::response_to(msg, code, reason_phrase(code), tag.as_deref()).finish()
}

/// Where the UA would send for `uri` (RFC 3263 §4.2 default ports, no DNS).
fn target_of(uri: &Uri<'_>, hosts: &HostTable) -> Option<SocketAddr> {
    let s = uri.as_sip()?;
    let ip: IpAddr = match s.host {
        Host::Ipv4(a) => a.into(),
        Host::Ipv6(a) => a.into(),
        Host::Domain(d) => d.parse().ok().or_else(|| hosts.get(d))?,
    };
    let tls = s.secure
        || s.params
            .value("transport")
            .flatten()
            .and_then(Transport::from_via_token)
            == Some(Transport::Tls);
    Some(SocketAddr::new(
        ip,
        s.port.unwrap_or(if tls { 5061 } else { 5060 }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn lan() -> TargetPolicy {
        TargetPolicy::new(
            &[at("192.0.2.1:5060")],
            &[at("192.0.2.1:10000")],
            Vec::new(),
        )
    }

    fn on_loopback() -> TargetPolicy {
        TargetPolicy::new(
            &[at("127.0.15.1:5060")],
            &[at("127.0.15.1:10000")],
            Vec::new(),
        )
    }

    #[test]
    fn unspecified_multicast_and_broadcast_are_refused() {
        for p in [lan(), on_loopback()] {
            for a in ["0.0.0.0:4000", "0.1.2.3:4000", "[::]:4000"] {
                assert!(
                    matches!(p.check(at(a)), Err(Refusal::Unspecified(_))),
                    "{a}"
                );
            }
            for a in ["224.0.0.1:4000", "239.1.2.3:4000", "[ff02::1]:4000"] {
                assert!(matches!(p.check(at(a)), Err(Refusal::Multicast(_))), "{a}");
            }
            assert!(matches!(
                p.check(at("255.255.255.255:4000")),
                Err(Refusal::Broadcast(_))
            ));
            assert_eq!(p.check(at("198.51.100.7:4000")), Ok(()));
        }
    }

    #[test]
    fn loopback_only_when_the_box_listens_on_loopback() {
        let p = lan();
        assert!(!p.allows_loopback());
        for a in [
            "127.0.0.1:4000",
            "127.9.9.9:4000",
            "[::1]:4000",
            "[::ffff:127.0.0.1]:4000",
        ] {
            assert!(matches!(p.check(at(a)), Err(Refusal::Loopback(_))), "{a}");
        }
        // Listening on the wildcard address is not listening on loopback.
        let w = TargetPolicy::new(&[at("0.0.0.0:5060")], &[at("0.0.0.0:10000")], Vec::new());
        assert!(!w.allows_loopback());
        assert!(w.check(at("127.0.0.1:4000")).is_err());
        let p = on_loopback();
        assert!(p.allows_loopback());
        assert_eq!(p.check(at("127.0.0.1:4000")), Ok(()));
        assert_eq!(p.check(at("127.0.15.2:4000")), Ok(()));
    }

    #[test]
    fn the_box_itself_is_refused() {
        let p = on_loopback();
        // Its SIP listener and RTP socket: a loop, even with peers on loopback.
        assert!(matches!(
            p.check(at("127.0.15.1:5060")),
            Err(Refusal::Own(_))
        ));
        assert!(matches!(
            p.check(at("127.0.15.1:10000")),
            Err(Refusal::Own(_))
        ));
        // Another port of the same host is a peer on this host.
        assert_eq!(p.check(at("127.0.15.1:4000")), Ok(()));
        // On a LAN address, no peer shares the box's address.
        let p = lan();
        assert!(matches!(
            p.check(at("192.0.2.1:10000")),
            Err(Refusal::Own(_))
        ));
        assert!(matches!(
            p.check(at("192.0.2.1:4000")),
            Err(Refusal::Own(_))
        ));
        // The wildcard listener: its port on any of the box's addresses.
        let mut w = TargetPolicy::new(&[at("0.0.0.0:5060")], &[at("0.0.0.0:10000")], Vec::new());
        w.add_local_ips(&["192.0.2.1".parse().unwrap()]);
        assert!(matches!(
            w.check(at("192.0.2.1:10000")),
            Err(Refusal::Own(_))
        ));
        assert!(matches!(
            w.check(at("127.0.0.1:5060")),
            Err(Refusal::Own(_))
        ));
        assert_eq!(w.check(at("192.0.2.2:10000")), Ok(()));
    }

    #[test]
    fn allow_targets_lets_blocks_through_but_never_the_box_itself() {
        let allow = ["239.0.0.0/8", "127.0.0.0/8"]
            .iter()
            .map(|s| TrustedPeer::parse(s).unwrap())
            .collect();
        let p = TargetPolicy::new(&[at("127.0.0.1:5060")], &[at("192.0.2.1:10000")], allow);
        assert_eq!(p.check(at("239.1.2.3:4000")), Ok(()));
        assert!(p.check(at("224.0.0.1:4000")).is_err());
        assert!(matches!(
            p.check(at("127.0.0.1:5060")),
            Err(Refusal::Own(_))
        ));
        let allow = vec![TrustedPeer::parse("127.0.0.0/8").unwrap()];
        let p = TargetPolicy::new(&[at("192.0.2.1:5060")], &[at("192.0.2.1:10000")], allow);
        assert_eq!(p.check(at("127.0.0.1:4000")), Ok(()));
    }

    fn sdp(c: &str, port: u16, direction: &str) -> Vec<u8> {
        format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0\r\na={direction}\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn offers_are_checked_on_their_audio_address() {
        let p = lan();
        assert_eq!(
            p.check_sdp(
                &sdp("198.51.100.7", 4000, "sendrecv"),
                SdpRole::InitialOffer
            ),
            Ok(())
        );
        for c in ["0.0.0.0", "224.0.0.1", "127.0.0.1", "192.0.2.1"] {
            assert!(
                p.check_sdp(&sdp(c, 10000, "sendrecv"), SdpRole::InitialOffer)
                    .is_err(),
                "{c}"
            );
        }
        // A disabled stream uses no address.
        assert_eq!(
            p.check_sdp(&sdp("224.0.0.1", 0, "sendrecv"), SdpRole::InitialOffer),
            Ok(())
        );
        // c=0.0.0.0 in a re-offer is the old way of holding (RFC 3264 §8.4).
        assert_eq!(
            p.check_sdp(&sdp("0.0.0.0", 4000, "sendonly"), SdpRole::Update),
            Ok(())
        );
        assert!(
            p.check_sdp(&sdp("224.0.0.1", 4000, "sendrecv"), SdpRole::Update)
                .is_err()
        );
    }

    /// A T.38 fax stream (m=image) is a destination like audio: its UDPTL could
    /// otherwise be aimed at the box itself, a multicast group or loopback.
    #[test]
    fn t38_offers_are_checked_on_their_udptl_address() {
        let p = lan();
        let image = |c: &str, port: u16| {
            format!(
                "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\n\
                 m=image {port} udptl t38\r\na=T38FaxVersion:0\r\n"
            )
            .into_bytes()
        };
        assert_eq!(
            p.check_sdp(&image("198.51.100.7", 4000), SdpRole::Update),
            Ok(())
        );
        for c in ["224.0.0.1", "127.0.0.1", "192.0.2.1", "255.255.255.255"] {
            assert!(
                p.check_sdp(&image(c, 10000), SdpRole::Update).is_err(),
                "{c}"
            );
        }
    }

    fn invite(contact: &str, record_route: Option<&str>) -> Vec<u8> {
        let rr = record_route.map_or(String::new(), |r| format!("Record-Route: <{r}>\r\n"));
        format!(
            "INVITE sip:100@192.0.2.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@198.51.100.7>;tag=1\r\n\
             To: <sip:100@192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
             Contact: <{contact}>\r\n{rr}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn contact_and_record_route_are_checked() {
        let p = lan();
        let hosts = HostTable::new();
        let ok = invite("sip:a@198.51.100.7:5060", Some("sip:198.51.100.8;lr"));
        assert_eq!(
            p.check_request(&Message::parse(&ok).unwrap(), &hosts),
            Ok(())
        );
        for (c, rr) in [
            ("sip:a@127.0.0.1", None),
            ("sip:a@0.0.0.0:5060", None),
            ("sip:a@192.0.2.1", None),
            ("sip:a@198.51.100.7", Some("sip:224.0.0.1;lr")),
            ("sip:a@localhost.example", None),
        ] {
            let mut hosts = HostTable::new();
            hosts.insert("localhost.example", "127.0.0.1".parse().unwrap());
            let m = invite(c, rr);
            assert!(
                p.check_request(&Message::parse(&m).unwrap(), &hosts)
                    .is_err(),
                "{c} {rr:?}"
            );
        }
        // sips: defaults to 5061: the box's own TLS listener.
        let p = TargetPolicy::new(&[at("127.0.15.1:5061")], &[], Vec::new());
        let m = invite("sips:a@127.0.15.1", None);
        assert!(matches!(
            p.check_request(&Message::parse(&m).unwrap(), &hosts),
            Err(Refusal::Own(_))
        ));
    }
}
