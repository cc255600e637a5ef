//! OPTIONS pings to a proxy (RFC 3261 §11, used as a keepalive): one OPTIONS per interval,
//! the proxy reported up on any final response except 408/503 and down on a timeout.

use super::{Purpose, Ua, UaError, UaEvent};
use crate::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::transaction::Peer;
use std::time::{Duration, Instant};

/// A handle on one ping target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PingHandle(pub u64);

#[derive(Debug)]
pub(crate) struct Ping {
    target: String,
    peer: Peer,
    interval: Duration,
    pub up: Option<bool>,
    pub next: Option<Instant>,
}

impl Ua {
    /// Pings `target` with OPTIONS every `interval`, starting now; reports
    /// [`UaEvent::PeerUp`] / [`UaEvent::PeerDown`] when its state changes.
    pub fn ping(
        &mut self,
        now: Instant,
        target: &str,
        interval: Duration,
    ) -> Result<PingHandle, UaError> {
        let peer = self
            .peer_of(target)
            .ok_or_else(|| UaError::Uri(target.into()))?;
        let h = PingHandle(self.next_call);
        self.next_call += 1;
        self.pings.insert(
            h,
            Ping {
                target: target.to_owned(),
                peer,
                interval,
                up: None,
                next: None,
            },
        );
        self.send_ping(now, h)?;
        Ok(h)
    }

    fn send_ping(&mut self, now: Instant, h: PingHandle) -> Result<(), UaError> {
        let t = self.pings.get(&h).ok_or(UaError::NoCall)?.peer.transport;
        let via = self.via(t);
        let (call_id, tag, seq) = (self.new_call_id(), self.token(), self.initial_cseq());
        let me = format!("sip:{}@{}", self.cfg.user, self.cfg.local);
        let p = self.pings.get(&h).ok_or(UaError::NoCall)?;
        let uri = crate::Uri::parse(&p.target).map_err(|_| UaError::Uri(p.target.clone()))?;
        let bytes = MessageBuilder::request(Method::Options, &uri)
            .header(HeaderName::Via, via)
            .max_forwards(70)
            .header(HeaderName::From, format!("<{me}>;tag={tag}"))
            .header(HeaderName::To, format!("<{}>", p.target))
            .call_id(&call_id)
            .cseq(seq, Method::Options)
            .header(HeaderName::Accept, super::ACCEPT)
            .finish();
        let peer = p.peer;
        self.send(now, bytes, peer, Purpose::Ping(h))?;
        Ok(())
    }

    /// The outcome of one ping: `Some(code)` for a final response, `None` for a timeout.
    pub(super) fn on_ping_result(&mut self, now: Instant, h: PingHandle, code: Option<u16>) {
        let Some(p) = self.pings.get_mut(&h) else {
            return;
        };
        let up = matches!(code, Some(c) if c != 408 && c != 503);
        p.next = Some(now + p.interval);
        if p.up != Some(up) {
            p.up = Some(up);
            self.events.push_back(if up {
                UaEvent::PeerUp { ping: h }
            } else {
                UaEvent::PeerDown { ping: h, code }
            });
        }
    }

    pub(super) fn ping_timers(&mut self, now: Instant) {
        let due: Vec<PingHandle> = self
            .pings
            .iter()
            .filter(|(_, p)| p.next.is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            if let Some(p) = self.pings.get_mut(&h) {
                p.next = None;
            }
            if self.send_ping(now, h).is_err() {
                self.on_ping_result(now, h, None);
            }
        }
    }

    /// Stops pinging.
    pub fn stop_ping(&mut self, h: PingHandle) {
        self.pings.remove(&h);
    }
}
