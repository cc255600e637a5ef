//! The SIP side's part of `tipring status` ([`crate::ops::status::SipStatus`]): each
//! account's registration and the requests refused, by reason. The transport's and the
//! flood gate's counters are added by the driver ([`super::io`]), which owns them.

use super::SipSide;
use crate::ops::status::{RegistrationStatus, SipCounters, SipStatus};
use std::time::Instant;
use tipring_sip::ua::RegState;

/// What the registration events said of one account.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RegInfo {
    /// When the binding the registrar granted runs out.
    pub expires_at: Option<Instant>,
    /// The last final status a REGISTER got.
    pub last_code: Option<u16>,
}

/// Why a request was refused, as status counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// An INVITE from a source neither trusted nor authenticated (401/403).
    InviteUntrusted,
    /// An INVITE for a number no port has (404).
    InviteUnknownNumber,
    /// An INVITE whose SDP or Contact aims at a forbidden target (403).
    InviteTarget,
    /// An INVITE no free port could take (486).
    InviteBusy,
    /// An INVITE for phones in do-not-disturb (486).
    InviteDoNotDisturb,
    /// An INVITE from a hidden caller for phones that refuse them (433).
    InviteAnonymous,
    /// A NOTIFY from no account's server (403).
    NotifyStranger,
    /// A 1xx/2xx to our INVITE whose Contact or Record-Route aims at a forbidden target
    /// (dropped).
    ResponseTarget,
    /// A REFER or an INVITE with `Replaces` from a peer `accept_transfer` does not allow,
    /// or towards a forbidden target (403).
    TransferRefused,
    /// A call to forward whose Max-Forwards is spent: a forwarding loop (483).
    ForwardLoop,
    /// A call to forward by the box while every relay is in use (486).
    ForwardNoRelay,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::InviteUntrusted => "invite_untrusted",
            Refusal::InviteUnknownNumber => "invite_unknown_number",
            Refusal::InviteTarget => "invite_forbidden_target",
            Refusal::InviteBusy => "invite_busy",
            Refusal::InviteDoNotDisturb => "invite_do_not_disturb",
            Refusal::InviteAnonymous => "invite_anonymous",
            Refusal::NotifyStranger => "notify_stranger",
            Refusal::ResponseTarget => "response_forbidden_target",
            Refusal::TransferRefused => "transfer_refused",
            Refusal::ForwardLoop => "forward_loop",
            Refusal::ForwardNoRelay => "forward_no_relay",
        }
    }
}

impl SipSide {
    /// Counts one refused request.
    pub(super) fn count_refusal(&mut self, why: Refusal) {
        *self.refused.entry(why.as_str()).or_default() += 1;
    }

    /// The registrations and refusals now (the transport's counters left at 0).
    pub fn status(&self, now: Instant) -> SipStatus {
        let registrations = self
            .regs
            .iter()
            .map(|(h, name)| {
                let info = self.reg_info.get(name).copied().unwrap_or_default();
                let state = self.ua.reg_state(*h);
                RegistrationStatus {
                    account: name.clone(),
                    state: match state {
                        Some(RegState::Registering) => "registering",
                        Some(RegState::Registered) => "registered",
                        Some(RegState::Failed) => "failed",
                        Some(RegState::Unregistering) => "unregistering",
                        Some(RegState::Unregistered) | None => "unregistered",
                    }
                    .to_owned(),
                    expires_in_s: info
                        .expires_at
                        .filter(|_| state == Some(RegState::Registered))
                        .map(|t| t.saturating_duration_since(now).as_secs()),
                    last_code: info.last_code,
                }
            })
            .chain(self.waiting_registrations())
            .collect();
        SipStatus {
            registrations,
            sip: SipCounters {
                refused: self
                    .refused
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), *v))
                    .collect(),
                table_full: self.ua.stats().overload,
                ..SipCounters::default()
            },
        }
    }

    /// Accounts with a registrar whose registration has not started (its name does not
    /// resolve yet).
    fn waiting_registrations(&self) -> impl Iterator<Item = RegistrationStatus> + '_ {
        self.cfg
            .accounts
            .iter()
            .filter(|a| a.registrar.is_some() && a.username.is_some())
            .filter(|a| !self.regs.iter().any(|(_, n)| *n == a.name))
            .map(|a| RegistrationStatus {
                account: a.name.clone(),
                state: "waiting".to_owned(),
                expires_in_s: None,
                last_code: None,
            })
    }
}
