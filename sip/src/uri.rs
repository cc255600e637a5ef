//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) and any other absolute URI kept opaque
//! (RFC 3261 §25.1 absoluteURI), borrowed from the message.

use crate::error::{ErrorKind, Fault, ParseError};
use crate::params::{ParamGrammar, Params};
use crate::parse::{Unescape, class, escaped_eq, find_byte, span, valid_escapes};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A URI as it appears in a Request-URI or a name-addr / addr-spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:` (RFC 3261 §19.1).
    Sip(SipUri<'a>),
    /// `tel:` (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other scheme, kept opaque (RFC 3261 §19.1: a UAS answers 416 for it).
    Absolute(AbsoluteUri<'a>),
}

/// A `sip:` / `sips:` URI (RFC 3261 §19.1.1). Escapes are kept as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, escaped as received.
    pub user: Option<&'a str>,
    /// The password, escaped as received.
    pub password: Option<&'a str>,
    /// The host.
    pub host: Host<'a>,
    /// The port, when given.
    pub port: Option<u16>,
    /// uri-parameters (`;transport=udp;lr`).
    pub params: Params<'a>,
    /// The headers component after `?`, without the `?`.
    pub headers: Option<&'a str>,
}

/// A host (RFC 3261 §25.1 `host`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A host name.
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 reference; brackets are not part of the value.
    Ipv6(Ipv6Addr),
}

/// A `tel:` URI (RFC 3966): the subscriber number and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The telephone-subscriber, e.g. `+1-201-555-0123`.
    pub number: &'a str,
    /// Parameters such as `phone-context`.
    pub params: Params<'a>,
}

/// An absolute URI of a scheme this layer does not interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteUri<'a> {
    /// The scheme, without the colon.
    pub scheme: &'a str,
    /// Everything after the colon.
    pub rest: &'a str,
}

fn is_scheme(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic())
        && c.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

impl<'a> Uri<'a> {
    /// Parses a whole URI, e.g. a Request-URI. Errors give the byte offset into `s`.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, ParseError> {
        Uri::parse_at(s).map_err(|f| {
            ParseError::new(ErrorKind::HeaderValue(f.what), f.offset_from(s.as_bytes()))
        })
    }

    pub(crate) fn parse_at(s: &'a str) -> Result<Uri<'a>, Fault> {
        let Some(colon) = find_byte(s, b':') else {
            return Err(Fault::at("URI without scheme", s));
        };
        let (scheme, rest) = (&s[..colon], &s[colon + 1..]);
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_after_scheme(rest, false).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_after_scheme(rest, true).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_after_scheme(rest).map(Uri::Tel)
        } else if is_scheme(scheme) {
            if rest.is_empty() {
                return Err(Fault::at("empty URI after scheme", rest));
            }
            if let Some(p) =
                rest.find(|c: char| c.is_ascii_control() || matches!(c, ' ' | '<' | '>' | '"'))
            {
                return Err(Fault::at("character not allowed in URI", &rest[p..]));
            }
            Ok(Uri::Absolute(AbsoluteUri { scheme, rest }))
        } else {
            Err(Fault::at("bad URI scheme", s))
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The scheme in lower case form as a static string for the known schemes.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Absolute(a) => a.scheme,
        }
    }

    /// URI equivalence (RFC 3261 §19.1.4 for SIP/SIPS; other schemes compare their text,
    /// unescaped, case-insensitively for the scheme).
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => {
                escaped_eq(a.number, b.number, true) && params_equivalent(&a.params, &b.params, &[])
            }
            (Uri::Absolute(a), Uri::Absolute(b)) => {
                a.scheme.eq_ignore_ascii_case(b.scheme) && escaped_eq(a.rest, b.rest, false)
            }
            _ => false,
        }
    }
}

impl<'a> SipUri<'a> {
    fn parse_after_scheme(s: &'a str, secure: bool) -> Result<SipUri<'a>, Fault> {
        let (user, password, hostport) = match find_byte(s, b'@') {
            Some(at) => {
                let userinfo = &s[..at];
                let (user, password) = match find_byte(userinfo, b':') {
                    Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(Fault::at("empty user in URI", s));
                }
                if let Some(p) = Some(span(user, class::USER)).filter(|&p| p < user.len()) {
                    return Err(Fault::at("character not allowed in URI user", &user[p..]));
                }
                if !valid_escapes(user) {
                    return Err(Fault::at("bad %-escape in URI user", user));
                }
                if let Some(pw) = password {
                    if let Some(p) = Some(span(pw, class::PASSWORD)).filter(|&p| p < pw.len()) {
                        return Err(Fault::at("character not allowed in URI password", &pw[p..]));
                    }
                    if !valid_escapes(pw) {
                        return Err(Fault::at("bad %-escape in URI password", pw));
                    }
                }
                (Some(user), password, &s[at + 1..])
            }
            None => (None, None, s),
        };
        let (rest, host, port) = host_port(hostport)?;
        let (rest, params) = Params::parse(rest, ParamGrammar::Uri)?;
        let (rest, headers) = match rest.strip_prefix('?') {
            Some(h) => {
                let n = span(h, class::URI_HEADER);
                if n == 0 || !valid_escapes(&h[..n]) {
                    return Err(Fault::at("malformed URI headers", h));
                }
                (&h[n..], Some(&h[..n]))
            }
            None => (rest, None),
        };
        if !rest.is_empty() {
            return Err(Fault::at("unexpected character in URI", rest));
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// The user part with %-escapes decoded, as an iterator of bytes.
    pub fn user_unescaped(&self) -> Option<Unescape<'a>> {
        self.user.map(Unescape::new)
    }

    /// URI comparison of RFC 3261 §19.1.4: user and password case-sensitive, host
    /// case-insensitive, both compared with escapes decoded; `user`, `ttl`, `method`,
    /// `maddr` and `transport` must match when either side has them, other parameters only
    /// when both have them; headers must all match.
    pub fn equivalent(&self, o: &SipUri<'_>) -> bool {
        fn opt_eq(a: Option<&str>, b: Option<&str>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(x), Some(y)) => escaped_eq(x, y, false),
                _ => false,
            }
        }
        self.secure == o.secure
            && opt_eq(self.user, o.user)
            && opt_eq(self.password, o.password)
            && self.host.equivalent(&o.host)
            && self.port == o.port
            && params_equivalent(
                &self.params,
                &o.params,
                &["user", "ttl", "method", "maddr", "transport"],
            )
            && headers_equivalent(self.headers, o.headers)
    }
}

fn params_equivalent(a: &Params<'_>, b: &Params<'_>, must_match: &[&str]) -> bool {
    let val_eq = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => escaped_eq(x, y, true),
        (None, None) => true,
        _ => false,
    };
    for name in must_match {
        match (a.get(name), b.get(name)) {
            (None, None) => {}
            (Some(x), Some(y)) if val_eq(x.value, y.value) => {}
            _ => return false,
        }
    }
    // A parameter present on both sides must have a matching value; a name repeated on one
    // side matches when any of the other side's values with that name does.
    a.iter().all(|p| {
        let mut same_name = b
            .iter()
            .filter(|q| escaped_eq(p.name, q.name, true))
            .peekable();
        same_name.peek().is_none() || same_name.any(|q| val_eq(p.value, q.value))
    })
}

fn headers_equivalent(a: Option<&str>, b: Option<&str>) -> bool {
    fn pairs(h: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
        h.unwrap_or("")
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| match kv.find('=') {
                Some(e) => (&kv[..e], &kv[e + 1..]),
                None => (kv, ""),
            })
    }
    let contains = |h: Option<&str>, (n, v): (&str, &str)| {
        pairs(h).any(|(m, w)| escaped_eq(n, m, true) && escaped_eq(v, w, false))
    };
    pairs(a).count() == pairs(b).count()
        && pairs(a).all(|p| contains(b, p))
        && pairs(b).all(|p| contains(a, p))
}

/// Parses `host [":" port]` (RFC 3261 §25.1 hostport) at the start of `s`.
pub(crate) fn host_port(s: &str) -> Result<(&str, Host<'_>, Option<u16>), Fault> {
    let (rest, host) = host(s)?;
    match rest.strip_prefix(':') {
        Some(p) => {
            let (rest, port) = crate::parse::number(p, u64::from(u16::MAX), "bad port")?;
            Ok((rest, host, Some(port as u16)))
        }
        None => Ok((rest, host, None)),
    }
}

/// Parses a `host` at the start of `s`: a bracketed IPv6 reference, an IPv4 address or a
/// host name (RFC 3261 §25.1).
pub(crate) fn host(s: &str) -> Result<(&str, Host<'_>), Fault> {
    if let Some(v6) = s.strip_prefix('[') {
        let Some(end) = find_byte(v6, b']') else {
            return Err(Fault::at("unterminated IPv6 reference", s));
        };
        let addr: Ipv6Addr = v6[..end]
            .parse()
            .map_err(|_| Fault::at("bad IPv6 address", v6))?;
        return Ok((&v6[end + 1..], Host::Ipv6(addr)));
    }
    // One pass: the span of host characters, whether it is all digits and dots (an IPv4
    // address), and whether every label is non-empty without a '-' at either end.
    let bytes = s.as_bytes();
    let (mut n, mut numeric, mut labels_ok, mut prev) = (0, true, true, b'.');
    while n < bytes.len() && crate::parse::is(bytes[n], class::HOST) {
        let c = bytes[n];
        numeric &= c.is_ascii_digit() || c == b'.';
        if (c == b'.' && (prev == b'.' || prev == b'-')) || (c == b'-' && prev == b'.') {
            labels_ok = false;
        }
        prev = c;
        n += 1;
    }
    if n == 0 {
        return Err(Fault::at("missing host", s));
    }
    let name = &s[..n];
    if numeric {
        let addr = ipv4(name).ok_or(Fault::at("bad IPv4 address", s))?;
        return Ok((&s[n..], Host::Ipv4(addr)));
    }
    // A single trailing dot (fully qualified name) is allowed.
    let trailing_dot_ok = prev == b'.' && n >= 2 && bytes[n - 2] != b'.' && bytes[n - 2] != b'-';
    if !labels_ok || prev == b'-' || (prev == b'.' && !trailing_dot_ok) {
        return Err(Fault::at("bad host name", s));
    }
    Ok((&s[n..], Host::Domain(name)))
}

/// Dotted-quad IPv4 address (RFC 3261 §25.1 IPv4address: four 1-3 digit parts, each <= 255).
pub(crate) fn ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut part = 0;
    let (mut value, mut digits) = (0u16, 0);
    for &b in s.as_bytes() {
        match b {
            b'0'..=b'9' if digits < 3 => {
                value = value * 10 + u16::from(b - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && part < 3 => {
                octets[part] = u8::try_from(value).ok()?;
                part += 1;
                (value, digits) = (0, 0);
            }
            _ => return None,
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

impl Host<'_> {
    /// Host comparison: names case-insensitively, addresses by value (RFC 3261 §19.1.4).
    pub fn equivalent(&self, o: &Host<'_>) -> bool {
        match (self, o) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl<'a> TelUri<'a> {
    fn parse_after_scheme(s: &'a str) -> Result<TelUri<'a>, Fault> {
        let n = find_byte(s, b';').unwrap_or(s.len());
        let number = &s[..n];
        if number.is_empty() {
            return Err(Fault::at("empty telephone number", s));
        }
        if let Some(p) = number.find(|c: char| {
            !(c.is_ascii_hexdigit()
                || matches!(
                    c,
                    '*' | '#' | '+' | '-' | '.' | '(' | ')' | 'p' | 'P' | 'w' | 'W'
                ))
        }) {
            return Err(Fault::at(
                "character not allowed in telephone number",
                &number[p..],
            ));
        }
        let (rest, params) = Params::parse(&s[n..], ParamGrammar::Uri)?;
        if !rest.is_empty() {
            return Err(Fault::at("unexpected character in tel URI", rest));
        }
        Ok(TelUri { number, params })
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = self.user {
            f.write_str(u)?;
            if let Some(p) = self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(h) = self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel(t) => write!(f, "tel:{}{}", t.number, t.params),
            Uri::Absolute(a) => write!(f, "{}:{}", a.scheme, a.rest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s).unwrap() {
            Uri::Sip(u) => u,
            other => panic!("not sip: {other:?}"),
        }
    }

    #[test]
    fn full_sip_uri() {
        let u =
            sip("sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=x&priority=urgent");
        assert!(u.secure);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, Host::Ipv6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.value("transport"), Some(Some("tcp")));
        assert_eq!(u.headers, Some("subject=x&priority=urgent"));
        assert_eq!(sip(&u.to_string()), u);
    }

    #[test]
    fn user_may_hold_semicolon_and_escapes() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, Host::Domain("example.com"));
    }

    #[test]
    fn comparison_rules_of_19_1_4() {
        assert!(
            sip("sip:%61lice@atlanta.com;transport=TCP")
                .equivalent(&sip("sip:alice@AtLanTa.CoM;Transport=tcp"))
        );
        assert!(!sip("sip:alice@atlanta.com").equivalent(&sip("sip:ALICE@atlanta.com")));
        // Found by proptest: a repeated parameter name must still compare equal to itself.
        assert!(sip("sip:a;a;a=0").equivalent(&sip("sip:a;a;a=0")));
        assert!(!sip("sip:bob@biloxi.com").equivalent(&sip("sip:bob@biloxi.com:5060")));
        assert!(!sip("sip:bob@biloxi.com").equivalent(&sip("sip:bob@biloxi.com;transport=udp")));
        assert!(
            sip("sip:carol@chicago.com;security=on")
                .equivalent(&sip("sip:carol@chicago.com;newparam=5"))
        );
        assert!(
            !sip("sip:carol@chicago.com?Subject=next%20meeting")
                .equivalent(&sip("sip:carol@chicago.com?Subject=another"))
        );
    }

    #[test]
    fn bad_uris() {
        for s in [
            "sip:2001:db8::10",
            "sip:user@example.com; lr",
            "sip:[2001:db8::1",
            "sip:user@host:99999",
            "sip:%zz@host",
            "sip:@host",
            "sip:",
            "1abc:foo",
            "sip:a@300.1.1.1",
        ] {
            assert!(Uri::parse(s).is_err(), "{s} should fail");
        }
    }

    #[test]
    fn ipv4_dotted_quads() {
        assert_eq!(ipv4("192.0.2.255"), Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(ipv4("0.0.0.0"), Some(Ipv4Addr::UNSPECIFIED));
        for s in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "0001.1.1.1",
            "256.1.1.1",
            "1.2.3.256",
            "1.2.3.a",
            "1.2.3.4 ",
        ] {
            assert_eq!(ipv4(s), None, "{s}");
        }
    }

    #[test]
    fn tel_and_other_schemes() {
        match Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap() {
            Uri::Tel(t) => assert_eq!(t.number, "+1-201-555-0123"),
            other => panic!("{other:?}"),
        }
        match Uri::parse("soap.beep://192.0.2.103:3002").unwrap() {
            Uri::Absolute(a) => assert_eq!((a.scheme, a.rest), ("soap.beep", "//192.0.2.103:3002")),
            other => panic!("{other:?}"),
        }
    }
}
