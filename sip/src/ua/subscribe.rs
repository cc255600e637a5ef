//! The SUBSCRIBE client (RFC 6665 §4.1) and the NOTIFYs that come back (§4.1.3): a
//! subscription to one event package at one resource, refreshed inside its dialog before
//! it lapses, started afresh with back-off when it fails or the notifier ends it, removed
//! (Expires: 0) on shutdown. Challenges are answered once (RFC 3261 §22.2), 423 retried
//! with Min-Expires.
//!
//! NOTIFYs in a subscription's dialog (matched by Call-ID and our tag) are answered 200 and
//! reported; an out-of-dialog NOTIFY (the "unsolicited" message-summary many voicemail
//! servers send, RFC 3842 §3) is answered 200 for `message-summary` and 489 Bad Event for
//! any other package. Who may send one is not decided here: the UA's user screens NOTIFYs
//! by source before handing them over.

use super::attempts::Attempts;
use super::register::refresh_after;
use super::response::{min_expires, retry_after};
use super::{Purpose, Ua, UaError, UaEvent};
use crate::MessageBuilder;
use crate::dialog::Dialog;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::{Peer, TxnId};
use std::time::{Duration, Instant};

/// The event package of message-waiting indication (RFC 3842).
pub const MESSAGE_SUMMARY: &str = "message-summary";

/// A handle on one subscription of a [`Ua`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubHandle(pub u64);

/// What to subscribe to.
#[derive(Debug, Clone)]
pub struct SubscribeConfig {
    /// The resource: Request-URI and To of the first SUBSCRIBE (for `message-summary`
    /// the account's address-of-record, RFC 3842 §3).
    pub resource: String,
    /// Our From: the subscriber's address-of-record.
    pub from: String,
    /// The event package (`Event`).
    pub event: String,
    /// The body type asked for (`Accept`).
    pub accept: String,
    /// Requested duration, seconds.
    pub expires: u32,
    /// Where the first SUBSCRIBE goes instead of the resource's host (the account's
    /// proxy); refreshes follow the dialog.
    pub next_hop: Option<Peer>,
    /// First wait after a failure, doubled per failure up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl SubscribeConfig {
    /// Message-waiting indication for `aor` (RFC 3842): one hour, back-off 30 s to 30 min.
    pub fn message_summary(aor: &str) -> Self {
        SubscribeConfig {
            resource: aor.to_owned(),
            from: aor.to_owned(),
            event: MESSAGE_SUMMARY.to_owned(),
            accept: "application/simple-message-summary".to_owned(),
            expires: 3600,
            next_hop: None,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(1800),
        }
    }
}

/// The subscription's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// A SUBSCRIBE is outstanding.
    Subscribing,
    /// Accepted; refreshed before it lapses.
    Active,
    /// The last attempt failed or the notifier ended it; a new one is due later.
    Failed,
    /// The removing SUBSCRIBE (Expires: 0) is outstanding.
    Unsubscribing,
    /// Removed.
    Ended,
}

#[derive(Debug)]
pub(crate) struct Subscription {
    cfg: SubscribeConfig,
    pub state: SubState,
    peer: Peer,
    call_id: String,
    local_tag: String,
    cseq: u32,
    expires: u32,
    /// Made by the first 2xx; refreshes go inside it.
    dialog: Option<Dialog>,
    /// The last out-of-dialog SUBSCRIBE (its dialog is made from it and the 2xx).
    request: Vec<u8>,
    next: Option<Instant>,
    attempts: Attempts,
    removing: bool,
    /// The CSeq of the SUBSCRIBE outstanding: answers to an earlier one are ignored.
    pending: Option<u32>,
}

impl Subscription {
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

impl Ua {
    /// Starts a subscription (sends the first SUBSCRIBE now).
    pub fn subscribe(&mut self, now: Instant, cfg: SubscribeConfig) -> Result<SubHandle, UaError> {
        let peer = match cfg.next_hop.or(self.cfg.outbound_proxy) {
            Some(p) => p,
            None => self
                .peer_of(&cfg.resource)
                .ok_or_else(|| UaError::Uri(cfg.resource.clone()))?,
        };
        for u in [&cfg.resource, &cfg.from] {
            crate::Uri::parse(u).map_err(|_| UaError::Uri(u.clone()))?;
        }
        let h = SubHandle(self.next_call);
        self.next_call += 1;
        let s = Subscription {
            attempts: Attempts::new(cfg.backoff, cfg.max_backoff),
            state: SubState::Subscribing,
            peer,
            call_id: self.new_call_id(),
            local_tag: self.token(),
            cseq: self.initial_cseq(),
            expires: cfg.expires,
            cfg,
            dialog: None,
            request: Vec::new(),
            next: None,
            removing: false,
            pending: None,
        };
        self.subs.insert(h, s);
        self.send_subscribe(now, h)?;
        Ok(h)
    }

    /// The subscription's state.
    pub fn sub_state(&self, h: SubHandle) -> Option<SubState> {
        self.subs.get(&h).map(|s| s.state)
    }

    /// Ends the subscription (SUBSCRIBE with Expires: 0 in its dialog, RFC 6665 §4.1.2.3);
    /// one without a dialog is just forgotten.
    pub fn unsubscribe(&mut self, now: Instant, h: SubHandle) -> Result<(), UaError> {
        let s = self.subs.get_mut(&h).ok_or(UaError::NoCall)?;
        s.removing = true;
        s.next = None;
        if s.dialog.is_none() {
            s.state = SubState::Ended;
            self.subs.remove(&h);
            return Ok(());
        }
        s.state = SubState::Unsubscribing;
        s.cseq += 1;
        self.send_subscribe(now, h)
    }

    /// Sends the subscription's SUBSCRIBE: the first out of any dialog, refreshes and the
    /// removal inside the dialog (its Request-URI and Route). Every one goes to the first
    /// one's next hop (the account's proxy or the configured server), never to an address
    /// the notifier's Contact names: a notifier cannot aim our requests elsewhere.
    fn send_subscribe(&mut self, now: Instant, h: SubHandle) -> Result<(), UaError> {
        let t = self.subs.get(&h).ok_or(UaError::NoCall)?.peer.transport;
        let (via, contact) = (self.via(t), self.contact(t));
        let s = self.subs.get_mut(&h).ok_or(UaError::NoCall)?;
        let expires = if s.removing { 0 } else { s.expires };
        let peer = s.peer;
        let mut b = match &s.dialog {
            Some(d) => d.request(Method::Subscribe, s.cseq, &via)?,
            None => {
                let uri = crate::Uri::parse(&s.cfg.resource)
                    .map_err(|_| UaError::Uri(s.cfg.resource.clone()))?;
                MessageBuilder::request(Method::Subscribe, &uri)
                    .header(HeaderName::Via, &via)
                    .max_forwards(70)
                    .header(
                        HeaderName::From,
                        format!("<{}>;tag={}", s.cfg.from, s.local_tag),
                    )
                    .header(HeaderName::To, format!("<{}>", s.cfg.resource))
                    .call_id(&s.call_id)
                    .cseq(s.cseq, Method::Subscribe)
            }
        };
        b = b
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Event, &s.cfg.event)
            .header(HeaderName::Accept, &s.cfg.accept)
            .header(HeaderName::Expires, expires)
            .header(HeaderName::Allow, super::ALLOW);
        if let Some((n, v)) = &s.attempts.auth {
            b = b.header(*n, v);
        }
        let bytes = b.finish();
        if s.dialog.is_none() {
            s.request = bytes.clone();
        }
        let seq = s.cseq;
        self.send(now, bytes, peer, Purpose::Subscribe(h, seq))?;
        if let Some(s) = self.subs.get_mut(&h) {
            s.pending = Some(seq);
        }
        Ok(())
    }

    /// The final response to the SUBSCRIBE with CSeq `seq`.
    pub(super) fn on_subscribe_response(
        &mut self,
        now: Instant,
        h: SubHandle,
        seq: u32,
        msg: &Message<'_>,
    ) {
        let code = msg.status().unwrap_or(0);
        if code < 200 {
            return;
        }
        let Some(s) = self.subs.get_mut(&h) else {
            return;
        };
        if s.pending != Some(seq) {
            return;
        }
        s.pending = None;
        match code {
            200..=299 => {
                s.attempts.succeeded(self.auth.as_deref_mut());
                if s.removing {
                    s.state = SubState::Ended;
                    self.subs.remove(&h);
                    return;
                }
                match &mut s.dialog {
                    Some(d) => d.on_uac_response(msg, true),
                    None => {
                        s.dialog = Message::parse(&s.request)
                            .ok()
                            .and_then(|req| Dialog::uac(&req, msg).ok());
                    }
                }
                // §4.1.2.1: the notifier may shorten the duration, never lengthen it.
                let granted = msg.expires().unwrap_or(s.expires).min(s.expires);
                s.state = SubState::Active;
                s.next = Some(now + refresh_after(granted));
                s.cseq += 1;
                self.events.push_back(UaEvent::Subscribed {
                    sub: h,
                    expires: granted,
                });
            }
            401 | 407 => {
                let target = match &s.dialog {
                    Some(d) => d.request_target().map(|t| t.0).ok(),
                    None => Some(s.cfg.resource.clone()),
                };
                let answered = target.is_some_and(|t| {
                    s.attempts
                        .answer(msg, self.auth.as_deref_mut(), "SUBSCRIBE", &t)
                });
                if answered {
                    s.cseq += 1;
                    let _ = self.send_subscribe(now, h);
                } else {
                    self.subscribe_failed(now, h, code, None);
                }
            }
            423 => match min_expires(msg) {
                Some(m) if m > s.expires => {
                    s.expires = m;
                    s.cseq += 1;
                    let _ = self.send_subscribe(now, h);
                }
                _ => self.subscribe_failed(now, h, code, None),
            },
            _ => {
                let ra = retry_after(msg);
                self.subscribe_failed(now, h, code, ra);
            }
        }
    }

    /// The SUBSCRIBE with CSeq `seq` got no answer (408) or its transport failed.
    pub(super) fn subscribe_txn_failed(&mut self, now: Instant, h: SubHandle, seq: u32) {
        let Some(s) = self.subs.get_mut(&h) else {
            return;
        };
        if s.pending != Some(seq) {
            return;
        }
        s.pending = None;
        self.subscribe_failed(now, h, 408, None);
    }

    /// A failed attempt, or a subscription the notifier ended: a new subscription (new
    /// dialog, RFC 6665 §4.1.2.4) after the back-off or Retry-After.
    fn subscribe_failed(&mut self, now: Instant, h: SubHandle, code: u16, retry: Option<u32>) {
        let (call_id, tag) = (self.new_call_id(), self.token());
        let Some(s) = self.subs.get_mut(&h) else {
            return;
        };
        if s.removing {
            s.state = SubState::Ended;
            self.subs.remove(&h);
            return;
        }
        let wait = s.attempts.failed(retry);
        s.state = SubState::Failed;
        s.next = Some(now + wait);
        s.dialog = None;
        s.call_id = call_id;
        s.local_tag = tag;
        s.cseq += 1;
        self.events.push_back(UaEvent::SubscriptionFailed {
            sub: h,
            code,
            retry_in: wait,
        });
    }

    pub(super) fn sub_timers(&mut self, now: Instant) {
        let due: Vec<SubHandle> = self
            .subs
            .iter()
            .filter(|(_, s)| s.next.is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            if let Some(s) = self.subs.get_mut(&h) {
                s.next = None;
                s.state = SubState::Subscribing;
                if self.send_subscribe(now, h).is_err() {
                    self.subscribe_failed(now, h, 503, None);
                }
            }
        }
    }

    /// A NOTIFY (in or out of a dialog): answered here, reported when it is ours.
    pub(super) fn on_notify(&mut self, now: Instant, id: TxnId, msg: &Message<'_>) {
        let event = msg
            .header("Event")
            .map(|h| package(h.value).to_ascii_lowercase());
        let Some(event) = event else {
            // RFC 6665 §8.2.1: Event is mandatory.
            return self.respond_plain(now, id, msg, 400, None);
        };
        let to_tag = msg.to().and_then(|t| t.tag()).map(str::to_owned);
        let call_id = msg.call_id().unwrap_or("");
        let ours = self
            .subs
            .iter()
            .find(|(_, s)| {
                s.call_id == call_id
                    && to_tag.as_deref() == Some(s.local_tag.as_str())
                    && s.cfg.event.eq_ignore_ascii_case(&event)
            })
            .map(|(h, _)| *h);
        let sub = match (ours, &to_tag) {
            (Some(h), _) => Some(h),
            (None, None) if event == MESSAGE_SUMMARY => None,
            (None, None) => return self.respond_plain(now, id, msg, 489, None),
            (None, Some(_)) => return self.respond_plain(now, id, msg, 481, None),
        };
        let own_tag = to_tag.is_none().then(|| self.token());
        self.respond_plain(now, id, msg, 200, own_tag.as_deref());
        if let Some(h) = sub {
            self.notified_state(now, h, msg);
        }
        self.events.push_back(UaEvent::Notified {
            sub,
            event,
            request_uri: msg.request_uri().map(|u| u.to_string()).unwrap_or_default(),
            body: msg.body().to_vec(),
        });
    }

    /// Subscription-State of a NOTIFY in subscription `h` (RFC 6665 §4.1.3): `terminated`
    /// ends it (a new one follows after `retry-after` or the back-off, §4.1.3's reasons
    /// `noresource`/`rejected` too: the server may come back); `active` with a shorter
    /// `expires` brings the refresh forward.
    fn notified_state(&mut self, now: Instant, h: SubHandle, msg: &Message<'_>) {
        let Some(state) = msg.header("Subscription-State").map(|h| h.value) else {
            return;
        };
        let mut parts = state.split(';').map(str::trim);
        let value = parts.next().unwrap_or("").to_ascii_lowercase();
        let param = |name: &str| -> Option<u32> {
            state
                .split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.trim().parse().ok())
        };
        match value.as_str() {
            "terminated" if self.subs.get(&h).is_some_and(|s| !s.removing) => {
                self.subscribe_failed(now, h, 0, param("retry-after"));
            }
            "active" | "pending" => {
                if let (Some(s), Some(e)) = (self.subs.get_mut(&h), param("expires"))
                    && s.state == SubState::Active
                {
                    let at = now + refresh_after(e);
                    s.next = Some(s.next.map_or(at, |n| n.min(at)));
                }
            }
            _ => {}
        }
    }
}

/// The package of an Event value (`message-summary;id=1` → `message-summary`).
fn package(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}
