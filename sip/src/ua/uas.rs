//! The UAS half of the UA core: incoming INVITE (§13.3), its 2xx retransmitted until the
//! ACK (§13.3.1.4), CANCEL (§9.2), BYE (§15.1.2), re-INVITE (§14.2), OPTIONS (§11.2), INFO,
//! and 481 for requests that match no dialog (§12.2.2).

use super::call::{Call, CallHandle, CallState, PendingOk, Role};
use super::prack::RelUas;
use super::session_timer::{self as st, Refresher, SessionTimer};
use super::{
    ACCEPT, ALLOW, EndReason, SUPPORTED, SUPPORTED_TAGS, Ua, UaError, UaEvent, reason_phrase,
};
use crate::MessageBuilder;
use crate::dialog::{Dialog, DialogId, RemoteCSeq};
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::{Peer, Transport, TxnId};
use std::time::Instant;

impl Ua {
    pub(super) fn on_request(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, from: Peer) {
        let Some(method) = msg.method() else {
            return;
        };
        if !self.acceptable(now, id, msg, method) {
            return;
        }
        let in_dialog = msg.to().and_then(|t| t.tag()).is_some();
        if method == Method::Notify && !(in_dialog && super::refer::is_refer_notify(msg)) {
            return self.on_notify(now, id, msg);
        }
        if in_dialog {
            return self.on_dialog_request(now, id, msg, method, from);
        }
        if method == Method::Invite && self.merged(msg) {
            return self.respond_plain(now, id, msg, 482, None);
        }
        match method {
            Method::Invite => self.on_invite(now, id, msg, from),
            Method::Options => self.answer_options(now, id, msg, None),
            Method::Bye | Method::Info => self.respond_plain(now, id, msg, 481, None),
            _ => self.respond_plain(now, id, msg, 405, None),
        }
    }

    /// §8.2.2.2 merged requests: an INVITE outside a dialog whose From tag, Call-ID and
    /// CSeq are those of a call we already serve, on another branch (a forking proxy's
    /// copies meeting again). It must not become a second call (a second line rung).
    fn merged(&self, msg: &Message<'_>) -> bool {
        let (Some(call_id), Some(seq)) = (msg.call_id(), msg.cseq().map(|c| c.seq)) else {
            return false;
        };
        let from_tag = msg.from().and_then(|f| f.tag()).unwrap_or("");
        self.calls.with_call_id(call_id).any(|(_, c)| {
            c.role == Role::Uas
                && c.ended_at.is_none()
                && c.cseq == seq
                && c.call_id == call_id
                && c.dialogs
                    .first()
                    .is_some_and(|d| d.id().remote_tag == from_tag)
        })
    }

    /// The checks of §8.2.2.3 and §8.2.3 before any processing: a Require naming an extension
    /// we lack gets 420 with Unsupported (never for CANCEL/ACK); a body we cannot read gets
    /// 415 with Accept. `false` when the request was answered.
    fn acceptable(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        method: Method<'_>,
    ) -> bool {
        if !matches!(method, Method::Cancel | Method::Ack) {
            let unsupported: Vec<&str> = msg
                .require()
                .filter(|t| !SUPPORTED_TAGS.iter().any(|s| t.eq_ignore_ascii_case(s)))
                .collect();
            if !unsupported.is_empty() {
                let b = MessageBuilder::response_to(msg, 420, "Bad Extension", None)
                    .header(HeaderName::Unsupported, unsupported.join(", "));
                self.respond(now, id, 420, b.finish());
                return false;
            }
        }
        let sdp_method = matches!(method, Method::Invite | Method::Ack | Method::Update);
        let unreadable = !msg.body().is_empty()
            && sdp_method
            && !msg
                .content_type()
                .is_some_and(|t| t.is("application", "sdp"));
        if unreadable {
            let b = MessageBuilder::response_to(msg, 415, "Unsupported Media Type", None)
                .header(HeaderName::Accept, ACCEPT);
            self.respond(now, id, 415, b.finish());
            return false;
        }
        true
    }

    /// OPTIONS answered with what we allow, accept and support (§11.2).
    fn answer_options(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, tag: Option<&str>) {
        self.stats.options += 1;
        let own;
        let tag = match tag {
            Some(t) => Some(t),
            None => {
                own = self.token();
                Some(own.as_str())
            }
        };
        let b = MessageBuilder::response_to(msg, 200, "OK", tag)
            .header(HeaderName::Allow, ALLOW)
            .header(HeaderName::Accept, ACCEPT)
            .header(HeaderName::Supported, SUPPORTED)
            .header(HeaderName::Contact, self.contact(self.cfg.transport));
        self.respond(now, id, 200, b.finish());
    }

    /// Digest check of a new INVITE when a challenger is set (§22.1): `false` when it was
    /// answered with 401/403.
    fn authorized(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        tag: &str,
        from: Peer,
    ) -> bool {
        use crate::digest::{ChallengeKind, Rejection, Verdict};
        let Some((server, users)) = self.challenger.as_mut() else {
            return true;
        };
        let ip = from.addr.ip();
        let (code, stale) =
            match server.verify_request_from(now, msg, ChallengeKind::Www, users, ip) {
                Verdict::Authorized { .. } => return true,
                Verdict::Stale(_) => (401, true),
                Verdict::Rejected(
                    Rejection::WrongResponse | Rejection::UnknownUser | Rejection::Throttled,
                ) => (403, false),
                Verdict::Rejected(_) => (401, false),
            };
        let mut b = MessageBuilder::response_to(msg, code, super::reason_phrase(code), Some(tag));
        if code == 401 {
            for c in server.challenges(now, stale) {
                b = b.header(HeaderName::WwwAuthenticate, c);
            }
        }
        self.respond(now, id, code, b.finish());
        false
    }

    fn on_invite(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, from: Peer) {
        let tag = self.token();
        if !self.authorized(now, id, msg, &tag, from) {
            return;
        }
        if self.cfg.single_line && self.busy() {
            return self.respond_plain(now, id, msg, 486, Some(&tag));
        }
        if self.calls.len() >= self.cfg.max_calls {
            self.stats.overload += 1;
            let b = MessageBuilder::response_to(msg, 503, reason_phrase(503), Some(&tag)).header(
                HeaderName::RetryAfter,
                super::OVERLOAD_RETRY_AFTER_S.to_string(),
            );
            return self.respond(now, id, 503, b.finish());
        }
        let dialog = match Dialog::uas(msg, &tag, false) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!("INVITE refused: {e}");
                return self.respond_plain(now, id, msg, 400, Some(&tag));
            }
        };
        let agreed = match self.cfg.session_timer.map(|cfg| st::agree(&cfg, msg)) {
            Some(Err(min)) => {
                // RFC 4028 §9: the interval asked for is below our Min-SE.
                let b = MessageBuilder::response_to(msg, 422, reason_phrase(422), Some(&tag))
                    .raw_header("Min-SE", min);
                return self.respond(now, id, 422, b.finish());
            }
            Some(Ok(a)) => a,
            None => None,
        };
        let replaces = match self.replaced_call(msg) {
            Ok(r) => r,
            Err(code) => return self.respond_plain(now, id, msg, code, Some(&tag)),
        };
        let h = self.new_handle();
        let first_rseq = (self.rand() >> 33) as u32;
        let call = Call {
            replaces,
            agreed,
            peer_update: st::allows_update(msg),
            rel: RelUas::of_invite(msg, first_rseq),
            invite: msg.to_bytes(),
            invite_txn: Some(id),
            dialogs: vec![dialog],
            confirmed: Some(0),
            from: msg.from().map(|f| f.uri.to_string()).unwrap_or_default(),
            cseq: msg.cseq().map_or(0, |c| c.seq),
            ..Call::new(Role::Uas, msg.call_id().unwrap_or("").to_owned(), tag, from)
        };
        self.events.push_back(UaEvent::Incoming {
            call: h,
            from: call.from.clone(),
            request_uri: msg.request_uri().map(|u| u.to_string()).unwrap_or_default(),
            sdp: msg.body().to_vec(),
        });
        self.calls.insert(h, call);
    }

    pub(super) fn uas_call(&mut self, h: CallHandle) -> Result<&mut Call, UaError> {
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        if c.role != Role::Uas || c.state != CallState::Proceeding {
            return Err(UaError::State(c.state));
        }
        Ok(c)
    }

    /// A provisional response to an incoming INVITE: 180 Ringing, or 183 with an early-media
    /// answer in `sdp` (RFC 3261 §13.3.1.1, RFC 3960).
    pub fn ring(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
        sdp: Option<&[u8]>,
    ) -> Result<(), UaError> {
        let contact = self.contact(self.call_transport(h));
        if self.ring_reliably(now, h, code, sdp, contact.clone())? {
            return Ok(());
        }
        let c = self.uas_call(h)?;
        let invite = c.invite.clone();
        let inv = Message::parse(&invite).map_err(|_| UaError::NoCall)?;
        let b = MessageBuilder::response_to(&inv, code, reason_phrase(code), Some(&c.local_tag))
            .header(HeaderName::Contact, contact);
        let bytes = match sdp {
            Some(s) => b.body("application/sdp", s),
            None => b.finish(),
        };
        let id = c.invite_txn.ok_or(UaError::NoCall)?;
        c.got_provisional = true;
        self.respond(now, id, code, bytes);
        Ok(())
    }

    /// Answers an incoming INVITE with 200 and `sdp`; the 2xx is retransmitted until the ACK
    /// arrives, and the call ends with BYE if none comes within 64*T1 (§13.3.1.4).
    pub fn answer(&mut self, now: Instant, h: CallHandle, sdp: &[u8]) -> Result<(), UaError> {
        let t = self.call_transport(h);
        let contact = self.contact(t);
        let t1 = self.cfg.timers.t1;
        let unreliable = t == Transport::Udp;
        self.uas_call(h)?;
        if self.hold_answer(h, sdp) {
            return Ok(());
        }
        let c = self.uas_call(h)?;
        let invite = c.invite.clone();
        let inv = Message::parse(&invite).map_err(|_| UaError::NoCall)?;
        let mut b = MessageBuilder::response_to(&inv, 200, "OK", Some(&c.local_tag))
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, ALLOW)
            .header(HeaderName::Supported, SUPPORTED);
        if let Some(a) = c.agreed {
            b = b.raw_header("Session-Expires", a.header());
            if a.uac_supports {
                b = b.header(HeaderName::Require, st::OPTION_TAG);
            }
            let who = if a.uac_refreshes {
                Refresher::Them
            } else {
                Refresher::Us
            };
            c.timer = Some(SessionTimer::armed(now, a.interval_s, who));
        }
        c.sdp = sdp.to_vec();
        let bytes = b.body("application/sdp", sdp);
        let id = c.invite_txn.ok_or(UaError::NoCall)?;
        c.state = CallState::Answered;
        if let Some(d) = c.dialog_mut() {
            d.confirm();
        }
        c.pending_ok = Some(PendingOk {
            bytes: bytes.clone(),
            txn: id,
            seq: c.cseq,
            next: unreliable.then(|| now + t1),
            interval: t1,
            give_up: now + t1 * 64,
            initial: true,
        });
        self.respond(now, id, 200, bytes);
        Ok(())
    }

    /// Rejects an incoming INVITE (486 Busy Here, 480, 603 Decline, 488...).
    pub fn reject(&mut self, now: Instant, h: CallHandle, code: u16) -> Result<(), UaError> {
        self.reject_with_warning(now, h, code, None)
    }

    /// The Warning header value `code agent "text"` (§20.43) with our address as the
    /// warn-agent and `text` as a quoted-string.
    fn warning_value(&self, code: u16, text: &str) -> String {
        let mut q = String::with_capacity(text.len() + 2);
        for ch in text.chars().filter(|c| !c.is_control()) {
            if ch == '"' || ch == '\\' {
                q.push('\\');
            }
            q.push(ch);
        }
        format!("{code} {} \"{q}\"", self.cfg.local)
    }

    /// Rejects an incoming INVITE saying why in a Warning header (§20.43), e.g. 488 with
    /// `(305, "Incompatible media format")` or 400 with `(399, <the SDP error>)`.
    pub fn reject_with_warning(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
        warning: Option<(u16, &str)>,
    ) -> Result<(), UaError> {
        let warning = warning.map(|(w, text)| ("Warning", self.warning_value(w, text)));
        self.refuse(now, h, code, warning.as_slice())
    }

    /// Redirects the incoming call (§8.3, §21.3.3): 302 Moved Temporarily with `target`
    /// (a SIP URI) as its Contact; the caller places the call there itself.
    pub fn redirect(&mut self, now: Instant, h: CallHandle, target: &str) -> Result<(), UaError> {
        crate::Uri::parse(target).map_err(|_| UaError::Uri(target.to_owned()))?;
        self.refuse(now, h, 302, &[("Contact", format!("<{target}>"))])
    }

    /// Ends the incoming call with the final non-2xx `code` and `headers`.
    fn refuse(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
        headers: &[(&str, String)],
    ) -> Result<(), UaError> {
        let single_refusal = self.cfg.limits.single_refusal;
        let c = self.uas_call(h)?;
        let invite = c.invite.clone();
        let inv = Message::parse(&invite).map_err(|_| UaError::NoCall)?;
        let mut b =
            MessageBuilder::response_to(&inv, code, reason_phrase(code), Some(&c.local_tag));
        for (name, value) in headers {
            b = b.raw_header(name, value);
        }
        let bytes = b.finish();
        let id = c.invite_txn.ok_or(UaError::NoCall)?;
        c.reap_at_once = single_refusal && !c.got_provisional;
        self.respond(now, id, code, bytes);
        self.end(h, EndReason::LocalReject(code));
        Ok(())
    }

    /// CANCEL (§9.2): 200 for the CANCEL, 487 for the INVITE if it is still unanswered;
    /// 481 when it matches no INVITE transaction.
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        id: TxnId,
        invite: Option<TxnId>,
        msg: &Message<'_>,
        from: Peer,
    ) {
        self.stats.cancels += 1;
        let Some(inv_txn) = invite else {
            return self.respond_plain(now, id, msg, 481, None);
        };
        let found = self
            .calls
            .iter()
            .find(|(_, c)| c.role == Role::Uas && c.invite_txn == Some(inv_txn))
            .map(|(h, c)| (*h, c.local_tag.clone(), c.state, c.invite_peer));
        // §9.2: a CANCEL follows its INVITE's path; from elsewhere it cancels nothing.
        if let Some((_, _, _, peer)) = found
            && !self.cfg.source_check.accepts(peer, from)
        {
            self.foreign(format_args!(
                "CANCEL from {} ({:?})",
                from.addr, from.transport
            ));
            return self.respond_plain(now, id, msg, 403, None);
        }
        let found = found.map(|(h, tag, state, _)| (h, tag, state));
        let tag = found.as_ref().map(|f| f.1.clone());
        self.respond_plain(now, id, msg, 200, tag.as_deref());
        if let Some((h, tag, CallState::Proceeding)) = found {
            let invite = self
                .calls
                .get(&h)
                .map(|c| c.invite.clone())
                .unwrap_or_default();
            if let Ok(inv) = Message::parse(&invite) {
                let bytes =
                    MessageBuilder::response_to(&inv, 487, "Request Terminated", Some(&tag))
                        .finish();
                self.respond(now, inv_txn, 487, bytes);
            }
            self.end(h, EndReason::Cancelled);
        }
    }

    /// The ACK for one of our 2xx (§13.3.1.4): stops its retransmission.
    pub(super) fn on_ack(&mut self, _now: Instant, msg: &Message<'_>, from: Peer) {
        let Some(did) = DialogId::of_request(msg) else {
            return;
        };
        let Some(h) = self.call_by_dialog(&did) else {
            return;
        };
        if !self.dialog_source_ok(h, msg, from) {
            self.foreign(format_args!(
                "ACK from {} ({:?})",
                from.addr, from.transport
            ));
            return;
        }
        let seq = msg.cseq().map(|c| c.seq);
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if c.pending_ok.as_ref().is_none_or(|p| Some(p.seq) != seq) {
            return;
        }
        let initial = c.pending_ok.take().is_some_and(|p| p.initial);
        if initial && c.state == CallState::Answered {
            c.state = CallState::Confirmed;
            let body = msg.body();
            self.events.push_back(UaEvent::Confirmed {
                call: h,
                sdp: (!body.is_empty()).then(|| body.to_vec()),
            });
        }
    }

    /// Whether an in-dialog request comes from the dialog's side (§12.2.2, §26.1.4): over the
    /// call's transport (TLS for a `sips:` dialog) and from the address its INVITE came
    /// from or went to, or the address our requests in the dialog go to (the first
    /// Record-Route proxy, else the remote target), as [`UaConfig::source_check`] says.
    fn dialog_source_ok(&self, h: CallHandle, msg: &Message<'_>, from: Peer) -> bool {
        let Some(c) = self.calls.get(&h) else {
            return false;
        };
        let id = DialogId::of_request(msg);
        let Some(d) = c.dialogs.iter().find(|d| Some(d.id()) == id.as_ref()) else {
            return false;
        };
        if d.secure() && from.transport != Transport::Tls {
            return false;
        }
        let check = self.cfg.source_check;
        let via_dialog = self.dialog_peer(d).ok().map(|p| Peer {
            transport: c.invite_peer.transport,
            addr: p.addr,
        });
        [Some(c.invite_peer), via_dialog]
            .into_iter()
            .flatten()
            .any(|p| check.accepts(p, from))
    }

    /// A request with a To tag: it must match a dialog by Call-ID and both tags, or it gets
    /// 481 (§12.2.2; a BYE with a wrong tag cannot tear a call down).
    fn on_dialog_request(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        method: Method<'_>,
        from: Peer,
    ) {
        let Some(h) = DialogId::of_request(msg).and_then(|d| self.call_by_dialog(&d)) else {
            return self.respond_plain(now, id, msg, 481, None);
        };
        if !self.dialog_source_ok(h, msg, from) {
            self.foreign(format_args!(
                "in-dialog {method} from {} ({:?})",
                from.addr, from.transport
            ));
            return self.respond_plain(now, id, msg, 403, None);
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let tag = c.local_tag.clone();
        let Some(i) = c.dialogs.iter().position(|d| {
            Some(d.id()) == DialogId::of_request(msg).as_ref()
                && d.state() != crate::dialog::DialogState::Terminated
        }) else {
            return;
        };
        // The request's dialog is the call's confirmed one (a UAS call has only that one),
        // or an early dialog of another fork.
        let the_call = c.confirmed == Some(i);
        let d = &mut c.dialogs[i];
        if d.on_remote_request(msg) == RemoteCSeq::OutOfOrder {
            return self.respond_plain(now, id, msg, 500, Some(&tag));
        }
        match method {
            Method::Bye if !the_call => {
                // A BYE in an early dialog of one fork ends that dialog only (§15); the
                // INVITE goes on for the others.
                d.terminate();
                self.respond_plain(now, id, msg, 200, Some(&tag));
            }
            Method::Bye => {
                self.respond_plain(now, id, msg, 200, Some(&tag));
                if let Some(c) = self.calls.get_mut(&h)
                    && c.role == Role::Uas
                    && c.state == CallState::Proceeding
                    && let Some(t) = c.invite_txn
                    && let invite = c.invite.clone()
                    && let Ok(inv) = Message::parse(&invite)
                {
                    // BYE for an unanswered INVITE (§15.1.2): 487 for the INVITE.
                    let bytes =
                        MessageBuilder::response_to(&inv, 487, "Request Terminated", Some(&tag))
                            .finish();
                    self.respond(now, t, 487, bytes);
                }
                self.end(h, EndReason::RemoteBye);
            }
            Method::Invite => {
                let c = &self.calls[&h];
                if c.out_reinvite.is_some() {
                    // Glare (§14.2): we have an INVITE outstanding on this dialog.
                    return self.respond_plain(now, id, msg, 491, Some(&tag));
                }
                if c.in_reinvite.is_some()
                    || c.pending_ok.is_some()
                    || c.state != CallState::Confirmed
                {
                    // An earlier INVITE is not finished (§14.2).
                    return self.respond_plain(now, id, msg, 500, Some(&tag));
                }
                let c = self.calls.get_mut(&h).expect("call looked up above");
                c.in_reinvite = Some((id, msg.to_bytes()));
                self.events.push_back(UaEvent::Reoffer {
                    call: h,
                    sdp: msg.body().to_vec(),
                });
            }
            Method::Options => self.answer_options(now, id, msg, Some(&tag)),
            Method::Prack => self.on_prack(now, id, msg, h, &tag),
            Method::Update => self.on_update(now, id, msg, h, &tag),
            Method::Info => {
                self.respond_plain(now, id, msg, 200, Some(&tag));
                self.events.push_back(UaEvent::Info {
                    call: h,
                    body: msg.body().to_vec(),
                });
            }
            Method::Refer if the_call => self.on_refer(now, id, msg, h),
            Method::Notify if the_call => self.on_refer_notify(now, id, msg, h),
            _ => self.respond_plain(now, id, msg, 405, Some(&tag)),
        }
    }

    /// UPDATE (RFC 3311): without a body (a session refresh) 200; with an offer in the
    /// confirmed dialog, taken as a re-INVITE's is ([`UaEvent::Reoffer`], answered by
    /// [`Ua::accept_reoffer`]); while our own offer is open 491, before the call is up or
    /// while another offer is open 500 with Retry-After (§5.2).
    fn on_update(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, h: CallHandle, tag: &str) {
        if msg.body().is_empty() {
            let mut b = MessageBuilder::response_to(msg, 200, "OK", Some(tag))
                .header(HeaderName::Supported, SUPPORTED);
            if let Some(se) = self.refreshed_by_peer(now, h, msg) {
                b = b.raw_header("Session-Expires", se);
            }
            return self.respond(now, id, 200, b.finish());
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if c.out_reinvite.is_some() {
            return self.respond_plain(now, id, msg, 491, Some(tag));
        }
        if c.state != CallState::Confirmed || c.in_reinvite.is_some() || c.pending_ok.is_some() {
            let b = MessageBuilder::response_to(msg, 500, reason_phrase(500), Some(tag))
                .header(HeaderName::RetryAfter, "1");
            return self.respond(now, id, 500, b.finish());
        }
        c.in_reinvite = Some((id, msg.to_bytes()));
        self.events.push_back(UaEvent::Reoffer {
            call: h,
            sdp: msg.body().to_vec(),
        });
    }

    /// A refresh from the peer (RFC 4028 §10: an UPDATE or re-INVITE in the call): the
    /// timer starts again, and the `Session-Expires` for our 2xx (§9, the refresher the
    /// request named, else the requester when it supports timers, else us).
    pub(super) fn refreshed_by_peer(
        &mut self,
        now: Instant,
        h: CallHandle,
        msg: &Message<'_>,
    ) -> Option<String> {
        let min = self.cfg.session_timer?.min_se_s;
        let c = self.calls.get_mut(&h)?;
        let running = c.timer?;
        let interval = st::session_expires(msg)
            .map_or(running.interval_s, |(s, _)| s)
            .max(min);
        let requester_refreshes = match st::session_expires(msg).and_then(|(_, r)| r) {
            Some(r) => r.eq_ignore_ascii_case("uac"),
            None => st::supports(msg),
        };
        let who = if requester_refreshes {
            Refresher::Them
        } else {
            Refresher::Us
        };
        c.timer = Some(SessionTimer::armed(now, interval, who));
        let named = if requester_refreshes { "uac" } else { "uas" };
        Some(format!("{interval};refresher={named}"))
    }

    /// Answers a re-INVITE with 200 and `sdp` (retransmitted until the ACK, §13.3.1.4).
    pub fn accept_reoffer(
        &mut self,
        now: Instant,
        h: CallHandle,
        sdp: &[u8],
    ) -> Result<(), UaError> {
        let t = self.call_transport(h);
        let contact = self.contact(t);
        let t1 = self.cfg.timers.t1;
        let unreliable = t == Transport::Udp;
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let (id, req) = c.in_reinvite.take().ok_or(UaError::State(c.state))?;
        c.sdp = sdp.to_vec();
        let msg = Message::parse(&req).map_err(|_| UaError::NoCall)?;
        let se = self.refreshed_by_peer(now, h, &msg);
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let mut b = MessageBuilder::response_to(&msg, 200, "OK", Some(&c.local_tag))
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, ALLOW);
        if let Some(se) = se {
            b = b.raw_header("Session-Expires", se);
        }
        let bytes = b.body("application/sdp", sdp);
        if msg.method() == Some(Method::Update) {
            // UPDATE has no ACK (RFC 3311 §5.2): its 2xx is an ordinary final response.
            self.respond(now, id, 200, bytes);
            return Ok(());
        }
        c.pending_ok = Some(PendingOk {
            bytes: bytes.clone(),
            txn: id,
            seq: msg.cseq().map_or(0, |s| s.seq),
            next: unreliable.then(|| now + t1),
            interval: t1,
            give_up: now + t1 * 64,
            initial: false,
        });
        self.respond(now, id, 200, bytes);
        Ok(())
    }

    /// Rejects a re-INVITE (488 for an offer we cannot take); the session stays (§14.2).
    pub fn reject_reoffer(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
    ) -> Result<(), UaError> {
        self.reject_reoffer_with_warning(now, h, code, None)
    }

    /// Rejects a re-INVITE saying why in a Warning header (§20.43); the session stays.
    pub fn reject_reoffer_with_warning(
        &mut self,
        now: Instant,
        h: CallHandle,
        code: u16,
        warning: Option<(u16, &str)>,
    ) -> Result<(), UaError> {
        let warning = warning.map(|(w, text)| self.warning_value(w, text));
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let (id, req) = c.in_reinvite.take().ok_or(UaError::State(c.state))?;
        let tag = c.local_tag.clone();
        let msg = Message::parse(&req).map_err(|_| UaError::NoCall)?;
        let mut b = MessageBuilder::response_to(&msg, code, reason_phrase(code), Some(&tag));
        if let Some(w) = warning {
            b = b.raw_header("Warning", w);
        }
        self.respond(now, id, code, b.finish());
        Ok(())
    }

    /// The call's own timers: 2xx retransmission and give-up (§13.3.1.4), the glare retry
    /// (§14.1).
    pub(super) fn call_timers(&mut self, now: Instant, h: CallHandle) {
        self.reliable_timers(now, h);
        self.session_timers(now, h);
        let t2 = self.cfg.timers.t2;
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if c.refer_out.is_some_and(|t| t <= now) {
            // The transferee never told the outcome (RFC 3515 §2.4.5): given up.
            c.refer_out = None;
            self.events.push_back(UaEvent::TransferProgress {
                call: h,
                code: 408,
                done: true,
            });
            return;
        }
        if c.cancel_give_up.is_some_and(|t| t <= now) {
            // Our CANCEL never brought the 487 (§9.1): end the call and drop the INVITE
            // transaction, which would otherwise wait in Proceeding for ever.
            c.cancel_give_up = None;
            let txn = c.invite_txn.take();
            if c.state == CallState::Proceeding {
                self.end(h, EndReason::Timeout);
            }
            if let Some(t) = txn {
                self.layer.transport_error(t);
                self.pump(now);
            }
            return;
        }
        if let Some(p) = c.pending_ok.as_mut() {
            if p.give_up <= now {
                c.pending_ok = None;
                if c.state == CallState::Answered {
                    c.state = CallState::Confirmed;
                }
                let _ = self.send_bye(now, h);
                self.end(h, EndReason::NoAck);
                return;
            }
            if p.next.is_some_and(|n| n <= now) {
                let (txn, bytes) = (p.txn, p.bytes.clone());
                p.interval = (p.interval * 2).min(t2);
                p.next = Some(now + p.interval);
                self.stats.retransmitted_2xx += 1;
                self.respond(now, txn, 200, bytes);
            }
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if c.glare_retry.as_ref().is_some_and(|g| g.0 <= now)
            && let Some((_, sdp)) = c.glare_retry.take()
            && let Err(e) = self.reinvite(now, h, sdp)
        {
            tracing::debug!("glare retry not sent: {e}");
        }
    }
}
