//! The UAC half of the UA core: placing calls (§13.2), following 3xx and challenges (§21,
//! §22.2), ACK for 2xx (§13.2.2.4), forks, CANCEL (§9.1), BYE (§15.1), re-INVITE (§14.1) and
//! other in-dialog requests.

use super::call::{Call, CallHandle, CallState, OutReinvite, Role};
use super::response::{challenge, redirect_targets, retry_after};
use super::{EndReason, Purpose, Ua, UaError, UaEvent};
use crate::MessageBuilder;
use crate::dialog::{Dialog, DialogId};
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::Peer;
use std::time::{Duration, Instant};

/// Extra settings of an outgoing call ([`Ua::call_with`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Display name in the From header (§20.20), quoted as needed.
    pub display_name: Option<String>,
    /// Where to send the INVITE instead of the outbound proxy or the Request-URI's host.
    pub next_hop: Option<Peer>,
    /// A proxy URI to send the INVITE to (when `next_hop` is not given), located as the
    /// Request-URI would be (RFC 3263: its services tried in turn).
    pub next_hop_uri: Option<String>,
    /// Ask for our identity to be withheld: `Privacy: id` on the INVITE (RFC 3325 §9.3,
    /// RFC 3323 §4.2). The From the caller passes should then be anonymous itself
    /// (`"Anonymous" <sip:anonymous@anonymous.invalid>`, RFC 3323 §4.1.1.3).
    pub privacy: bool,
    /// The caller's identity as the network should assert it (RFC 3325 §9.1:
    /// `P-Asserted-Identity`), a SIP URI with an optional display name. Only for a next
    /// hop in the caller's trust domain (the provider's proxy): the gateway vouches for an
    /// identity it learnt from a line, and the proxy removes it where the caller asked for
    /// privacy.
    pub asserted_identity: Option<(Option<String>, String)>,
    /// The call takes over a dialog between the callee and a third party: the value of
    /// a `Replaces` header (RFC 3891 §4; from a transfer's `Refer-To` URI).
    pub replaces: Option<String>,
    /// The INVITE's Max-Forwards when not 70: a call placed on behalf of an incoming one
    /// (forwarding) carries on its count less one, so that a forwarding loop ends
    /// (RFC 7332 §3, RFC 3261 §16.6 step 3).
    pub max_forwards: Option<u8>,
    /// The forwarding party and why, as a `Diversion` header value (RFC 5806:
    /// `<sip:201@example.net>;reason=user-busy;counter=1`).
    pub diversion: Option<String>,
}

/// A display name as a quoted-string (§25.1): `"` and `\` escaped, control characters
/// dropped.
fn quoted(name: &str) -> String {
    let mut q = String::with_capacity(name.len() + 2);
    q.push('"');
    for c in name.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

impl Ua {
    /// Places a call: INVITE `target` from `from` with the offer `sdp` (§13.2.1).
    pub fn call(
        &mut self,
        now: Instant,
        target: &str,
        from: &str,
        sdp: Vec<u8>,
    ) -> Result<CallHandle, UaError> {
        self.call_with(now, target, from, sdp, CallOptions::default())
    }

    /// As [`Ua::call`], with a display name in From and the first hop chosen by the caller
    /// (a proxy that is not the Request-URI's host, §8.1.2) instead of the UA's outbound
    /// proxy or the Request-URI.
    pub fn call_with(
        &mut self,
        now: Instant,
        target: &str,
        from: &str,
        sdp: Vec<u8>,
        opts: CallOptions,
    ) -> Result<CallHandle, UaError> {
        crate::Uri::parse(target).map_err(|_| UaError::Uri(target.to_owned()))?;
        crate::Uri::parse(from).map_err(|_| UaError::Uri(from.to_owned()))?;
        if let Some((_, pai)) = &opts.asserted_identity {
            crate::Uri::parse(pai).map_err(|_| UaError::Uri(pai.clone()))?;
        }
        let mut peers = match (opts.next_hop, &opts.next_hop_uri) {
            (Some(p), _) => vec![p],
            (None, Some(proxy)) => self.peers_for(now, proxy),
            (None, None) => self.initial_peers(now, target),
        };
        if peers.is_empty() {
            return Err(UaError::Uri(
                opts.next_hop_uri.unwrap_or_else(|| target.to_owned()),
            ));
        }
        let peer = peers.remove(0);
        let h = self.new_handle();
        let call_id = self.new_call_id();
        let local_tag = self.token();
        let cseq = self.initial_cseq();
        self.calls.insert(
            h,
            Call {
                from: from.to_owned(),
                from_display: opts.display_name,
                privacy: opts.privacy,
                asserted: opts.asserted_identity,
                replace_header: opts.replaces,
                max_forwards: opts.max_forwards.unwrap_or(70),
                diversion: opts.diversion,
                target: target.to_owned(),
                to: target.to_owned(),
                sdp,
                cseq,
                tried: vec![target.to_owned()],
                alternates: peers,
                ..Call::new(Role::Uac, call_id, local_tag, peer)
            },
        );
        if let Err(e) = self.send_invite(now, h) {
            self.calls.remove(&h);
            return Err(e);
        }
        Ok(h)
    }

    /// Where a new request for `target` may go, in order: the outbound proxy, else the
    /// target's own places (RFC 3263).
    pub(super) fn initial_peers(&mut self, now: Instant, target: &str) -> Vec<Peer> {
        match self.cfg.outbound_proxy {
            Some(p) => vec![p],
            None => self.peers_for(now, target),
        }
    }

    /// The INVITE's next hop timed out, failed at the transport or answered 503: the same
    /// request (a new branch, so a new transaction) to the next place it resolved to
    /// (RFC 3263 §4.3), the failed one avoided for a while. `false` when none is left.
    fn try_alternate(&mut self, now: Instant, h: CallHandle) -> bool {
        loop {
            let Some(c) = self.calls.get_mut(&h) else {
                return false;
            };
            let failed = c.invite_peer;
            if c.alternates.is_empty() {
                self.avoid(now, failed);
                return false;
            }
            c.invite_peer = c.alternates.remove(0);
            c.dialogs.clear();
            c.confirmed = None;
            let next = c.invite_peer;
            self.avoid(now, failed);
            tracing::info!("INVITE to {} failed, trying {}", failed.addr, next.addr);
            if self.send_invite(now, h).is_ok() {
                return true;
            }
        }
    }

    /// Sends (or re-sends, after a 3xx or a challenge) the call's INVITE.
    fn send_invite(&mut self, now: Instant, h: CallHandle) -> Result<(), UaError> {
        let t = self
            .calls
            .get(&h)
            .ok_or(UaError::NoCall)?
            .invite_peer
            .transport;
        let via = self.via(t);
        let contact = self.contact(t);
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let uri = crate::Uri::parse(&c.target).map_err(|_| UaError::Uri(c.target.clone()))?;
        let mut b = MessageBuilder::request(Method::Invite, &uri)
            .header(HeaderName::Via, &via)
            .max_forwards(c.max_forwards)
            .header(
                HeaderName::From,
                match &c.from_display {
                    Some(d) => format!("{} <{}>;tag={}", quoted(d), c.from, c.local_tag),
                    None => format!("<{}>;tag={}", c.from, c.local_tag),
                },
            )
            .header(HeaderName::To, format!("<{}>", c.to))
            .call_id(&c.call_id)
            .cseq(c.cseq, Method::Invite)
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, super::ALLOW)
            .header(HeaderName::Supported, super::SUPPORTED);
        if let Some((name, value)) = &c.auth {
            b = b.header(*name, value);
        }
        if c.privacy {
            b = b.raw_header("Privacy", "id");
        }
        if let Some(r) = &c.replace_header {
            b = b.raw_header("Replaces", r);
        }
        if let Some(d) = &c.diversion {
            b = b.raw_header("Diversion", d);
        }
        if let Some((name, uri)) = &c.asserted {
            b = b.raw_header(
                "P-Asserted-Identity",
                match name {
                    Some(d) => format!("{} <{uri}>", quoted(d)),
                    None => format!("<{uri}>"),
                },
            );
        }
        if let Some(st) = self.cfg.session_timer {
            // RFC 4028 §7.1: the interval we ask for, and the least we take.
            if c.se_asked == 0 {
                c.se_asked = st.expires_s;
            }
            b = b
                .raw_header("Session-Expires", c.se_asked)
                .raw_header("Min-SE", st.min_se_s);
        }
        let bytes = if c.sdp.is_empty() {
            b.finish()
        } else {
            b.body("application/sdp", &c.sdp)
        };
        c.invite = bytes.clone();
        c.got_provisional = false;
        let peer = c.invite_peer;
        let id = self.send(now, bytes, peer, Purpose::Invite(h))?;
        if let Some(c) = self.calls.get_mut(&h) {
            c.invite_txn = Some(id);
        }
        Ok(())
    }

    /// A response for one of our client transactions.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        id: crate::transaction::TxnId,
        msg: &Message<'_>,
    ) {
        let Some(p) = self.purposes.get(&id).cloned() else {
            return;
        };
        let code = msg.status().unwrap_or(0);
        match p {
            Purpose::Invite(h) => self.on_invite_response(now, h, msg),
            Purpose::Cancel(_) | Purpose::ByeStray => {}
            Purpose::Bye(h) if code >= 200 => self.end(h, EndReason::LocalBye),
            Purpose::Bye(_) => {}
            Purpose::Reinvite(h) => self.on_reinvite_response(now, h, msg),
            Purpose::InDialog(h, method) if code >= 200 => {
                self.events.push_back(UaEvent::DialogResponse {
                    call: h,
                    method,
                    code,
                });
                if code == 481 || code == 408 {
                    self.end(h, EndReason::DialogGone(code));
                }
            }
            Purpose::InDialog(..) => {}
            Purpose::Register(r, seq) => self.on_register_response(now, r, seq, msg),
            Purpose::Subscribe(s, seq) => self.on_subscribe_response(now, s, seq, msg),
            Purpose::Ping(p) if code >= 200 => self.on_ping_result(now, p, Some(code)),
            Purpose::Keepalive(r) => self.on_keepalive_response(now, r, msg),
            Purpose::Ping(_) | Purpose::Prack => {}
            Purpose::Refresh(h) => self.on_refresh_response(now, h, msg),
            Purpose::Refer(h) if code >= 200 => self.on_refer_response(h, code),
            Purpose::Refer(_) | Purpose::ReferNotify(_) => {}
        }
    }

    /// A client transaction timed out or its transport failed: the TU sees 408 (§8.1.3.1).
    pub(super) fn on_client_failure(&mut self, now: Instant, p: Purpose) {
        match p {
            Purpose::Invite(h) => {
                if let Some(c) = self.calls.get_mut(&h) {
                    c.invite_txn = None;
                }
                if self.calls.get(&h).is_some_and(|c| c.cancelled) {
                    self.end(h, EndReason::Cancelled);
                } else if !self.try_alternate(now, h) && !self.try_next_target(now, h) {
                    self.end(h, EndReason::Timeout);
                }
            }
            Purpose::Bye(h) => self.end(h, EndReason::LocalBye),
            Purpose::Reinvite(h) => {
                if let Some(c) = self.calls.get_mut(&h) {
                    c.out_reinvite = None;
                }
                let _ = self.send_bye(now, h);
                self.end(h, EndReason::Timeout);
            }
            Purpose::InDialog(h, method) => {
                self.events.push_back(UaEvent::DialogResponse {
                    call: h,
                    method,
                    code: 408,
                });
                self.end(h, EndReason::DialogGone(408));
            }
            Purpose::Register(r, seq) => self.register_txn_failed(now, r, seq),
            Purpose::Subscribe(s, seq) => self.subscribe_txn_failed(now, s, seq),
            Purpose::Ping(p) => self.on_ping_result(now, p, None),
            Purpose::Keepalive(r) => self.keepalive_failed(now, r),
            Purpose::Cancel(_) | Purpose::ByeStray | Purpose::Prack => {}
            Purpose::Refer(h) => self.on_refer_response(h, 408),
            Purpose::ReferNotify(_) => {}
            Purpose::Refresh(h) => {
                // RFC 4028 §10: no answer to our refresh ends the session with a BYE.
                let _ = self.send_bye(now, h);
                self.end(h, EndReason::DialogGone(408));
            }
        }
    }

    fn on_invite_response(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let code = msg.status().unwrap_or(0);
        if code >= 200
            && code != 401
            && code != 407
            && self.calls.get(&h).is_some_and(|c| c.auth.is_some())
            && let Some(a) = self.auth.as_mut()
        {
            a.accepted();
        }
        match code {
            100..=199 => self.on_provisional(now, h, msg),
            200..=299 => self.on_invite_2xx(now, h, msg),
            _ => self.on_invite_failure(now, h, msg),
        }
    }

    fn on_provisional(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let code = msg.status().unwrap_or(100);
        let max_early = self.cfg.max_early_dialogs;
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if code > 100
            && let Some(tag) = msg.to().and_then(|t| t.tag())
            && !c.dialogs.iter().any(|d| d.id().remote_tag == tag)
            && c.dialogs.len() >= max_early
        {
            tracing::debug!("ignoring a {code} with a new To tag: {max_early} early dialogs");
            return;
        }
        let reliable = if code > 100 && super::prack::requires_100rel(msg) {
            // RFC 3262 §4: taken once, in order; anything else is dropped unseen.
            match self.take_rseq(h, msg) {
                Some(r) => Some(r),
                None => return,
            }
        } else {
            None
        };
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        c.got_provisional = true;
        if code > 100
            && let Some(tag) = msg.to().and_then(|t| t.tag())
        {
            match c.dialogs.iter_mut().find(|d| d.id().remote_tag == tag) {
                Some(d) => d.on_uac_response(msg, false),
                None => {
                    if let Ok(inv) = Message::parse(&c.invite)
                        && let Ok(d) = Dialog::uac(&inv, msg)
                    {
                        c.dialogs.push(d);
                    }
                }
            }
        }
        if let (Some(r), Some(tag)) = (reliable, msg.to().and_then(|t| t.tag()))
            && let Err(e) = self.send_prack(now, h, tag, r)
        {
            tracing::debug!("PRACK not sent: {e}");
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        if c.cancel_pending {
            c.cancel_pending = false;
            let _ = self.send_cancel(now, h);
        }
        if code > 100 {
            let body = msg.body();
            self.events.push_back(UaEvent::Progress {
                call: h,
                code,
                sdp: (!body.is_empty()).then(|| body.to_vec()),
            });
        }
    }

    /// A 2xx to the INVITE (§13.2.2.4): the dialog is confirmed and the UA sends the ACK
    /// itself. A 2xx from a second fork is ACKed and then ended with BYE; a 2xx after we
    /// sent CANCEL (the CANCEL/200 race, §9.1) too.
    fn on_invite_2xx(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let Some(tag) = msg.to().and_then(|t| t.tag()).map(str::to_owned) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let seq = msg.cseq().map_or(c.cseq, |s| s.seq);
        if let Some((_, _, ack, to)) = c.acks.iter().find(|(t, s, _, _)| *t == tag && *s == seq) {
            // A retransmission of a 2xx we ACKed: ACK again (§13.2.2.4).
            self.transmits.push_back(crate::transaction::Transmit {
                to: *to,
                bytes: ack.clone(),
            });
            return;
        }
        let idx = match c.dialogs.iter().position(|d| d.id().remote_tag == tag) {
            Some(i) => {
                c.dialogs[i].on_uac_response(msg, false);
                i
            }
            None if c.dialogs.len() > self.cfg.max_early_dialogs => {
                // Every fork's 2xx is acknowledged and ended (§13.2.2.4), but each costs a
                // dialog, an ACK kept for its retransmissions and a BYE transaction: past
                // the early-dialog bound plus the answer, a new To tag is not taken (its
                // UAS gives up after 64*T1, §13.3.1.4).
                tracing::debug!(
                    "ignoring a 2xx with a new To tag: {} dialogs",
                    c.dialogs.len()
                );
                return;
            }
            None => {
                let Ok(inv) = Message::parse(&c.invite) else {
                    return;
                };
                match Dialog::uac(&inv, msg) {
                    Ok(d) => {
                        c.dialogs.push(d);
                        c.dialogs.len() - 1
                    }
                    Err(e) => {
                        tracing::debug!("2xx makes no dialog: {e}");
                        return;
                    }
                }
            }
        };
        let extra = c.confirmed.is_some() || c.cancelled || c.state != CallState::Proceeding;
        let d = c.dialogs[idx].clone();
        if let Err(e) = self.send_ack(h, &d, seq) {
            tracing::debug!("ACK not sent: {e}");
            return;
        }
        if extra {
            // Another fork, or the CANCEL/200 race: end this dialog (§13.2.2.4, §15).
            let _ = self.send_dialog_bye(now, &d, super::Purpose::ByeStray);
            if let Some(c) = self.calls.get_mut(&h) {
                c.dialogs[idx].terminate();
            }
            if self
                .calls
                .get(&h)
                .is_some_and(|c| c.cancelled && c.confirmed.is_none())
            {
                self.end(h, EndReason::Cancelled);
            }
            return;
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        c.confirmed = Some(idx);
        c.state = CallState::Confirmed;
        c.peer_update = super::session_timer::allows_update(msg);
        if self.cfg.session_timer.is_some()
            && let Some((secs, refresher)) = super::session_timer::session_expires(msg)
        {
            // RFC 4028 §7.2: the UAS says who refreshes; we, the UAC, unless it is "uas".
            let who = match refresher {
                Some(r) if r.eq_ignore_ascii_case("uas") => super::session_timer::Refresher::Them,
                _ => super::session_timer::Refresher::Us,
            };
            c.timer = Some(super::session_timer::SessionTimer::armed(now, secs, who));
        }
        for (i, d) in c.dialogs.iter_mut().enumerate() {
            if i != idx && d.state() == crate::dialog::DialogState::Early {
                d.terminate();
            }
        }
        self.events.push_back(UaEvent::Answered {
            call: h,
            sdp: msg.body().to_vec(),
        });
    }

    /// Resends the ACK remembered for this 2xx (same remote tag and CSeq), if any.
    fn ack_again(&mut self, h: CallHandle, msg: &Message<'_>) -> bool {
        let (Some(tag), Some(seq)) = (msg.to().and_then(|t| t.tag()), msg.cseq().map(|c| c.seq))
        else {
            return false;
        };
        let Some(c) = self.calls.get(&h) else {
            return false;
        };
        let Some((_, _, ack, to)) = c.acks.iter().find(|(t, s, _, _)| t == tag && *s == seq) else {
            return false;
        };
        self.transmits.push_back(crate::transaction::Transmit {
            to: *to,
            bytes: ack.clone(),
        });
        true
    }

    /// Builds and sends the ACK for a 2xx (§13.2.2.4): a new branch, the INVITE's CSeq
    /// number, the dialog's route set; remembered for 2xx retransmissions.
    fn send_ack(&mut self, h: CallHandle, d: &Dialog, seq: u32) -> Result<(), UaError> {
        let to = self.dialog_peer(d)?;
        let via = self.via(to.transport);
        let auth = self.calls.get(&h).and_then(|c| c.auth.clone());
        let mut b = d.request(Method::Ack, seq, &via)?;
        if let Some((n, v)) = auth {
            b = b.header(n, v);
        }
        let bytes: std::sync::Arc<[u8]> = b.finish().into();
        if let Some(c) = self.calls.get_mut(&h) {
            // Only the latest 2xx of a dialog can still be retransmitted to us (an earlier
            // INVITE's was ACKed before the next could be sent): keep one ACK per dialog.
            let tag = &d.id().remote_tag;
            c.acks.retain(|(t, s, _, _)| t != tag || *s > seq);
            c.acks.push((tag.clone(), seq, bytes.clone(), to));
        }
        self.transmits
            .push_back(crate::transaction::Transmit { to, bytes });
        Ok(())
    }

    fn send_dialog_bye(&mut self, now: Instant, d: &Dialog, p: Purpose) -> Result<(), UaError> {
        let mut d = d.clone();
        let seq = d.next_local_seq(1);
        let to = self.dialog_peer(&d)?;
        let via = self.via(to.transport);
        let bytes = d.request(Method::Bye, seq, &via)?.finish();
        self.send(now, bytes, to, p)?;
        Ok(())
    }

    fn on_invite_failure(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let code = msg.status().unwrap_or(500);
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        c.invite_txn = None;
        for d in &mut c.dialogs {
            d.terminate();
        }
        c.dialogs.clear();
        if c.cancelled {
            self.end(h, EndReason::Cancelled);
            return;
        }
        // RFC 3263 §4.3: a 503 sends the request to the next place the hop resolved to.
        if code == 503 && self.try_alternate(now, h) {
            return;
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        match code {
            // RFC 3263 §4.3: a 503 sends the request to the next place the hop resolved to.
            // RFC 4028 §7.4: the interval was too small; once more with the peer's Min-SE.
            422 if super::session_timer::min_se(msg).is_some_and(|m| m > c.se_asked) => {
                c.se_asked = super::session_timer::min_se(msg).unwrap_or(c.se_asked);
                c.cseq += 1;
                if self.send_invite(now, h).is_err() {
                    self.end(
                        h,
                        EndReason::Failed {
                            code,
                            retry_after: None,
                        },
                    );
                }
            }
            401 | 407 => {
                let Some(ch) = challenge(msg) else {
                    self.end(h, EndReason::AuthFailed(code));
                    return;
                };
                // Once per challenge (§22.2): a second challenge for a realm we answered
                // means the credentials are wrong, unless the nonce was only stale.
                let again = c.answered_realms.contains(&ch.realm) && !ch.stale;
                let first = c.tried.first().cloned().unwrap_or_default();
                let moved =
                    c.redirects > 0 && !super::credentials_may_follow(&self.cfg, &first, &c.target);
                let Some(c) = self.calls.get_mut(&h) else {
                    return;
                };
                let answer = if again || moved {
                    None
                } else {
                    let (target, sdp) = (c.target.clone(), c.sdp.clone());
                    self.auth
                        .as_mut()
                        .and_then(|a| a.answer(&ch, "INVITE", &target, &sdp))
                };
                let Some(value) = answer else {
                    self.end(h, EndReason::AuthFailed(code));
                    return;
                };
                let Some(c) = self.calls.get_mut(&h) else {
                    return;
                };
                c.answered_realms.push(ch.realm.clone());
                c.auth = Some((ch.answer_header(), value));
                c.cseq += 1;
                if self.send_invite(now, h).is_err() {
                    self.end(h, EndReason::AuthFailed(code));
                }
            }
            300..=399 => {
                for t in redirect_targets(msg) {
                    if !c.tried.contains(&t) && !c.targets.contains(&t) {
                        c.targets.push(t);
                    }
                }
                if !self.try_next_target(now, h) {
                    let reason = if self
                        .calls
                        .get(&h)
                        .is_some_and(|c| c.redirects >= self.cfg.max_redirects)
                    {
                        EndReason::TooManyRedirects
                    } else {
                        EndReason::Failed {
                            code,
                            retry_after: None,
                        }
                    };
                    self.end(h, reason);
                }
            }
            // 6xx: no other target is tried (§21.6).
            600..=699 => self.end(
                h,
                EndReason::Failed {
                    code,
                    retry_after: retry_after(msg),
                },
            ),
            _ => {
                if !self.try_next_target(now, h) {
                    self.end(
                        h,
                        EndReason::Failed {
                            code,
                            retry_after: retry_after(msg),
                        },
                    );
                }
            }
        }
    }

    /// Sends the INVITE to the next untried redirect target in q order (§8.1.3.4): the
    /// same Call-ID and From tag, a higher CSeq. `false` when there is none, or the cap on
    /// redirects is reached.
    fn try_next_target(&mut self, now: Instant, h: CallHandle) -> bool {
        let cap = self.cfg.max_redirects;
        loop {
            let Some(c) = self.calls.get_mut(&h) else {
                return false;
            };
            if c.targets.is_empty() || c.redirects >= cap {
                return false;
            }
            let t = c.targets.remove(0);
            if c.tried.contains(&t) {
                continue; // a loop back to a target already tried
            }
            if !self.cfg.redirect.permits(&t, &self.cfg.hosts) {
                self.foreign(format_args!(
                    "redirect to {t} (not a configured or allowed host)"
                ));
                continue;
            }
            let mut peers = self.initial_peers(now, &t);
            if peers.is_empty() {
                continue;
            }
            let peer = peers.remove(0);
            let Some(c) = self.calls.get_mut(&h) else {
                return false;
            };
            c.alternates = peers;
            c.tried.push(t.clone());
            c.redirects += 1;
            c.target = t.clone();
            c.invite_peer = peer;
            c.cseq += 1;
            c.auth = None;
            c.answered_realms.clear();
            self.events
                .push_back(UaEvent::Redirected { call: h, target: t });
            if self.send_invite(now, h).is_ok() {
                return true;
            }
        }
    }

    /// CANCEL for our INVITE (§9.1): the same Request-URI, Call-ID, From, To, Route and
    /// top Via as the INVITE, CSeq method CANCEL.
    fn send_cancel(&mut self, now: Instant, h: CallHandle) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        let (invite, cseq, peer) = (c.invite.clone(), c.cseq, c.invite_peer);
        let inv = Message::parse(&invite).map_err(|_| UaError::NoCall)?;
        let uri = inv.request_uri().ok_or(UaError::NoCall)?;
        let mut b = MessageBuilder::request(Method::Cancel, uri);
        for hd in inv.headers() {
            match hd.kind {
                HeaderName::Via
                | HeaderName::Route
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::MaxForwards => b = b.header(hd.kind, hd.value),
                _ => {}
            }
        }
        let bytes = b.cseq(cseq, Method::Cancel).finish();
        self.send(now, bytes, peer, Purpose::Cancel(h))?;
        // §9.1: the INVITE should end with 487 soon; if it never does, give up after
        // 64*T1 as Timer C would, so the call cannot stay in Proceeding for ever.
        let give_up = now + self.cfg.timers.t1 * 64;
        if let Some(c) = self.calls.get_mut(&h) {
            c.cancel_give_up = Some(give_up);
        }
        Ok(())
    }

    /// Ends a call in whatever state it is: CANCEL before the answer (held back until a
    /// provisional response arrived, §9.1), BYE once confirmed, 480 for an unanswered
    /// incoming call.
    pub fn hangup(&mut self, now: Instant, h: CallHandle) -> Result<(), UaError> {
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let r = match (c.role, c.state) {
            (_, CallState::Terminated | CallState::Terminating) => Err(UaError::State(c.state)),
            (Role::Uac, CallState::Proceeding) => {
                c.cancelled = true;
                if c.got_provisional {
                    self.send_cancel(now, h)
                } else {
                    c.cancel_pending = true;
                    Ok(())
                }
            }
            (Role::Uas, CallState::Proceeding) => self.reject(now, h, 480),
            (_, CallState::Answered | CallState::Confirmed) => self.send_bye(now, h),
        };
        self.pump(now);
        r
    }

    /// BYE in the confirmed dialog (§15.1.1). The call changes state only once the BYE
    /// is sent: when it cannot be (no route to the peer), the call stays as it was.
    pub(super) fn send_bye(&mut self, now: Instant, h: CallHandle) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        let to = self.dialog_peer(c.dialog().ok_or(UaError::State(c.state))?)?;
        let via = self.via(to.transport);
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let state = c.state;
        let d = c.dialog_mut().ok_or(UaError::State(state))?;
        let seq = d.next_local_seq(1);
        let bytes = d.request(Method::Bye, seq, &via)?.finish();
        self.send(now, bytes, to, Purpose::Bye(h))?;
        if let Some(c) = self.calls.get_mut(&h) {
            c.pending_ok = None;
            c.state = CallState::Terminating;
        }
        Ok(())
    }

    /// Sends a re-INVITE with a new offer (hold, unhold, media change, §14.1).
    pub fn reinvite(&mut self, now: Instant, h: CallHandle, sdp: Vec<u8>) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        if c.state != CallState::Confirmed {
            return Err(UaError::State(c.state));
        }
        if c.out_reinvite.is_some() || c.in_reinvite.is_some() || c.pending_ok.is_some() {
            return Err(UaError::Pending);
        }
        let to = self.dialog_peer(c.dialog().ok_or(UaError::NoCall)?)?;
        let (via, contact) = (self.via(to.transport), self.contact(to.transport));
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let d = c.dialog_mut().ok_or(UaError::NoCall)?;
        let seq = d.next_local_seq(1);
        let bytes = d
            .request(Method::Invite, seq, &via)?
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Allow, super::ALLOW)
            .body("application/sdp", &sdp);
        // Only a re-INVITE actually sent is outstanding (§14.1); a failed one leaves the
        // call free for the next.
        self.send(now, bytes, to, Purpose::Reinvite(h))?;
        if let Some(c) = self.calls.get_mut(&h) {
            c.glare_retry = None;
            c.out_reinvite = Some(OutReinvite {
                seq,
                sdp,
                refresh: false,
            });
        }
        Ok(())
    }

    fn on_reinvite_response(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let code = msg.status().unwrap_or(0);
        if code < 200 {
            return;
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let Some(out) = c.out_reinvite.take() else {
            // A retransmitted 2xx whose ACK was lost: ACK again (§13.2.2.4 holds for
            // re-INVITEs too).
            if (200..=299).contains(&code) {
                self.ack_again(h, msg);
            }
            return;
        };
        match code {
            200..=299 => {
                let Some(d) = c.dialog_mut() else {
                    return;
                };
                d.on_uac_response(msg, true);
                let d = d.clone();
                let _ = self.send_ack(h, &d, out.seq);
                if out.refresh {
                    self.refreshed(now, h, msg);
                } else {
                    self.events.push_back(UaEvent::ReinviteDone {
                        call: h,
                        sdp: msg.body().to_vec(),
                    });
                }
            }
            // A refresh that failed (RFC 4028 §10): the session goes on until it expires
            // (481 and 408 end the dialog below as for any re-INVITE).
            _ if out.refresh && code != 481 && code != 408 => {}
            491 => {
                // §14.1: the Call-ID owner waits 2.1-4 s, the other side 0-2 s, in units
                // of 10 ms, then tries again if still wanted.
                let units = self.rand() % 200;
                let Some(c) = self.calls.get_mut(&h) else {
                    return;
                };
                let ms = match c.role {
                    Role::Uac => 2100 + (units % 191) * 10,
                    Role::Uas => units * 10,
                };
                c.glare_retry = Some((now + Duration::from_millis(ms), out.sdp));
                self.events
                    .push_back(UaEvent::ReinviteFailed { call: h, code });
            }
            481 | 408 => {
                self.events
                    .push_back(UaEvent::ReinviteFailed { call: h, code });
                self.end(h, EndReason::DialogGone(code));
            }
            _ => self
                .events
                .push_back(UaEvent::ReinviteFailed { call: h, code }),
        }
    }

    /// Sends OPTIONS or INFO inside the call's dialog (§11, RFC 6086); the final response
    /// comes back as [`UaEvent::DialogResponse`].
    pub fn request_in_dialog(
        &mut self,
        now: Instant,
        h: CallHandle,
        method: Method<'_>,
        body: Option<(&str, &[u8])>,
    ) -> Result<(), UaError> {
        let purpose = Purpose::InDialog(h, method.as_str().to_owned());
        self.send_in_dialog(now, h, method, &[], body, purpose)
    }

    /// A request in the call's confirmed dialog with `headers` and `body`, sent for
    /// `purpose`.
    pub(super) fn send_in_dialog(
        &mut self,
        now: Instant,
        h: CallHandle,
        method: Method<'_>,
        headers: &[(&str, String)],
        body: Option<(&str, &[u8])>,
        purpose: Purpose,
    ) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        let to = self.dialog_peer(c.dialog().ok_or(UaError::State(c.state))?)?;
        let via = self.via(to.transport);
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let state = c.state;
        let d = c.dialog_mut().ok_or(UaError::State(state))?;
        let seq = d.next_local_seq(1);
        let mut b = d.request(method, seq, &via)?;
        for (name, value) in headers {
            b = b.raw_header(name, value);
        }
        let bytes = match body {
            Some((ct, b2)) => b.body(ct, b2),
            None => b.finish(),
        };
        self.send(now, bytes, to, purpose)?;
        Ok(())
    }

    /// A response no transaction matched: a 2xx retransmission after Timer M; ACK it again
    /// if we know its dialog (§13.2.2.4).
    pub(super) fn on_stray_response(&mut self, msg: &Message<'_>) {
        if !msg.status().is_some_and(|c| (200..=299).contains(&c)) {
            return;
        }
        let Some(id) = DialogId::of_response(msg) else {
            return;
        };
        let seq = msg.cseq().map(|c| c.seq);
        for c in self.calls.values() {
            if c.call_id != id.call_id || c.local_tag != id.local_tag {
                continue;
            }
            if let Some((_, _, ack, to)) = c
                .acks
                .iter()
                .find(|(t, s, _, _)| *t == id.remote_tag && Some(*s) == seq)
            {
                self.transmits.push_back(crate::transaction::Transmit {
                    to: *to,
                    bytes: ack.clone(),
                });
                return;
            }
        }
    }
}
