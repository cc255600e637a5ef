//! Call forwarding (always, busy, no answer): by redirect (302 with the target, the
//! caller places the new call) or, with `forward_mode = "gateway"`, by the box itself.
//! Then the box is a B2BUA (RFC 7092): it calls the target from the port's account (its
//! route, credentials and SRTP policy), with `Diversion` naming the port (RFC 5806) and
//! the incoming INVITE's Max-Forwards less one (RFC 7332 §3: a forwarding loop ends), and
//! relays the target's progress and answer to the caller, each leg with its own SDP at a
//! relay socket of the box ([`crate::bridge::Relay`]). Either party's hang-up ends both.
//!
//! What an attacker gets from it: nothing a caller of the port does not get anyway. The
//! target is the port's own (configuration or the phone's feature code, routed like the
//! phone's calls); the call to forward was admitted by the port's inbound policy first;
//! a loop ends at Max-Forwards 0 (483); relays are bounded (`max_relayed_calls`, then 486);
//! each leg's media is latched to its own far party.

use super::notes::end_of;
use super::outgoing::Placement;
use super::status::Refusal;
use super::targets::SdpRole;
use super::{Dir, PortCall, PortEvent, SipSide, media};
use crate::bridge::RelayLeg;
use crate::call::CallerInfo;
use crate::ops::record::{Direction, EndCause, LegNote};
use std::net::SocketAddr;
use std::time::Instant;
use tipring_sip::ua::{CallHandle, EndReason, UaEvent};

/// Which forwarding applies to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Forwarding {
    Always,
    Busy,
    NoAnswer,
}

impl Forwarding {
    /// For the log.
    fn label(self) -> &'static str {
        match self {
            Forwarding::Always => "forward always",
            Forwarding::Busy => "forward on busy",
            Forwarding::NoAnswer => "forward on no answer",
        }
    }

    /// The `Diversion` reason (RFC 5806 §4).
    fn reason(self) -> &'static str {
        match self {
            Forwarding::Always => "unconditional",
            Forwarding::Busy => "user-busy",
            Forwarding::NoAnswer => "no-answer",
        }
    }
}

/// What the box keeps of an incoming call it may yet forward itself.
#[derive(Debug, Clone, Default)]
pub(super) struct Arrival {
    /// The INVITE's offer (empty: none).
    pub offer: Vec<u8>,
    /// Its From URI (for the call record).
    pub from: String,
    pub caller: CallerInfo,
    /// The caller hides its identity: the forwarded call does too.
    pub anonymous: bool,
    pub max_forwards: u8,
}

/// A forwarded call the box placed, and the caller's call it relays.
#[derive(Debug)]
pub(super) struct Relayed {
    port: u8,
    incoming: CallHandle,
    /// The caller leg's SDP state, at the relay's caller socket.
    caller_leg: media::Session,
    /// Our answer to the caller's offer, or our offer when the INVITE had none.
    caller_sdp: Vec<u8>,
    /// The caller's offer negotiated (`None` while its answer is awaited in the ACK).
    caller_media: Option<tipring_sip::sdp::NegotiatedMedia>,
    /// The call to the target (its SDP state at the relay's target socket).
    target: PortCall,
    /// The caller has our 200.
    answered: bool,
}

impl SipSide {
    /// The box's relay sockets, `[caller leg, target leg]` per relayed call at once: only
    /// with them does `forward_mode = "gateway"` forward (else 486); they are the box's
    /// own addresses for the target policy.
    pub fn set_relays(&mut self, addrs: Vec<[SocketAddr; 2]>) {
        let own: Vec<SocketAddr> = addrs.iter().flatten().copied().collect();
        self.targets.add_own_rtp(&own);
        self.relayed = addrs.iter().map(|_| None).collect();
        self.relay_mapped = vec![[None; 2]; addrs.len()];
        self.relay_addrs = addrs;
    }

    /// A STUN server sees relay `k`'s `leg` socket at `addr` (behind a NAT): the SDP of
    /// the next call relayed there names it.
    pub(super) fn relay_mapped(&mut self, k: usize, leg: RelayLeg, addr: SocketAddr) {
        let i = match leg {
            RelayLeg::Caller => 0,
            RelayLeg::Target => 1,
        };
        if let Some(m) = self.relay_mapped.get_mut(k) {
            m[i] = Some(addr);
        }
    }

    /// Relayed calls now.
    pub(super) fn relays_active(&self) -> usize {
        self.relayed.iter().flatten().count()
    }

    /// Forwards incoming `call` for `port` to `target`: by 302, or by calling the target
    /// where the port says `forward_mode = "gateway"`.
    pub(super) fn forward(
        &mut self,
        now: Instant,
        call: CallHandle,
        port: u8,
        target: &str,
        why: Forwarding,
        arrival: &Arrival,
    ) {
        let by_gateway = self
            .slots
            .get(&port)
            .is_some_and(|s| s.port.forwards_by_gateway());
        if by_gateway {
            return self.forward_by_gateway(now, call, port, target, why, arrival);
        }
        match self.ua.redirect(now, call, target) {
            Ok(()) => self.notice(format!("incoming call: {}: 302 to {target}", why.label())),
            Err(e) => {
                self.notice(format!(
                    "incoming call: {} to {target} failed: {e}",
                    why.label()
                ));
                let _ = self.ua.reject(now, call, 480);
            }
        }
    }

    fn forward_by_gateway(
        &mut self,
        now: Instant,
        call: CallHandle,
        port: u8,
        target: &str,
        why: Forwarding,
        arrival: &Arrival,
    ) {
        let label = why.label();
        if arrival.max_forwards == 0 {
            self.notice(format!(
                "port {port}: {label} to {target}: Max-Forwards spent (a loop?): 483"
            ));
            self.count_refusal(Refusal::ForwardLoop);
            let _ = self.ua.reject(now, call, 483);
            return;
        }
        let Some(k) = self.relayed.iter().position(Option::is_none) else {
            self.notice(format!(
                "port {port}: {label} to {target}: every relay is in use \
                 (limits.max_relayed_calls): 486"
            ));
            self.count_refusal(Refusal::ForwardNoRelay);
            let _ = self.ua.reject(now, call, 486);
            return;
        };
        let [caller_at, target_at] = self.relay_addrs[k];
        let [caller_mapped, target_mapped] = self.relay_mapped.get(k).copied().unwrap_or_default();
        let at = (caller_at, caller_mapped);
        let Some((caller_leg, caller_sdp, caller_media)) =
            self.answer_offer(now, call, port, &arrival.offer, at)
        else {
            return;
        };
        let how = Placement {
            media_at: Some((target_at, target_mapped)),
            max_forwards: Some(arrival.max_forwards - 1),
            diversion: Some(why.reason()),
            ..Placement::default()
        };
        let hide = arrival.anonymous.then_some(true);
        match self.invite(now, port, target, &arrival.caller, hide, how) {
            Ok((target_call, _)) => {
                let called = target_call.target.clone().unwrap_or_else(|| target.into());
                self.notice(format!(
                    "port {port}: {label}: calling {called} for the caller (relay {k})"
                ));
                let note = LegNote::Started {
                    call_id: self.ua.call_id(call).unwrap_or_default().to_owned(),
                    direction: Direction::Forwarded,
                    caller: arrival.from.clone(),
                    called,
                };
                self.events.push_back(PortEvent::Relayed {
                    relay: k,
                    port,
                    note,
                });
                self.relayed[k] = Some(Relayed {
                    port,
                    incoming: call,
                    caller_leg,
                    caller_sdp,
                    caller_media,
                    target: target_call,
                    answered: false,
                });
            }
            Err(code) => {
                self.notice(format!("port {port}: {label} to {target} failed: {code}"));
                let _ = self.ua.reject(now, call, code);
            }
        }
    }

    /// The relay and leg a call of the UA belongs to.
    fn relay_of(&self, h: CallHandle) -> Option<(usize, RelayLeg)> {
        self.relayed.iter().enumerate().find_map(|(k, r)| {
            let r = r.as_ref()?;
            if r.incoming == h {
                Some((k, RelayLeg::Caller))
            } else if r.target.handle == h {
                Some((k, RelayLeg::Target))
            } else {
                None
            }
        })
    }

    /// A UA event of a relayed call's leg, handled here (`Err(e)`: not a relayed call's,
    /// given back).
    pub(super) fn on_relay_event(&mut self, now: Instant, e: UaEvent) -> Result<(), UaEvent> {
        let call = match &e {
            UaEvent::Progress { call, .. }
            | UaEvent::Answered { call, .. }
            | UaEvent::Confirmed { call, .. }
            | UaEvent::Reoffer { call, .. }
            | UaEvent::Referred { call, .. }
            | UaEvent::Ended { call, .. } => *call,
            _ => return Err(e),
        };
        let Some((k, leg)) = self.relay_of(call) else {
            return Err(e);
        };
        match e {
            UaEvent::Progress { code, sdp, .. } => self.relay_progress(now, k, code, sdp),
            UaEvent::Answered { sdp, .. } => self.relay_answered(now, k, &sdp),
            UaEvent::Confirmed { sdp: Some(sdp), .. } if leg == RelayLeg::Caller => {
                // Our offer went in the 200: its answer is in the ACK.
                self.relay_caller_answer(now, k, &sdp);
            }
            UaEvent::Reoffer { sdp, .. } => self.relay_reoffer(now, k, leg, call, &sdp),
            UaEvent::Referred { .. } => {
                self.notice(format!("relay {k}: REFER refused (403)"));
                let _ = self.ua.answer_refer(now, call, 403);
            }
            UaEvent::Ended { reason, .. } => self.relay_leg_ended(now, k, leg, &reason),
            _ => {}
        }
        Ok(())
    }

    /// The target's leg took SDP (an answer in a 18x or the 200, a re-offer's answer):
    /// `false` when it is unusable.
    fn relay_target_answer(&mut self, k: usize, sdp: &[u8]) -> bool {
        if let Err(e) = self.targets.check_sdp(sdp, SdpRole::Update) {
            self.notice(format!("relay {k}: the target's SDP refused: {e}"));
            return false;
        }
        let Some(r) = self.relayed[k].as_mut() else {
            return false;
        };
        match r.target.session.take_answer(sdp) {
            Ok(n) => {
                if let Some(media) = r.target.session.changed(&n) {
                    self.events.push_back(PortEvent::Relay {
                        relay: k,
                        leg: RelayLeg::Target,
                        media,
                    });
                }
                true
            }
            Err(e) => {
                self.notice(format!("relay {k}: the target's SDP refused: {e}"));
                false
            }
        }
    }

    /// The caller leg's media to the relay, once negotiated and when it changed.
    fn relay_caller_media(&mut self, k: usize) {
        let Some(r) = self.relayed[k].as_mut() else {
            return;
        };
        if let Some(media) = r
            .caller_media
            .clone()
            .and_then(|n| r.caller_leg.changed(&n))
        {
            self.events.push_back(PortEvent::Relay {
                relay: k,
                leg: RelayLeg::Caller,
                media,
            });
        }
    }

    fn relay_progress(&mut self, now: Instant, k: usize, code: u16, sdp: Option<Vec<u8>>) {
        let Some(incoming) = self.relayed[k].as_ref().map(|r| r.incoming) else {
            return;
        };
        let early = sdp.is_some_and(|sdp| self.relay_target_answer(k, &sdp));
        let offered = self.relayed[k]
            .as_ref()
            .is_some_and(|r| r.caller_media.is_some());
        let sent = if early && offered {
            // The target's early media (its ringback, an announcement) reaches the caller.
            let sdp = self.relayed[k]
                .as_ref()
                .map(|r| r.caller_sdp.clone())
                .unwrap_or_default();
            self.relay_caller_media(k);
            self.ua.ring(now, incoming, 183, Some(&sdp))
        } else if code == 180 || early {
            self.ua.ring(now, incoming, 180, None)
        } else {
            Ok(())
        };
        if let Err(e) = sent {
            self.notice(format!("relay {k}: provisional not relayed: {e}"));
        }
    }

    fn relay_answered(&mut self, now: Instant, k: usize, sdp: &[u8]) {
        let Some(r) = self.relayed[k].as_ref() else {
            return;
        };
        let (incoming, outgoing) = (r.incoming, r.target.handle);
        let (early, caller_sdp) = (r.target.session.sent.is_some(), r.caller_sdp.clone());
        let usable = if sdp.is_empty() {
            // RFC 3261 §13.2.1: the answer came in a reliable provisional.
            early
        } else {
            self.relay_target_answer(k, sdp)
        };
        if !usable {
            self.notice(format!(
                "relay {k}: the target's answer has no usable media: 488"
            ));
            let _ = self.ua.hangup(now, outgoing);
            let _ = self.ua.reject(now, incoming, 488);
            self.end_relay(k, 488, EndCause::NoUsableMedia);
            return;
        }
        match self.ua.answer(now, incoming, &caller_sdp) {
            Ok(()) => {
                let mut port = None;
                if let Some(r) = self.relayed[k].as_mut() {
                    r.answered = true;
                    port = Some(r.port);
                }
                if let Some(port) = port {
                    self.events.push_back(PortEvent::Relayed {
                        relay: k,
                        port,
                        note: LegNote::Answered,
                    });
                }
                self.relay_caller_media(k);
                self.notice(format!("relay {k}: the target answered; relaying"));
            }
            Err(e) => {
                self.notice(format!("relay {k}: 200 not sent to the caller: {e}"));
                let _ = self.ua.hangup(now, outgoing);
                self.end_relay(k, 500, EndCause::Rejected);
            }
        }
    }

    /// The caller's answer (in its ACK) to the offer in our 200.
    fn relay_caller_answer(&mut self, now: Instant, k: usize, sdp: &[u8]) {
        let taken = match self.targets.check_sdp(sdp, SdpRole::Update) {
            Err(e) => Err(e.to_string()),
            Ok(()) => self.relayed[k]
                .as_mut()
                .map_or(Err("gone".to_owned()), |r| {
                    r.caller_leg.take_answer(sdp).map_err(|e| e.to_string())
                }),
        };
        match taken {
            Ok(n) => {
                if let Some(r) = self.relayed[k].as_mut() {
                    r.caller_media = Some(n);
                }
                self.relay_caller_media(k);
            }
            Err(e) => {
                self.notice(format!("relay {k}: the caller's answer refused: {e}"));
                self.hang_up_relay(now, k, (200, EndCause::NoUsableMedia));
            }
        }
    }

    /// A re-INVITE on one leg (a hold, a new address): answered from that leg's own
    /// session; the other leg is not asked anything (the relay keeps it going).
    fn relay_reoffer(
        &mut self,
        now: Instant,
        k: usize,
        leg: RelayLeg,
        call: CallHandle,
        sdp: &[u8],
    ) {
        if let Err(e) = self.targets.check_sdp(sdp, SdpRole::Update) {
            self.notice(format!("relay {k}: re-offer refused: {e}: 488"));
            let _ = self.ua.reject_reoffer(now, call, 488);
            return;
        }
        let Some(r) = self.relayed[k].as_mut() else {
            return;
        };
        let session = match leg {
            RelayLeg::Caller => &mut r.caller_leg,
            RelayLeg::Target => &mut r.target.session,
        };
        match session.answer(sdp) {
            Ok((answer, n)) => {
                let changed = session.changed(&n);
                if let Err(e) = self.ua.accept_reoffer(now, call, &answer) {
                    self.notice(format!("relay {k}: re-INVITE not answered: {e}"));
                } else if let Some(media) = changed {
                    self.events.push_back(PortEvent::Relay {
                        relay: k,
                        leg,
                        media,
                    });
                }
            }
            Err(e) => {
                self.notice(format!("relay {k}: re-offer refused: {e}"));
                let _ = self.ua.reject_reoffer(now, call, e.status());
            }
        }
    }

    /// One leg ended: the other is ended too (a target's refusal reaches the caller as
    /// its status, RFC 3261 §16.7's rules for what a caller may hear).
    fn relay_leg_ended(&mut self, now: Instant, k: usize, leg: RelayLeg, reason: &EndReason) {
        let Some(r) = self.relayed[k].as_ref() else {
            return;
        };
        let (incoming, outgoing, answered) = (r.incoming, r.target.handle, r.answered);
        match leg {
            RelayLeg::Caller => {
                // The caller gave up (CANCEL) or hung up: the target's call ends.
                let _ = self.ua.hangup(now, outgoing);
            }
            RelayLeg::Target if answered => {
                let _ = self.ua.hangup(now, incoming);
            }
            RelayLeg::Target => {
                let code = match reason {
                    EndReason::Failed { code, .. } => relayed_status(*code),
                    EndReason::Timeout => 408,
                    _ => 480,
                };
                let _ = self.ua.reject(now, incoming, code);
            }
        }
        self.notice(format!("relay {k}: {leg:?} leg ended ({reason:?})"));
        let dir = match leg {
            RelayLeg::Caller => Dir::In,
            RelayLeg::Target => Dir::Out,
        };
        let (code, cause) = end_of(reason, dir, answered);
        self.end_relay(k, code, cause);
    }

    /// Ends both legs of relay `k` (BYE, CANCEL or a final response as each stands);
    /// its record ends with the answered call's status and `why`, else 487 and `why`.
    fn hang_up_relay(&mut self, now: Instant, k: usize, (answered, why): (u16, EndCause)) {
        let Some(r) = self.relayed[k].as_ref() else {
            return;
        };
        let (incoming, outgoing, up) = (r.incoming, r.target.handle, r.answered);
        let _ = self.ua.hangup(now, incoming);
        let _ = self.ua.hangup(now, outgoing);
        self.end_relay(k, if up { answered } else { 487 }, why);
    }

    /// Ends every relayed call (shutdown).
    pub(super) fn hang_up_relays(&mut self, now: Instant) {
        for k in 0..self.relayed.len() {
            self.hang_up_relay(now, k, (200, EndCause::Shutdown));
        }
    }

    /// Relay `k` is over: its record ends with `code` and `cause`, its media stops.
    fn end_relay(&mut self, k: usize, code: u16, cause: EndCause) {
        if let Some(r) = self.relayed.get_mut(k).and_then(Option::take) {
            self.notice(format!("port {}: relayed call {k} over", r.port));
            self.events.push_back(PortEvent::Relayed {
                relay: k,
                port: r.port,
                note: LegNote::Ended { code, cause },
            });
        }
    }
}

/// What the caller hears of the target's final refusal `code`: the status itself, but
/// never a challenge of the target's (ours to answer) nor a 503 (which would send the
/// caller's proxy to another server, RFC 3261 §16.7 step 6).
fn relayed_status(code: u16) -> u16 {
    match code {
        401 | 407 | 503 => 480,
        400..=699 => code,
        _ => 480,
    }
}

#[cfg(test)]
mod tests {
    use super::relayed_status;

    #[test]
    fn the_caller_hears_the_targets_refusal_but_not_its_challenge_or_503() {
        assert_eq!(relayed_status(486), 486);
        assert_eq!(relayed_status(603), 603);
        assert_eq!(relayed_status(404), 404);
        assert_eq!(relayed_status(407), 480);
        assert_eq!(relayed_status(401), 480);
        assert_eq!(relayed_status(503), 480);
        assert_eq!(relayed_status(302), 480);
    }
}
