//! The state the UA core keeps per call (one INVITE and the dialog(s) it made).

use crate::dialog::Dialog;
use crate::transaction::{Peer, TxnId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A handle on one call of a [`super::Ua`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

/// Which side of the INVITE we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We sent the INVITE (and own the Call-ID, §14.1).
    Uac,
    /// We received it.
    Uas,
}

/// The call's state (§13: before a final response, waiting for the ACK, up, ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// UAC: INVITE sent, no final response yet. UAS: INVITE received, not yet answered.
    Proceeding,
    /// UAS: 2xx sent, waiting for the ACK (§13.3.1.4).
    Answered,
    /// The dialog is confirmed and both sides know it.
    Confirmed,
    /// A BYE we sent is outstanding.
    Terminating,
    /// Over.
    Terminated,
}

/// A 2xx we retransmit until its ACK arrives (§13.3.1.4).
#[derive(Debug, Clone)]
pub(crate) struct PendingOk {
    pub bytes: Vec<u8>,
    pub txn: TxnId,
    pub seq: u32,
    pub next: Option<Instant>,
    pub interval: Duration,
    pub give_up: Instant,
    pub initial: bool,
}

/// A re-INVITE we sent (§14.1).
#[derive(Debug, Clone)]
pub(crate) struct OutReinvite {
    pub seq: u32,
    pub sdp: Vec<u8>,
    /// It only refreshes the session (RFC 4028 §10): its outcome is not the user's.
    pub refresh: bool,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub role: Role,
    pub state: CallState,
    pub call_id: String,
    pub local_tag: String,
    /// The INVITE we sent (UAC, latest attempt) or received (UAS).
    pub invite: Vec<u8>,
    pub invite_txn: Option<TxnId>,
    pub invite_peer: Peer,
    /// UAC: the other places the INVITE's next hop resolved to, in order (RFC 3263 §4.3):
    /// tried one by one while the INVITE times out, fails at the transport or gets 503.
    pub alternates: Vec<Peer>,
    /// UAC: one dialog per fork (early or confirmed); UAS: exactly one.
    pub dialogs: Vec<Dialog>,
    /// Index in `dialogs` of the confirmed one.
    pub confirmed: Option<usize>,
    // UAC
    pub from: String,
    /// UAC: the display name of our From.
    pub from_display: Option<String>,
    /// UAC: our INVITE asks for our identity to be withheld (`Privacy: id`).
    pub privacy: bool,
    /// UAC: the identity our INVITE asserts (`P-Asserted-Identity`, RFC 3325), name and URI.
    pub asserted: Option<(Option<String>, String)>,
    pub target: String,
    pub to: String,
    pub sdp: Vec<u8>,
    pub cseq: u32,
    /// UAC: a provisional response arrived; UAS: we sent one ([`super::Ua::ring`]).
    pub got_provisional: bool,
    pub cancel_pending: bool,
    pub cancelled: bool,
    pub targets: Vec<String>,
    pub tried: Vec<String>,
    pub redirects: u8,
    pub auth: Option<(crate::header::HeaderName, String)>,
    pub answered_realms: Vec<String>,
    /// ACKs sent for 2xx, by remote tag and CSeq, resent on 2xx retransmissions.
    pub acks: Vec<(String, u32, Arc<[u8]>, Peer)>,
    /// UAC: the last RSeq taken from each early dialog, by remote tag (RFC 3262 §4).
    pub rseqs: Vec<(String, u32)>,
    // UAS
    pub pending_ok: Option<PendingOk>,
    /// UAS: reliable provisional responses, when the INVITE allows them (RFC 3262).
    pub rel: Option<super::prack::RelUas>,
    /// UAS: the session timer agreed for the 2xx (RFC 4028 §9).
    pub agreed: Option<super::session_timer::Agreed>,
    /// The running session timer.
    pub timer: Option<super::session_timer::SessionTimer>,
    /// UAC: the Session-Expires our INVITE asks for (raised by a 422).
    pub se_asked: u32,
    /// The peer's Allow lists UPDATE (refreshes go as UPDATE, else as re-INVITE).
    pub peer_update: bool,
    // re-INVITE
    pub out_reinvite: Option<OutReinvite>,
    pub in_reinvite: Option<(TxnId, Vec<u8>)>,
    pub glare_retry: Option<(Instant, Vec<u8>)>,
    /// UAC: when to stop waiting for the 487 after our CANCEL (64*T1, §9.1).
    pub cancel_give_up: Option<Instant>,
    /// When the call ended; it is forgotten [`REAP_AFTER_T1`] T1s later.
    pub ended_at: Option<Instant>,
    /// UAS: refused before any provisional response, so nothing of it can come back
    /// (single refusal, [`crate::transaction::Limits::single_refusal`]): forgotten at the
    /// next timer instead of after 64*T1, so refused INVITEs do not fill the call table.
    pub reap_at_once: bool,
    /// We asked the peer to transfer (REFER sent) and its outcome is not known yet: by
    /// when it must be.
    pub refer_out: Option<Instant>,
    /// The peer asked us to transfer (REFER received).
    pub refer_in: Option<super::refer::ReferIn>,
    /// UAS: the confirmed call this INVITE replaces (RFC 3891).
    pub replaces: Option<CallHandle>,
    /// UAC: the `Replaces` our INVITE carries.
    pub replace_header: Option<String>,
    /// The INVITE's Max-Forwards (70 unless a B2BUA carries on a request's count).
    pub max_forwards: u8,
    /// UAC: who forwarded the call to our target (RFC 5806 `Diversion`).
    pub diversion: Option<String>,
}

/// An ended call is kept this many T1s (64*T1 = 32 s: the longest a retransmission of its
/// last messages can still arrive, §17.1.1.2) and then forgotten.
pub(crate) const REAP_AFTER_T1: u32 = 64;

impl Call {
    /// A call in `Proceeding` with its identity (`role`, Call-ID, our tag, the peer its
    /// INVITE goes to or came from) and nothing else yet.
    pub fn new(role: Role, call_id: String, local_tag: String, invite_peer: Peer) -> Call {
        Call {
            role,
            state: CallState::Proceeding,
            call_id,
            local_tag,
            invite: Vec::new(),
            invite_txn: None,
            invite_peer,
            alternates: Vec::new(),
            dialogs: Vec::new(),
            confirmed: None,
            from: String::new(),
            from_display: None,
            privacy: false,
            asserted: None,
            target: String::new(),
            to: String::new(),
            sdp: Vec::new(),
            cseq: 0,
            got_provisional: false,
            cancel_pending: false,
            cancelled: false,
            targets: Vec::new(),
            tried: Vec::new(),
            redirects: 0,
            auth: None,
            answered_realms: Vec::new(),
            acks: Vec::new(),
            rseqs: Vec::new(),
            pending_ok: None,
            rel: None,
            agreed: None,
            timer: None,
            se_asked: 0,
            peer_update: false,
            out_reinvite: None,
            in_reinvite: None,
            glare_retry: None,
            cancel_give_up: None,
            ended_at: None,
            reap_at_once: false,
            refer_out: None,
            refer_in: None,
            replaces: None,
            replace_header: None,
            max_forwards: 70,
            diversion: None,
        }
    }

    /// The confirmed dialog.
    pub fn dialog(&self) -> Option<&Dialog> {
        self.confirmed.and_then(|i| self.dialogs.get(i))
    }

    /// The confirmed dialog, mutable.
    pub fn dialog_mut(&mut self) -> Option<&mut Dialog> {
        self.confirmed.and_then(|i| self.dialogs.get_mut(i))
    }

    /// The earliest deadline the call keeps itself (for an ended call: when to forget it,
    /// given T1).
    pub fn poll_timeout_t1(&self, t1: Duration) -> Option<Instant> {
        if self.state == CallState::Terminated {
            if self.reap_at_once {
                return self.ended_at;
            }
            return self.ended_at.map(|t| t + t1 * REAP_AFTER_T1);
        }
        self.poll_timeout()
    }

    /// The earliest deadline the call keeps itself.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ok = self
            .pending_ok
            .as_ref()
            .map(|p| p.next.map_or(p.give_up, |n| n.min(p.give_up)));
        let glare = self.glare_retry.as_ref().map(|g| g.0);
        let rel = self.rel.as_ref().and_then(super::prack::RelUas::deadline);
        let timer = self.timer.map(|t| t.deadline);
        [ok, glare, self.cancel_give_up, rel, timer, self.refer_out]
            .into_iter()
            .flatten()
            .min()
    }
}
