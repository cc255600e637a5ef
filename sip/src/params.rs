//! Parameters: `;name[=value]` lists of URIs (RFC 3261 §19.1.1 uri-parameters) and of
//! header values (RFC 3261 §25.1 generic-param). Held as the raw text and iterated on demand,
//! so parsing stores no list.

use crate::error::Fault;
use crate::parse::{class, quoted_string, span, sws, until};
use std::fmt;

/// Which grammar a parameter list follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamGrammar {
    /// uri-parameter: no white space, `paramchar` names and values (RFC 3261 §25.1).
    Uri,
    /// generic-param of a header: LWS around `;` and `=`, token / host / quoted-string values.
    Header,
}

/// One parameter. `value` is `None` for a flag such as `lr` or a bare `rport`; a quoted
/// value is given without its quotes (escapes kept) and `quoted` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name as received.
    pub name: &'a str,
    /// Parameter value as received, if any.
    pub value: Option<&'a str>,
    /// Whether the value was a quoted-string.
    pub quoted: bool,
}

/// A parameter list, validated when parsed; the raw text starts at the first `;`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// An empty list.
    pub const EMPTY: Params<'static> = Params { raw: "" };

    /// Parses a parameter list at the start of `i` and returns the rest.
    pub(crate) fn parse(i: &'a str, g: ParamGrammar) -> Result<(&'a str, Params<'a>), Fault> {
        Params::parse_checked(i, g, |_, _| Ok(()))
    }

    /// [`Params::parse`], calling `check(name, value)` for each parameter as it is found, so
    /// a header can validate its own parameters in the same pass.
    pub(crate) fn parse_checked(
        i: &'a str,
        g: ParamGrammar,
        mut check: impl FnMut(&'a str, Option<&'a str>) -> Result<(), Fault>,
    ) -> Result<(&'a str, Params<'a>), Fault> {
        let start = i;
        let mut end = i;
        let mut cur = i;
        loop {
            let s = if g == ParamGrammar::Header {
                sws(cur)
            } else {
                cur
            };
            let Some(s) = s.strip_prefix(';') else { break };
            let s = if g == ParamGrammar::Header { sws(s) } else { s };
            let name_len = match g {
                ParamGrammar::Uri => span(s, class::URI_PARAM),
                ParamGrammar::Header => span(s, class::TOKEN),
            };
            if name_len == 0 {
                return Err(Fault::at("empty parameter name", s));
            }
            let name = &s[..name_len];
            let mut s = &s[name_len..];
            let after_name = s;
            if g == ParamGrammar::Header {
                s = sws(s);
            }
            if let Some(v) = s.strip_prefix('=') {
                let v = if g == ParamGrammar::Header { sws(v) } else { v };
                let rest = match g {
                    ParamGrammar::Uri => {
                        let n = span(v, class::URI_PARAM);
                        if n == 0 {
                            return Err(Fault::at("empty parameter value", v));
                        }
                        &v[n..]
                    }
                    ParamGrammar::Header if v.starts_with('"') => {
                        let (rest, inner) = quoted_string(v)?;
                        check(name, Some(inner))?;
                        cur = rest;
                        end = cur;
                        continue;
                    }
                    ParamGrammar::Header => {
                        let n = span(v, class::PARAM_VALUE);
                        if n == 0 {
                            return Err(Fault::at("empty parameter value", v));
                        }
                        &v[n..]
                    }
                };
                if g == ParamGrammar::Uri
                    && !crate::parse::valid_escapes(&v[..v.len() - rest.len()])
                {
                    return Err(Fault::at("bad %-escape in parameter", v));
                }
                check(name, Some(&v[..v.len() - rest.len()]))?;
                cur = rest;
            } else {
                check(name, None)?;
                cur = after_name;
            }
            end = cur;
        }
        let used = start.len() - end.len();
        Ok((
            end,
            Params {
                raw: &start[..used],
            },
        ))
    }

    /// The raw text, from the first `;` to the end of the last parameter.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Iterates the parameters in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { rest: self.raw }
    }

    /// The first parameter named `name` (case-insensitive, RFC 3261 §7.3.1).
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Whether a parameter named `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of the first parameter named `name`; `Some(None)` for a flag.
    pub fn value(&self, name: &str) -> Option<Option<&'a str>> {
        self.get(name).map(|p| p.value)
    }
}

/// Equal when the same parameters appear in the same order with equal values; white space
/// around `;` and `=` does not count, names compare case-insensitively.
impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        let mut a = self.iter();
        let mut b = other.iter();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) => {
                    if !x.name.eq_ignore_ascii_case(y.name)
                        || x.value != y.value
                        || x.quoted != y.quoted
                    {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

impl Eq for Params<'_> {}

impl fmt::Display for Params<'_> {
    /// Writes the canonical form `;name=value;flag`, without white space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in self.iter() {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(";")?;
        f.write_str(self.name)?;
        match (self.value, self.quoted) {
            (Some(v), true) => write!(f, "=\"{v}\""),
            (Some(v), false) => write!(f, "={v}"),
            (None, _) => Ok(()),
        }
    }
}

/// Iterator over a validated parameter list.
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let s = sws(self.rest).strip_prefix(';')?;
        let s = sws(s);
        let n = until(s, class::PARAM_END);
        let name = &s[..n];
        let after = &s[n..];
        let t = sws(after);
        if let Some(v) = t.strip_prefix('=') {
            let v = sws(v);
            if v.starts_with('"') {
                if let Ok((rest, inner)) = quoted_string(v) {
                    self.rest = rest;
                    return Some(Param {
                        name,
                        value: Some(inner),
                        quoted: true,
                    });
                }
                self.rest = "";
                return None;
            }
            let m = until(v, class::PARAM_END);
            self.rest = &v[m..];
            Some(Param {
                name,
                value: Some(&v[..m]),
                quoted: false,
            })
        } else {
            self.rest = after;
            Some(Param {
                name,
                value: None,
                quoted: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_with_lws_and_quotes() {
        let (rest, p) = Params::parse(
            " ;   tag    = 1918181833n ;x=\"a;b\";lr,next",
            ParamGrammar::Header,
        )
        .unwrap();
        assert_eq!(rest, ",next");
        let v: Vec<_> = p.iter().map(|p| (p.name, p.value)).collect();
        assert_eq!(
            v,
            [
                ("tag", Some("1918181833n")),
                ("x", Some("a;b")),
                ("lr", None)
            ]
        );
        assert_eq!(p.to_string(), ";tag=1918181833n;x=\"a;b\";lr");
    }

    #[test]
    fn empty_names_are_errors() {
        assert!(Params::parse(";;,;,,", ParamGrammar::Header).is_err());
        assert!(Params::parse(";=x", ParamGrammar::Uri).is_err());
    }

    #[test]
    fn uri_params_stop_at_space() {
        let (rest, p) = Params::parse(";lr;maddr=[::1] SIP", ParamGrammar::Uri).unwrap();
        assert_eq!(rest, " SIP");
        assert_eq!(p.value("MADDR"), Some(Some("[::1]")));
        assert_eq!(p.value("lr"), Some(None));
    }
}
