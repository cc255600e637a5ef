//! Reason (RFC 3326 §2): `SIP ;cause=200 ;text="Call completed elsewhere"`.

use super::FromValue;
use crate::error::Fault;
use crate::params::{ParamGrammar, Params};
use crate::parse::{sws, token};
use std::fmt;

/// One Reason value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    /// protocol: `SIP`, `Q.850` or a token.
    pub protocol: &'a str,
    /// reason-params (cause, text).
    pub params: Params<'a>,
}

impl<'a> Reason<'a> {
    /// The cause parameter.
    pub fn cause(&self) -> Option<u16> {
        self.params
            .value("cause")
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// The text parameter, escapes kept.
    pub fn text(&self) -> Option<&'a str> {
        self.params.value("text").flatten()
    }
}

impl<'a> FromValue<'a> for Reason<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (i, protocol) = token(s).map_err(|_| Fault::at("bad Reason protocol", s))?;
        let (i, params) = Params::parse(i, ParamGrammar::Header)?;
        let i = sws(i);
        if !i.is_empty() {
            return Err(Fault::at("unexpected text in Reason", i));
        }
        Ok(Reason { protocol, params })
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.protocol, self.params)
    }
}
