//! Reliable provisional responses (RFC 3262, option tag `100rel`).
//!
//! As UAS, when the INVITE requires `100rel` every non-100 provisional response is sent
//! reliably; when it only supports it, those carrying SDP (early media) are. A reliable
//! provisional carries `Require: 100rel` and an RSeq (§7.1), and is passed to the
//! transaction again at T1, doubling, until its PRACK arrives; after 64*T1 without one the
//! INVITE is refused with 504 (§3). Only one is outstanding at a time (the latest asked
//! for meanwhile is sent after the PRACK), and a 2xx waits for the PRACK of one with SDP
//! (§3). A PRACK whose RAck names no outstanding response gets 481 (§3).
//!
//! As UAC, a provisional response with `Require: 100rel` is PRACKed once, in its early
//! dialog; one whose RSeq is not the next of that dialog (a retransmission, or out of
//! order) is neither PRACKed nor passed up (§4).

use super::call::{CallHandle, CallState};
use super::{Purpose, Ua, UaError, reason_phrase};
use crate::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::TxnId;
use std::time::{Duration, Instant};

/// The option tag (RFC 3262 §6).
pub const OPTION_TAG: &str = "100rel";

/// The UAS's reliable provisional responses of one INVITE.
#[derive(Debug, Clone)]
pub(crate) struct RelUas {
    /// The INVITE required them (every non-100 provisional is reliable); else it only
    /// supported them (those with SDP are).
    pub required: bool,
    /// The RSeq of the next one (§3: the first is random in 1..=2^31-1).
    pub next_rseq: u32,
    /// The one not yet PRACKed.
    pub pending: Option<PendingRel>,
    /// A provisional asked for while one was outstanding: sent after its PRACK.
    pub queued: Option<(u16, Option<Vec<u8>>)>,
    /// The 2xx's SDP, held until the PRACK of an outstanding provisional with SDP.
    pub held_answer: Option<Vec<u8>>,
}

/// A reliable provisional response waiting for its PRACK.
#[derive(Debug, Clone)]
pub(crate) struct PendingRel {
    pub rseq: u32,
    pub code: u16,
    pub bytes: Vec<u8>,
    pub has_sdp: bool,
    pub next: Instant,
    pub interval: Duration,
    pub give_up: Instant,
}

impl RelUas {
    /// The reliability `invite` asks for, if any; `first_rseq` from the UA's randomness.
    pub fn of_invite(invite: &Message<'_>, first_rseq: u32) -> Option<RelUas> {
        let is_tag = |t: &str| t.eq_ignore_ascii_case(OPTION_TAG);
        let required = invite.require().any(is_tag);
        let supported = invite.supported().any(is_tag);
        (required || supported).then_some(RelUas {
            required,
            next_rseq: first_rseq.clamp(1, (1 << 31) - 1),
            pending: None,
            queued: None,
            held_answer: None,
        })
    }

    /// When its retransmission or give-up is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.next.min(p.give_up))
    }
}

/// The RSeq of a response (§7.1: 1..=2^32-1).
pub(crate) fn rseq(msg: &Message<'_>) -> Option<u32> {
    msg.header("RSeq")?
        .value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// The RAck of a PRACK: response-num, CSeq-num, method (§7.2).
pub(crate) fn rack<'a>(msg: &Message<'a>) -> Option<(u32, u32, &'a str)> {
    let mut parts = msg.header("RAck")?.value.split_ascii_whitespace();
    let r = parts.next()?.parse().ok()?;
    let c = parts.next()?.parse().ok()?;
    let m = parts.next()?;
    parts.next().is_none().then_some((r, c, m))
}

/// Whether `msg` requires `100rel`.
pub(crate) fn requires_100rel(msg: &Message<'_>) -> bool {
    msg.require().any(|t| t.eq_ignore_ascii_case(OPTION_TAG))
}

impl Ua {
    /// Sends `code` reliably if the call's INVITE wants it so: `Ok(false)` when it is to
    /// be sent as usual.
    pub(super) fn ring_reliably(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
        sdp: Option<&[u8]>,
        contact: String,
    ) -> Result<bool, UaError> {
        let t1 = self.cfg.timers.t1;
        let c = self.uas_call(h)?;
        let Some(rel) = c.rel.as_mut() else {
            return Ok(false);
        };
        if !(rel.required || sdp.is_some()) {
            return Ok(false);
        }
        c.got_provisional = true;
        if rel.pending.is_some() {
            rel.queued = Some((code, sdp.map(<[u8]>::to_vec)));
            return Ok(true);
        }
        let rseq = rel.next_rseq;
        rel.next_rseq = rseq.checked_add(1).unwrap_or(1);
        let invite = c.invite.clone();
        let inv = Message::parse(&invite).map_err(|_| UaError::NoCall)?;
        let b = MessageBuilder::response_to(&inv, code, reason_phrase(code), Some(&c.local_tag))
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Require, OPTION_TAG)
            .raw_header("RSeq", rseq);
        let bytes = match sdp {
            Some(s) => b.body("application/sdp", s),
            None => b.finish(),
        };
        let id = c.invite_txn.ok_or(UaError::NoCall)?;
        let rel = c.rel.as_mut().expect("checked above");
        rel.pending = Some(PendingRel {
            rseq,
            code,
            bytes: bytes.clone(),
            has_sdp: sdp.is_some(),
            next: now + t1,
            interval: t1,
            give_up: now + t1 * 64,
        });
        self.respond(now, id, code, bytes);
        Ok(true)
    }

    /// Whether the 2xx with `sdp` must wait for a PRACK (then it is held); otherwise the
    /// outstanding provisional stops being retransmitted (a final response ends it).
    pub(super) fn hold_answer(&mut self, h: CallHandle, sdp: &[u8]) -> bool {
        let Some(rel) = self.calls.get_mut(&h).and_then(|c| c.rel.as_mut()) else {
            return false;
        };
        if rel.pending.as_ref().is_some_and(|p| p.has_sdp) {
            rel.held_answer = Some(sdp.to_vec());
            return true;
        }
        rel.pending = None;
        rel.queued = None;
        false
    }

    /// A PRACK in the call's early dialog (§3): 200 when its RAck names the outstanding
    /// reliable provisional, else 481; then what waited for it goes out.
    pub(super) fn on_prack(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        h: CallHandle,
        tag: &str,
    ) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let invite_seq = c.cseq;
        let proceeding = c.state == CallState::Proceeding;
        let Some(rel) = c.rel.as_mut() else {
            return self.respond_plain(now, id, msg, 481, Some(tag));
        };
        let acked = rack(msg).is_some_and(|(r, seq, m)| {
            rel.pending.as_ref().is_some_and(|p| p.rseq == r)
                && seq == invite_seq
                && m.eq_ignore_ascii_case("INVITE")
        });
        if !acked || !proceeding {
            return self.respond_plain(now, id, msg, 481, Some(tag));
        }
        rel.pending = None;
        let (held, queued) = (rel.held_answer.take(), rel.queued.take());
        self.respond_plain(now, id, msg, 200, Some(tag));
        let sent = match (held, queued) {
            (Some(sdp), _) => self.answer(now, h, &sdp),
            (None, Some((code, sdp))) => self.ring(now, h, code, sdp.as_deref()),
            (None, None) => Ok(()),
        };
        if let Err(e) = sent {
            tracing::debug!("after PRACK: {e}");
        }
    }

    /// The outstanding reliable provisional's retransmission (T1, doubling) and, after
    /// 64*T1 without a PRACK, the INVITE refused with 504 (§3).
    pub(super) fn reliable_timers(&mut self, now: Instant, h: CallHandle) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let proceeding = c.state == CallState::Proceeding;
        let txn = c.invite_txn;
        let Some(rel) = c.rel.as_mut() else {
            return;
        };
        let Some(p) = rel.pending.as_mut() else {
            return;
        };
        if !proceeding {
            rel.pending = None;
            return;
        }
        if p.give_up <= now {
            rel.pending = None;
            rel.held_answer = None;
            rel.queued = None;
            tracing::debug!("no PRACK within 64*T1: INVITE refused");
            let _ = self.reject(now, h, 504);
            return;
        }
        if p.next <= now {
            p.interval *= 2;
            p.next = now + p.interval;
            let (code, bytes) = (p.code, p.bytes.clone());
            if let Some(t) = txn {
                self.respond(now, t, code, bytes);
            }
        }
    }

    /// UAC: a provisional response to our INVITE that requires `100rel`: `false` when it
    /// is not the next of its dialog (a retransmission, or out of order) and must be
    /// dropped; else its RSeq is taken (PRACK it with [`Ua::send_prack`] once its dialog
    /// exists).
    pub(super) fn take_rseq(&mut self, h: CallHandle, msg: &Message<'_>) -> Option<u32> {
        let c = self.calls.get_mut(&h)?;
        let tag = msg.to().and_then(|t| t.tag())?;
        let r = rseq(msg)?;
        match c.rseqs.iter_mut().find(|(t, _)| t == tag) {
            Some((_, last)) if last.checked_add(1) == Some(r) => *last = r,
            Some(_) => return None,
            None => c.rseqs.push((tag.to_owned(), r)),
        }
        Some(r)
    }

    /// UAC: PRACK for the reliable provisional `rseq` of the early dialog with `tag`.
    pub(super) fn send_prack(
        &mut self,
        now: Instant,
        h: CallHandle,
        tag: &str,
        rseq: u32,
    ) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        let invite_seq = c.cseq;
        let d = c
            .dialogs
            .iter()
            .find(|d| d.id().remote_tag == tag)
            .ok_or(UaError::State(c.state))?;
        let to = self.dialog_peer(d)?;
        let via = self.via(to.transport);
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let state = c.state;
        let d = c
            .dialogs
            .iter_mut()
            .find(|d| d.id().remote_tag == tag)
            .ok_or(UaError::State(state))?;
        let seq = d.next_local_seq(1);
        let bytes = d
            .request(Method::Prack, seq, &via)?
            .raw_header("RAck", format!("{rseq} {invite_seq} INVITE"))
            .finish();
        self.send(now, bytes, to, Purpose::Prack)?;
        Ok(())
    }
}
