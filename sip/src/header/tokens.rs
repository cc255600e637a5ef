//! Token lists: Allow (§20.5), Supported (§20.37), Require (§20.32), Unsupported (§20.40),
//! Proxy-Require (§20.29), Content-Encoding (§20.12).

use super::FromValue;
use crate::error::Fault;
use crate::parse::{class, span};
use std::fmt;

/// One token of a list header, e.g. a method in Allow or an option-tag in Require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a>(pub &'a str);

impl<'a> FromValue<'a> for Token<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        if s.is_empty() {
            return Err(Fault::at("empty list element", s));
        }
        match Some(span(s, class::TOKEN)).filter(|&p| p < s.len()) {
            Some(p) => Err(Fault::at("list element is not a token", &s[p..])),
            None => Ok(Token(s)),
        }
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
