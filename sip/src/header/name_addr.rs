//! name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39, §25.1):
//! From, To, Contact, Route, Record-Route.

use super::FromValue;
use crate::error::Fault;
use crate::params::{ParamGrammar, Params};
use crate::parse::{is_lws, quoted_string, sws, token};
use crate::uri::Uri;
use std::fmt;

/// A display-name: a quoted-string (escapes kept, quotes removed) or tokens separated by LWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayName<'a> {
    /// `"Mr. Watson"`; the text between the quotes, quoted-pairs still escaped.
    Quoted(&'a str),
    /// `Watson` or `Thomas Watson`.
    Tokens(&'a str),
}

impl<'a> DisplayName<'a> {
    /// The text as received (for a quoted name: without the quotes, escapes kept).
    pub fn raw(&self) -> &'a str {
        match self {
            DisplayName::Quoted(s) | DisplayName::Tokens(s) => s,
        }
    }

    /// The name with quoted-pairs resolved (`\"` becomes `"`), as characters.
    pub fn chars(&self) -> impl Iterator<Item = char> + 'a {
        let mut esc = false;
        let quoted = matches!(self, DisplayName::Quoted(_));
        self.raw().chars().filter(move |&c| {
            if quoted && !esc && c == '\\' {
                esc = true;
                return false;
            }
            esc = false;
            true
        })
    }
}

/// A name-addr (`"Bob" <sip:bob@biloxi.com>;tag=a6c85cf`) or addr-spec
/// (`sip:bob@biloxi.com;tag=a6c85cf`) and its header parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display-name, if any.
    pub display: Option<DisplayName<'a>>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Header parameters after the URI (tag, expires, q, lr...).
    pub params: Params<'a>,
    /// Whether the URI was enclosed in `<>` (name-addr form).
    pub angle: bool,
}

impl<'a> NameAddr<'a> {
    /// The tag parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag").flatten()
    }

    /// The `expires` parameter of a Contact (RFC 3261 §20.10).
    pub fn expires(&self) -> Option<u32> {
        self.params
            .value("expires")
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// The `q` parameter of a Contact, in thousandths (RFC 3261 §20.10: `0` to `1.000`).
    pub fn q(&self) -> Option<u16> {
        self.params.value("q").flatten().and_then(parse_qvalue)
    }

    fn check_contact_params(&self) -> Result<(), Fault> {
        if let Some(p) = self.params.get("q") {
            p.value
                .and_then(parse_qvalue)
                .ok_or(Fault::at("q is not a qvalue", p.value.unwrap_or(p.name)))?;
        }
        if let Some(p) = self.params.get("expires") {
            p.value
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or(Fault::at(
                    "expires is not delta-seconds",
                    p.value.unwrap_or(p.name),
                ))?;
        }
        Ok(())
    }
}

/// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
fn parse_qvalue(v: &str) -> Option<u16> {
    let (int, frac) = match v.find('.') {
        Some(d) => (&v[..d], &v[d + 1..]),
        None => (v, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for (k, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][k];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl<'a> FromValue<'a> for NameAddr<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (rest, display, angle_start) = if s.starts_with('"') {
            let (rest, inner) = quoted_string(s)?;
            let rest = sws(rest);
            if !rest.starts_with('<') {
                return Err(Fault::at("expected '<' after display-name", rest));
            }
            (rest, Some(DisplayName::Quoted(inner)), true)
        } else if s.starts_with('<') {
            (s, None, true)
        } else {
            // Either `token *(LWS token) SWS "<"` or an addr-spec.
            let mut i = s;
            let mut end = 0;
            while let Ok((r, _)) = token(i) {
                end = s.len() - r.len();
                i = sws(r);
            }
            if end > 0 && i.starts_with('<') {
                (i, Some(DisplayName::Tokens(&s[..end])), true)
            } else {
                (s, None, false)
            }
        };
        let (uri, after) = if angle_start {
            let inner = &rest[1..];
            let Some(close) = crate::parse::find_byte(inner, b'>') else {
                return Err(Fault::at("missing '>'", rest));
            };
            let text = &inner[..close];
            if text.starts_with(is_lws) || text.ends_with(is_lws) {
                return Err(Fault::at("white space inside '<>'", text));
            }
            (Uri::parse_at(text)?, &inner[close + 1..])
        } else {
            // addr-spec: the URI ends at the first ';' or white space; its parameters are
            // header parameters (RFC 3261 §20.10).
            let n = rest
                .find(|c: char| c == ';' || is_lws(c))
                .unwrap_or(rest.len());
            let uri = Uri::parse_at(&rest[..n])?;
            if let Uri::Sip(u) = &uri
                && u.headers.is_some()
            {
                return Err(Fault::at("URI with headers must be enclosed in '<>'", rest));
            }
            (uri, &rest[n..])
        };
        let (after, params) = Params::parse(after, ParamGrammar::Header)?;
        let after = sws(after);
        if !after.is_empty() {
            return Err(Fault::at("unexpected text after address", after));
        }
        Ok(NameAddr {
            display,
            uri,
            params,
            angle: angle_start,
        })
    }
}

impl fmt::Display for NameAddr<'_> {
    /// Writes the name-addr form whenever the URI needs it (RFC 3261 §20.10).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.display {
            Some(DisplayName::Quoted(d)) => write!(f, "\"{d}\" ")?,
            Some(DisplayName::Tokens(d)) => write!(f, "{d} ")?,
            None => {}
        }
        if self.angle || self.display.is_some() {
            write!(f, "<{}>", self.uri)?;
        } else {
            write!(f, "{}", self.uri)?;
        }
        write!(f, "{}", self.params)
    }
}

/// One Contact value: `*` or an address (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (only in a REGISTER that removes all bindings, §10.2.2).
    Star,
    /// An address with its parameters.
    Addr(NameAddr<'a>),
}

impl<'a> FromValue<'a> for Contact<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        if s == "*" {
            return Ok(Contact::Star);
        }
        let a = NameAddr::from_value(s)?;
        a.check_contact_params()?;
        Ok(Contact::Addr(a))
    }
}

impl fmt::Display for Contact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Star => f.write_str("*"),
            Contact::Addr(a) => write!(f, "{a}"),
        }
    }
}

/// A Route / Record-Route value: always a name-addr (RFC 3261 §20.30, §20.34).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteAddr<'a>(pub NameAddr<'a>);

impl<'a> FromValue<'a> for RouteAddr<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let a = NameAddr::from_value(s)?;
        if !a.angle {
            return Err(Fault::at("route must be a name-addr in '<>'", s));
        }
        Ok(RouteAddr(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Host;

    #[test]
    fn forms() {
        let a = NameAddr::from_value(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(a.display, Some(DisplayName::Quoted(r#"J Rosenberg \\\""#)));
        assert_eq!(
            a.display.unwrap().chars().collect::<String>(),
            r#"J Rosenberg \""#
        );
        assert_eq!(a.tag(), Some("98asjd8"));
        let b = NameAddr::from_value("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
            .unwrap();
        assert!(!b.angle);
        assert_eq!(b.tag(), Some("1918181833n"));
        assert_eq!(
            b.uri.as_sip().unwrap().host,
            Host::Domain("chair-dnrc.example.com")
        );
        let c = NameAddr::from_value("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(c.display, Some(DisplayName::Tokens("caller")));
        let d = NameAddr::from_value("Thomas  Watson <sip:w@example.com>").unwrap();
        assert_eq!(d.display, Some(DisplayName::Tokens("Thomas  Watson")));
        for x in [a, b, c, d] {
            assert_eq!(NameAddr::from_value(&x.to_string()).unwrap(), x);
        }
    }

    #[test]
    fn bad_forms() {
        for s in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "< sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:joe@example.org>;;;;",
            "<sip:x@y> junk",
        ] {
            assert!(NameAddr::from_value(s).is_err(), "{s}");
        }
    }

    #[test]
    fn contact_params() {
        let Contact::Addr(c) = Contact::from_value("<sip:a@b>;expires=3600;q=0.7").unwrap() else {
            panic!()
        };
        assert_eq!((c.expires(), c.q()), (Some(3600), Some(700)));
        assert_eq!(Contact::from_value("*").unwrap(), Contact::Star);
        assert!(Contact::from_value("<sip:a@b>;q=1.5").is_err());
        assert!(Contact::from_value("<sip:a@b>;expires=280297596632815").is_err());
        assert!(RouteAddr::from_value("sip:p@example.com").is_err());
    }
}
