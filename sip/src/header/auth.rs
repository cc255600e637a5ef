//! WWW-Authenticate / Proxy-Authenticate (RFC 3261 §20.44, §20.27) and Authorization /
//! Proxy-Authorization (§20.7, §20.28): `scheme auth-param *("," auth-param)`.

use crate::error::Fault;
use crate::parse::{CommaSplit, is_lws, quoted_string, sws, token};
use std::fmt;

/// A challenge or credentials: the scheme and its auth-params. Any scheme parses (RFC 4475
/// §3.3.8: an unknown scheme is the application's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth<'a> {
    /// The scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The auth-params.
    pub params: AuthParams<'a>,
}

/// One `name=value` auth-param; a quoted value is given without quotes, escapes kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// Name (case-insensitive).
    pub name: &'a str,
    /// Value.
    pub value: &'a str,
    /// Whether the value was quoted.
    pub quoted: bool,
}

/// Validated auth-params, iterated on demand.
#[derive(Debug, Clone, Copy)]
pub struct AuthParams<'a>(&'a str);

fn auth_param(s: &str) -> Result<AuthParam<'_>, Fault> {
    let (i, name) = token(s).map_err(|_| Fault::at("bad auth-param name", s))?;
    let i = sws(i)
        .strip_prefix('=')
        .ok_or(Fault::at("expected '=' in auth-param", i))?;
    let i = sws(i);
    let (rest, value, quoted) = if i.starts_with('"') {
        let (r, v) = quoted_string(i)?;
        (r, v, true)
    } else {
        let (r, v) = token(i).map_err(|_| Fault::at("bad auth-param value", i))?;
        (r, v, false)
    };
    let rest = sws(rest);
    if !rest.is_empty() {
        return Err(Fault::at("unexpected text in auth-param", rest));
    }
    Ok(AuthParam {
        name,
        value,
        quoted,
    })
}

impl<'a> AuthParams<'a> {
    /// Params in order.
    pub fn iter(&self) -> impl Iterator<Item = AuthParam<'a>> + 'a {
        let s = self.0;
        CommaSplit::new(s)
            .filter(|e| !e.is_empty())
            .filter_map(|e| auth_param(e).ok())
    }

    /// The value of the param named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }
}

impl PartialEq for AuthParams<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.iter().eq(o.iter())
    }
}

impl Eq for AuthParams<'_> {}

impl<'a> Auth<'a> {
    pub(crate) fn parse(s: &'a str) -> Result<Auth<'a>, Fault> {
        let (i, scheme) = token(s).map_err(|_| Fault::at("bad auth scheme", s))?;
        if i.is_empty() {
            return Ok(Auth {
                scheme,
                params: AuthParams(""),
            });
        }
        if !i.starts_with(is_lws) {
            return Err(Fault::at("expected white space after auth scheme", i));
        }
        let i = sws(i);
        for e in CommaSplit::new(i) {
            auth_param(e)?;
        }
        Ok(Auth {
            scheme,
            params: AuthParams(i),
        })
    }

    /// The value of an auth-param (e.g. `realm`, `nonce`, `response`).
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.get(name)
    }
}

impl fmt::Display for Auth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme)?;
        for (k, p) in self.params.iter().enumerate() {
            f.write_str(if k == 0 { " " } else { ", " })?;
            if p.quoted {
                write!(f, "{}=\"{}\"", p.name, p.value)?;
            } else {
                write!(f, "{}={}", p.name, p.value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_and_unknown_schemes() {
        let a = Auth::parse(r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", response="245f23415f11432b3434341c022", algorithm=MD5"#).unwrap();
        assert_eq!(a.scheme, "Digest");
        assert_eq!(a.param("REALM"), Some("biloxi.com"));
        assert_eq!(a.param("algorithm"), Some("MD5"));
        assert_eq!(Auth::parse(&a.to_string()).unwrap(), a);
        let b = Auth::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(b.param("opaque-data"), Some("here"));
        assert!(Auth::parse("Digest realm").is_err());
        assert!(Auth::parse("Digest realm=\"x").is_err());
    }
}
