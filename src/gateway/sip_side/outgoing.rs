//! Calls the ports place (RFC 3261 §13.2): the INVITE with our offer, the 1xx/2xx and
//! their answers (RFC 3264 §5, §7) turned into port events, and the failover to the
//! account's secondary proxy.

use super::targets::SdpRole;
use super::{CallOptions, Dir, Failover, PortCall, PortEvent, SipEvent, SipSide, route};
use std::time::Instant;
use tipring_hal::model::PortKind;
use tipring_sip::transaction::Transport;
use tipring_sip::ua::{CallHandle, uri_tls_only};

/// The From of a call whose port blocks its caller ID (RFC 3323 §4.1.1.3).
const ANONYMOUS_URI: &str = "sip:anonymous@anonymous.invalid";
const ANONYMOUS_NAME: &str = "Anonymous";

/// How [`SipSide::invite`] places a call besides its target: all absent for a call the
/// phone dials.
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// The `Replaces` header value (an attended transfer, RFC 3891).
    pub replaces: Option<String>,
    /// The call's RTP socket when not the port's (a forwarded call's relay socket), and
    /// where a STUN server saw it.
    pub media_at: Option<(std::net::SocketAddr, Option<std::net::SocketAddr>)>,
    /// The INVITE's Max-Forwards when not 70 (a forwarded call carries on the count).
    pub max_forwards: Option<u8>,
    /// The call is forwarded from the port for this RFC 5806 reason (`unconditional`,
    /// `user-busy`, `no-answer`).
    pub diversion: Option<&'static str>,
}

impl SipSide {
    /// Whether an INVITE whose next hop is `uri` (or the outbound proxy) goes over TLS
    /// whatever that name resolves to: only then may its SDP carry an SDES key.
    fn first_hop_tls(&self, uri: &str) -> bool {
        match &self.ua.config().outbound_proxy {
            Some(p) => p.transport == Transport::Tls,
            None => uri_tls_only(uri, self.transport, &self.hosts),
        }
    }

    /// Whether port `port` withholds its caller ID on calls out.
    fn blocks_caller_id(&self, port: u8) -> bool {
        self.slots
            .get(&port)
            .is_some_and(|s| s.port.caller_id_blocking == Some(true))
    }

    pub(super) fn place_call(
        &mut self,
        now: Instant,
        port: u8,
        target: &str,
        caller: &crate::call::CallerInfo,
        hide_caller_id: Option<bool>,
    ) {
        if self.port_busy(port) {
            self.notice(format!("port {port}: call to {target} while a call is up"));
            self.call_event(port, SipEvent::Rejected(500));
            return;
        }
        match self.invite(
            now,
            port,
            target,
            caller,
            hide_caller_id,
            Placement::default(),
        ) {
            Ok((c, from)) => {
                let (h, uri) = (c.handle, c.target.clone().unwrap_or_default());
                self.calls.insert(h, port);
                if let Some(s) = self.slots.get_mut(&port) {
                    s.call = Some(c);
                }
                self.note_started(port, h, Dir::Out, &from, &uri);
            }
            Err(code) => self.call_event(port, SipEvent::Rejected(code)),
        }
    }

    /// An INVITE from port `port` to `target` (a number or URI, routed as the port's
    /// calls are), as `how` says (a transfer's `Replaces`, a forwarded call's media and
    /// headers): the port's new call and its From, or the status the machine hears (the
    /// reason noticed).
    pub(super) fn invite(
        &mut self,
        now: Instant,
        port: u8,
        target: &str,
        caller: &crate::call::CallerInfo,
        hide_caller_id: Option<bool>,
        how: Placement,
    ) -> Result<(PortCall, String), u16> {
        let p = self
            .slots
            .get(&port)
            .map(|s| s.port.clone())
            .ok_or(500u16)?;
        let mut out = match route::outgoing(
            &self.cfg,
            &p,
            target,
            caller,
            self.local(),
            self.transport,
            &self.hosts,
        ) {
            Ok(o) => o,
            Err(e) => {
                self.notice(format!("port {port}: {e}"));
                return Err(match e {
                    route::RouteError::BadTarget(_) => 484,
                    route::RouteError::NoDomain(_) => 404,
                    route::RouteError::BadProxy(_) => 503,
                });
            }
        };
        let tls = self.first_hop_tls(out.next_hop.as_deref().unwrap_or(&out.request_uri));
        let Ok(sdes) = self.sdes_for(port, tls) else {
            self.notice(format!(
                "port {port}: call to {target} not placed: the account requires SRTP and \
                 its first hop is not TLS"
            ));
            return Err(488);
        };
        let mut session = match how.media_at {
            Some((at, mapped)) => self.session_at(at, mapped, sdes),
            None => self.new_session(port, sdes).ok_or(500u16)?,
        };
        let sdp = session.offer();
        // RFC 5806: the forwarding party is the port, as its own calls name it (the From
        // carries the caller's number on).
        let diversion = how.diversion.map(|why| {
            let user = p
                .number
                .as_deref()
                .or(route::account_of(&self.cfg, &p).and_then(|a| a.username.as_deref()))
                .unwrap_or("tipring");
            let host = out.from.rsplit_once('@').map_or("", |(_, h)| h);
            format!("<sip:{user}@{host}>;reason={why};counter=1")
        });
        // An FXO line's caller ID, vouched for to the account's servers only (RFC 3325
        // §9.1: the provider is the trust domain; a URI target outside it learns nothing
        // the From does not say).
        let asserted = (p.kind == PortKind::Fxo
            && caller.number.as_deref().is_some_and(route::dialable)
            && (out.proxy.is_some() || self.ua.config().outbound_proxy.is_some()))
        .then(|| (out.display_name.clone(), out.from.clone()));
        let privacy = hide_caller_id.unwrap_or_else(|| self.blocks_caller_id(port));
        if privacy {
            out.from = ANONYMOUS_URI.to_owned();
            out.display_name = Some(ANONYMOUS_NAME.to_owned());
        }
        let mut next_hop = out.next_hop;
        let mut failover = None;
        if let (Some(proxy), Some((fallback, located))) = (&out.proxy, out.fallback) {
            if self.down.contains(proxy) {
                // The pings say the proxy is gone: start with the secondary.
                next_hop = Some(located);
            } else {
                failover = Some(Failover {
                    request_uri: out.request_uri.clone(),
                    from: out.from.clone(),
                    display_name: out.display_name.clone(),
                    proxy: fallback,
                    next_hop: located,
                    asserted: asserted.clone(),
                });
            }
        }
        let opts = CallOptions {
            display_name: out.display_name,
            next_hop_uri: next_hop,
            privacy,
            asserted_identity: asserted,
            replaces: how.replaces,
            max_forwards: how.max_forwards,
            diversion,
            ..CallOptions::default()
        };
        match self
            .ua
            .call_with(now, &out.request_uri, &out.from, sdp, opts)
        {
            Ok(h) => Ok((
                PortCall {
                    failover,
                    target: Some(out.request_uri),
                    ..PortCall::new(h, Dir::Out, session)
                },
                out.from,
            )),
            Err(e) => {
                self.notice(format!(
                    "port {port}: INVITE {} not sent: {e}",
                    out.request_uri
                ));
                Err(503)
            }
        }
    }

    /// An answer to our offer: the bridge's parameters if they changed.
    pub(super) fn take_answer(&mut self, port: u8, sdp: &[u8]) -> bool {
        if let Err(e) = self.targets.check_sdp(sdp, SdpRole::Update) {
            self.notice(format!("port {port}: SDP answer refused: {e}"));
            return false;
        }
        let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) else {
            return false;
        };
        match c.session.take_answer(sdp) {
            Ok(n) => {
                if let Some(media) = c.session.changed(&n) {
                    self.events.push_back(PortEvent::Media { port, media });
                }
                true
            }
            Err(e) => {
                self.notice(format!("port {port}: SDP answer refused: {e}"));
                false
            }
        }
    }

    pub(super) fn on_progress(
        &mut self,
        now: Instant,
        call: CallHandle,
        code: u16,
        sdp: Option<Vec<u8>>,
    ) {
        if self.referred_progress(now, call, code) {
            return;
        }
        let Some(port) = self.calls.get(&call).copied() else {
            return;
        };
        let event = match sdp {
            Some(sdp) if self.take_answer(port, &sdp) => SipEvent::EarlyMedia,
            _ if code == 180 => SipEvent::Ringing,
            _ => SipEvent::Proceeding,
        };
        self.call_event(port, event);
    }

    pub(super) fn on_answered(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) {
        if self.referred_answered(now, call, sdp) {
            return;
        }
        let Some(port) = self.calls.get(&call).copied() else {
            return;
        };
        let usable = if sdp.is_empty() {
            // The answer came early (RFC 3261 §13.2.1: the first reliable non-failure
            // message carries it; a 2xx without body keeps the early one).
            self.slots
                .get(&port)
                .and_then(|s| s.call.as_ref())
                .is_some_and(|c| c.session.sent.is_some())
        } else {
            self.take_answer(port, sdp)
        };
        if usable {
            self.note_answered(port);
            self.call_event(port, SipEvent::Answered);
        } else {
            // No media we can run: end the call (RFC 3264 §6 leaves BYE as the way out).
            self.release(port, 488, crate::ops::record::EndCause::NoUsableMedia);
            let _ = self.ua.hangup(now, call);
            self.call_event(port, SipEvent::Rejected(488));
        }
    }

    /// Places an outgoing call again through the account's secondary proxy (docs/CONFIG.md
    /// `secondary_proxy`); `false` when that cannot be done.
    pub(super) fn fail_over(&mut self, now: Instant, port: u8, f: &Failover) -> bool {
        let tls = self.first_hop_tls(&f.next_hop);
        let Ok(sdes) = self.sdes_for(port, tls) else {
            return false;
        };
        let Some(mut session) = self.new_session(port, sdes) else {
            return false;
        };
        let sdp = session.offer();
        let opts = CallOptions {
            display_name: f.display_name.clone(),
            next_hop_uri: Some(f.next_hop.clone()),
            privacy: self.blocks_caller_id(port),
            asserted_identity: f.asserted.clone(),
            ..CallOptions::default()
        };
        match self.ua.call_with(now, &f.request_uri, &f.from, sdp, opts) {
            Ok(h) => {
                self.notice(format!("port {port}: proxy failed, trying {}", f.proxy));
                self.calls.insert(h, port);
                if let Some(s) = self.slots.get_mut(&port) {
                    s.call = Some(PortCall {
                        target: Some(f.request_uri.clone()),
                        ..PortCall::new(h, Dir::Out, session)
                    });
                }
                self.note_started(port, h, Dir::Out, &f.from, &f.request_uri);
                true
            }
            Err(_) => false,
        }
    }
}
