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
        let (left, right) = match s.find('@') {
            Some(at) => (&s[..at], Some(&s[at + 1..])),
            None => (s, None),
        };
        let word = |w: &'a str| -> Result<(), Fault> {
            if w.is_empty() {
                return Err(Fault::at("empty word in Call-ID", w));
            }
            match Some(span(w, class::WORD)).filter(|&p| p < w.len()) {
                Some(p) => Err(Fault::at("character not allowed in Call-ID", &w[p..])),
                None => Ok(()),
            }
        };
        word(left)?;
        if let Some(r) = right {
            word(r)?;
        }
        Ok(CallId(s))
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
