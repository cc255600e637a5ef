//! Call transfer: REFER (RFC 3515) in a call's dialog, both ways, with the implicit
//! subscription's NOTIFYs carrying `message/sipfrag` progress (§2.4.4-2.4.5), and the
//! `Replaces` header of an INVITE taking over a confirmed call (RFC 3891). The call
//! flows are RFC 5589's.
//!
//! - We transfer ([`Ua::refer`]): REFER with `Refer-To`; a failure response, each NOTIFY
//!   and the subscription's end come back as [`UaEvent::TransferProgress`].
//! - The peer transfers us: its REFER becomes [`UaEvent::Referred`] and waits for the
//!   user's verdict ([`Ua::answer_refer`]: 202, or a refusal); after a 202 the first
//!   NOTIFY (100 Trying) goes at once, and [`Ua::notify_refer`] reports the new call.
//! - An INVITE naming a confirmed call of ours in `Replaces` is offered as usual
//!   ([`UaEvent::Incoming`]); [`Ua::replaces`] tells which call it would replace. One
//!   naming no such call is refused with 481, one `early-only` for a confirmed call with
//!   486 (RFC 3891 §3).

use super::call::{CallHandle, CallState};
use super::{Purpose, Ua, UaError, UaEvent};
use crate::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::TxnId;
use std::time::Instant;

/// The option tag of `Replaces` (RFC 3891 §6.2).
pub const OPTION_TAG: &str = "replaces";

/// How long our implicit subscription lasts, seconds (RFC 3515 §2.4.4 leaves it to the
/// notifier; the new call is set up well within it).
const SUBSCRIPTION_S: u32 = 60;

/// How long we wait for the outcome of a transfer we asked for: the transferee's new
/// call may ring for a minute before it fails.
pub const OUTCOME_WAIT: std::time::Duration = std::time::Duration::from_secs(90);

/// A REFER the peer sent us.
#[derive(Debug, Clone)]
pub(crate) struct ReferIn {
    /// Its server transaction and bytes, until answered.
    pub txn: Option<(TxnId, Vec<u8>)>,
    /// The subscription's `id` (RFC 3515 §2.4.6: the REFER's CSeq number).
    pub id: u32,
    /// A final NOTIFY went: the subscription is over.
    pub done: bool,
}

/// The dialog named by a `Replaces` header (RFC 3891 §6.1), from the point of view of
/// the UA that receives it: `to_tag` is its own tag, `from_tag` its peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

impl Replaces {
    /// Parses a header value `callid;to-tag=..;from-tag=..[;early-only]`; `None` unless
    /// both tags are there exactly once (§6.1).
    pub fn parse(value: &str) -> Option<Replaces> {
        let mut parts = value.split(';').map(str::trim);
        let call_id = parts.next().filter(|c| !c.is_empty())?.to_owned();
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for p in parts {
            let (name, v) = p.split_once('=').unwrap_or((p, ""));
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "to-tag" => &mut to_tag,
                "from-tag" => &mut from_tag,
                "early-only" => {
                    early_only = true;
                    continue;
                }
                _ => continue,
            };
            if slot.replace(v.trim().to_owned()).is_some() {
                return None;
            }
        }
        Some(Replaces {
            call_id,
            to_tag: to_tag?,
            from_tag: from_tag?,
            early_only,
        })
    }

    /// The value as it goes in a `Refer-To` URI's headers (RFC 3891 §4, escaped per
    /// RFC 3261 §19.1.1: `;` and `=` as `%3B` and `%3D`).
    pub fn as_uri_header(&self) -> String {
        format!(
            "Replaces={}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
            escape(&self.call_id),
            escape(&self.to_tag),
            escape(&self.from_tag)
        )
    }
}

/// The header value: `callid;to-tag=..;from-tag=..[;early-only]`.
impl std::fmt::Display for Replaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        )?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

/// `s` with the characters a URI header value may not hold percent-escaped.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The event package of an `Event` header value (`refer;id=3` → `refer`).
fn package(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

/// Whether `msg` is a NOTIFY of the `refer` package (a transfer's progress).
pub(super) fn is_refer_notify(msg: &Message<'_>) -> bool {
    msg.header("Event")
        .is_some_and(|e| package(e.value).eq_ignore_ascii_case("refer"))
}

/// The status code of a `message/sipfrag` body's status line (`SIP/2.0 200 OK`).
pub fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let line = body.split(|&b| b == b'\r' || b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    words
        .next()?
        .parse()
        .ok()
        .filter(|c| (100..700).contains(c))
}

impl Ua {
    /// Asks the peer of call `h` to call `refer_to` (a SIP URI; with `?Replaces=` for an
    /// attended transfer) with REFER in the call's dialog. What becomes of it comes back
    /// as [`UaEvent::TransferProgress`].
    pub fn refer(&mut self, now: Instant, h: CallHandle, refer_to: &str) -> Result<(), UaError> {
        let c = self.calls.get(&h).ok_or(UaError::NoCall)?;
        if c.state != CallState::Confirmed {
            return Err(UaError::State(c.state));
        }
        let contact = self.contact(c.invite_peer.transport);
        self.send_in_dialog(
            now,
            h,
            Method::Refer,
            &[
                (HeaderName::ReferTo.canonical(), format!("<{refer_to}>")),
                (HeaderName::Contact.canonical(), contact),
            ],
            None,
            Purpose::Refer(h),
        )?;
        if let Some(c) = self.calls.get_mut(&h) {
            c.refer_out = Some(now + OUTCOME_WAIT);
        }
        Ok(())
    }

    /// The dialog of call `h` as a `Replaces` for a REFER sent to another party: that
    /// party's INVITE will reach our peer in `h`, for whom `to_tag` is its own tag.
    pub fn replaces_of(&self, h: CallHandle) -> Option<Replaces> {
        let c = self.calls.get(&h)?;
        let d = c.dialog()?;
        let id = d.id();
        Some(Replaces {
            call_id: id.call_id.clone(),
            to_tag: id.remote_tag.clone(),
            from_tag: id.local_tag.clone(),
            early_only: false,
        })
    }

    /// The remote target of call `h`'s dialog (its peer's Contact).
    pub fn remote_target(&self, h: CallHandle) -> Option<String> {
        Some(self.calls.get(&h)?.dialog()?.remote_target().to_string())
    }

    /// Answers the REFER of call `h`'s peer: 202 (Accepted; the first NOTIFY, 100
    /// Trying, goes with it) or a refusal (403, 488, ...).
    pub fn answer_refer(&mut self, now: Instant, h: CallHandle, code: u16) -> Result<(), UaError> {
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let r = c.refer_in.as_mut().ok_or(UaError::State(c.state))?;
        let (txn, bytes) = r.txn.take().ok_or(UaError::State(c.state))?;
        let tag = c.local_tag.clone();
        if code >= 300 {
            c.refer_in = None;
        }
        let req = Message::parse(&bytes).map_err(|_| UaError::State(CallState::Confirmed))?;
        let reason = if code == 202 {
            "Accepted"
        } else {
            super::reason_phrase(code)
        };
        let b = MessageBuilder::response_to(&req, code, reason, Some(&tag));
        self.respond(now, txn, code, b.finish());
        if code == 202 {
            self.notify_refer(now, h, 100)?;
        }
        Ok(())
    }

    /// Tells the peer of call `h`, who transferred us, how the call it asked for goes:
    /// a NOTIFY whose `message/sipfrag` is that call's status line (RFC 3515 §2.4.5); a
    /// final status ends the subscription (`Subscription-State: terminated`).
    pub fn notify_refer(&mut self, now: Instant, h: CallHandle, code: u16) -> Result<(), UaError> {
        let c = self.calls.get_mut(&h).ok_or(UaError::NoCall)?;
        let r = c.refer_in.as_mut().ok_or(UaError::State(c.state))?;
        if r.done {
            return Err(UaError::State(c.state));
        }
        let final_ = code >= 200;
        r.done = final_;
        let id = r.id;
        let state = if final_ {
            "terminated;reason=noresource".to_owned()
        } else {
            format!("active;expires={SUBSCRIPTION_S}")
        };
        let frag = format!("SIP/2.0 {code} {}\r\n", super::reason_phrase(code));
        let transport = c.invite_peer.transport;
        let contact = self.contact(transport);
        self.send_in_dialog(
            now,
            h,
            Method::Notify,
            &[
                (HeaderName::Event.canonical(), format!("refer;id={id}")),
                ("Subscription-State", state),
                (HeaderName::Contact.canonical(), contact),
            ],
            Some(("message/sipfrag;version=2.0", frag.as_bytes())),
            Purpose::ReferNotify(h),
        )
    }

    /// The confirmed call an incoming call `h` replaces (its INVITE's `Replaces`).
    pub fn replaces(&self, h: CallHandle) -> Option<CallHandle> {
        self.calls.get(&h)?.replaces
    }

    /// The call a `Replaces` header names, confirmed and not ended: `Ok(None)` when the
    /// INVITE has none, `Err(status)` when it names none of ours (481) or an early-only
    /// replacement of a confirmed call (486).
    pub fn replaced_call(&self, msg: &Message<'_>) -> Result<Option<CallHandle>, u16> {
        let mut values = msg.headers_named("Replaces");
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(400);
        }
        let r = Replaces::parse(value.value).ok_or(400u16)?;
        let found = self.calls.with_call_id(&r.call_id).find(|(_, c)| {
            c.ended_at.is_none()
                && c.local_tag == r.to_tag
                && c.dialog().is_some_and(|d| {
                    d.id().remote_tag == r.from_tag && d.id().local_tag == r.to_tag
                })
        });
        match found {
            Some((_, c)) if r.early_only && c.state == CallState::Confirmed => Err(486),
            Some((h, c)) if c.state == CallState::Confirmed => Ok(Some(h)),
            _ => Err(481),
        }
    }

    /// A REFER in call `h`'s dialog (already matched and checked for its source).
    pub(super) fn on_refer(&mut self, now: Instant, id: TxnId, msg: &Message<'_>, h: CallHandle) {
        let Some(c) = self.calls.get(&h) else {
            return;
        };
        let tag = c.local_tag.clone();
        let mut targets = msg.headers_named("Refer-To");
        let refer_to = match (targets.next(), targets.next()) {
            (Some(t), None) => ReferTo::parse(t.value).map(|_| {
                let v = t.value.trim();
                v.strip_prefix('<')
                    .and_then(|r| r.split_once('>'))
                    .map_or(v, |(inner, _)| inner)
                    .to_owned()
            }),
            _ => None,
        };
        let Some(refer_to) = refer_to else {
            // §2.4.1: exactly one Refer-To.
            return self.respond_plain(now, id, msg, 400, Some(&tag));
        };
        if c.state != CallState::Confirmed {
            return self.respond_plain(now, id, msg, 481, Some(&tag));
        }
        if c.refer_in.as_ref().is_some_and(|r| !r.done) {
            // One transfer at a time.
            return self.respond_plain(now, id, msg, 491, Some(&tag));
        }
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        c.refer_in = Some(ReferIn {
            txn: Some((id, msg.to_bytes())),
            id: msg.cseq().map_or(0, |s| s.seq),
            done: false,
        });
        self.events
            .push_back(UaEvent::Referred { call: h, refer_to });
    }

    /// A NOTIFY of the `refer` package in call `h`'s dialog: progress of the transfer
    /// we asked for, or 481 when we asked for none.
    pub(super) fn on_refer_notify(
        &mut self,
        now: Instant,
        id: TxnId,
        msg: &Message<'_>,
        h: CallHandle,
    ) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let tag = c.local_tag.clone();
        if c.refer_out.is_none() {
            return self.respond_plain(now, id, msg, 481, Some(&tag));
        }
        let code = sipfrag_status(msg.body());
        let terminated = msg
            .header("Subscription-State")
            .is_some_and(|s| package(s.value).eq_ignore_ascii_case("terminated"));
        let done = terminated || code.is_some_and(|c| c >= 200);
        if done {
            c.refer_out = None;
        }
        self.respond_plain(now, id, msg, 200, Some(&tag));
        self.events.push_back(UaEvent::TransferProgress {
            call: h,
            // A subscription ended without a final status: nothing more will be known.
            code: code.unwrap_or(if done { 487 } else { 100 }),
            done,
        });
    }

    /// The final response to our REFER: a refusal ends the transfer.
    pub(super) fn on_refer_response(&mut self, h: CallHandle, code: u16) {
        if code < 300 {
            return;
        }
        if let Some(c) = self.calls.get_mut(&h) {
            c.refer_out = None;
        }
        self.events.push_back(UaEvent::TransferProgress {
            call: h,
            code,
            done: true,
        });
    }
}

/// A `Refer-To` value (RFC 3515 §2.1): the `sip:`/`sips:` URI to call, and the
/// `Replaces` among its headers (RFC 3891 §4, RFC 3261 §19.1.5). Its other headers are
/// not copied into the INVITE that follows (a peer could otherwise set our Route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferTo {
    /// The URI without its headers.
    pub uri: String,
    pub replaces: Option<Replaces>,
}

impl ReferTo {
    /// Parses `<uri>` or a bare URI; `None` for anything but a `sip:`/`sips:` URI (a
    /// transfer to a `tel:` or `http:` URI is not ours to follow). A `Replaces` header
    /// that is not well formed is ignored.
    pub fn parse(value: &str) -> Option<ReferTo> {
        let v = value.trim();
        let full = match v.find('<') {
            Some(start) => {
                let end = v[start..].find('>')? + start;
                &v[start + 1..end]
            }
            None => v.split(';').next().unwrap_or(v).trim(),
        };
        let lower = full.to_ascii_lowercase();
        if !(lower.starts_with("sip:") || lower.starts_with("sips:")) {
            return None;
        }
        // A URI has no spaces, controls, quotes or angle brackets (RFC 3261 §25.1).
        if full
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        {
            return None;
        }
        let (uri, headers) = full.split_once('?').unwrap_or((full, ""));
        if uri.len() <= "sip:".len() {
            return None;
        }
        let replaces = headers.split('&').find_map(|h| {
            let (name, value) = h.split_once('=')?;
            name.eq_ignore_ascii_case("replaces")
                .then(|| unescape(value))
                .flatten()
                .and_then(|v| Replaces::parse(&v))
        });
        Some(ReferTo {
            uri: uri.to_owned(),
            replaces,
        })
    }
}

/// `%XX` escapes decoded; `None` for a bad escape or a result that is not UTF-8.
fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_needs_both_tags_once() {
        let r = Replaces::parse("abc@h;to-tag=1;from-tag=2;early-only").unwrap();
        assert_eq!(
            r,
            Replaces {
                call_id: "abc@h".into(),
                to_tag: "1".into(),
                from_tag: "2".into(),
                early_only: true
            }
        );
        assert_eq!(Replaces::parse("abc;to-tag=1"), None);
        assert_eq!(Replaces::parse("abc;to-tag=1;from-tag=2;to-tag=3"), None);
        assert_eq!(Replaces::parse(";to-tag=1;from-tag=2"), None);
        assert_eq!(
            r.as_uri_header(),
            "Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2"
        );
    }

    #[test]
    fn sipfrag_gives_the_status_line_only() {
        assert_eq!(sipfrag_status(b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(b"SIP/2.0 100 Trying"), Some(100));
        assert_eq!(sipfrag_status(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(sipfrag_status(b"SIP/2.0 999 x\r\n"), None);
        assert_eq!(sipfrag_status(b""), None);
    }

    #[test]
    fn refer_to_takes_sip_uris_only_with_a_well_formed_replaces() {
        let r = ReferTo::parse("<sip:300@pbx?Replaces=x%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>").unwrap();
        assert_eq!(r.uri, "sip:300@pbx");
        assert_eq!(r.replaces, Replaces::parse("x@h;to-tag=1;from-tag=2"));
        assert_eq!(
            ReferTo::parse(" sip:300@pbx ").map(|r| r.uri).as_deref(),
            Some("sip:300@pbx")
        );
        assert_eq!(ReferTo::parse("<tel:+15550100>"), None);
        assert_eq!(ReferTo::parse("<sip:unterminated"), None);
        assert_eq!(ReferTo::parse("<sip:>"), None);
        // Found by fuzzing: a bare URI running into a '>' and control characters.
        assert_eq!(ReferTo::parse("sip:!k\u{0}i=ps::>ip"), None);
        assert_eq!(ReferTo::parse("<sip:a b@h>"), None);
        // Other headers are dropped; a Replaces without both tags is no Replaces.
        let r = ReferTo::parse("<sip:c@h?Route=%3Csip:evil%3E&Replaces=abc%3Bto-tag%3D1>").unwrap();
        assert_eq!((r.uri.as_str(), r.replaces), ("sip:c@h", None));
        assert_eq!(
            ReferTo::parse("<sip:c@h?Replaces=%zz>").unwrap().replaces,
            None
        );
    }
}
