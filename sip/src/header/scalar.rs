//! Numeric headers: Content-Length (§20.14), Max-Forwards (§20.22), Expires (§20.19),
//! Min-Expires (§20.23) and Retry-After (§20.33).

use super::FromValue;
use crate::error::Fault;
use crate::params::{ParamGrammar, Params};
use crate::parse::{comment, number, sws, whole_number};
use std::fmt;

/// `Content-Length`: octets in the body.
pub(crate) fn content_length(v: &str) -> Result<u32, Fault> {
    whole_number(
        v,
        u64::from(u32::MAX),
        "Content-Length is not a number of octets",
    )
    .map(|n| n as u32)
}

/// `Max-Forwards`: 0 to 255 (RFC 3261 §20.22; RFC 4475 §3.1.2.4 treats more as malformed).
pub(crate) fn max_forwards(v: &str) -> Result<u8, Fault> {
    whole_number(v, 255, "Max-Forwards is not 0-255").map(|n| n as u8)
}

/// `delta-seconds` of Expires / Min-Expires, up to 2**32-1.
pub(crate) fn delta_seconds(v: &str) -> Result<u32, Fault> {
    whole_number(v, u64::from(u32::MAX), "not delta-seconds (0 to 2**32-1)").map(|n| n as u32)
}

/// `Retry-After: 18000;duration=3600` or `120 (I'm in a meeting)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    /// Seconds to wait.
    pub seconds: u32,
    /// The comment including parentheses, if any.
    pub comment: Option<&'a str>,
    /// retry-params (`duration`).
    pub params: Params<'a>,
}

impl<'a> FromValue<'a> for RetryAfter<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (i, seconds) = number(s, u64::from(u32::MAX), "Retry-After is not delta-seconds")?;
        let t = sws(i);
        let (i, comment) = if t.starts_with('(') {
            let (r, c) = comment(t)?;
            (r, Some(c))
        } else {
            (i, None)
        };
        let (i, params) = Params::parse(i, ParamGrammar::Header)?;
        let i = sws(i);
        if !i.is_empty() {
            return Err(Fault::at("unexpected text in Retry-After", i));
        }
        Ok(RetryAfter {
            seconds: seconds as u32,
            comment,
            params,
        })
    }
}

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        if let Some(c) = self.comment {
            write!(f, " {c}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(max_forwards(" 0068").unwrap(), 68);
        assert!(max_forwards("300").is_err());
        assert!(content_length("-999").is_err());
        assert!(delta_seconds("10000000000000000000000").is_err());
        let r = RetryAfter::from_value("120 (I'm in a meeting);duration=60").unwrap();
        assert_eq!((r.seconds, r.comment), (120, Some("(I'm in a meeting)")));
        assert_eq!(r.params.value("duration"), Some(Some("60")));
        assert!(RetryAfter::from_value("949302838503028349304023988").is_err());
    }
}
