//! Call transfer on the SIP side: REFER (RFC 3515) both ways and `Replaces` (RFC 3891),
//! in the call flows of RFC 5589.
//!
//! - **The phone transfers** (the transferor): its flash holds the call (re-INVITE with
//!   `a=sendonly`) and sets it aside (`Slot::other`); the number it dials is a
//!   consultation, the port's current call. Hanging up sends the held party a REFER: to
//!   the consultation's Request-URI while it rings (blind; the consultation is
//!   cancelled), to its Contact with `Replaces` naming our dialog with it once answered
//!   (attended). The held party's NOTIFYs tell the outcome: done, both our calls end
//!   (BYE); failed, the phone rings again for the held party.
//! - **The peer of a port's call transfers it** (we are the transferee): allowed by
//!   `[security] accept_transfer` (trusted peers and the accounts' servers by default:
//!   the call the gateway then places is paid by its owner), the port places the call
//!   the `Refer-To` asks for, through its account as a dialled URI would go, set aside
//!   until it is answered and reported to the referrer by NOTIFY. Answered, it becomes
//!   the port's call (the bridge moves to it) and the referrer's call ends; failed, the
//!   port keeps the call it had.
//! - **An INVITE with `Replaces`** naming a port's answered call (the target of an
//!   attended transfer), from a source `accept_transfer` allows, takes its place at once:
//!   answered without ringing, the replaced call ended with BYE.

use super::status::Refusal;
use super::{PortEvent, SipEvent, SipSide};
use crate::config::AcceptTransfer;
use crate::ops::record::EndCause;
use std::time::Instant;
use tipring_sip::Message;
use tipring_sip::transaction::Peer;
use tipring_sip::ua::refer::ReferTo;
use tipring_sip::ua::{CallHandle, EndReason, uri_peer_in};

impl SipSide {
    /// Whether a peer at `source` may move a port's call elsewhere.
    fn transfer_allowed(&self, source: Option<Peer>) -> bool {
        match self.cfg.security.accept_transfer {
            AcceptTransfer::None => false,
            AcceptTransfer::Any => true,
            AcceptTransfer::Trusted => source.is_some_and(|s| {
                self.screen.trusts(s)
                    || crate::gateway::names::server_ips(&self.cfg, &self.hosts)
                        .contains(&s.addr.ip())
            }),
        }
    }

    /// The phone's flash: its answered call is held and set aside for a consultation.
    pub(super) fn hold(&mut self, now: Instant, port: u8) {
        let Some(s) = self.slots.get_mut(&port) else {
            return;
        };
        if s.other.is_some() || !s.call.as_ref().is_some_and(|c| c.answered) {
            self.notice(format!("port {port}: hold with no answered call alone"));
            return;
        }
        s.other = s.call.take();
        if let Some(h) = s.other.as_ref().map(|c| c.handle) {
            self.reoffer_hold(now, port, h, true);
            self.notice(format!("port {port}: call held for a consultation"));
        }
    }

    /// The phone hung up while consulting: the held party is asked to call the
    /// consultation's target.
    pub(super) fn transfer(&mut self, now: Instant, port: u8) {
        let Some(s) = self.slots.get(&port) else {
            return;
        };
        let held = s.other.as_ref().map(|c| c.handle);
        let consult = s
            .call
            .as_ref()
            .map(|c| (c.handle, c.answered, c.target.clone()));
        let (Some(held), Some((consult, answered, target))) = (held, consult) else {
            self.notice(format!("port {port}: transfer with no consultation"));
            if held.is_some() {
                self.call_event(port, SipEvent::TransferFailed);
            }
            return;
        };
        let refer_to = if answered {
            self.ua
                .remote_target(consult)
                .zip(self.ua.replaces_of(consult))
                .map(|(contact, r)| {
                    let sep = if contact.contains('?') { '&' } else { '?' };
                    format!("{contact}{sep}{}", r.as_uri_header())
                })
        } else {
            self.release(port, 487, EndCause::Abandoned);
            let _ = self.ua.hangup(now, consult);
            target
        };
        let sent = refer_to
            .ok_or_else(|| "no target".to_owned())
            .and_then(|to| {
                self.ua
                    .refer(now, held, &to)
                    .map(|()| to)
                    .map_err(|e| e.to_string())
            });
        match sent {
            Ok(to) => {
                if let Some(c) = self.port_call_mut(port, held) {
                    c.transferring = true;
                }
                self.notice(format!(
                    "port {port}: {} transfer to {to} asked",
                    if answered { "attended" } else { "blind" }
                ));
            }
            Err(e) => {
                self.notice(format!("port {port}: REFER not sent: {e}"));
                self.call_event(port, SipEvent::TransferFailed);
            }
        }
    }

    /// The transfer we asked of a held party goes on (`done`: with the outcome `code`).
    pub(super) fn on_transfer_progress(
        &mut self,
        now: Instant,
        call: CallHandle,
        code: u16,
        done: bool,
    ) {
        let Some(port) = self.calls.get(&call).copied() else {
            return;
        };
        let Some(s) = self.slots.get_mut(&port) else {
            return;
        };
        let ours = s
            .other
            .as_ref()
            .is_some_and(|c| c.handle == call && c.transferring);
        if !ours || !done {
            return;
        }
        let consult = s.call.as_ref().map(|c| c.handle);
        if let Some(h) = consult {
            // The consultation (attended): its party now talks to the held one.
            self.release(port, 200, EndCause::LocalHangup);
            let _ = self.ua.hangup(now, h);
        }
        if (200..300).contains(&code) {
            if let Some(s) = self.slots.get_mut(&port) {
                s.other = None;
            }
            self.calls.remove(&call);
            let _ = self.ua.hangup(now, call);
            self.notice(format!("port {port}: transferred ({code})"));
        } else {
            if let Some(c) = self.port_call_mut(port, call) {
                c.transferring = false;
            }
            self.notice(format!("port {port}: transfer failed ({code})"));
            self.call_event(port, SipEvent::TransferFailed);
        }
    }

    /// The peer of a port's call asks us to call `refer_to` (REFER).
    pub(super) fn on_referred(&mut self, now: Instant, call: CallHandle, refer_to: &str) {
        let source = self.pending_source;
        let Some(port) = self.calls.get(&call).copied() else {
            let _ = self.ua.answer_refer(now, call, 481);
            return;
        };
        let settled = self.slots.get(&port).is_some_and(|s| {
            s.other.is_none()
                && s.call
                    .as_ref()
                    .is_some_and(|c| c.handle == call && c.answered)
        });
        if !settled {
            self.notice(format!(
                "port {port}: REFER refused: the port's calls are not settled (403)"
            ));
            let _ = self.ua.answer_refer(now, call, 403);
            return;
        }
        if !self.transfer_allowed(source) {
            self.notice(format!(
                "port {port}: REFER from {} refused by [security] accept_transfer (403)",
                source.map_or_else(|| "?".to_owned(), |s| s.addr.to_string())
            ));
            self.count_refusal(Refusal::TransferRefused);
            let _ = self.ua.answer_refer(now, call, 403);
            return;
        }
        let Some(target) = ReferTo::parse(refer_to) else {
            let _ = self.ua.answer_refer(now, call, 400);
            return;
        };
        let (uri, replaces) = (target.uri, target.replaces.map(|r| r.to_string()));
        if let Some(p) = uri_peer_in(&uri, self.transport, &self.hosts)
            && let Err(e) = self.targets.check(p.addr)
        {
            self.notice(format!("port {port}: REFER to {uri} refused: {e} (403)"));
            self.count_refusal(Refusal::TransferRefused);
            let _ = self.ua.answer_refer(now, call, 403);
            return;
        }
        if let Err(e) = self.ua.answer_refer(now, call, 202) {
            self.notice(format!("port {port}: REFER not answered: {e}"));
            return;
        }
        let caller = crate::call::CallerInfo::default();
        let how = super::outgoing::Placement {
            replaces,
            ..Default::default()
        };
        match self.invite(now, port, &uri, &caller, None, how) {
            Ok((mut c, _)) => {
                c.referred_by = Some(call);
                self.notice(format!("port {port}: transferred by the far end to {uri}"));
                self.calls.insert(c.handle, port);
                if let Some(s) = self.slots.get_mut(&port) {
                    s.other = Some(c);
                }
            }
            Err(code) => {
                let _ = self.ua.notify_refer(now, call, code);
            }
        }
    }

    /// The call a referrer asked us to place (set aside as `other`) and that referrer.
    fn referred(&self, call: CallHandle) -> Option<(u8, CallHandle)> {
        let port = *self.calls.get(&call)?;
        let c = self.slots.get(&port)?.other.as_ref()?;
        (c.handle == call).then_some(())?;
        Some((port, c.referred_by?))
    }

    /// A provisional response to a call we placed for a referrer: the referrer heard
    /// 100 Trying with our 202, hears 180 once when the target rings (RFC 3515 §2.4.5: a
    /// NOTIFY per state worth telling; a target repeating its 180s does not make us
    /// repeat ours) and the final outcome next; the phone keeps its call meanwhile,
    /// early media included. Returns whether the call was one.
    pub(super) fn referred_progress(&mut self, now: Instant, call: CallHandle, code: u16) -> bool {
        let Some((port, referrer)) = self.referred(call) else {
            return false;
        };
        let first_ring = code == 180
            && self
                .slots
                .get_mut(&port)
                .and_then(|s| s.other.as_mut())
                .is_some_and(|c| !std::mem::replace(&mut c.ringing_told, true));
        if first_ring && let Err(e) = self.ua.notify_refer(now, referrer, 180) {
            self.notice(format!("port {port}: transfer's 180 not reported: {e}"));
        }
        true
    }

    /// The call we placed for a referrer is answered: it becomes the port's call, the
    /// referrer hears 200 and its call ends. Returns whether the call was one.
    pub(super) fn referred_answered(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) -> bool {
        let Some((port, referrer)) = self.referred(call) else {
            return false;
        };
        let refused = self
            .targets
            .check_sdp(sdp, super::targets::SdpRole::Update)
            .err();
        let Some(s) = self.slots.get_mut(&port) else {
            return true;
        };
        let Some(mut c) = s.other.take() else {
            return true;
        };
        let media = match refused {
            Some(e) => Err(e.to_string()),
            None => c
                .session
                .take_answer(sdp)
                .map_err(|e| e.to_string())
                .map(|n| c.session.changed(&n)),
        };
        let media = match media {
            Ok(m) => m,
            Err(e) => {
                self.notice(format!(
                    "port {port}: transferred call's answer refused: {e}"
                ));
                self.calls.remove(&call);
                let _ = self.ua.hangup(now, call);
                let _ = self.ua.notify_refer(now, referrer, 488);
                return true;
            }
        };
        c.answered = true;
        c.referred_by = None;
        let _ = self.ua.notify_refer(now, referrer, 200);
        // The referrer's call is over for the port.
        self.release(port, 200, EndCause::RemoteHangup);
        let _ = self.ua.hangup(now, referrer);
        if let Some(s) = self.slots.get_mut(&port) {
            s.call = Some(c);
        }
        if let Some(media) = media {
            self.events.push_back(PortEvent::Media { port, media });
        }
        self.notice(format!("port {port}: transfer done"));
        true
    }

    /// The call we placed for a referrer ended before its answer: the referrer hears
    /// why, the port keeps its call. Returns whether the call was one.
    pub(super) fn referred_ended(
        &mut self,
        now: Instant,
        call: CallHandle,
        reason: &EndReason,
    ) -> bool {
        let Some((port, referrer)) = self.referred(call) else {
            return false;
        };
        if let Some(s) = self.slots.get_mut(&port) {
            s.other = None;
        }
        self.calls.remove(&call);
        let code = match reason {
            EndReason::Failed { code, .. } | EndReason::AuthFailed(code) => *code,
            EndReason::Timeout => 408,
            _ => 487,
        };
        let _ = self.ua.notify_refer(now, referrer, code);
        self.notice(format!(
            "port {port}: transfer by the far end failed ({code})"
        ));
        true
    }

    /// Whether an initial INVITE with `Replaces` (RFC 3891) may be taken: `None` when it
    /// names a port's answered call and its source may transfer, else the refusal.
    pub(super) fn replaces_admission(&self, msg: &Message<'_>, source: Peer) -> Option<u16> {
        // The policy first: a stranger learns nothing of which dialogs exist.
        if !self.transfer_allowed(Some(source)) {
            return Some(403);
        }
        let h = match self.ua.replaced_call(msg) {
            Ok(Some(h)) => h,
            Ok(None) => return Some(400),
            Err(code) => return Some(code),
        };
        let port_call = self.calls.get(&h).is_some_and(|p| self.is_current(*p, h));
        (!port_call).then_some(481)
    }

    /// An INVITE replacing port `port`'s call `old`: answered at once in its place.
    pub(super) fn take_over(
        &mut self,
        now: Instant,
        call: CallHandle,
        old: CallHandle,
        sdp: &[u8],
    ) {
        let Some(port) = self.calls.get(&old).copied() else {
            let _ = self.ua.reject(now, call, 481);
            return;
        };
        let Some(mut c) = self.take_offer(now, call, port, sdp) else {
            return;
        };
        if let Err(e) = self.ua.answer(now, call, &c.local_sdp) {
            self.notice(format!("port {port}: replacing call not answered: {e}"));
            return;
        }
        c.answered = true;
        let media = c.negotiated.clone().and_then(|n| c.session.changed(&n));
        self.release(port, 200, EndCause::RemoteHangup);
        let _ = self.ua.hangup(now, old);
        self.calls.insert(call, port);
        if let Some(s) = self.slots.get_mut(&port) {
            s.call = Some(c);
        }
        if let Some(media) = media {
            self.events.push_back(PortEvent::Media { port, media });
        }
        self.notice(format!("port {port}: call replaced (RFC 3891)"));
    }
}
