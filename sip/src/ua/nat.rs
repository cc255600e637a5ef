//! A registration behind a NAT: the address the registrar saw us at (the `received` and
//! `rport` of our Via in its responses, RFC 3581 §4, RFC 3261 §18.2.1), a Contact at that
//! address when told to learn it, and keepalives that hold the NAT's mapping open
//! (RFC 5626 §4.4.1: a double CRLF on the flow; or an OPTIONS, whose answer also shows the
//! mapping). When the address seen changes (the NAT gave us a new mapping, the box a new
//! address), the binding is renewed at once instead of at its next refresh.

use super::register::{RegHandle, RegState};
use super::{Purpose, Ua, UaEvent};
use crate::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::{Peer, Transmit};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What the Contact of a registration says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NatMode {
    /// Our own address: a registrar with NAT handling (Kamailio's `fix_nated_register`,
    /// most providers' SBCs) binds the source address itself.
    #[default]
    Registrar,
    /// The address the registrar saw us at (`received`/`rport`): re-registered with it,
    /// the local one removed, and used as the Contact of our dialogs.
    Learn,
}

/// How the NAT mapping toward the registrar is kept open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveKind {
    /// `CRLF CRLF` on the flow (RFC 5626 §4.4.1); over UDP a bare datagram.
    Crlf,
    /// An OPTIONS to the registrar (RFC 3261 §11): its answer shows the address we are
    /// seen at, so a changed mapping is found within one interval.
    Options,
}

/// Keepalives of a registration: one every `interval` while registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub interval: Duration,
    pub kind: KeepaliveKind,
}

/// The shortest keepalive interval taken (a misconfiguration must not flood the server).
pub const MIN_KEEPALIVE: Duration = Duration::from_secs(5);

/// The keepalive ping of RFC 5626 §4.4.1.
pub const CRLF_PING: &[u8] = b"\r\n\r\n";

/// The address a response's top Via says the server saw the request come from: its
/// `received` (else the Via's host) and `rport` value (else the Via's port). `None`
/// without `received` or `rport` (the server said nothing).
pub fn seen_at(msg: &Message<'_>) -> Option<SocketAddr> {
    let via = msg.top_via()?;
    let port = match via.rport() {
        Some(crate::header::Rport::Port(p)) => Some(p),
        _ => None,
    };
    let received = via.received();
    if received.is_none() && port.is_none() {
        return None;
    }
    let ip = match received {
        Some(ip) => ip,
        None => via.host.to_string().trim_matches(['[', ']']).parse().ok()?,
    };
    let addr = SocketAddr::new(ip, port.or(via.port).unwrap_or(5060));
    // An address nobody can be reached at is not learnt: it would only aim the far ends'
    // requests and media at a broadcast or multicast group, or nowhere.
    let unreachable = match ip {
        std::net::IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast() || v4.is_unspecified(),
        std::net::IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
    };
    (!unreachable && addr.port() != 0).then_some(addr)
}

/// NAT state of one registration.
#[derive(Debug, Default)]
pub(crate) struct NatState {
    pub mode: NatMode,
    pub keepalive: Option<Keepalive>,
    /// Where the registrar last saw us.
    pub seen: Option<SocketAddr>,
    /// The Contact address registered, when it is not our own (mode Learn).
    pub public: Option<SocketAddr>,
    /// A Contact to remove with the next REGISTER (the one before a change).
    pub stale: Option<SocketAddr>,
    pub next_keepalive: Option<Instant>,
    /// When a change last renewed the binding: a server (or whoever forges its answers)
    /// that reports a new address in every answer gets one REGISTER per
    /// [`MIN_KEEPALIVE`], not one per answer.
    pub renewed: Option<Instant>,
}

impl Ua {
    /// A 2xx to REGISTER of `h` (or to its OPTIONS keepalive) said we were seen at
    /// `seen`: `true` when that changed the binding we need, and a REGISTER went out.
    pub(super) fn nat_seen(
        &mut self,
        now: Instant,
        h: RegHandle,
        seen: Option<SocketAddr>,
    ) -> bool {
        let local = self.cfg.local;
        let Some(r) = self.regs.get_mut(&h) else {
            return false;
        };
        let Some(seen) = seen else {
            return false;
        };
        let before = r.nat.seen.replace(seen);
        let moved = before.is_some_and(|b| b != seen);
        let learn = r.nat.mode == NatMode::Learn;
        let wanted = (seen != local).then_some(seen);
        let recontact = learn && r.nat.public != wanted;
        if !(moved || recontact) {
            return false;
        }
        if recontact {
            r.nat.stale = r.nat.public.or(Some(local)).filter(|s| Some(*s) != wanted);
            r.nat.public = wanted;
            if let Some(p) = wanted {
                self.public = Some(p);
            }
        }
        self.events
            .push_back(UaEvent::SeenAt { reg: h, addr: seen });
        // Renewed now, wherever the refresh timer stood (RFC 5626 §4.4.1 after a flow
        // change; RFC 3581 with the address learnt); at most once per MIN_KEEPALIVE.
        let earliest = r.nat.renewed.map(|t| t + MIN_KEEPALIVE);
        if let Some(at) = earliest.filter(|at| *at > now) {
            r.next = Some(r.next.map_or(at, |n| n.min(at)));
            return false;
        }
        r.nat.renewed = Some(now);
        self.reregister_now(now, h);
        true
    }

    /// Sends the registration's REGISTER now (a refresh), unless one is outstanding.
    pub(super) fn reregister_now(&mut self, now: Instant, h: RegHandle) {
        let Some(r) = self.regs.get_mut(&h) else {
            return;
        };
        if r.pending.is_some()
            || matches!(r.state, RegState::Unregistering | RegState::Unregistered)
        {
            return;
        }
        r.next = None;
        r.state = RegState::Registering;
        if self.send_register(now, h).is_err() {
            self.register_failed(now, h, 503, None);
        }
    }

    /// Renews every registration at once (the box's own address changed).
    pub fn reregister_all(&mut self, now: Instant) {
        let all: Vec<RegHandle> = self.regs.keys().copied().collect();
        for h in all {
            if self
                .regs
                .get(&h)
                .is_some_and(|r| r.state == RegState::Registered)
            {
                self.reregister_now(now, h);
            }
        }
    }

    /// Sends the keepalives that are due.
    pub(super) fn keepalive_timers(&mut self, now: Instant) {
        let due: Vec<RegHandle> = self
            .regs
            .iter()
            .filter(|(_, r)| r.nat.next_keepalive.is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            let Some(r) = self.regs.get_mut(&h) else {
                continue;
            };
            let Some(k) = r.nat.keepalive else {
                r.nat.next_keepalive = None;
                continue;
            };
            r.nat.next_keepalive = Some(now + k.interval.max(MIN_KEEPALIVE));
            if r.state != RegState::Registered {
                continue;
            }
            let peer = r.peer;
            match k.kind {
                KeepaliveKind::Crlf => self.transmits.push_back(Transmit {
                    to: peer,
                    bytes: CRLF_PING.into(),
                }),
                KeepaliveKind::Options => {
                    let target = r.target.clone();
                    if let Err(e) = self.send_keepalive_options(now, h, &target, peer) {
                        tracing::debug!("keepalive OPTIONS not sent: {e}");
                    }
                }
            }
        }
    }

    fn send_keepalive_options(
        &mut self,
        now: Instant,
        h: RegHandle,
        target: &str,
        peer: Peer,
    ) -> Result<(), super::UaError> {
        let via = self.via(peer.transport);
        let (call_id, tag, seq) = (self.new_call_id(), self.token(), self.initial_cseq());
        let me = format!("sip:{}@{}", self.cfg.user, self.cfg.local);
        let uri = crate::Uri::parse(target).map_err(|_| super::UaError::Uri(target.into()))?;
        let bytes = MessageBuilder::request(Method::Options, &uri)
            .header(HeaderName::Via, via)
            .max_forwards(70)
            .header(HeaderName::From, format!("<{me}>;tag={tag}"))
            .header(HeaderName::To, format!("<{target}>"))
            .call_id(&call_id)
            .cseq(seq, Method::Options)
            .header(HeaderName::Accept, "application/sdp")
            .finish();
        self.send(now, bytes, peer, Purpose::Keepalive(h))?;
        Ok(())
    }

    /// The answer to a keepalive OPTIONS: any answer shows where we are seen.
    pub(super) fn on_keepalive_response(&mut self, now: Instant, h: RegHandle, msg: &Message<'_>) {
        if msg.status().is_some_and(|c| c >= 200) {
            self.nat_seen(now, h, seen_at(msg));
        }
    }

    /// A keepalive OPTIONS got no answer: the flow may be gone, so the binding is renewed
    /// (RFC 5626 §4.4.1: a failed keepalive means registering again).
    pub(super) fn keepalive_failed(&mut self, now: Instant, h: RegHandle) {
        if self
            .regs
            .get(&h)
            .is_some_and(|r| r.state == RegState::Registered)
        {
            self.reregister_now(now, h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(via: &str) -> Vec<u8> {
        format!(
            "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\n\
             Call-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn seen(via: &str) -> Option<SocketAddr> {
        let b = response(via);
        seen_at(&Message::parse(&b).unwrap())
    }

    #[test]
    fn the_address_seen_comes_from_received_and_rport() {
        assert_eq!(
            seen("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.7;rport=40312"),
            Some("198.51.100.7:40312".parse().unwrap())
        );
        // rport alone: the Via's host; received alone: the Via's port.
        assert_eq!(
            seen("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport=40312"),
            Some("10.0.0.2:40312".parse().unwrap())
        );
        assert_eq!(
            seen("SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK1;received=198.51.100.7"),
            Some("198.51.100.7:5070".parse().unwrap())
        );
        assert_eq!(
            seen("SIP/2.0/UDP [2001:db8::2]:5060;branch=z9hG4bK1;rport=9"),
            Some("[2001:db8::2]:9".parse().unwrap())
        );
        // Nothing said (or only our own request for rport): nothing learnt.
        assert_eq!(
            seen("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport"),
            None
        );
    }
}
