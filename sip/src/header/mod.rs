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

/// A header name folded into three words for comparing with one instruction per word:
/// overlapping little-endian loads covering every byte (names are 2 to 24 bytes), laid out
/// by length only, so two names of the same length fold alike.
type Folded = [u64; 3];

/// `N` bytes of `b` from `at`, little-endian.
#[inline]
fn le<const N: usize>(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(s) = b.get(at..at + N) {
        w[..N].copy_from_slice(s);
    }
    u64::from_le_bytes(w)
}

#[inline]
fn fold(b: &[u8]) -> Folded {
    let n = b.len();
    match n {
        2..=3 => [le::<2>(b, 0) | le::<2>(b, n - 2) << 16, 0, 0],
        4..=7 => [le::<4>(b, 0) | le::<4>(b, n - 4) << 32, 0, 0],
        8..=16 => [le::<8>(b, 0), le::<8>(b, n - 8), 0],
        17..=24 => [le::<8>(b, 0), le::<8>(b, 8), le::<8>(b, n - 8)],
        _ => [0; 3],
    }
}

/// [`fold`] at compile time, of the name in lower case or (`letter_bits`) of the 0x20 bit
/// of its letters.
const fn fold_const(s: &[u8], letter_bits: bool) -> Folded {
    const fn le(s: &[u8], at: usize, len: usize, f: bool) -> u64 {
        let mut w = 0u64;
        let mut k = 0;
        while k < len {
            let c = s[at + k];
            let c = match (f, c.is_ascii_alphabetic()) {
                (true, true) => 0x20,
                (true, false) => 0,
                (false, _) => c.to_ascii_lowercase(),
            };
            w |= (c as u64) << (8 * k);
            k += 1;
        }
        w
    }
    let f = letter_bits;
    let n = s.len();
    match n {
        2..=3 => [le(s, 0, 2, f) | le(s, n - 2, 2, f) << 16, 0, 0],
        4..=7 => [le(s, 0, 4, f) | le(s, n - 4, 4, f) << 32, 0, 0],
        8..=16 => [le(s, 0, 8, f), le(s, n - 8, 8, f), 0],
        17..=24 => [le(s, 0, 8, f), le(s, 8, 8, f), le(s, n - 8, 8, f)],
        _ => [0; 3],
    }
}

/// Per known header (indexed by `HeaderName as usize`): its name folded in lower case, and
/// the 0x20 bits of its letters folded alike.
static NAME_KEYS: [(Folded, Folded); NAMES.len()] = {
    let mut keys = [([0; 3], [0; 3]); NAMES.len()];
    let mut k = 0;
    while k < NAMES.len() {
        assert!(NAMES[k].0 as usize == k, "NAMES is in enum order");
        let name = NAMES[k].1.as_bytes();
        keys[k] = (fold_const(name, false), fold_const(name, true));
        k += 1;
    }
    keys
};

/// Whether `b` spells the name of `h` in any case (RFC 3261 §7.3.1). Known names are ASCII
/// letters and `-`: setting bit 0x20 of the received bytes at letter positions lower-cases
/// exactly the letters, so whole words compare at once.
#[inline]
fn same_name(b: &[u8], h: HeaderName) -> bool {
    let (want, letters) = &NAME_KEYS[h as usize];
    let x = fold(b);
    b.len() == NAMES[h as usize].1.len()
        && x[0] | letters[0] == want[0]
        && x[1] | letters[1] == want[1]
        && x[2] | letters[2] == want[2]
}

/// The slot of a full header name in [`NAME_SLOTS`]: a multiplicative hash of its length
/// and its first and last letters, chosen so that the known names do not collide (checked
/// when `NAME_SLOTS` is built). `None` for lengths no known name has.
#[inline]
const fn name_slot(b: &[u8]) -> Option<usize> {
    const MULTIPLIER: u64 = 0x8dd9_df9c_fb4b_5e17;
    let n = b.len();
    if n < 2 || n > 24 {
        return None;
    }
    let key = n as u64
        | (b[0].to_ascii_lowercase() as u64) << 8
        | (b[n - 1].to_ascii_lowercase() as u64) << 16;
    Some((key.wrapping_mul(MULTIPLIER) >> 58) as usize)
}

/// Known full names by [`name_slot`], so a lookup is one hash and one compare instead of
/// a chain of branches.
static NAME_SLOTS: [Option<HeaderName>; 64] = {
    let mut slots = [None; 64];
    let mut k = 0;
    while k < NAMES.len() {
        let Some(slot) = name_slot(NAMES[k].1.as_bytes()) else {
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
        let b = name.as_bytes();
        if let [c] = *b {
            let c = c.to_ascii_lowercase();
            return match c {
                b'a'..=b'z' => COMPACT[usize::from(c - b'a')].unwrap_or(HeaderName::Other),
                _ => HeaderName::Other,
            };
        }
        let Some(slot) = name_slot(b) else {
            return HeaderName::Other;
        };
        match NAME_SLOTS[slot] {
            Some(h) if same_name(b, h) => h,
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
    /// by them (RFC 3261 §8.1.1, §18.3): Call-ID, CSeq, Content-Length and Max-Forwards are
    /// checked; the topmost Via, From and To are located and parsed on first use.
    pub fn validated_at_parse(self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::ContentLength
                | HeaderName::MaxForwards
        )
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
