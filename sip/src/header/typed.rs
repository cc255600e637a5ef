//! The typed value of a header, chosen by its name (RFC 3261 §20), and lazy iterators over
//! comma-separated values (§7.3.1) so that a list never needs a heap allocation.

use super::name_addr::RouteAddr;
use super::scalar::{content_length, delta_seconds, max_forwards};
use super::{
    Auth, CSeq, CallId, Contact, Date, FromValue, HeaderName, MediaType, NameAddr, Product, Reason,
    RetryAfter, Token, Via,
};
use crate::error::Fault;
use crate::parse::CommaSplit;
use std::fmt;
use std::marker::PhantomData;

/// The comma-separated values of a header, parsed one at a time as iterated. Built only over
/// text that was validated, so iteration yields every value.
#[derive(Debug)]
pub struct Values<'a, T> {
    split: Option<CommaSplit<'a>>,
    _t: PhantomData<T>,
}

impl<T> Clone for Values<'_, T> {
    fn clone(&self) -> Self {
        Values {
            split: self.split.clone(),
            _t: PhantomData,
        }
    }
}

impl<'a, T: FromValue<'a>> Values<'a, T> {
    /// Validates every element of `s` (an empty `s` is an empty list when `allow_empty`).
    pub(crate) fn parse(s: &'a str, allow_empty: bool) -> Result<Values<'a, T>, Fault> {
        if s.trim_matches(crate::parse::is_lws).is_empty() {
            if allow_empty {
                return Ok(Values {
                    split: None,
                    _t: PhantomData,
                });
            }
            return Err(Fault::at("empty header value", s));
        }
        for e in CommaSplit::new(s) {
            if e.is_empty() {
                return Err(Fault::at("empty element in list", e));
            }
            T::from_value(e)?;
        }
        Ok(Values::over(s))
    }

    /// Iterates `s` without validating (elements that fail are skipped).
    pub(crate) fn over(s: &'a str) -> Values<'a, T> {
        let empty = s.trim_matches(crate::parse::is_lws).is_empty();
        Values {
            split: (!empty).then(|| CommaSplit::new(s)),
            _t: PhantomData,
        }
    }
}

impl<'a, T: FromValue<'a>> Iterator for Values<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let split = self.split.as_mut()?;
        for e in split.by_ref() {
            if let Ok(v) = T::from_value(e) {
                return Some(v);
            }
        }
        None
    }
}

impl<'a, T: FromValue<'a> + PartialEq> PartialEq for Values<'a, T> {
    fn eq(&self, o: &Self) -> bool {
        Iterator::eq(self.clone(), o.clone())
    }
}

impl<'a, T: FromValue<'a> + fmt::Display> fmt::Display for Values<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in self.clone().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// A header value parsed by the grammar of its header.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<'a> {
    Via(Values<'a, Via<'a>>),
    From(NameAddr<'a>),
    To(NameAddr<'a>),
    CallId(CallId<'a>),
    CSeq(CSeq<'a>),
    MaxForwards(u8),
    Contact(Values<'a, Contact<'a>>),
    Route(Values<'a, RouteAddr<'a>>),
    RecordRoute(Values<'a, RouteAddr<'a>>),
    ContentLength(u32),
    ContentType(MediaType<'a>),
    Expires(u32),
    MinExpires(u32),
    WwwAuthenticate(Auth<'a>),
    ProxyAuthenticate(Auth<'a>),
    Authorization(Auth<'a>),
    ProxyAuthorization(Auth<'a>),
    Allow(Values<'a, Token<'a>>),
    Supported(Values<'a, Token<'a>>),
    Require(Values<'a, Token<'a>>),
    ProxyRequire(Values<'a, Token<'a>>),
    Unsupported(Values<'a, Token<'a>>),
    ContentEncoding(Values<'a, Token<'a>>),
    RetryAfter(RetryAfter<'a>),
    Reason(Values<'a, Reason<'a>>),
    UserAgent(Product<'a>),
    Server(Product<'a>),
    Date(Date<'a>),
    /// Any other header: the raw value.
    Raw(&'a str),
}

impl<'a> Typed<'a> {
    /// Parses `value` by the grammar of header `kind`.
    pub(crate) fn parse(kind: HeaderName, value: &'a str) -> Result<Typed<'a>, Fault> {
        use HeaderName as H;
        Ok(match kind {
            H::Via => Typed::Via(Values::parse(value, false)?),
            H::From => Typed::From(NameAddr::from_value(value)?),
            H::To => Typed::To(NameAddr::from_value(value)?),
            H::CallId => Typed::CallId(CallId::from_value(value)?),
            H::CSeq => Typed::CSeq(CSeq::from_value(value)?),
            H::MaxForwards => Typed::MaxForwards(max_forwards(value)?),
            H::Contact => Typed::Contact(contacts(value)?),
            H::Route => Typed::Route(Values::parse(value, false)?),
            H::RecordRoute => Typed::RecordRoute(Values::parse(value, false)?),
            H::ContentLength => Typed::ContentLength(content_length(value)?),
            H::ContentType => Typed::ContentType(MediaType::from_value(value)?),
            H::Expires => Typed::Expires(delta_seconds(value)?),
            H::MinExpires => Typed::MinExpires(delta_seconds(value)?),
            H::WwwAuthenticate => Typed::WwwAuthenticate(Auth::parse(value)?),
            H::ProxyAuthenticate => Typed::ProxyAuthenticate(Auth::parse(value)?),
            H::Authorization => Typed::Authorization(Auth::parse(value)?),
            H::ProxyAuthorization => Typed::ProxyAuthorization(Auth::parse(value)?),
            H::Allow => Typed::Allow(Values::parse(value, true)?),
            H::Supported => Typed::Supported(Values::parse(value, true)?),
            H::Require => Typed::Require(Values::parse(value, false)?),
            H::ProxyRequire => Typed::ProxyRequire(Values::parse(value, false)?),
            H::Unsupported => Typed::Unsupported(Values::parse(value, false)?),
            H::ContentEncoding => Typed::ContentEncoding(Values::parse(value, false)?),
            H::RetryAfter => Typed::RetryAfter(RetryAfter::from_value(value)?),
            H::Reason => Typed::Reason(Values::parse(value, false)?),
            H::UserAgent => Typed::UserAgent(Product::parse(value)?),
            H::Server => Typed::Server(Product::parse(value)?),
            H::Date => Typed::Date(Date::parse(value)?),
            _ => Typed::Raw(value),
        })
    }
}

/// Contact values; `*` must stand alone (RFC 3261 §10.2.2, §20.10).
fn contacts(value: &str) -> Result<Values<'_, Contact<'_>>, Fault> {
    let v: Values<'_, Contact<'_>> = Values::parse(value, false)?;
    if v.clone().count() > 1 && v.clone().any(|c| c == Contact::Star) {
        return Err(Fault::at("'*' must be the only Contact value", value));
    }
    Ok(v)
}

impl fmt::Display for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Typed::Via(v) => write!(f, "{v}"),
            Typed::From(a) | Typed::To(a) => write!(f, "{a}"),
            Typed::CallId(c) => write!(f, "{c}"),
            Typed::CSeq(c) => write!(f, "{c}"),
            Typed::MaxForwards(n) => write!(f, "{n}"),
            Typed::Contact(v) => write!(f, "{v}"),
            Typed::Route(v) | Typed::RecordRoute(v) => write!(f, "{v}"),
            Typed::ContentLength(n) | Typed::Expires(n) | Typed::MinExpires(n) => write!(f, "{n}"),
            Typed::ContentType(m) => write!(f, "{m}"),
            Typed::WwwAuthenticate(a)
            | Typed::ProxyAuthenticate(a)
            | Typed::Authorization(a)
            | Typed::ProxyAuthorization(a) => write!(f, "{a}"),
            Typed::Allow(v)
            | Typed::Supported(v)
            | Typed::Require(v)
            | Typed::ProxyRequire(v)
            | Typed::Unsupported(v)
            | Typed::ContentEncoding(v) => write!(f, "{v}"),
            Typed::RetryAfter(r) => write!(f, "{r}"),
            Typed::Reason(v) => write!(f, "{v}"),
            Typed::UserAgent(p) | Typed::Server(p) => write!(f, "{p}"),
            Typed::Date(d) => write!(f, "{d}"),
            Typed::Raw(s) => {
                // Collapse line folds to a single space (RFC 3261 §7.3.1).
                let mut first = true;
                for part in s
                    .split(['\r', '\n'])
                    .map(|p| p.trim_matches([' ', '\t']))
                    .filter(|p| !p.is_empty())
                {
                    if !first {
                        f.write_str(" ")?;
                    }
                    f.write_str(part)?;
                    first = false;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for RouteAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
