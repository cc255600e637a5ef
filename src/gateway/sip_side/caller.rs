//! Who is calling, from an incoming INVITE: the display name and user part of
//! P-Asserted-Identity or else From (RFC 3261 §20.20), for caller-ID on the line.
//! P-Asserted-Identity counts only from a trusted peer (RFC 3325 §5: the header is
//! believed only inside a trust domain); from anyone else it is ignored. A caller who asks
//! for privacy is no one.

use crate::call::CallerInfo;
use tipring_sip::Message;
use tipring_sip::header::{FromValue, NameAddr};

/// The caller of `invite`; empty fields where nothing usable is present. `trusted`: the
/// INVITE came from a trusted peer, whose P-Asserted-Identity is believed.
pub fn caller_of(invite: &Message<'_>, trusted: bool) -> CallerInfo {
    // A caller who asked for privacy is shown as no one (the phone's caller ID says
    // "private"), even when a trusted peer asserts who it is (RFC 3325 §7: the gateway
    // is where the trust domain ends, the phone's user is outside it).
    if is_anonymous(invite) {
        return CallerInfo::default();
    }
    let pai = invite
        .headers_named("P-Asserted-Identity")
        .filter(|_| trusted)
        .flat_map(|h| h.value.split(','))
        .find_map(|v| NameAddr::from_value(v.trim()).ok());
    match pai.as_ref().or(invite.from()) {
        Some(na) => of_name_addr(na),
        None => CallerInfo::default(),
    }
}

/// Whether the caller of `invite` hides its identity (RFC 3323): an anonymous From
/// (`anonymous` user or the `anonymous.invalid` host, §4.1.1.3), or a `Privacy` header
/// asking for `id` (RFC 3325 §9.3), `user` or `header`.
pub fn is_anonymous(invite: &Message<'_>) -> bool {
    let from = invite.from().is_some_and(|f| match &f.uri {
        tipring_sip::Uri::Sip(u) => {
            u.user.is_some_and(|u| u.eq_ignore_ascii_case("anonymous"))
                || matches!(u.host, tipring_sip::Host::Domain(d) if d.eq_ignore_ascii_case("anonymous.invalid"))
        }
        _ => false,
    });
    let privacy = invite
        .headers_named("Privacy")
        .flat_map(|h| h.value.split([';', ',']))
        .any(|v| {
            let v = v.trim();
            ["id", "user", "header"]
                .iter()
                .any(|p| v.eq_ignore_ascii_case(p))
        });
    from || privacy
}

fn of_name_addr(na: &NameAddr<'_>) -> CallerInfo {
    let name = na
        .display
        .map(|d| d.chars().collect::<String>())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let number = super::route::request_user(&na.uri).filter(|u| !u.is_empty());
    CallerInfo { name, number }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(extra: &str) -> Vec<u8> {
        format!(
            "INVITE sip:201@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n\
             From: \"Bob \\\"B\\\"\" <sip:555@127.0.0.2>;tag=1\r\nTo: <sip:201@127.0.0.1>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn hidden_callers_are_recognised() {
        let anon = |from: &str, extra: &str| {
            let b = format!(
                "INVITE sip:201@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n\
                 From: {from};tag=1\r\nTo: <sip:201@127.0.0.1>\r\nCall-ID: c1\r\n\
                 CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
            );
            is_anonymous(&Message::parse(b.as_bytes()).unwrap())
        };
        assert!(anon("\"Anonymous\" <sip:anonymous@anonymous.invalid>", ""));
        assert!(anon("<sip:Anonymous@127.0.0.2>", ""));
        assert!(anon("<sip:555@anonymous.invalid>", ""));
        assert!(anon("<sip:555@127.0.0.2>", "Privacy: id\r\n"));
        assert!(anon("<sip:555@127.0.0.2>", "Privacy: none;user\r\n"));
        assert!(!anon("<sip:555@127.0.0.2>", ""));
        assert!(!anon("<sip:555@127.0.0.2>", "Privacy: none\r\n"));
        assert!(!anon("<sip:555@127.0.0.2>", "Privacy: session\r\n"));
    }

    #[test]
    fn from_when_no_asserted_identity() {
        let b = invite("");
        let c = caller_of(&Message::parse(&b).unwrap(), true);
        assert_eq!(c.name.as_deref(), Some("Bob \"B\""));
        assert_eq!(c.number.as_deref(), Some("555"));
    }

    #[test]
    fn asserted_identity_wins() {
        let b = invite("P-Asserted-Identity: \"Alice\" <sip:+15550100@pbx>, <tel:+15550100>\r\n");
        let c = caller_of(&Message::parse(&b).unwrap(), true);
        assert_eq!(c.name.as_deref(), Some("Alice"));
        assert_eq!(c.number.as_deref(), Some("+15550100"));
        // From an untrusted peer the assertion is ignored.
        let c = caller_of(&Message::parse(&b).unwrap(), false);
        assert_eq!(c.number.as_deref(), Some("555"));
    }
}
