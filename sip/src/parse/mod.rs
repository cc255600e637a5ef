//! Lexical rules of RFC 3261 §25.1 as nom parsers over `&str`, shared by the header and URI
//! grammars. Inside a header value a CR or LF can only be part of a line fold (the message
//! splitter ends the value at any other line end), so linear white space (LWS) here is any
//! run of SP, HTAB, CR and LF.

use crate::error::Fault;
use nom::IResult;

/// Character classes of RFC 3261 §25.1 as bit flags over a 256-entry table, so a grammar
/// rule scans bytes with one lookup each. Every class holds ASCII only, so a span of a class
/// always ends on a UTF-8 character boundary.
pub mod class {
    /// `token`.
    pub const TOKEN: u16 = 1;
    /// `word` (Call-ID).
    pub const WORD: u16 = 1 << 1;
    /// URI `user`: unreserved / escaped / user-unreserved.
    pub const USER: u16 = 1 << 2;
    /// URI `password`.
    pub const PASSWORD: u16 = 1 << 3;
    /// URI `paramchar`.
    pub const URI_PARAM: u16 = 1 << 4;
    /// URI `hnv-unreserved / unreserved / escaped` plus `=` and `&`.
    pub const URI_HEADER: u16 = 1 << 5;
    /// Host name characters.
    pub const HOST: u16 = 1 << 6;
    /// generic-param value without quotes: token / host (incl. IPv6 references).
    pub const PARAM_VALUE: u16 = 1 << 7;
    /// SP, HTAB, CR, LF.
    pub const LWS: u16 = 1 << 8;
    /// DIGIT.
    pub const DIGIT: u16 = 1 << 9;
    /// Ends a parameter name or value while iterating: `;`, `=`, `,` or LWS.
    pub const PARAM_END: u16 = 1 << 10;
}

const fn build_classes() -> [u16; 256] {
    const fn add(t: &mut [u16; 256], set: &[u8], c: u16) {
        let mut k = 0;
        while k < set.len() {
            t[set[k] as usize] |= c;
            k += 1;
        }
    }
    use class::*;
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 128 {
        let ch = b as u8;
        if ch.is_ascii_alphanumeric() {
            t[b] |= TOKEN | WORD | USER | PASSWORD | URI_PARAM | URI_HEADER | HOST | PARAM_VALUE;
        }
        if ch.is_ascii_digit() {
            t[b] |= DIGIT;
        }
        b += 1;
    }
    add(&mut t, b"-.!%*_+`'~", TOKEN | WORD | PARAM_VALUE);
    add(&mut t, b"()<>:\\\"/[]?{}", WORD);
    let unreserved: &[u8] = b"-_.!~*'()";
    add(&mut t, unreserved, USER | PASSWORD | URI_PARAM | URI_HEADER);
    add(&mut t, b"%&=+$,;?/", USER);
    add(&mut t, b"%&=+$,", PASSWORD);
    add(&mut t, b"%[]/:&+$", URI_PARAM);
    add(&mut t, b"%[]/?:+$=&", URI_HEADER);
    add(&mut t, b"-.", HOST);
    add(&mut t, b":[]", PARAM_VALUE);
    add(&mut t, b" \t\r\n", LWS | PARAM_END);
    add(&mut t, b";=,", PARAM_END);
    t
}

static CLASSES: [u16; 256] = build_classes();

/// Whether byte `b` is in `class`.
#[inline]
pub fn is(b: u8, class: u16) -> bool {
    CLASSES[b as usize] & class != 0
}

/// Length of the longest prefix of `s` made of bytes in `class`.
#[inline]
pub fn span(s: &str, class: u16) -> usize {
    span_bytes(s.as_bytes(), class)
}

/// [`span`] over bytes.
#[inline]
pub fn span_bytes(b: &[u8], class: u16) -> usize {
    b.iter().position(|&c| !is(c, class)).unwrap_or(b.len())
}

/// Offset of the first byte in `class`, or the length of `s`.
#[inline]
pub fn until(s: &str, class: u16) -> usize {
    s.as_bytes()
        .iter()
        .position(|&b| is(b, class))
        .unwrap_or(s.len())
}

/// Offset of the first byte `b` in `s` (memchr).
#[inline]
pub fn find_byte(s: &str, b: u8) -> Option<usize> {
    memchr::memchr(b, s.as_bytes())
}

/// `s` without leading and trailing LWS.
#[inline]
pub fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = span(s, class::LWS);
    let end = b
        .iter()
        .rposition(|&c| !is(c, class::LWS))
        .map_or(start, |p| p + 1);
    if start >= end { "" } else { &s[start..end] }
}

/// `token` characters (RFC 3261 §25.1).
pub fn is_token_char(c: char) -> bool {
    c.is_ascii() && is(c as u8, class::TOKEN)
}

/// `word` characters (RFC 3261 §25.1), used by Call-ID.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii() && is(c as u8, class::WORD)
}

/// White space allowed inside a (possibly folded) header value.
pub fn is_lws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `token`: one or more token characters.
#[inline]
pub fn token(i: &str) -> IResult<&str, &str> {
    match span(i, class::TOKEN) {
        0 => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::TakeWhile1,
        ))),
        n => Ok((&i[n..], &i[..n])),
    }
}

/// `SWS`: optional linear white space.
pub fn sws(i: &str) -> &str {
    &i[span(i, class::LWS)..]
}

/// `quoted-string` (RFC 3261 §25.1): returns the text between the quotes with its
/// quoted-pairs still escaped, and the rest after the closing quote.
pub fn quoted_string(i: &str) -> Result<(&str, &str), Fault> {
    let Some(body) = i.strip_prefix('"') else {
        return Err(Fault::at("expected '\"'", i));
    };
    let bytes = body.as_bytes();
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'"' => return Ok((&body[k + 1..], &body[..k])),
            b'\\' => match bytes.get(k + 1) {
                Some(b'\r' | b'\n') | None => {
                    return Err(Fault::at("bad quoted-pair", &body[k..]));
                }
                Some(&c) if c >= 0x80 => {
                    return Err(Fault::at("bad quoted-pair", &body[k..]));
                }
                Some(_) => k += 2,
            },
            b'\r' | b'\n' | b'\t' | b' ' => k += 1,
            c if c < 0x20 || c == 0x7f => {
                return Err(Fault::at("control character in quoted-string", &body[k..]));
            }
            _ => k += 1,
        }
    }
    Err(Fault::at("unterminated quoted-string", i))
}

/// Maximum nesting of comments; deeper input is rejected rather than recursed into.
const MAX_COMMENT_DEPTH: usize = 32;

/// `comment` (RFC 3261 §25.1): parenthesised, nestable, with quoted-pairs. Returns the rest
/// and the whole comment including its parentheses.
pub fn comment(i: &str) -> Result<(&str, &str), Fault> {
    if !i.starts_with('(') {
        return Err(Fault::at("expected '('", i));
    }
    let bytes = i.as_bytes();
    let mut depth = 0usize;
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'(' => {
                depth += 1;
                if depth > MAX_COMMENT_DEPTH {
                    return Err(Fault::at("comment nested too deeply", &i[k..]));
                }
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&i[k + 1..], &i[..k + 1]));
                }
            }
            b'\\' => {
                if matches!(bytes.get(k + 1), None | Some(b'\r' | b'\n')) {
                    return Err(Fault::at("bad quoted-pair", &i[k..]));
                }
                k += 1;
                // Skip a whole UTF-8 character after the backslash.
                while k + 1 < bytes.len() && !i.is_char_boundary(k + 1) {
                    k += 1;
                }
            }
            _ => {}
        }
        k += 1;
    }
    Err(Fault::at("unterminated comment", i))
}

/// An unsigned decimal number of at most `max` (RFC 3261 §25.1 `1*DIGIT`).
pub fn number<'a>(i: &'a str, max: u64, what: &'static str) -> Result<(&'a str, u64), Fault> {
    let n = span(i, class::DIGIT);
    if n == 0 {
        return Err(Fault::at(what, i));
    }
    let (digits, rest) = i.split_at(n);
    let mut v: u64 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .filter(|v| *v <= max)
            .ok_or(Fault::at(what, i))?;
    }
    Ok((rest, v))
}

/// A whole value that must be a number of at most `max`, with surrounding LWS allowed.
pub fn whole_number(v: &str, max: u64, what: &'static str) -> Result<u64, Fault> {
    let (rest, n) = number(sws(v), max, what)?;
    let rest = sws(rest);
    if rest.is_empty() {
        Ok(n)
    } else {
        Err(Fault::at(what, rest))
    }
}

/// Splits a header value at the commas that separate its values (RFC 3261 §7.3.1), not at
/// commas inside quoted strings, angle brackets or comments. Yields each value trimmed of LWS.
#[derive(Debug, Clone)]
pub struct CommaSplit<'a> {
    rest: Option<&'a str>,
}

impl<'a> CommaSplit<'a> {
    /// Splits `s`. An empty `s` yields one empty element.
    pub fn new(s: &'a str) -> Self {
        CommaSplit { rest: Some(s) }
    }
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let bytes = s.as_bytes();
        let (mut quoted, mut angle, mut paren) = (false, false, 0usize);
        let mut k = 0;
        while k < bytes.len() {
            match bytes[k] {
                b'\\' if quoted || paren > 0 => k += 1,
                b'"' if paren == 0 => quoted = !quoted,
                b'<' if !quoted && paren == 0 => angle = true,
                b'>' if !quoted && paren == 0 => angle = false,
                b'(' if !quoted && !angle => paren += 1,
                b')' if !quoted && !angle => paren = paren.saturating_sub(1),
                b',' if !quoted && !angle && paren == 0 => {
                    self.rest = Some(&s[k + 1..]);
                    return Some(trim_lws(&s[..k]));
                }
                _ => {}
            }
            k += 1;
        }
        self.rest = None;
        Some(trim_lws(s))
    }
}

/// Compares two strings that may hold `%HH` escapes by their unescaped bytes
/// (RFC 3261 §19.1.4), optionally ignoring ASCII case.
pub fn escaped_eq(a: &str, b: &str, ignore_case: bool) -> bool {
    let mut x = Unescape::new(a);
    let mut y = Unescape::new(b);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) => {
                let same = if ignore_case {
                    p.eq_ignore_ascii_case(&q)
                } else {
                    p == q
                };
                if !same {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Iterator over the bytes of a string with `%HH` escapes decoded (RFC 3261 §25.1 `escaped`).
/// A `%` not followed by two hex digits is passed through as is.
#[derive(Debug, Clone)]
pub struct Unescape<'a> {
    b: &'a [u8],
}

impl<'a> Unescape<'a> {
    /// Decodes `s`.
    pub fn new(s: &'a str) -> Self {
        Unescape { b: s.as_bytes() }
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl Iterator for Unescape<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.b.split_first()?;
        if first == b'%'
            && let (Some(h), Some(l)) = (
                rest.first().copied().and_then(hex),
                rest.get(1).copied().and_then(hex),
            )
        {
            self.b = &rest[2..];
            return Some(h << 4 | l);
        }
        self.b = rest;
        Some(first)
    }
}

/// Checks that every `%` in `s` starts a valid `escaped` triplet (RFC 3261 §25.1).
pub fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'%' {
            match (
                b.get(k + 1).copied().and_then(hex),
                b.get(k + 2).copied().and_then(hex),
            ) {
                (Some(_), Some(_)) => k += 3,
                _ => return false,
            }
        } else {
            k += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_string_keeps_escapes_and_rejects_unterminated() {
        let (rest, inner) = quoted_string(r#""J Rosenberg \\\"" <x>"#).unwrap();
        assert_eq!(inner, r#"J Rosenberg \\\""#);
        assert_eq!(rest, " <x>");
        assert!(quoted_string("\"Mr. J. User <sip:j@x>").is_err());
    }

    #[test]
    fn comment_nests() {
        let (rest, c) = comment("(a (b) \\) c) x").unwrap();
        assert_eq!(c, "(a (b) \\) c)");
        assert_eq!(rest, " x");
        assert!(comment("(a (b)").is_err());
    }

    #[test]
    fn comma_split_respects_quotes_and_angles() {
        let v: Vec<_> = CommaSplit::new(r#""a,b" <sip:x;p=1,2>, <sip:y> ,z"#).collect();
        assert_eq!(v, [r#""a,b" <sip:x;p=1,2>"#, "<sip:y>", "z"]);
    }

    #[test]
    fn escaped_comparison() {
        assert!(escaped_eq("%75se%72", "user", false));
        assert!(!escaped_eq("%75se%72", "User", false));
        assert!(escaped_eq("%75se%72", "User", true));
        assert!(valid_escapes("a%41b"));
        assert!(!valid_escapes("a%4"));
        assert!(!valid_escapes("a%zz"));
    }

    #[test]
    fn numbers_have_bounds() {
        assert_eq!(whole_number(" 0068 ", 255, "n").unwrap(), 68);
        assert!(whole_number("300", 255, "n").is_err());
        assert!(whole_number("36893488147419103232", u64::MAX, "n").is_err());
        assert!(whole_number("-1", 10, "n").is_err());
    }
}
