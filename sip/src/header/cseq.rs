//! CSeq (RFC 3261 §20.16, §8.1.1.5) and request methods (§7.1, §27.4).

use super::FromValue;
use crate::error::Fault;
use crate::parse::{is_lws, number, sws, token};
use std::fmt;

/// A request method. Extension methods keep their text (RFC 3261 §25.1 extension-method).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Prack,
    Update,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Extension(&'a str),
}

const METHODS: &[(Method<'static>, &str)] = &[
    (Method::Invite, "INVITE"),
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Register, "REGISTER"),
    (Method::Options, "OPTIONS"),
    (Method::Info, "INFO"),
    (Method::Prack, "PRACK"),
    (Method::Update, "UPDATE"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Notify, "NOTIFY"),
    (Method::Refer, "REFER"),
    (Method::Message, "MESSAGE"),
    (Method::Publish, "PUBLISH"),
];

impl<'a> Method<'a> {
    /// A method from its token. Methods are case-sensitive (RFC 3261 §7.1), so `invite` is
    /// an extension method.
    pub fn from_token(t: &'a str) -> Method<'a> {
        match t.as_bytes() {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INFO" => Method::Info,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"PUBLISH" => Method::Publish,
            _ => Method::Extension(t),
        }
    }

    /// The method text.
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Extension(t) => t,
            m => METHODS.iter().find(|(n, _)| n == m).map_or("", |(_, s)| s),
        }
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `CSeq: 4711 INVITE`. The number is below 2**31 (RFC 3261 §8.1.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number.
    pub seq: u32,
    /// Method.
    pub method: Method<'a>,
}

impl<'a> FromValue<'a> for CSeq<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (i, seq) = number(s, (1 << 31) - 1, "CSeq number missing or not below 2**31")?;
        if !i.starts_with(is_lws) {
            return Err(Fault::at("expected white space after CSeq number", i));
        }
        let i = sws(i);
        let (i, m) = token(i).map_err(|_| Fault::at("bad CSeq method", i))?;
        let i = sws(i);
        if !i.is_empty() {
            return Err(Fault::at("unexpected text after CSeq method", i));
        }
        Ok(CSeq {
            seq: seq as u32,
            method: Method::from_token(m),
        })
    }
}

impl fmt::Display for CSeq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_tokens_match_the_table() {
        for (m, text) in METHODS {
            assert_eq!(Method::from_token(text), *m);
            assert_eq!(m.as_str(), *text);
        }
        assert_eq!(Method::from_token("invite"), Method::Extension("invite"));
    }

    #[test]
    fn cseq_forms() {
        assert_eq!(
            CSeq::from_value("0009\r\n  INVITE").unwrap(),
            CSeq {
                seq: 9,
                method: Method::Invite
            }
        );
        assert_eq!(
            CSeq::from_value("1 NEWMETHOD").unwrap().method,
            Method::Extension("NEWMETHOD")
        );
        for s in [
            "36893488147419103232 REGISTER",
            "2147483648 INVITE",
            "1",
            "INVITE",
            "1INVITE",
            "1 INVITE x",
        ] {
            assert!(CSeq::from_value(s).is_err(), "{s}");
        }
    }
}
