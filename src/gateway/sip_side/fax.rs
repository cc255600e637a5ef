//! A port's call moving to T.38 fax (ITU-T T.38 Annex D, RFC 3362): our re-INVITE offering
//! `image/t38` when the port's line fax answers, its answer or refusal, and the far end's
//! T.38 re-offer accepted on a port that relays faxes. A refusal leaves the call on audio
//! (voice-band data pass-through). The far end's UDPTL address passes the same target
//! policy as its RTP address.

use super::targets::SdpRole;
use super::{PortEvent, SipSide};
use crate::config::FaxMode;
use std::time::Instant;
use tipring_sip::ua::CallHandle;

impl SipSide {
    /// Whether port `port` relays faxes as T.38.
    fn relays_fax(&self, port: u8) -> bool {
        self.slots
            .get(&port)
            .is_some_and(|s| s.port.fax_mode() == FaxMode::T38)
    }

    /// The port's line fax answered: offer T.38 in a re-INVITE (once per call).
    pub(super) fn offer_fax(&mut self, now: Instant, port: u8) {
        if !self.relays_fax(port) {
            return;
        }
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) else {
            return;
        };
        if c.fax_offered {
            return;
        }
        if c.session.encrypted() {
            // T.38's UDPTL has no encryption: the fax stays in the SRTP audio.
            c.fax_offered = true;
            self.notice(format!(
                "port {port}: fax answered on the line: the call is encrypted, no T.38"
            ));
            return;
        }
        let (h, sdp) = (c.handle, c.session.fax_offer());
        match self.ua.reinvite(now, h, sdp) {
            Ok(()) => {
                c.fax_offered = true;
                self.notice(format!(
                    "port {port}: fax answered on the line: T.38 offered"
                ));
            }
            Err(e) => {
                c.session.fax_offer_failed();
                self.notice(format!("port {port}: T.38 re-INVITE not sent: {e}"));
            }
        }
    }

    /// Our re-INVITE was answered.
    pub(super) fn on_reinvite_done(&mut self, call: CallHandle, sdp: &[u8]) {
        let Some(port) = self.calls.get(&call).copied() else {
            return;
        };
        let refused = self.targets.check_sdp(sdp, SdpRole::Update).err();
        if let Some(e) = &refused
            && self
                .port_call_mut(port, call)
                .is_some_and(|c| c.hold_offered.is_some())
        {
            self.notice(format!("port {port}: hold answer refused: {e}"));
            self.hold_failed(port, call, 488);
            return;
        }
        if self.hold_answered(port, call, sdp) {
            return;
        }
        let Some(c) = self.port_call_mut(port, call) else {
            return;
        };
        if !std::mem::take(&mut c.fax_offered) {
            return;
        }
        if let Some(e) = refused {
            c.session.fax_offer_failed();
            self.notice(format!(
                "port {port}: T.38 answer refused: {e}: the fax stays audio"
            ));
            return;
        }
        match c.session.take_fax_answer(sdp) {
            Ok(Some(fax)) => {
                self.notice(format!(
                    "port {port}: fax relayed as T.38 to {}",
                    fax.remote
                ));
                self.events.push_back(PortEvent::Fax { port, fax });
            }
            Ok(None) => self.notice(format!(
                "port {port}: the far end refused T.38: the fax stays audio"
            )),
            Err(e) => self.notice(format!(
                "port {port}: T.38 answer not usable ({e}): the fax stays audio"
            )),
        }
    }

    /// Our re-INVITE failed (RFC 3261 §14.1: the session stays as it was).
    pub(super) fn on_reinvite_failed(&mut self, call: CallHandle, code: u16) {
        let Some(port) = self.calls.get(&call).copied() else {
            return;
        };
        if self.hold_failed(port, call, code) {
            return;
        }
        let Some(c) = self.port_call_mut(port, call) else {
            return;
        };
        if std::mem::take(&mut c.fax_offered) {
            c.session.fax_offer_failed();
            self.notice(format!(
                "port {port}: T.38 refused ({code}): the fax stays audio"
            ));
        }
    }

    /// A re-offer for port `port`'s call, already screened: if it moves the call to T.38
    /// and the port relays faxes, answered here (`true`); else the caller answers it as
    /// audio.
    pub(super) fn reoffer_fax(
        &mut self,
        now: Instant,
        port: u8,
        call: CallHandle,
        sdp: &[u8],
    ) -> bool {
        if !self.relays_fax(port) || !self.is_current(port, call) {
            return false;
        }
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) else {
            return false;
        };
        match c.session.answer_fax(sdp) {
            Ok(None) => false,
            Ok(Some((answer, fax))) => {
                if let Err(e) = self.ua.accept_reoffer(now, call, &answer) {
                    self.notice(format!("port {port}: T.38 re-INVITE not answered: {e}"));
                } else {
                    self.notice(format!(
                        "port {port}: fax relayed as T.38 to {}",
                        fax.remote
                    ));
                    self.events.push_back(PortEvent::Fax { port, fax });
                }
                true
            }
            Err(e) => {
                self.notice(format!("port {port}: T.38 re-offer refused: {e}"));
                let _ = self.ua.reject_reoffer(now, call, e.status());
                true
            }
        }
    }
}
