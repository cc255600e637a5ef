//! Content-Type (RFC 3261 §20.15): `type/subtype;params`.

use super::FromValue;
use crate::error::Fault;
use crate::params::{ParamGrammar, Params};
use crate::parse::{sws, token};
use std::fmt;

/// A media type such as `application/sdp` or `multipart/mixed;boundary=x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// m-type.
    pub mtype: &'a str,
    /// m-subtype.
    pub subtype: &'a str,
    /// m-parameters.
    pub params: Params<'a>,
}

impl MediaType<'_> {
    /// Whether this is `type/subtype` (case-insensitive, RFC 3261 §20.15 / RFC 2045).
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

impl<'a> FromValue<'a> for MediaType<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (i, mtype) = token(s).map_err(|_| Fault::at("bad media type", s))?;
        let i = sws(i)
            .strip_prefix('/')
            .ok_or(Fault::at("expected '/' in media type", i))?;
        let i = sws(i);
        let (i, subtype) = token(i).map_err(|_| Fault::at("bad media subtype", i))?;
        let (i, params) = Params::parse(i, ParamGrammar::Header)?;
        let i = sws(i);
        if !i.is_empty() {
            return Err(Fault::at("unexpected text in media type", i));
        }
        Ok(MediaType {
            mtype,
            subtype,
            params,
        })
    }
}

impl fmt::Display for MediaType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
    }
}
