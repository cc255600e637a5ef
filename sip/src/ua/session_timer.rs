//! Session timers (RFC 4028, option tag `timer`): a call whose far end vanished without a
//! BYE is not kept for ever.
//!
//! As UAC our INVITE asks for `Session-Expires` ([`SessionTimerConfig::expires_s`]) and
//! says `Supported: timer`; a 422 brings the INVITE again with the peer's `Min-SE` (once,
//! §7.4). The 2xx's `Session-Expires` and `refresher` decide who refreshes (§7.2).
//!
//! As UAS an INVITE with `Session-Expires` below our `Min-SE` gets 422 when its sender
//! supports timers, else the interval is raised to ours (§9). The 2xx carries the
//! interval and the refresher: the refresher the INVITE named, else `uac` when the caller
//! supports timers, else `uas` (us). We take the refresher's part only where we can
//! refresh with UPDATE (the peer allows it, RFC 3311) or with a re-INVITE of the SDP we
//! sent; without a way, as UAS we leave the timer out of the 2xx.
//!
//! The refresher refreshes at half the interval (§10); the other side, if no refresh came
//! by the interval less a third of it (at most 32 s, §10), sends BYE and ends the call
//! ([`EndReason::SessionExpired`](super::EndReason::SessionExpired)). A refresh either way
//! (UPDATE or re-INVITE, §10) arms the timer again.

use super::call::{CallHandle, CallState, OutReinvite};
use super::{EndReason, Purpose, SUPPORTED, Ua, UaError};
use crate::header::{HeaderName, Method};
use crate::message::Message;
use std::time::{Duration, Instant};

/// The option tag (RFC 4028 §3).
pub const OPTION_TAG: &str = "timer";
/// The smallest interval RFC 4028 allows (§4: Min-SE is at least 90 s).
pub const MIN_SE_FLOOR: u32 = 90;

/// What this UA asks for and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The interval our INVITEs ask for, seconds (RFC 4028 recommends 1800).
    pub expires_s: u32,
    /// The smallest interval we accept, seconds (at least 90).
    pub min_se_s: u32,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig {
            expires_s: 1800,
            min_se_s: MIN_SE_FLOOR,
        }
    }
}

/// Which side refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    Us,
    Them,
}

/// A call's running session timer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionTimer {
    pub interval_s: u32,
    pub refresher: Refresher,
    /// When to refresh (we) or to give up on the peer (they).
    pub deadline: Instant,
}

impl SessionTimer {
    /// Armed at `now` (§10).
    pub fn armed(now: Instant, interval_s: u32, refresher: Refresher) -> SessionTimer {
        let interval = Duration::from_secs(u64::from(interval_s));
        let deadline = match refresher {
            Refresher::Us => now + interval / 2,
            Refresher::Them => now + interval - (interval / 3).min(Duration::from_secs(32)),
        };
        SessionTimer {
            interval_s,
            refresher,
            deadline,
        }
    }
}

/// What the UAS agreed to for the 2xx: the interval, whether the caller (`uac`) refreshes,
/// whether the caller supports timers (then the 2xx says `Require: timer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreed {
    pub interval_s: u32,
    pub uac_refreshes: bool,
    pub uac_supports: bool,
}

impl Agreed {
    /// The `Session-Expires` value of the 2xx.
    pub fn header(&self) -> String {
        let who = if self.uac_refreshes { "uac" } else { "uas" };
        format!("{};refresher={who}", self.interval_s)
    }
}

/// `Session-Expires`: the interval and the `refresher` parameter (§4).
pub(crate) fn session_expires<'a>(msg: &Message<'a>) -> Option<(u32, Option<&'a str>)> {
    let v = msg
        .header("Session-Expires")
        .or_else(|| msg.header("x"))?
        .value;
    let mut parts = v.split(';');
    let secs = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("refresher").then(|| v.trim())
    });
    Some((secs, refresher))
}

/// `Min-SE` (§5).
pub(crate) fn min_se(msg: &Message<'_>) -> Option<u32> {
    msg.header("Min-SE")?
        .value
        .split(';')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Whether `msg` says `Supported: timer` (or requires it).
pub(crate) fn supports(msg: &Message<'_>) -> bool {
    msg.supported()
        .chain(msg.require())
        .any(|t| t.eq_ignore_ascii_case(OPTION_TAG))
}

/// Whether `msg`'s Allow lists UPDATE.
pub(crate) fn allows_update(msg: &Message<'_>) -> bool {
    msg.header("Allow").is_some_and(|a| {
        a.value
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case("UPDATE"))
    })
}

/// The UAS's decision on an initial INVITE (§9): `Err(min_se)` for a 422, `Ok(None)` for
/// no timer on this call.
pub(crate) fn agree(cfg: &SessionTimerConfig, invite: &Message<'_>) -> Result<Option<Agreed>, u32> {
    let uac_supports = supports(invite);
    let asked = session_expires(invite);
    let interval_s = match asked {
        Some((s, _)) if s < cfg.min_se_s && uac_supports => return Err(cfg.min_se_s),
        Some((s, _)) => s.max(cfg.min_se_s),
        None if uac_supports => cfg.expires_s.max(cfg.min_se_s),
        None => return Ok(None),
    };
    let uac_refreshes = match asked.and_then(|(_, r)| r) {
        Some(r) if uac_supports => r.eq_ignore_ascii_case("uac"),
        _ => uac_supports,
    };
    // We refresh only with a way to: UPDATE, or a re-INVITE (always possible for us).
    Ok(Some(Agreed {
        interval_s,
        uac_refreshes,
        uac_supports,
    }))
}

impl Ua {
    /// The call's session timer, when due: refresh (we are the refresher), or BYE (the
    /// peer stopped refreshing).
    pub(super) fn session_timers(&mut self, now: Instant, h: CallHandle) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let Some(t) = c.timer else {
            return;
        };
        if c.state != CallState::Confirmed || t.deadline > now {
            return;
        }
        match t.refresher {
            Refresher::Them => {
                c.timer = None;
                tracing::debug!("session expired: no refresh within {} s", t.interval_s);
                let _ = self.send_bye(now, h);
                self.end(h, EndReason::SessionExpired);
            }
            Refresher::Us => {
                // Armed again now, so that a refresh that gets no answer is tried again.
                c.timer = Some(SessionTimer::armed(now, t.interval_s, Refresher::Us));
                let sent = if c.peer_update {
                    self.send_refresh_update(now, h, t.interval_s)
                } else {
                    self.send_refresh_reinvite(now, h)
                };
                if let Err(e) = sent {
                    tracing::debug!("session refresh not sent: {e}");
                }
            }
        }
    }

    /// UPDATE without a body, asking to stay the refresher (§7.4, §10).
    fn send_refresh_update(
        &mut self,
        now: Instant,
        h: CallHandle,
        interval_s: u32,
    ) -> Result<(), UaError> {
        let headers = [
            (HeaderName::Supported.canonical(), SUPPORTED.to_owned()),
            (
                HeaderName::SessionExpires.canonical(),
                format!("{interval_s};refresher=uac"),
            ),
        ];
        self.send_in_dialog(now, h, Method::Update, &headers, None, Purpose::Refresh(h))
    }

    /// A re-INVITE offering again the SDP we last sent (for a peer without UPDATE, §10);
    /// nothing when another INVITE is in progress (it refreshes the session too).
    fn send_refresh_reinvite(&mut self, now: Instant, h: CallHandle) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        if c.out_reinvite.is_some() || c.in_reinvite.is_some() || c.pending_ok.is_some() {
            return Ok(());
        }
        let sdp = c.sdp.clone();
        self.reinvite(now, h, sdp)?;
        if let Some(out) = self.calls.get_mut(&h).and_then(|c| c.out_reinvite.as_mut()) {
            *out = OutReinvite {
                refresh: true,
                ..out.clone()
            };
        }
        Ok(())
    }

    /// The answer to our refresh UPDATE: a 2xx sets the timer from its Session-Expires;
    /// a 422 sends the refresh again with the peer's Min-SE; 481 and 408 end the call
    /// (the dialog is gone, RFC 3261 §12.2.1.2); anything else leaves the session to
    /// expire as it would.
    pub(super) fn on_refresh_response(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        match msg.status().unwrap_or(0) {
            200..=299 => self.refreshed(now, h, msg),
            422 => {
                let Some(c) = self.calls.get_mut(&h) else {
                    return;
                };
                let Some(t) = c.timer.as_mut() else {
                    return;
                };
                if let Some(m) = min_se(msg).filter(|m| *m > t.interval_s) {
                    t.interval_s = m;
                    let _ = self.send_refresh_update(now, h, m);
                }
            }
            code @ (481 | 408) => self.end(h, EndReason::DialogGone(code)),
            _ => {}
        }
    }

    /// A 2xx to our refresh (UPDATE or re-INVITE): the timer again, with the interval and
    /// refresher it names (we asked as `uac`; a 2xx without the header keeps ours).
    pub(super) fn refreshed(&mut self, now: Instant, h: CallHandle, msg: &Message<'_>) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let Some(t) = c.timer else {
            return;
        };
        let (interval, who) = match session_expires(msg) {
            Some((s, Some(r))) if r.eq_ignore_ascii_case("uas") => (s, Refresher::Them),
            Some((s, _)) => (s, Refresher::Us),
            None => (t.interval_s, Refresher::Us),
        };
        c.timer = Some(SessionTimer::armed(now, interval, who));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(extra: &str) -> Vec<u8> {
        format!(
            "INVITE sip:u@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:x@a>;tag=1\r\n\
             To: <sip:u@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn agreed(extra: &str) -> Result<Option<Agreed>, u32> {
        let cfg = SessionTimerConfig {
            expires_s: 1800,
            min_se_s: 300,
        };
        agree(&cfg, &Message::parse(&invite(extra)).unwrap())
    }

    #[test]
    fn the_uas_follows_rfc_4028_section_9() {
        assert_eq!(agreed(""), Ok(None), "no timer asked, none supported");
        assert_eq!(
            agreed("Supported: timer\r\n"),
            Ok(Some(Agreed {
                interval_s: 1800,
                uac_refreshes: true,
                uac_supports: true
            }))
        );
        assert_eq!(
            agreed("Supported: timer\r\nSession-Expires: 120\r\n"),
            Err(300)
        );
        assert_eq!(
            agreed("Session-Expires: 120\r\n").unwrap().unwrap(),
            Agreed {
                interval_s: 300,
                uac_refreshes: false,
                uac_supports: false
            },
            "a caller without timers: raised, and we refresh"
        );
        let a = agreed("Supported: timer\r\nSession-Expires: 600;refresher=uas\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((a.interval_s, a.uac_refreshes), (600, false));
        assert_eq!(a.header(), "600;refresher=uas");
    }

    #[test]
    fn the_other_side_gives_up_a_third_early_at_most_32_s() {
        let t0 = Instant::now();
        let us = SessionTimer::armed(t0, 1800, Refresher::Us);
        assert_eq!(us.deadline - t0, Duration::from_secs(900));
        let them = SessionTimer::armed(t0, 1800, Refresher::Them);
        assert_eq!(them.deadline - t0, Duration::from_secs(1768));
        let short = SessionTimer::armed(t0, 90, Refresher::Them);
        assert_eq!(short.deadline - t0, Duration::from_secs(60));
    }

    #[test]
    fn headers_parse_with_their_parameters() {
        let m = invite(
            "Session-Expires: 1800 ; refresher = uac\r\nMin-SE: 90;x=1\r\nAllow: INVITE, UPDATE\r\n",
        );
        let m = Message::parse(&m).unwrap();
        assert_eq!(session_expires(&m), Some((1800, Some("uac"))));
        assert_eq!(min_se(&m), Some(90));
        assert!(allows_update(&m));
        let compact = invite("x: 600\r\n");
        assert_eq!(
            session_expires(&Message::parse(&compact).unwrap()),
            Some((600, None))
        );
    }
}
