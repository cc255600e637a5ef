//! Digit-map syntax of the Cisco SPA / Grandstream family (itself after MGCP's digit maps,
//! RFC 3435 §2.1.5), parsed into patterns of single-symbol elements.
//!
//! ```text
//! map      = [ "{" | "(" ] pattern *( "|" pattern ) [ "}" | ")" ]
//! element  = symbol | "x" | "[" set "]" | element "." | element "+" | "<" in ":" out ">"
//! symbol   = 0-9 * # A-D        set = symbols and ranges such as 1-357*
//! "T"      = last element only: complete when the interdigit timer expires
//! ```
//! `.` repeats the element before it zero or more times, `+` one or more. `<a:b>` matches
//! `a` (any elements) and sends `b` in its place: `<9:>1xxxxxxxxxx` strips a 9,
//! `<:+49>xx.` prepends +49. Blanks are ignored.

use std::fmt;

/// Symbols a caller can dial, as a 16-bit set: `0`-`9` are bits 0-9, `*` 10, `#` 11,
/// `A`-`D` 12-15.
pub(crate) fn symbol_bit(c: char) -> Option<u16> {
    let i = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '*' => 10,
        '#' => 11,
        'A'..='D' => 12 + (c as u32 - 'A' as u32),
        _ => return None,
    };
    Some(1 << i)
}

const DIGITS: u16 = 0x03ff;

/// How often an element repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    One,
    /// `.`: zero or more.
    Any,
}

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Elem {
    /// Consumes one dialled symbol from `set`; `emit` copies it to the number sent.
    Sym { set: u16, rep: Repeat, emit: bool },
    /// Sends text without consuming anything (the output half of `<a:b>`).
    Insert(String),
    /// `T`: the pattern completes when the interdigit timer expires.
    Timer,
}

/// One alternative of a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) elems: Vec<Elem>,
    /// As written, for display.
    pub(crate) text: String,
}

/// A parsed digit map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitMap {
    pub(crate) patterns: Vec<Pattern>,
}

/// What is wrong in a digit map, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {kind}")]
pub struct ParseError {
    /// 1-based character column in the map text.
    pub column: usize,
    pub kind: ParseErrorKind,
}

/// The kinds of digit-map errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("the map is empty")]
    Empty,
    #[error("empty alternative")]
    EmptyPattern,
    #[error("unexpected '{0}'")]
    Unexpected(char),
    #[error("'{0}' repeats nothing")]
    NothingToRepeat(char),
    #[error("'[' is not closed")]
    UnclosedSet,
    #[error("empty set []")]
    EmptySet,
    #[error("range {0}-{1} runs backwards")]
    BackwardRange(char, char),
    #[error("'<' is not closed with '>'")]
    UnclosedRewrite,
    #[error("'<' needs ':' between what is dialled and what is sent")]
    RewriteWithoutColon,
    #[error("'{0}' cannot be sent by a rewrite (digits, * # + A-D)")]
    BadRewriteOutput(char),
    #[error("'T' must end its alternative")]
    TimerNotLast,
    #[error("'{0}' is not closed")]
    Unclosed(char),
}

impl fmt::Display for DigitMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{ ")?;
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{}", p.text)?;
        }
        write!(f, " }}")
    }
}

struct Parser<'a> {
    chars: Vec<(usize, char)>,
    i: usize,
    _text: &'a str,
}

impl Parser<'_> {
    fn err(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            column: self
                .chars
                .get(self.i)
                .map_or_else(|| self.chars.last().map_or(1, |c| c.0 + 2), |c| c.0 + 1),
            kind,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).map(|c| c.1)
    }

    /// Elements up to `|`, the closing bracket, `:` (inside a rewrite) or the end.
    fn elems(&mut self, in_rewrite: bool, out: &mut Vec<Elem>) -> Result<(), ParseError> {
        let emit = !in_rewrite;
        while let Some(c) = self.peek() {
            match c {
                '|' | '}' | ')' => return Ok(()),
                ':' | '>' if in_rewrite => return Ok(()),
                'x' | 'X' => {
                    out.push(Elem::Sym {
                        set: DIGITS,
                        rep: Repeat::One,
                        emit,
                    });
                    self.i += 1;
                }
                '[' => {
                    let set = self.set()?;
                    out.push(Elem::Sym {
                        set,
                        rep: Repeat::One,
                        emit,
                    });
                }
                '.' | '+' => {
                    let Some(Elem::Sym {
                        set,
                        rep: Repeat::One,
                        emit,
                    }) = out.last().cloned()
                    else {
                        return Err(self.err(ParseErrorKind::NothingToRepeat(c)));
                    };
                    let any = Elem::Sym {
                        set,
                        rep: Repeat::Any,
                        emit,
                    };
                    if c == '.' {
                        *out.last_mut().expect("checked above") = any;
                    } else {
                        out.push(any);
                    }
                    self.i += 1;
                }
                'T' | 't' if !in_rewrite => {
                    self.i += 1;
                    out.push(Elem::Timer);
                    match self.peek() {
                        None | Some('|' | '}' | ')') => {}
                        Some(_) => return Err(self.err(ParseErrorKind::TimerNotLast)),
                    }
                }
                '<' if !in_rewrite => self.rewrite(out)?,
                _ => match symbol_bit(c) {
                    Some(set) => {
                        out.push(Elem::Sym {
                            set,
                            rep: Repeat::One,
                            emit,
                        });
                        self.i += 1;
                    }
                    None => return Err(self.err(ParseErrorKind::Unexpected(c))),
                },
            }
        }
        Ok(())
    }

    /// `[...]`, the cursor on `[`.
    fn set(&mut self) -> Result<u16, ParseError> {
        let open = self.i;
        self.i += 1;
        let mut set = 0u16;
        loop {
            let Some(c) = self.peek() else {
                self.i = open;
                return Err(self.err(ParseErrorKind::UnclosedSet));
            };
            if c == ']' {
                self.i += 1;
                if set == 0 {
                    self.i -= 1;
                    return Err(self.err(ParseErrorKind::EmptySet));
                }
                return Ok(set);
            }
            let Some(bit) = symbol_bit(c) else {
                return Err(self.err(ParseErrorKind::Unexpected(c)));
            };
            self.i += 1;
            if self.peek() == Some('-') && c.is_ascii_digit() {
                self.i += 1;
                let hi = match self.peek() {
                    Some(h) if h.is_ascii_digit() => h,
                    Some(h) => return Err(self.err(ParseErrorKind::Unexpected(h))),
                    None => continue,
                };
                if hi < c {
                    return Err(self.err(ParseErrorKind::BackwardRange(c, hi)));
                }
                for d in c..=hi {
                    set |= symbol_bit(d).unwrap_or(0);
                }
                self.i += 1;
            } else {
                set |= bit;
            }
        }
    }

    /// `<a:b>`, the cursor on `<`.
    fn rewrite(&mut self, out: &mut Vec<Elem>) -> Result<(), ParseError> {
        let open = self.i;
        self.i += 1;
        let mut input = Vec::new();
        self.elems(true, &mut input)?;
        match self.peek() {
            Some(':') => self.i += 1,
            Some(_) => return Err(self.err(ParseErrorKind::RewriteWithoutColon)),
            None => {
                self.i = open;
                return Err(self.err(ParseErrorKind::UnclosedRewrite));
            }
        }
        let mut text = String::new();
        loop {
            match self.peek() {
                Some('>') => {
                    self.i += 1;
                    break;
                }
                Some(c) if symbol_bit(c).is_some() || c == '+' => {
                    text.push(c);
                    self.i += 1;
                }
                Some(c) => return Err(self.err(ParseErrorKind::BadRewriteOutput(c))),
                None => {
                    self.i = open;
                    return Err(self.err(ParseErrorKind::UnclosedRewrite));
                }
            }
        }
        if !text.is_empty() {
            out.push(Elem::Insert(text));
        }
        out.extend(input);
        Ok(())
    }
}

impl DigitMap {
    /// Parses a map; errors name the 1-based column.
    pub fn parse(text: &str) -> Result<DigitMap, ParseError> {
        let chars: Vec<(usize, char)> = text
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .collect();
        let mut p = Parser {
            chars,
            i: 0,
            _text: text,
        };
        if p.chars.is_empty() {
            return Err(p.err(ParseErrorKind::Empty));
        }
        let close = match p.peek() {
            Some('{') => Some('}'),
            Some('(') => Some(')'),
            _ => None,
        };
        if close.is_some() {
            p.i += 1;
        }
        let mut patterns = Vec::new();
        loop {
            let start = p.i;
            let mut elems = Vec::new();
            p.elems(false, &mut elems)?;
            if p.i == start {
                return Err(p.err(ParseErrorKind::EmptyPattern));
            }
            let pattern_text: String = p.chars[start..p.i].iter().map(|c| c.1).collect();
            patterns.push(Pattern {
                elems,
                text: pattern_text,
            });
            match p.peek() {
                Some('|') => p.i += 1,
                None => match close {
                    None => break,
                    Some(c) => {
                        return Err(ParseError {
                            column: p.chars[0].0 + 1,
                            kind: ParseErrorKind::Unclosed(if c == '}' { '{' } else { '(' }),
                        });
                    }
                },
                Some(c) if Some(c) == close => {
                    p.i += 1;
                    if let Some(extra) = p.peek() {
                        return Err(p.err(ParseErrorKind::Unexpected(extra)));
                    }
                    break;
                }
                Some(c) => return Err(p.err(ParseErrorKind::Unexpected(c))),
            }
        }
        Ok(DigitMap { patterns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(map: &str) -> ParseError {
        DigitMap::parse(map).unwrap_err()
    }

    #[test]
    fn parses_the_common_forms() {
        for m in [
            "{ [2-9]xxxxxx | 1xxxxxxxxxx | 011x.T | 911 | *xx }",
            "(<9:>1[2-9]xxxxxxxxx | <:1408>[2-9]xxxxxx | [1-357]xx | x.T)",
            "<:+49>0x+",
            "*xx*x+#",
            "x",
        ] {
            DigitMap::parse(m).unwrap_or_else(|e| panic!("{m}: {e}"));
        }
    }

    #[test]
    fn sets_and_ranges() {
        let m = DigitMap::parse("[1-357*]").unwrap();
        let Elem::Sym { set, .. } = m.patterns[0].elems[0] else {
            panic!()
        };
        let want = ['1', '2', '3', '5', '7', '*']
            .iter()
            .fold(0, |a, &c| a | symbol_bit(c).unwrap());
        assert_eq!(set, want);
    }

    #[test]
    fn errors_name_the_column() {
        assert_eq!(err("12|").kind, ParseErrorKind::EmptyPattern);
        assert_eq!(err("12|").column, 4);
        assert_eq!(err("1[2-").kind, ParseErrorKind::UnclosedSet);
        assert_eq!(err("1[2-").column, 2);
        assert_eq!(err("[]").kind, ParseErrorKind::EmptySet);
        assert_eq!(err("[9-2]").kind, ParseErrorKind::BackwardRange('9', '2'));
        assert_eq!(err("12Tx").kind, ParseErrorKind::TimerNotLast);
        assert_eq!(err("12Tx").column, 4);
        assert_eq!(err(".1").kind, ParseErrorKind::NothingToRepeat('.'));
        assert_eq!(err("1..").column, 3);
        assert_eq!(err("<9>1").kind, ParseErrorKind::RewriteWithoutColon);
        assert_eq!(err("<9:x>1").kind, ParseErrorKind::BadRewriteOutput('x'));
        assert_eq!(err("1<9:").kind, ParseErrorKind::UnclosedRewrite);
        assert_eq!(err("1<9:").column, 2);
        assert_eq!(err("{ 12 | 34").kind, ParseErrorKind::Unclosed('{'));
        assert_eq!(err("12z").kind, ParseErrorKind::Unexpected('z'));
        assert_eq!(err("12z").column, 3);
        assert_eq!(err("   ").kind, ParseErrorKind::Empty);
        assert_eq!(err("{1} 2").kind, ParseErrorKind::Unexpected('2'));
    }

    #[test]
    fn displays_patterns_as_written() {
        let m = DigitMap::parse("{ 911|x.T }").unwrap();
        assert_eq!(m.to_string(), "{ 911 | x.T }");
    }
}
