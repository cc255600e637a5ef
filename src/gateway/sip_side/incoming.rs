//! Calls for the ports (RFC 3261 §13.3): the port chosen by the Request-URI, our answer
//! to the offer (RFC 3264 §6) given in the 183 and the 200, re-offers (§14.2).

use super::forward::{Arrival, Forwarding};
use super::status::Refusal;
use super::targets::SdpRole;
use super::{Dir, Inbound, PortCall, PortEvent, SipEvent, SipSide, media, route};
use std::time::Instant;
use tipring_sip::sdp::NegotiatedMedia;
use tipring_sip::transaction::Transport;
use tipring_sip::ua::CallHandle;

impl SipSide {
    pub(super) fn early_media(&mut self, now: Instant, port: u8) {
        let Some(h) = self.incoming_handle(port) else {
            return;
        };
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) else {
            return;
        };
        let sdp = c.local_sdp.clone();
        let changed = c.negotiated.clone().and_then(|n| c.session.changed(&n));
        match self.ua.ring(now, h, 183, Some(&sdp)) {
            Ok(()) => {
                if let Some(media) = changed {
                    self.events.push_back(PortEvent::Media { port, media });
                }
            }
            Err(e) => self.notice(format!("port {port}: 183 not sent: {e}")),
        }
    }

    pub(super) fn answer(&mut self, now: Instant, port: u8) {
        let Some(h) = self.incoming_handle(port) else {
            return;
        };
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) else {
            return;
        };
        let sdp = c.local_sdp.clone();
        let changed = c.negotiated.clone().and_then(|n| c.session.changed(&n));
        match self.ua.answer(now, h, &sdp) {
            Ok(()) => {
                self.note_answered(port);
                if let Some(media) = changed {
                    self.events.push_back(PortEvent::Media { port, media });
                }
            }
            Err(e) => self.notice(format!("port {port}: 200 not sent: {e}")),
        }
    }

    pub(super) fn on_incoming(
        &mut self,
        now: Instant,
        call: CallHandle,
        request_uri: &str,
        sdp: &[u8],
        from: &str,
    ) {
        if let Some(old) = self.ua.replaces(call) {
            return self.take_over(now, call, old, sdp);
        }
        let user = tipring_sip::Uri::parse(request_uri)
            .ok()
            .and_then(|u| route::request_user(&u));
        let (ports, number) =
            match route::inbound(&self.cfg, user.as_deref(), &self.ua.config().user) {
                Inbound::Ports { ports, number, .. } => (ports, number),
                Inbound::Unknown => {
                    self.notice(format!("INVITE for unknown {request_uri}: 404"));
                    self.count_refusal(Refusal::InviteUnknownNumber);
                    let _ = self.ua.reject(now, call, 404);
                    return;
                }
            };
        // The phones that take this caller at all: not in do-not-disturb, and not refusing
        // a hidden caller (RFC 5079: 433 when that is the only reason).
        let anonymous = self.pending_anonymous;
        let (takers, refusing): (Vec<u8>, Vec<u8>) = ports.into_iter().partition(|p| {
            self.slots.get(p).is_none_or(|s| {
                s.port.do_not_disturb != Some(true)
                    && !(anonymous && s.port.reject_anonymous == Some(true))
            })
        });
        if takers.is_empty() && !refusing.is_empty() {
            let anonymous_only = refusing.iter().all(|p| {
                self.slots
                    .get(p)
                    .is_some_and(|s| s.port.do_not_disturb != Some(true))
            });
            let code = if anonymous_only { 433 } else { 486 };
            self.notice(format!(
                "INVITE for {request_uri}: {} on port(s) {refusing:?}: {code}",
                if anonymous_only {
                    "anonymous caller refused"
                } else {
                    "do not disturb"
                }
            ));
            self.count_refusal(if anonymous_only {
                Refusal::InviteAnonymous
            } else {
                Refusal::InviteDoNotDisturb
            });
            let _ = self.ua.reject(now, call, code);
            return;
        }
        // Forwarding: every call, or one that finds the phone busy.
        let caller = self.pending_caller.take().unwrap_or_else(|| {
            let number = tipring_sip::Uri::parse(from)
                .ok()
                .and_then(|u| route::request_user(&u));
            crate::call::CallerInfo { name: None, number }
        });
        let arrival = Arrival {
            offer: sdp.to_vec(),
            from: from.to_owned(),
            caller: caller.clone(),
            anonymous,
            max_forwards: self.pending_max_forwards,
        };
        let first_port = takers.first().copied().unwrap_or_default();
        let first = self.slots.get(&first_port).map(|s| &s.port);
        if let Some(target) = first.and_then(|p| p.forward_always.clone()) {
            self.forward(now, call, first_port, &target, Forwarding::Always, &arrival);
            return;
        }
        // Hunting: the first port with no call whose line is idle (a phone still off-hook
        // after its last call has no SIP call but cannot ring); else a phone in a call
        // that takes a second one (call waiting).
        let busy_forward = first.and_then(|p| p.forward_busy.clone());
        let free = takers.iter().copied().find(|p| self.port_free(*p));
        let waiting = takers.iter().copied().find(|p| self.may_wait(*p));
        let Some(port) = free.or(waiting) else {
            match busy_forward {
                Some(target) => {
                    self.forward(now, call, first_port, &target, Forwarding::Busy, &arrival)
                }
                None => {
                    self.count_refusal(Refusal::InviteBusy);
                    let _ = self.ua.reject(now, call, 486);
                }
            }
            return;
        };
        let Some(mut port_call) = self.take_offer(now, call, port, sdp) else {
            return;
        };
        port_call.arrival = Some(arrival);
        self.calls.insert(call, port);
        if free.is_none() {
            // The phone hears the call-waiting tone; the caller hears ringing.
            if let Some(s) = self.slots.get_mut(&port) {
                s.other = Some(port_call);
            }
            if let Err(e) = self.ua.ring(now, call, 180, None) {
                self.notice(format!("port {port}: 180 not sent: {e}"));
            }
            self.notice(format!("port {port}: call waiting from {from}"));
            self.call_event(port, SipEvent::CallWaiting { caller });
            return;
        }
        if let Some(s) = self.slots.get_mut(&port) {
            s.call = Some(port_call);
        }
        self.note_started(port, call, Dir::In, from, request_uri);
        let ring = self
            .slots
            .get(&port)
            .and_then(|s| s.rings.pick(&self.pending_alert));
        self.call_event(
            port,
            SipEvent::IncomingCall {
                caller,
                number,
                ring,
            },
        );
    }

    /// The SDP side of an incoming call for `port` whose RTP socket is `rtp` (a port's
    /// or a relay's; `mapped`: where a STUN server saw it): the offer screened (its
    /// targets, the account's SRTP policy) and answered (RFC 3264 §6), or our offer when
    /// the INVITE had none; `None` when the call was refused (the response sent).
    pub(super) fn answer_offer(
        &mut self,
        now: Instant,
        call: CallHandle,
        port: u8,
        sdp: &[u8],
        (rtp, mapped): (std::net::SocketAddr, Option<std::net::SocketAddr>),
    ) -> Option<(media::Session, Vec<u8>, Option<NegotiatedMedia>)> {
        if let Err(e) = self.targets.check_sdp(sdp, SdpRole::InitialOffer) {
            self.notice(format!("port {port}: offer refused: {e}: 488"));
            let _ = self.ua.reject(now, call, 488);
            return None;
        }
        let tls = self.ua.call_transport(call) == Transport::Tls;
        let Ok(sdes) = self.sdes_for(port, tls) else {
            self.notice(format!(
                "port {port}: INVITE refused: the account requires SRTP, which needs TLS: 488"
            ));
            let _ = self.ua.reject(now, call, 488);
            return None;
        };
        let mut session = self.session_at(rtp, mapped, sdes);
        if sdp.is_empty() {
            let offer = session.offer();
            return Some((session, offer, None));
        }
        match session.answer(sdp) {
            Ok((a, n)) => Some((session, a, Some(n))),
            Err(e) => {
                self.notice(format!("port {port}: offer refused: {e}"));
                let _ = self.ua.reject(now, call, e.status());
                None
            }
        }
    }

    /// Whether port `port` takes a second call now (call waiting): a phone whose call is
    /// answered, with no other call, and call waiting not switched off.
    fn may_wait(&self, port: u8) -> bool {
        self.slots.get(&port).is_some_and(|s| {
            s.port.call_waiting_on()
                && s.call.as_ref().is_some_and(|c| c.answered)
                && s.other.is_none()
        })
    }

    /// The port's side of an offered call: the offer screened and answered (RFC 3264
    /// §6), or the call refused (`None`, the response sent).
    pub(super) fn take_offer(
        &mut self,
        now: Instant,
        call: CallHandle,
        port: u8,
        sdp: &[u8],
    ) -> Option<PortCall> {
        let slot = self.slots.get(&port)?;
        let at = (slot.rtp, slot.mapped);
        let (session, local_sdp, negotiated) = self.answer_offer(now, call, port, sdp, at)?;
        Some(PortCall {
            local_sdp,
            negotiated,
            ..PortCall::new(call, Dir::In, session)
        })
    }

    /// The port's phone left the call unanswered (its machine's 480): forwarded if the
    /// port says so. Returns whether it was.
    pub(super) fn forward_no_answer(&mut self, now: Instant, port: u8, h: CallHandle) -> bool {
        let Some(target) = self
            .slots
            .get(&port)
            .and_then(|s| s.port.forward_no_answer.clone())
        else {
            return false;
        };
        let arrival = self
            .slots
            .get(&port)
            .and_then(|s| s.call.as_ref())
            .and_then(|c| c.arrival.clone())
            .unwrap_or_default();
        self.release(port, 302, crate::ops::record::EndCause::Forwarded);
        self.forward(now, h, port, &target, Forwarding::NoAnswer, &arrival);
        true
    }

    pub(super) fn on_reoffer(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) {
        let Some(port) = self.calls.get(&call).copied() else {
            let _ = self.ua.reject_reoffer(now, call, 488);
            return;
        };
        if let Err(e) = self.targets.check_sdp(sdp, SdpRole::Update) {
            self.notice(format!("port {port}: re-offer refused: {e}: 488"));
            let _ = self.ua.reject_reoffer(now, call, 488);
            return;
        }
        if self.reoffer_fax(now, port, call, sdp) {
            return;
        }
        let current = self.is_current(port, call);
        let Some(c) = self.port_call_mut(port, call) else {
            return;
        };
        match c.session.answer(sdp) {
            Ok((answer, n)) => {
                let changed = c.session.changed(&n);
                if let Err(e) = self.ua.accept_reoffer(now, call, &answer) {
                    self.notice(format!("port {port}: re-INVITE not answered: {e}"));
                } else if let Some(media) = changed.filter(|_| current) {
                    self.events.push_back(PortEvent::Media { port, media });
                }
            }
            Err(e) => {
                self.notice(format!("port {port}: re-offer refused: {e}"));
                let _ = self.ua.reject_reoffer(now, call, e.status());
            }
        }
    }
}
