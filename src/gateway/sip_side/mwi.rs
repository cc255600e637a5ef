//! Message-waiting indication for the phones (RFC 3842): each account with `mwi = true`
//! subscribes to `message-summary` at its address-of-record through its proxy (or
//! registrar); the NOTIFYs, in that subscription or unsolicited, light the lamp of the
//! account's FXS phones, send them the visual indication and give them stutter dial tone.
//!
//! A NOTIFY is network input that changes what a phone shows: only the accounts' servers
//! and trusted peers may send one (others get 403 before the user agent sees it), and its
//! body is parsed with bounds ([`MessageSummary`]); a malformed one changes nothing.

use super::{PortEvent, SipEvent, SipSide, route};
use crate::config::Account;
use std::time::Instant;
use tipring_hal::model::PortKind;
use tipring_sip::Message;
use tipring_sip::header::Method;
use tipring_sip::mwi::MessageSummary;
use tipring_sip::transaction::Peer;
use tipring_sip::ua::{SubHandle, SubscribeConfig, uri_peer_in};

impl SipSide {
    /// Starts account `a`'s subscription if it wants one and has none.
    pub(super) fn start_mwi(&mut self, now: Instant, a: &Account) {
        if !a.wants_mwi() || self.subs.iter().any(|(_, n)| *n == a.name) {
            return;
        }
        let domain =
            route::domain_of(a).or_else(|| a.mwi_server.as_deref().and_then(route::host_of));
        let (Some(user), Some(domain)) = (&a.username, domain) else {
            return;
        };
        let aor = format!("sip:{user}@{domain}");
        let mut cfg = SubscribeConfig::message_summary(&aor);
        let server = match &a.mwi_server {
            Some(s) => {
                // Straight to the voicemail server, the mailbox being its URI.
                cfg.resource = route::server_uri(a, s);
                None
            }
            None => a.proxy.as_ref().or(a.registrar.as_ref()),
        };
        cfg.next_hop =
            server.and_then(|s| uri_peer_in(&route::server_uri(a, s), self.transport, &self.hosts));
        let unresolved = match server {
            Some(_) => cfg.next_hop.is_none(),
            None => uri_peer_in(&cfg.resource, self.transport, &self.hosts).is_none(),
        };
        if unresolved {
            // The server's name has not resolved yet: tried again with the next lookup.
            return;
        }
        match self.ua.subscribe(now, cfg) {
            Ok(h) => self.subs.push((h, a.name.clone())),
            Err(e) => self.notice(format!("account {}: cannot subscribe to MWI: {e}", a.name)),
        }
    }

    /// Whether a NOTIFY from `source` may reach the user agent: from an account's server
    /// or a trusted peer only.
    pub(super) fn notify_admitted(&self, msg: &Message<'_>, source: Peer) -> bool {
        if msg.method() != Some(Method::Notify) {
            return true;
        }
        let in_dialog_refer = msg.to().and_then(|t| t.tag()).is_some()
            && msg.header("Event").is_some_and(|e| {
                e.value
                    .split(';')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("refer"))
            });
        if in_dialog_refer {
            // A transfer's progress: the user agent takes it only in a dialog where we
            // asked for one, from that dialog's peer (else 481/403).
            return true;
        }
        let servers = crate::gateway::names::server_ips(&self.cfg, &self.hosts);
        let voicemail = self
            .cfg
            .accounts
            .iter()
            .filter_map(|a| a.mwi_server.as_deref())
            .filter_map(|s| uri_peer_in(s, self.transport, &self.hosts))
            .any(|p| p.addr.ip() == source.addr.ip());
        voicemail || servers.contains(&source.addr.ip()) || self.screen.trusts(source)
    }

    /// A message-summary NOTIFY the user agent answered: its phones are told.
    pub(super) fn on_notified(
        &mut self,
        sub: Option<SubHandle>,
        event: &str,
        request_uri: &str,
        body: &[u8],
    ) {
        if event != tipring_sip::ua::MESSAGE_SUMMARY {
            return;
        }
        let summary = match MessageSummary::parse(body) {
            Ok(s) => s,
            Err(e) => {
                self.notice(format!("message-summary NOTIFY ignored: {e}"));
                return;
            }
        };
        let account = sub.and_then(|h| {
            self.subs
                .iter()
                .find(|(s, _)| *s == h)
                .map(|(_, n)| n.clone())
        });
        let user = tipring_sip::Uri::parse(request_uri)
            .ok()
            .and_then(|u| route::request_user(&u));
        let ports = self.mwi_ports(account.as_deref(), user.as_deref());
        let counts = summary
            .voice
            .map(|c| format!(" ({} new, {} old)", c.new, c.old))
            .unwrap_or_default();
        self.notice(format!(
            "messages {}waiting{counts}: port(s) {ports:?}",
            if summary.waiting { "" } else { "no longer " }
        ));
        for port in ports {
            self.events.push_back(PortEvent::Call {
                port,
                event: SipEvent::MessageWaiting(summary.waiting),
            });
        }
    }

    /// The FXS phones a summary is for: those of the subscribing account; for an
    /// unsolicited one, the phone whose number is the Request-URI user, else the phones of
    /// the account whose username it is.
    fn mwi_ports(&self, account: Option<&str>, user: Option<&str>) -> Vec<u8> {
        let fxs = self
            .slots
            .iter()
            .filter(|(_, s)| s.port.kind == PortKind::Fxs);
        let of_account = |name: &str| -> Vec<u8> {
            fxs.clone()
                .filter(|(_, s)| {
                    route::account_of(&self.cfg, &s.port).is_some_and(|a| a.name == name)
                })
                .map(|(p, _)| *p)
                .collect()
        };
        if let Some(name) = account {
            return of_account(name);
        }
        let Some(user) = user else {
            return Vec::new();
        };
        let by_number: Vec<u8> = fxs
            .clone()
            .filter(|(_, s)| s.port.number.as_deref() == Some(user))
            .map(|(p, _)| *p)
            .collect();
        if !by_number.is_empty() {
            return by_number;
        }
        self.cfg
            .accounts
            .iter()
            .find(|a| a.username.as_deref() == Some(user))
            .map(|a| of_account(&a.name))
            .unwrap_or_default()
    }
}
