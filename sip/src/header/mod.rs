//! Header fields (RFC 3261 §7.3, §20): names with their compact forms, the raw
//! name/value view every header has, and the typed values of the headers a gateway acts on.
//! One file per header family.

mod auth;
mod call_id;
mod cseq;
mod date;
mod media_type;
mod name_addr;
mod product;
mod reason;
mod scalar;
mod tokens;
mod typed;
mod via;

pub use auth::{Auth, AuthParam, AuthParams};
pub use call_id::CallId;
pub use cseq::{CSeq, Method};
pub use date::Date;
pub use media_type::MediaType;
pub use name_addr::{Contact, DisplayName, NameAddr, RouteAddr};
pub use product::{Product, ProductItem};
pub use reason::Reason;
pub use scalar::RetryAfter;
pub use tokens::Token;
pub use typed::{Typed, Values};
pub use via::{Rport, Via};

use crate::error::Fault;

/// Header names this layer knows, each with its compact form where RFC 3261 §7.3.3 (or the
/// RFC that defines it) gives one. `Other` is every header kept as raw name and value.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderName {
    Accept,
    AllowEvents,
    Allow,
    Authorization,
    CallId,
    Contact,
    ContentEncoding,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    Event,
    Expires,
    From,
    Identity,
    MaxForwards,
    MinExpires,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    Reason,
    RecordRoute,
    ReferredBy,
    ReferTo,
    Require,
    RetryAfter,
    Route,
    Server,
    SessionExpires,
    Subject,
    Supported,
    To,
    Unsupported,
    UserAgent,
    Via,
    WwwAuthenticate,
    Other,
}

/// (name, canonical spelling, compact form)
const NAMES: &[(HeaderName, &str, Option<u8>)] = &[
    (HeaderName::Accept, "Accept", None),
    (HeaderName::AllowEvents, "Allow-Events", Some(b'u')),
    (HeaderName::Allow, "Allow", None),
    (HeaderName::Authorization, "Authorization", None),
    (HeaderName::CallId, "Call-ID", Some(b'i')),
    (HeaderName::Contact, "Contact", Some(b'm')),
    (HeaderName::ContentEncoding, "Content-Encoding", Some(b'e')),
    (HeaderName::ContentLength, "Content-Length", Some(b'l')),
    (HeaderName::ContentType, "Content-Type", Some(b'c')),
    (HeaderName::CSeq, "CSeq", None),
    (HeaderName::Date, "Date", None),
    (HeaderName::Event, "Event", Some(b'o')),
    (HeaderName::Expires, "Expires", None),
    (HeaderName::From, "From", Some(b'f')),
    (HeaderName::Identity, "Identity", Some(b'y')),
    (HeaderName::MaxForwards, "Max-Forwards", None),
    (HeaderName::MinExpires, "Min-Expires", None),
    (HeaderName::ProxyAuthenticate, "Proxy-Authenticate", None),
    (HeaderName::ProxyAuthorization, "Proxy-Authorization", None),
    (HeaderName::ProxyRequire, "Proxy-Require", None),
    (HeaderName::Reason, "Reason", None),
    (HeaderName::RecordRoute, "Record-Route", None),
    (HeaderName::ReferredBy, "Referred-By", Some(b'b')),
    (HeaderName::ReferTo, "Refer-To", Some(b'r')),
    (HeaderName::Require, "Require", None),
    (HeaderName::RetryAfter, "Retry-After", None),
    (HeaderName::Route, "Route", None),
    (HeaderName::Server, "Server", None),
    (HeaderName::SessionExpires, "Session-Expires", Some(b'x')),
    (HeaderName::Subject, "Subject", Some(b's')),
    (HeaderName::Supported, "Supported", Some(b'k')),
    (HeaderName::To, "To", Some(b't')),
    (HeaderName::Unsupported, "Unsupported", None),
    (HeaderName::UserAgent, "User-Agent", None),
    (HeaderName::Via, "Via", Some(b'v')),
    (HeaderName::WwwAuthenticate, "WWW-Authenticate", None),
];

/// Up to 24 bytes of a header name as three little-endian words, zero past its end.
type Words = [u64; 3];

/// The words of the `len`-byte name at the start of `b`, which may run on past the name
/// (the rest of its header line): with 24 bytes at hand, three plain loads and masks.
#[inline]
fn name_words(b: &[u8], len: usize) -> Words {
    let mut w = [0u64; 3];
    let Some(bytes) = b.get(..24) else {
        // Short of 24 bytes (a name given on its own): byte by byte.
        for (k, &c) in b.iter().take(len.min(24)).enumerate() {
            w[k / 8] |= u64::from(c) << (8 * (k % 8));
        }
        return w;
    };
    let mask = &NAME_MASKS[len.min(24)];
    let word = |k: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[8 * k..8 * k + 8]);
        u64::from_le_bytes(a) & mask[k]
    };
    [word(0), word(1), word(2)]
}

/// For a name of `n` bytes (index), the masks keeping its bytes in [`Words`].
static NAME_MASKS: [Words; 25] = {
    let mut masks = [[0; 3]; 25];
    let mut n = 0;
    while n <= 24 {
        let mut k = 0;
        while k < n {
            masks[n][k / 8] |= 0xff << (8 * (k % 8));
            k += 1;
        }
        n += 1;
    }
    masks
};

/// [`name_words`] of a known name at compile time: its lower case (`letter_bits` false)
/// or the 0x20 bit of each of its letters (`letter_bits` true).
const fn known_words(s: &[u8], letter_bits: bool) -> Words {
    let mut w = [0u64; 3];
    let mut k = 0;
    while k < s.len() {
        let c = s[k];
        let c = match (letter_bits, c.is_ascii_alphabetic()) {
            (true, true) => 0x20,
            (true, false) => 0,
            (false, _) => c.to_ascii_lowercase(),
        };
        w[k / 8] |= (c as u64) << (8 * (k % 8));
        k += 1;
    }
    w
}

/// Per known header (indexed by `HeaderName as usize`): its name in lower case and the
/// 0x20 bits of its letters, as [`Words`], and its length.
static NAME_KEYS: [(Words, Words, usize); NAMES.len()] = {
    let mut keys = [([0; 3], [0; 3], 0); NAMES.len()];
    let mut k = 0;
    while k < NAMES.len() {
        assert!(NAMES[k].0 as usize == k, "NAMES is in enum order");
        let name = NAMES[k].1.as_bytes();
        assert!(name.len() <= 24, "known names fit in three words");
        keys[k] = (
            known_words(name, false),
            known_words(name, true),
            name.len(),
        );
        k += 1;
    }
    keys
};

/// Whether the name of `len` bytes with words `x` spells the name of `h` in any case
/// (RFC 3261 §7.3.1). Known names are ASCII letters and `-`: setting bit 0x20 of the
/// received bytes at letter positions lower-cases exactly the letters, so whole words
/// compare at once.
#[inline]
fn same_name(x: &Words, len: usize, h: HeaderName) -> bool {
    let (want, letters, known_len) = &NAME_KEYS[h as usize];
    let diff = (x[0] | letters[0]) ^ want[0]
        | (x[1] | letters[1]) ^ want[1]
        | (x[2] | letters[2]) ^ want[2];
    diff == 0 && len == *known_len
}

/// The slot of a full header name in [`NAME_SLOTS`]: a multiplicative hash of its length
/// and its first and last letters, chosen so that the known names do not collide (checked
/// when `NAME_SLOTS` is built). `None` for lengths no known name has.
#[inline]
const fn name_slot(b: &[u8], len: usize) -> Option<usize> {
    const MULTIPLIER: u64 = 0x8dd9_df9c_fb4b_5e17;
    if len < 2 || len > 24 || b.len() < len {
        return None;
    }
    let key = len as u64
        | (b[0].to_ascii_lowercase() as u64) << 8
        | (b[len - 1].to_ascii_lowercase() as u64) << 16;
    Some((key.wrapping_mul(MULTIPLIER) >> 58) as usize)
}

/// Known full names by [`name_slot`], so a lookup is one hash and one compare instead of
/// a chain of branches.
static NAME_SLOTS: [Option<HeaderName>; 64] = {
    let mut slots = [None; 64];
    let mut k = 0;
    while k < NAMES.len() {
        let name = NAMES[k].1.as_bytes();
        let Some(slot) = name_slot(name, name.len()) else {
            panic!("known names are 2 to 24 bytes");
        };
        assert!(
            slots[slot].is_none(),
            "name_slot collides for two known names"
        );
        slots[slot] = Some(NAMES[k].0);
        k += 1;
    }
    slots
};

/// Known headers by their compact form, `a` to `z` (RFC 3261 §7.3.3).
static COMPACT: [Option<HeaderName>; 26] = {
    let mut table = [None; 26];
    let mut k = 0;
    while k < NAMES.len() {
        if let Some(c) = NAMES[k].2 {
            table[(c - b'a') as usize] = Some(NAMES[k].0);
        }
        k += 1;
    }
    table
};

impl HeaderName {
    /// Looks a header name up, case-insensitively, full or compact form (RFC 3261 §7.3.1,
    /// §7.3.3).
    pub fn from_name(name: &str) -> HeaderName {
        HeaderName::from_name_at(name.as_bytes(), name.len())
    }

    /// [`HeaderName::from_name`] of the `len`-byte name at the start of `b`; `b` may run
    /// on past the name, which lets the parser compare whole words without copying.
    #[inline]
    pub(crate) fn from_name_at(b: &[u8], len: usize) -> HeaderName {
        if len == 1 {
            let c = b.first().map_or(0, u8::to_ascii_lowercase);
            return match c {
                b'a'..=b'z' => COMPACT[usize::from(c - b'a')].unwrap_or(HeaderName::Other),
                _ => HeaderName::Other,
            };
        }
        let Some(slot) = name_slot(b, len) else {
            return HeaderName::Other;
        };
        match NAME_SLOTS[slot] {
            Some(h) if same_name(&name_words(b, len), len, h) => h,
            _ => HeaderName::Other,
        }
    }

    /// The canonical spelling, e.g. `Call-ID`; `"Other"` for [`HeaderName::Other`].
    pub fn canonical(self) -> &'static str {
        NAMES
            .iter()
            .find(|(h, _, _)| *h == self)
            .map_or("Other", |(_, full, _)| full)
    }

    /// The compact form, if the header has one.
    pub fn compact(self) -> Option<char> {
        NAMES
            .iter()
            .find(|(h, _, _)| *h == self)
            .and_then(|(_, _, c)| c.map(char::from))
    }

    /// Headers the parser looks at while parsing, because a gateway acts on every message
    /// by them (RFC 3261 §8.1.1, §18.3): Content-Length and Max-Forwards are checked; the
    /// topmost Via, From, To, Call-ID and CSeq are located and parsed on first use.
    #[inline]
    pub fn validated_at_parse(self) -> bool {
        const AT_PARSE: u64 = 1 << HeaderName::Via as u64
            | 1 << HeaderName::From as u64
            | 1 << HeaderName::To as u64
            | 1 << HeaderName::CallId as u64
            | 1 << HeaderName::CSeq as u64
            | 1 << HeaderName::ContentLength as u64
            | 1 << HeaderName::MaxForwards as u64;
        AT_PARSE >> (self as u64) & 1 != 0
    }
}

/// One header field as received: the name as spelled, the value with surrounding white
/// space removed (folds kept), and the byte offset of the header line in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name as received (`v`, `VIA`, `X-Foo`).
    pub name: &'a str,
    /// The known header this is, or [`HeaderName::Other`].
    pub kind: HeaderName,
    /// The raw value.
    pub value: &'a str,
    /// Byte offset of the header line in the parsed buffer.
    pub offset: usize,
}

impl<'a> Header<'a> {
    /// Whether this header has the given name (full or compact, any case).
    pub fn is(&self, name: &str) -> bool {
        let k = HeaderName::from_name(name);
        if k == HeaderName::Other {
            self.kind == HeaderName::Other && self.name.eq_ignore_ascii_case(name)
        } else {
            self.kind == k
        }
    }

    /// The typed value (RFC 3261 §20), checking the whole value against its grammar.
    pub fn typed(&self) -> Result<Typed<'a>, crate::ParseError> {
        Typed::parse(self.kind, self.value).map_err(|f| self.error(f))
    }

    /// The name to write when serialising: canonical for known headers.
    pub fn write_name(&self) -> &'a str {
        match self.kind {
            HeaderName::Other => self.name,
            k => k.canonical(),
        }
    }

    pub(crate) fn error(&self, f: Fault) -> crate::ParseError {
        // The fault address lies inside the value; measure from the header line start, whose
        // offset in the message is known.
        let within = f.addr.saturating_sub(self.name.as_ptr() as usize);
        crate::ParseError::new(crate::ErrorKind::HeaderValue(f.what), self.offset + within)
            .in_header(self.kind)
    }
}

/// Parse a value that is one element of a header (one comma-separated value when the
/// header takes a list). Every typed header value implements it.
pub trait FromValue<'a>: Sized {
    /// Parses one element; `s` has no surrounding white space.
    fn from_value(s: &'a str) -> Result<Self, Fault>;
}

pub(crate) use scalar::{
    content_length as content_length_value, delta_seconds as delta_seconds_value,
    max_forwards as max_forwards_value,
};

impl<'a> Auth<'a> {
    /// Parses a challenge or credentials value.
    pub fn parse_value(s: &'a str) -> Result<Auth<'a>, Fault> {
        Auth::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_compact_forms() {
        for (c, h) in [
            ('i', HeaderName::CallId),
            ('m', HeaderName::Contact),
            ('e', HeaderName::ContentEncoding),
            ('l', HeaderName::ContentLength),
            ('k', HeaderName::Supported),
            ('c', HeaderName::ContentType),
            ('f', HeaderName::From),
            ('s', HeaderName::Subject),
            ('t', HeaderName::To),
            ('v', HeaderName::Via),
            ('u', HeaderName::AllowEvents),
            ('o', HeaderName::Event),
            ('r', HeaderName::ReferTo),
            ('b', HeaderName::ReferredBy),
            ('x', HeaderName::SessionExpires),
            ('y', HeaderName::Identity),
        ] {
            assert_eq!(HeaderName::from_name(&c.to_string()), h);
            assert_eq!(
                HeaderName::from_name(&c.to_ascii_uppercase().to_string()),
                h
            );
            assert_eq!(h.compact(), Some(c));
        }
        assert_eq!(
            HeaderName::from_name("MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_name("X-Foo"), HeaderName::Other);
        // Within a header line: the bytes after the name do not count.
        let line = b"record-ROUTE: <sip:p.example.com;lr>, <sip:q.example.com;lr>\r\n";
        assert_eq!(HeaderName::from_name_at(line, 12), HeaderName::RecordRoute);
        assert_eq!(HeaderName::from_name_at(line, 11), HeaderName::Other);
        assert_eq!(HeaderName::from_name_at(b"To:x", 2), HeaderName::To);
        assert_eq!(HeaderName::from_name_at(b"To", 2), HeaderName::To);
        assert_eq!(HeaderName::from_name_at(b"T", 2), HeaderName::Other);
        for &(h, full, _) in NAMES {
            assert_eq!(HeaderName::from_name(full), h);
            assert_eq!(HeaderName::from_name(&full.to_ascii_uppercase()), h);
            assert_eq!(HeaderName::from_name(&full.to_ascii_lowercase()), h);
            // One byte off anywhere, including '-' against CR, is another name.
            for k in 0..full.len() {
                for c in [b'\r', b'_', b'x', full.as_bytes()[k] ^ 0x40] {
                    let mut b = full.as_bytes().to_vec();
                    if b[k].eq_ignore_ascii_case(&c) {
                        continue;
                    }
                    b[k] = c;
                    let other = String::from_utf8_lossy(&b);
                    assert_eq!(
                        HeaderName::from_name(&other),
                        HeaderName::Other,
                        "{other:?}"
                    );
                }
            }
        }
        assert_eq!(HeaderName::from_name("q"), HeaderName::Other);
    }
}
