//! Call-ID (RFC 3261 §20.8): `word ["@" word]`.

use super::FromValue;
use crate::error::Fault;
use crate::parse::{class, span};
use std::fmt;

/// A Call-ID, compared byte for byte (RFC 3261 §20.8: case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId<'a>(pub &'a str);

impl<'a> FromValue<'a> for CallId<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        // One pass: `word`, then optionally "@" and a second `word` ('@' is no word char).
        let word = |w: &'a str| -> Result<usize, Fault> {
            match span(w, class::WORD) {
                0 => Err(Fault::at("empty word in Call-ID", &w[..0])),
                n => Ok(n),
            }
        };
        let n = word(s)?;
        let rest = &s[n..];
        let bad = |at: &'a str| Err(Fault::at("character not allowed in Call-ID", at));
        match rest.strip_prefix('@') {
            None if rest.is_empty() => Ok(CallId(s)),
            None => bad(rest),
            Some(right) => match word(right)? {
                m if m == right.len() => Ok(CallId(s)),
                m => bad(&right[m..]),
            },
        }
    }
}

impl fmt::Display for CallId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids() {
        assert!(CallId::from_value("a84b4c76e66710@pc33.atlanta.com").is_ok());
        assert!(CallId::from_value("f81d4fae-7dec-11d0-a765-00a0c91e6bf6").is_ok());
        for s in ["", "a b", "a@b@c", "@x", "a,b"] {
            assert!(CallId::from_value(s).is_err(), "{s}");
        }
    }
}
