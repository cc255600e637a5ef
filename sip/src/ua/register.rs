//! The REGISTER client (RFC 3261 §10.2): a binding with an expiry, refreshed before it
//! lapses, re-registered with back-off after failures, removed on shutdown; 423 retried with
//! Min-Expires (§10.2.8), challenges answered once (§22.2), 3xx followed (§21.3).

use super::attempts::Attempts;
use super::response::{min_expires, redirect_targets, retry_after};
use super::{Purpose, Ua, UaError, UaEvent, uri_peer_in};
use crate::MessageBuilder;
use crate::header::{Contact, HeaderName, Method};
use crate::message::Message;
use crate::transaction::Peer;
use std::time::{Duration, Instant};

/// A handle on one registration of a [`Ua`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegHandle(pub u64);

/// What to register.
#[derive(Debug, Clone)]
pub struct RegisterConfig {
    /// The registrar's URI (the Request-URI, §10.2: no user part).
    pub registrar: String,
    /// The address-of-record (To and From, §10.2).
    pub aor: String,
    /// Requested expiry in seconds.
    pub expires: u32,
    /// First wait after a failure; doubled per failure up to `max_backoff`.
    pub backoff: Duration,
    /// Longest wait between failed attempts.
    pub max_backoff: Duration,
    /// What the Contact says behind a NAT.
    pub nat: super::nat::NatMode,
    /// Keepalives toward the registrar while registered.
    pub keepalive: Option<super::nat::Keepalive>,
}

impl RegisterConfig {
    /// One hour, back-off from 30 s to 30 min.
    pub fn new(registrar: &str, aor: &str) -> Self {
        RegisterConfig {
            registrar: registrar.to_owned(),
            aor: aor.to_owned(),
            expires: 3600,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(1800),
            nat: super::nat::NatMode::Registrar,
            keepalive: None,
        }
    }
}

/// The registration's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    /// A REGISTER is outstanding.
    Registering,
    /// Bound; refreshed at `refresh_at`.
    Registered,
    /// The last attempt failed; the next one is at the retry time.
    Failed,
    /// The removing REGISTER (Expires: 0) is outstanding.
    Unregistering,
    /// Removed (or given up).
    Unregistered,
}

/// One binding listed in a 2xx to REGISTER (§10.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI.
    pub uri: String,
    /// Its expiry in seconds, if the registrar gave one.
    pub expires: Option<u32>,
}

/// The shortest wait before another REGISTER (refresh or retry): a registrar granting 0 or
/// 1 s, or sending Retry-After: 0, must not drive the client into a tight loop.
pub const MIN_REGISTER_INTERVAL: Duration = Duration::from_secs(1);

/// The longest Retry-After a failed REGISTER is held to (§20.33): a forged or broken
/// `503 Retry-After: 4294967295` must not end registration for good.
pub const MAX_REGISTER_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// When to refresh a binding granted for `granted` seconds: well before it lapses (half way
/// for short bindings, one minute before for long ones), never sooner than
/// [`MIN_REGISTER_INTERVAL`].
pub fn refresh_after(granted: u32) -> Duration {
    let g = u64::from(granted);
    Duration::from_secs(if g > 120 { g - 60 } else { g / 2 }).max(MIN_REGISTER_INTERVAL)
}

#[derive(Debug)]
pub(crate) struct Registration {
    cfg: RegisterConfig,
    pub state: RegState,
    pub(super) target: String,
    pub(super) peer: Peer,
    /// The other places the registrar resolved to, in order (RFC 3263 §4.3).
    alternates: Vec<Peer>,
    call_id: String,
    local_tag: String,
    cseq: u32,
    expires: u32,
    pub(super) next: Option<Instant>,
    attempts: Attempts,
    tried: Vec<String>,
    redirects: u8,
    removing: bool,
    /// The CSeq of the REGISTER outstanding: responses to an earlier one (superseded by
    /// an unregister, say) are ignored.
    pub(super) pending: Option<u32>,
    pub(super) nat: super::nat::NatState,
}

impl Registration {
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

impl Ua {
    /// Starts registering (sends the first REGISTER now).
    pub fn register(&mut self, now: Instant, cfg: RegisterConfig) -> Result<RegHandle, UaError> {
        let mut peers = self.initial_peers(now, &cfg.registrar);
        if peers.is_empty() {
            return Err(UaError::Uri(cfg.registrar.clone()));
        }
        let peer = peers.remove(0);
        crate::Uri::parse(&cfg.aor).map_err(|_| UaError::Uri(cfg.aor.clone()))?;
        let h = RegHandle(self.next_call);
        self.next_call += 1;
        let call_id = self.new_call_id();
        let local_tag = self.token();
        let cseq = self.initial_cseq();
        let r = Registration {
            nat: super::nat::NatState {
                mode: cfg.nat,
                keepalive: cfg.keepalive,
                ..Default::default()
            },
            attempts: Attempts::new(cfg.backoff, cfg.max_backoff),
            state: RegState::Registering,
            target: cfg.registrar.clone(),
            tried: vec![cfg.registrar.clone()],
            expires: cfg.expires,
            cfg,
            peer,
            alternates: peers,
            call_id,
            local_tag,
            cseq,
            next: None,
            redirects: 0,
            removing: false,
            pending: None,
        };
        self.regs.insert(h, r);
        self.send_register(now, h)?;
        Ok(h)
    }

    /// The registration's state.
    pub fn reg_state(&self, h: RegHandle) -> Option<RegState> {
        self.regs.get(&h).map(|r| r.state)
    }

    /// Removes the binding (REGISTER with Expires: 0, §10.2.2), e.g. on shutdown.
    pub fn unregister(&mut self, now: Instant, h: RegHandle) -> Result<(), UaError> {
        let r = self.regs.get_mut(&h).ok_or(UaError::NoCall)?;
        r.removing = true;
        r.state = RegState::Unregistering;
        r.next = None;
        r.cseq += 1;
        self.send_register(now, h)
    }

    /// The Contact a registration binds: where the registrar saw us in mode Learn, else
    /// our own address.
    fn reg_contact(&self, h: RegHandle, t: crate::transaction::Transport) -> String {
        let public = self.regs.get(&h).and_then(|r| r.nat.public);
        self.contact_at(t, public.unwrap_or(self.cfg.local))
    }

    pub(super) fn send_register(&mut self, now: Instant, h: RegHandle) -> Result<(), UaError> {
        let t = self.regs.get(&h).ok_or(UaError::NoCall)?.peer.transport;
        let (via, contact) = (self.via(t), self.reg_contact(h, t));
        let stale = self.regs.get(&h).and_then(|r| r.nat.stale);
        let stale = stale.map(|a| format!("{};expires=0", self.contact_at(t, a)));
        let r = self.regs.get_mut(&h).ok_or(UaError::NoCall)?;
        let uri = crate::Uri::parse(&r.target).map_err(|_| UaError::Uri(r.target.clone()))?;
        let expires = if r.removing { 0 } else { r.expires };
        let mut b = MessageBuilder::request(Method::Register, &uri)
            .header(HeaderName::Via, &via)
            .max_forwards(70)
            .header(
                HeaderName::From,
                format!("<{}>;tag={}", r.cfg.aor, r.local_tag),
            )
            .header(HeaderName::To, format!("<{}>", r.cfg.aor))
            .call_id(&r.call_id)
            .cseq(r.cseq, Method::Register)
            .header(HeaderName::Contact, contact)
            .header(HeaderName::Expires, expires)
            .header(HeaderName::Allow, super::ALLOW);
        if let Some(old) = stale.filter(|_| !r.removing) {
            // The binding before the NAT change goes in the same request (§10.2.1.1).
            b = b.header(HeaderName::Contact, old);
        }
        if let Some((n, v)) = &r.attempts.auth {
            b = b.header(*n, v);
        }
        let (peer, seq) = (r.peer, r.cseq);
        self.send(now, b.finish(), peer, Purpose::Register(h, seq))?;
        if let Some(r) = self.regs.get_mut(&h) {
            r.pending = Some(seq);
        }
        Ok(())
    }

    /// The final response to the REGISTER with CSeq `seq`.
    pub(super) fn on_register_response(
        &mut self,
        now: Instant,
        h: RegHandle,
        seq: u32,
        msg: &Message<'_>,
    ) {
        let code = msg.status().unwrap_or(0);
        if code < 200 {
            return;
        }
        let Some(t) = self.regs.get(&h).map(|r| r.peer.transport) else {
            return;
        };
        let contact = self.reg_contact(h, t);
        let Some(r) = self.regs.get_mut(&h) else {
            return;
        };
        if r.pending != Some(seq) {
            // The answer to a REGISTER we have since replaced (e.g. by the unregister).
            return;
        }
        r.pending = None;
        match code {
            200..=299 => {
                r.attempts.succeeded(self.auth.as_deref_mut());
                if r.removing {
                    r.state = RegState::Unregistered;
                    r.next = None;
                    self.events.push_back(UaEvent::Unregistered { reg: h });
                    return;
                }
                let bindings: Vec<Binding> = msg
                    .contacts()
                    .filter_map(|c| match c {
                        Contact::Addr(a) => Some(Binding {
                            uri: a.uri.to_string(),
                            expires: a.expires(),
                        }),
                        Contact::Star => None,
                    })
                    .collect();
                let ours = contact.trim_start_matches('<').trim_end_matches('>');
                let granted = bindings
                    .iter()
                    .find(|b| b.uri == ours)
                    .and_then(|b| b.expires)
                    .or(msg.expires())
                    .unwrap_or(r.expires);
                r.state = RegState::Registered;
                r.next = Some(now + refresh_after(granted));
                r.cseq += 1;
                r.nat.stale = None;
                if let Some(k) = r.nat.keepalive
                    && r.nat.next_keepalive.is_none()
                {
                    r.nat.next_keepalive = Some(now + k.interval.max(super::nat::MIN_KEEPALIVE));
                }
                self.events.push_back(UaEvent::Registered {
                    reg: h,
                    expires: granted,
                    bindings,
                });
                self.nat_seen(now, h, super::nat::seen_at(msg));
            }
            401 | 407 => {
                let target = r.target.clone();
                if r.attempts
                    .answer(msg, self.auth.as_deref_mut(), "REGISTER", &target)
                {
                    r.cseq += 1;
                    let _ = self.send_register(now, h);
                } else {
                    self.register_failed(now, h, code, None);
                }
            }
            423 => match min_expires(msg) {
                Some(m) if m > r.expires => {
                    r.expires = m;
                    r.cseq += 1;
                    let _ = self.send_register(now, h);
                }
                _ => self.register_failed(now, h, code, None),
            },
            300..=399 => {
                // §10.2, §26.3.1: a registration moves only to another of our configured
                // servers (or the registrar's own host), never to wherever a 3xx says.
                let first = r.tried.first().cloned().unwrap_or_default();
                let next = redirect_targets(msg).into_iter().find(|t| {
                    !r.tried.contains(t) && super::credentials_may_follow(&self.cfg, &first, t)
                });
                let peer = next
                    .as_deref()
                    .and_then(|t| uri_peer_in(t, self.cfg.transport, &self.cfg.hosts));
                match (next, peer) {
                    (Some(t), Some(p)) if r.redirects < self.cfg.max_redirects => {
                        r.redirects += 1;
                        r.tried.push(t.clone());
                        r.target = t;
                        r.peer = p;
                        r.alternates.clear();
                        r.cseq += 1;
                        r.attempts.forget_auth();
                        let _ = self.send_register(now, h);
                    }
                    _ => self.register_failed(now, h, code, None),
                }
            }
            503 if self.register_elsewhere(now, h) => {}
            _ => {
                let ra = retry_after(msg);
                self.register_failed(now, h, code, ra);
            }
        }
    }

    /// The REGISTER's next hop timed out, failed at the transport or answered 503: the
    /// request goes to the next place the registrar resolved to (RFC 3263 §4.3), the
    /// failed one avoided for a while. `false` when none is left.
    fn register_elsewhere(&mut self, now: Instant, h: RegHandle) -> bool {
        let Some(r) = self.regs.get_mut(&h) else {
            return false;
        };
        let failed = r.peer;
        if r.alternates.is_empty() {
            self.avoid(now, failed);
            return false;
        }
        r.peer = r.alternates.remove(0);
        r.cseq += 1;
        let next = r.peer;
        self.avoid(now, failed);
        tracing::info!("REGISTER to {} failed, trying {}", failed.addr, next.addr);
        if self.send_register(now, h).is_err() {
            return self.register_elsewhere(now, h);
        }
        true
    }

    /// The REGISTER with CSeq `seq` got no answer (408) or its transport failed.
    pub(super) fn register_txn_failed(&mut self, now: Instant, h: RegHandle, seq: u32) {
        let Some(r) = self.regs.get_mut(&h) else {
            return;
        };
        if r.pending != Some(seq) {
            return;
        }
        r.pending = None;
        if !self.register_elsewhere(now, h) {
            self.register_failed(now, h, 408, None);
        }
    }

    /// A failed attempt: try again after the back-off (or Retry-After), doubling per failure,
    /// never sooner than [`MIN_REGISTER_INTERVAL`].
    pub(super) fn register_failed(
        &mut self,
        now: Instant,
        h: RegHandle,
        code: u16,
        retry: Option<u32>,
    ) {
        let Some(r) = self.regs.get_mut(&h) else {
            return;
        };
        if r.removing {
            r.state = RegState::Unregistered;
            r.next = None;
            self.events.push_back(UaEvent::Unregistered { reg: h });
            return;
        }
        let wait = r.attempts.failed(retry);
        r.state = RegState::Failed;
        r.next = Some(now + wait);
        r.cseq += 1;
        self.events.push_back(UaEvent::RegistrationFailed {
            reg: h,
            code,
            retry_in: wait,
        });
    }

    pub(super) fn reg_timers(&mut self, now: Instant) {
        let due: Vec<RegHandle> = self
            .regs
            .iter()
            .filter(|(_, r)| r.next.is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            if let Some(r) = self.regs.get_mut(&h) {
                r.next = None;
                let failed = r.state == RegState::Failed;
                r.state = RegState::Registering;
                if failed && r.redirects == 0 {
                    // After a failure the registrar is located afresh (its records may
                    // have changed; the places that failed come last).
                    let registrar = r.cfg.registrar.clone();
                    let mut peers = self.initial_peers(now, &registrar);
                    if let Some(r) = self.regs.get_mut(&h)
                        && !peers.is_empty()
                    {
                        r.peer = peers.remove(0);
                        r.alternates = peers;
                    }
                }
                if self.send_register(now, h).is_err() {
                    self.register_failed(now, h, 503, None);
                }
            }
        }
    }
}
