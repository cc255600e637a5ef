//! FXS call waiting on the SIP side: a port's second call (`Slot::other`), offered while
//! its phone talks, swapped with the current one at the phone's flash. The call left is
//! held with a re-INVITE whose offer is `a=sendonly` and taken back with `a=sendrecv`
//! (RFC 3264 §8.4, RFC 6337 §5.3); a waiting call is answered when first taken. Only the
//! current call's media reaches the port's bridge; the other call's re-offers are
//! answered here without it.

use super::{PortCall, PortEvent, SipSide};
use std::time::Instant;
use tipring_sip::ua::CallHandle;

impl SipSide {
    /// Whether `call` is port `port`'s current call (not its waiting or held one).
    pub(super) fn is_current(&self, port: u8, call: CallHandle) -> bool {
        self.slots
            .get(&port)
            .and_then(|s| s.call.as_ref())
            .is_some_and(|c| c.handle == call)
    }

    /// Port `port`'s call `call`, current or other.
    pub(super) fn port_call_mut(&mut self, port: u8, call: CallHandle) -> Option<&mut PortCall> {
        let s = self.slots.get_mut(&port)?;
        [s.call.as_mut(), s.other.as_mut()]
            .into_iter()
            .flatten()
            .find(|c| c.handle == call)
    }

    /// The phone's flash (or its lifting the handset for the call left): the current call,
    /// if answered, is held; the other becomes current, answered if it was waiting, taken
    /// back if it was held; the bridge gets its media at once.
    pub(super) fn swap(&mut self, now: Instant, port: u8) {
        let Some(slot) = self.slots.get_mut(&port) else {
            return;
        };
        let Some(next) = slot.other.take() else {
            self.notice(format!("port {port}: flash with no other call"));
            return;
        };
        let previous = slot.call.replace(next);
        slot.other = previous.filter(|c| c.answered);
        if let Some(c) = slot.call.as_mut() {
            c.joined = false;
        }
        if let Some(h) = slot.other.as_ref().map(|c| c.handle) {
            self.reoffer_hold(now, port, h, true);
        }
        let Some((handle, answered)) = slot_current(self, port) else {
            return;
        };
        if answered {
            self.reoffer_hold(now, port, handle, false);
            let media = self
                .port_call_mut(port, handle)
                .and_then(|c| c.session.sent.as_mut())
                .map(|p| {
                    p.send = true;
                    p.receive = true;
                    *p
                });
            if let Some(media) = media {
                self.events.push_back(PortEvent::Media { port, media });
            }
        } else {
            self.answer(now, port);
        }
        self.notice(format!(
            "port {port}: {} the other call",
            if answered { "took back" } else { "answered" }
        ));
    }

    /// Our re-INVITE holding (`hold`) or taking back port `port`'s call `call`.
    pub(super) fn reoffer_hold(&mut self, now: Instant, port: u8, call: CallHandle, hold: bool) {
        let Some(c) = self.port_call_mut(port, call) else {
            return;
        };
        let sdp = c.session.hold_offer(hold);
        c.hold_offered = Some(hold);
        if let Err(e) = self.ua.reinvite(now, call, sdp) {
            if let Some(c) = self.port_call_mut(port, call) {
                c.hold_offered = None;
                c.session.reoffer_failed();
            }
            self.notice(format!(
                "port {port}: {} re-INVITE not sent: {e}",
                if hold { "hold" } else { "resume" }
            ));
        }
    }

    /// The answer to our hold or resume re-INVITE (`sdp`, already screened): the bridge
    /// hears of it only for the current call. Returns whether it was one.
    pub(super) fn hold_answered(&mut self, port: u8, call: CallHandle, sdp: &[u8]) -> bool {
        let current = self.is_current(port, call);
        let Some(c) = self.port_call_mut(port, call) else {
            return false;
        };
        let Some(hold) = c.hold_offered.take() else {
            return false;
        };
        let joined = c.joined;
        match c.session.take_answer(sdp) {
            Ok(n) => match c.session.changed(&n) {
                Some(media) if current => self.events.push_back(PortEvent::Media { port, media }),
                Some(media) if joined => self.events.push_back(PortEvent::Join {
                    port,
                    media: Some(media),
                }),
                _ => {}
            },
            Err(e) => self.notice(format!(
                "port {port}: answer to the {} re-INVITE refused: {e}",
                if hold { "hold" } else { "resume" }
            )),
        }
        true
    }

    /// Our hold or resume re-INVITE failed (RFC 3261 §14.1: the session stays as it
    /// was). Returns whether it was one.
    pub(super) fn hold_failed(&mut self, port: u8, call: CallHandle, code: u16) -> bool {
        let Some(c) = self.port_call_mut(port, call) else {
            return false;
        };
        let Some(hold) = c.hold_offered.take() else {
            return false;
        };
        c.session.reoffer_failed();
        self.notice(format!(
            "port {port}: {} re-INVITE refused ({code})",
            if hold { "hold" } else { "resume" }
        ));
        true
    }

    /// The phone's flash in a consultation: the held call is taken back (`a=sendrecv`)
    /// and joins the bridge's mix beside the current one (three-way calling).
    pub(super) fn conference(&mut self, now: Instant, port: u8) {
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.other.as_mut()) else {
            self.notice(format!("port {port}: three-way with no held call"));
            return;
        };
        if !c.answered || c.joined {
            return;
        }
        c.joined = true;
        let h = c.handle;
        let media = c.session.sent.as_mut().map(|p| {
            p.send = true;
            p.receive = true;
            *p
        });
        self.reoffer_hold(now, port, h, false);
        self.events.push_back(PortEvent::Join { port, media });
        self.notice(format!("port {port}: three-way call"));
    }

    /// The phone's machine ends the other call: a waiting one is refused with `code`
    /// (forwarded instead where the port forwards on busy or on no answer), a held one
    /// gets a BYE.
    pub(super) fn end_waiting(&mut self, now: Instant, port: u8, code: u16) {
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.other.take()) else {
            return;
        };
        self.calls.remove(&c.handle);
        if c.answered {
            let _ = self.ua.hangup(now, c.handle);
            return;
        }
        use super::forward::Forwarding;
        let forward = self.slots.get(&port).and_then(|s| match code {
            486 => Some((s.port.forward_busy.clone()?, Forwarding::Busy)),
            480 => Some((s.port.forward_no_answer.clone()?, Forwarding::NoAnswer)),
            _ => None,
        });
        match forward {
            Some((target, why)) => {
                let arrival = c.arrival.clone().unwrap_or_default();
                self.forward(now, c.handle, port, &target, why, &arrival);
            }
            None => {
                self.notice(format!("port {port}: waiting call refused ({code})"));
                if let Err(e) = self.ua.reject(now, c.handle, code) {
                    self.notice(format!("port {port}: {code} not sent: {e}"));
                }
            }
        }
    }
}

/// The handle of port `port`'s current call and whether it was answered.
fn slot_current(side: &SipSide, port: u8) -> Option<(CallHandle, bool)> {
    let c = side.slots.get(&port)?.call.as_ref()?;
    Some((c.handle, c.answered))
}
