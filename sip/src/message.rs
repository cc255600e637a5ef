//! SIP messages (RFC 3261 §7): the start line, the header fields in order and the body, all
//! borrowed from the received buffer. Parsing allocates nothing for ordinary messages: the
//! header index is an inline vector that spills to the heap only past
//! [`INLINE_HEADERS`] headers.
//!
//! The parse checks what framing a message needs: the start line (with the Request-URI),
//! the header lines, Content-Length (which bounds the body) and Max-Forwards. The headers
//! every message is matched on -- the topmost Via, From, To, Call-ID, CSeq -- are parsed on
//! first use and cached, as Kamailio parses headers on demand; every other header when
//! asked for. Their faults are reported with offset and header by
//! [`Message::check_request_headers`] (what a UAS checks before acting on a request: a
//! failure is a 400) and [`Message::validate`] (every value of every known header).

use crate::error::{ErrorKind, Fault, ParseError};
use crate::header::{Auth, Token};
use crate::header::{
    CSeq, CallId, Contact, FromValue, Header, HeaderName, MediaType, Method, NameAddr, RouteAddr,
    Typed, Values, Via,
};
use crate::uri::Uri;
use smallvec::SmallVec;
use std::cell::OnceCell;
use std::fmt;

/// Headers held inline before the index spills to the heap.
pub const INLINE_HEADERS: usize = 24;

/// Request-Line (RFC 3261 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// Method.
    pub method: Method<'a>,
    /// Request-URI.
    pub uri: Uri<'a>,
}

/// Status-Line (RFC 3261 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// Status-Code, 100-699.
    pub code: u16,
    /// Reason-Phrase (may be empty).
    pub reason: &'a str,
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request.
    Request(RequestLine<'a>),
    /// A response.
    Response(StatusLine<'a>),
}

impl fmt::Display for StartLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartLine::Request(r) => write!(f, "{} {} SIP/2.0", r.method, r.uri),
            StartLine::Response(s) => write!(f, "SIP/2.0 {} {}", s.code, s.reason),
        }
    }
}

/// A parsed SIP message borrowing from its buffer.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    start: StartLine<'a>,
    headers: SmallVec<[Header<'a>; INLINE_HEADERS]>,
    body: &'a [u8],
    head_len: usize,
    /// Index of the first header of each kind read lazily, by [`Lazy`] slot.
    first: [usize; LAZY_SLOTS],
    top_via: Lazy<Via<'a>>,
    from: Lazy<NameAddr<'a>>,
    to: Lazy<NameAddr<'a>>,
    call_id: Lazy<CallId<'a>>,
    cseq: Lazy<CSeq<'a>>,
    content_length: Option<u32>,
    max_forwards: Option<u8>,
}

/// The end of the line starting at `from`: the index of its `\n`, or the end of `bytes`.
#[inline]
fn line_end(bytes: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |n| from + n)
}

/// `line` without a trailing CR (RFC 3261 §7: lines end in CRLF; bare LF is accepted from
/// lenient peers).
#[inline]
fn strip_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// Finds the end of the head: the index of the empty line's first byte and the body start.
pub(crate) fn head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(n) = memchr::memchr(b'\n', &buf[from..]) {
        let nl = from + n;
        let next = nl + 1;
        match buf.get(next) {
            Some(b'\n') => return Some((nl, next + 1)),
            Some(b'\r') if buf.get(next + 1) == Some(&b'\n') => return Some((nl, next + 2)),
            _ => {}
        }
        from = next;
    }
    None
}

impl<'a> Message<'a> {
    /// Parses one message from a datagram or a framed stream message. Leading CRLFs are
    /// skipped (RFC 3261 §7.5). The body is Content-Length octets (bytes after it are
    /// ignored, RFC 3261 §18.3), or the rest of the buffer when Content-Length is absent.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        Message::parse_unchecked_order(buf).map_err(|e| first_fault(buf, e))
    }

    /// The parse: the header lines are found in one pass over the bytes, the head is
    /// checked to be UTF-8 in one go, then the start line and each header are read. A
    /// fault is returned as soon as it is met; the caller puts it in the order of
    /// [`first_fault`].
    fn parse_unchecked_order(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let incomplete = || ParseError::new(ErrorKind::Incomplete, buf.len());
        let skip = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if skip == buf.len() {
            return Err(ParseError::new(ErrorKind::Empty, 0));
        }
        let first_end = line_end(buf, skip);
        if first_end == buf.len() {
            return Err(incomplete());
        }

        // The header lines (RFC 3261 §7.3.1): `name HCOLON value`, the value extended over
        // continuation lines that start with white space, up to the empty line that ends
        // the head (CRLF, or a bare LF from a lenient peer). A malformed line ends the
        // scan; its fault is reported after those of the lines before it.
        let mut lines: SmallVec<[HeaderLine; INLINE_HEADERS]> = SmallVec::new();
        let mut pos = first_end + 1;
        let (body_start, line_fault) = loop {
            match buf.get(pos) {
                None => return Err(incomplete()),
                Some(b'\n') => break (pos + 1, None),
                Some(b'\r') if buf.get(pos + 1) == Some(&b'\n') => break (pos + 2, None),
                Some(_) => {}
            }
            // The name's characters are checked below, once it is known which header it is.
            let name_end = pos + name_len(&buf[pos..]);
            let mut colon = name_end;
            while matches!(buf.get(colon), Some(b' ' | b'\t')) {
                colon += 1;
            }
            if name_end == pos || buf.get(colon) != Some(&b':') {
                break (pos, Some(header_line_fault(buf, pos)));
            }
            // Extend over continuation lines (LWS folding, RFC 3261 §7.3.1).
            let mut end = line_end(buf, colon);
            while end < buf.len() && matches!(buf.get(end + 1), Some(b' ' | b'\t')) {
                end = line_end(buf, end + 1);
            }
            if end == buf.len() {
                return Err(incomplete());
            }
            lines.push(HeaderLine {
                start: pos,
                name_end,
                colon,
                end,
            });
            pos = end + 1;
        };

        // Every line read above, as text (TEXT-UTF8, RFC 3261 §25.1); `at` gives the text
        // between two offsets of `buf`, which all lie on ASCII bytes.
        let head = utf8(&buf[skip..pos], skip)?;
        let at = |from: usize, to: usize| head.get(from - skip..to - skip).unwrap_or_default();
        let start = start_line(strip_cr(at(skip, first_end)))
            .map_err(|(kind, f)| ParseError::new(kind, f.offset_from(buf)))?;

        let mut msg = Message {
            start,
            headers: SmallVec::new(),
            body: &[],
            head_len: 0,
            first: [usize::MAX; LAZY_SLOTS],
            top_via: Lazy::default(),
            from: Lazy::default(),
            to: Lazy::default(),
            call_id: Lazy::default(),
            cseq: Lazy::default(),
            content_length: None,
            max_forwards: None,
        };
        for l in &lines {
            let name = at(l.start, l.name_end);
            let kind = HeaderName::from_name_at(&buf[l.start..], l.name_end - l.start);
            // A known name is a token; any other must be checked (RFC 3261 §7.3.1).
            if kind == HeaderName::Other
                && crate::parse::span(name, crate::parse::class::TOKEN) != name.len()
            {
                return Err(ParseError::new(
                    ErrorKind::HeaderLine("bad header name"),
                    l.start,
                ));
            }
            let h = Header {
                name,
                kind,
                value: crate::parse::trim_lws(at(l.colon + 1, l.end)),
                offset: l.start,
            };
            // Note where the headers read lazily are (the first of a kind wins), without
            // branching on the kind; other kinds go to a slot nobody reads.
            let first = &mut msg.first[usize::from(LAZY_SLOT[kind as usize])];
            *first = (*first).min(msg.headers.len());
            if kind == HeaderName::ContentLength || kind == HeaderName::MaxForwards {
                msg.take_validated(&h)?;
            }
            msg.headers.push(h);
        }
        if let Some(e) = line_fault {
            return Err(e);
        }
        msg.head_len = body_start;

        let available = buf.len() - body_start;
        msg.body = match msg.content_length {
            Some(n) => {
                let n = n as usize;
                if n > available {
                    let offset = msg
                        .header_of(HeaderName::ContentLength)
                        .map_or(0, |h| h.offset);
                    return Err(ParseError::new(
                        ErrorKind::BodyTruncated {
                            declared: n,
                            available,
                        },
                        offset,
                    )
                    .in_header(HeaderName::ContentLength));
                }
                &buf[body_start..body_start + n]
            }
            None => &buf[body_start..],
        };
        Ok(msg)
    }

    /// Checks Content-Length or Max-Forwards and keeps its value (the first Max-Forwards
    /// wins; Content-Length values must agree).
    fn take_validated(&mut self, h: &Header<'a>) -> Result<(), ParseError> {
        let v = h.value;
        let r: Result<(), Fault> = (|| {
            match h.kind {
                HeaderName::ContentLength => {
                    let n = crate::header::content_length_value(v)?;
                    match self.content_length {
                        Some(old) if old != n => return Err(Fault::at("", v)),
                        _ => self.content_length = Some(n),
                    }
                }
                HeaderName::MaxForwards => {
                    let n = crate::header::max_forwards_value(v)?;
                    self.max_forwards.get_or_insert(n);
                }
                _ => {}
            }
            Ok(())
        })();
        r.map_err(|f| {
            if f.what.is_empty() {
                ParseError::new(ErrorKind::ContentLengthConflict, h.offset)
                    .in_header(HeaderName::ContentLength)
            } else {
                h.error(f)
            }
        })
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    /// The request method, for a request.
    pub fn method(&self) -> Option<Method<'a>> {
        match &self.start {
            StartLine::Request(r) => Some(r.method),
            StartLine::Response(_) => None,
        }
    }

    /// The Request-URI, for a request.
    pub fn request_uri(&self) -> Option<&Uri<'a>> {
        match &self.start {
            StartLine::Request(r) => Some(&r.uri),
            StartLine::Response(_) => None,
        }
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response(s) => Some(s.code),
            StartLine::Request(_) => None,
        }
    }

    /// All headers in order.
    pub fn headers(&self) -> &[Header<'a>] {
        &self.headers
    }

    /// The first header with this name (full or compact form, any case).
    pub fn header(&self, name: &str) -> Option<&Header<'a>> {
        self.headers.iter().find(|h| h.is(name))
    }

    /// Every header with this name, in order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Header<'a>> + 's {
        self.headers.iter().filter(move |h| h.is(name))
    }

    fn header_of(&self, kind: HeaderName) -> Option<&Header<'a>> {
        self.headers.iter().find(|h| h.kind == kind)
    }

    fn values_of<T: FromValue<'a> + 'a>(&self, kind: HeaderName) -> impl Iterator<Item = T> + '_ {
        self.headers
            .iter()
            .filter(move |h| h.kind == kind)
            .flat_map(|h| Values::<T>::over(h.value))
    }

    /// All Via values, top first, across repeated Via headers (RFC 3261 §20.42).
    pub fn via(&self) -> impl Iterator<Item = Via<'a>> + '_ {
        self.values_of(HeaderName::Via)
    }

    /// The topmost Via (RFC 3261 §18.2.2, §17.2.3): the first via-parm of the first Via
    /// header. `None` when absent or malformed (the fault is reported by
    /// [`Message::check_request_headers`] and [`Message::validate`]). Parsed on first use.
    pub fn top_via(&self) -> Option<&Via<'a>> {
        self.top_via
            .get(self.first[VIA], &self.headers, top_via_value)
    }

    /// From (the first, if repeated), as [`Message::top_via`].
    pub fn from(&self) -> Option<&NameAddr<'a>> {
        self.from
            .get(self.first[FROM], &self.headers, NameAddr::from_value)
    }

    /// To (the first, if repeated), as [`Message::top_via`].
    pub fn to(&self) -> Option<&NameAddr<'a>> {
        self.to
            .get(self.first[TO], &self.headers, NameAddr::from_value)
    }

    /// Call-ID, as [`Message::top_via`].
    pub fn call_id(&self) -> Option<&'a str> {
        self.call_id
            .get(self.first[CALL_ID], &self.headers, CallId::from_value)
            .map(|c| c.0)
    }

    /// CSeq, as [`Message::top_via`]. In a request its method may differ from the
    /// request's; [`Message::check_request_headers`] reports that.
    pub fn cseq(&self) -> Option<&CSeq<'a>> {
        self.cseq
            .get(self.first[CSEQ], &self.headers, CSeq::from_value)
    }

    /// The CSeq grammar and, in a request, that its method is the request method
    /// (RFC 3261 §8.1.1.5).
    fn check_cseq_method(&self) -> Result<(), ParseError> {
        let cseq = self
            .cseq
            .check(self.first[CSEQ], &self.headers, CSeq::from_value)?;
        let StartLine::Request(r) = &self.start else {
            return Ok(());
        };
        match cseq {
            Some(c) if c.method != r.method => {
                let offset = self.header_of(HeaderName::CSeq).map_or(0, |h| h.offset);
                Err(ParseError::new(ErrorKind::CSeqMethodMismatch, offset)
                    .in_header(HeaderName::CSeq))
            }
            _ => Ok(()),
        }
    }

    /// Content-Length, when present.
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// Max-Forwards, when present.
    pub fn max_forwards(&self) -> Option<u8> {
        self.max_forwards
    }

    /// Contact values in order (RFC 3261 §20.10). Not validated at parse: malformed values
    /// are skipped here and reported by [`Message::validate`].
    pub fn contacts(&self) -> impl Iterator<Item = Contact<'a>> + '_ {
        self.values_of(HeaderName::Contact)
    }

    /// Route values in order.
    pub fn routes(&self) -> impl Iterator<Item = NameAddr<'a>> + '_ {
        self.values_of::<RouteAddr<'a>>(HeaderName::Route)
            .map(|r| r.0)
    }

    /// Record-Route values in order.
    pub fn record_routes(&self) -> impl Iterator<Item = NameAddr<'a>> + '_ {
        self.values_of::<RouteAddr<'a>>(HeaderName::RecordRoute)
            .map(|r| r.0)
    }

    /// Content-Type, when present and well-formed.
    pub fn content_type(&self) -> Option<MediaType<'a>> {
        self.header_of(HeaderName::ContentType)
            .and_then(|h| MediaType::from_value(h.value).ok())
    }

    /// Expires, when present and well-formed.
    pub fn expires(&self) -> Option<u32> {
        self.header_of(HeaderName::Expires)
            .and_then(|h| crate::header::delta_seconds_value(h.value).ok())
    }

    /// The option-tags of every Require header.
    pub fn require(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.values_of::<Token<'a>>(HeaderName::Require)
            .map(|t| t.0)
    }

    /// The option-tags of every Supported header.
    pub fn supported(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.values_of::<Token<'a>>(HeaderName::Supported)
            .map(|t| t.0)
    }

    /// The first Authorization header, when well-formed.
    pub fn authorization(&self) -> Option<Auth<'a>> {
        self.header_of(HeaderName::Authorization)
            .and_then(|h| Auth::parse_value(h.value).ok())
    }

    /// The body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Bytes of the message up to and including the empty line.
    pub fn head_len(&self) -> usize {
        self.head_len
    }

    /// Checks every known header against its full grammar (the parse checks only those a
    /// gateway acts on). The first fault is returned with its offset and header.
    pub fn validate(&self) -> Result<(), ParseError> {
        for h in &self.headers {
            h.typed()?;
        }
        self.check_cseq_method()
    }

    /// Checks what RFC 3261 §8.1.1 requires of a request: To, From, CSeq, Call-ID and Via
    /// present, To, From, CSeq, Call-ID, Max-Forwards and Content-Length at most once,
    /// those a UAS acts on well-formed (the topmost Via, From, To, Call-ID, CSeq), and the
    /// CSeq method the request method (§8.1.1.5). A UAS answers a failure with 400.
    pub fn check_request_headers(&self) -> Result<(), ParseError> {
        use HeaderName as H;
        for kind in [H::To, H::From, H::CSeq, H::CallId, H::Via] {
            if self.header_of(kind).is_none() {
                return Err(
                    ParseError::new(ErrorKind::MissingHeader, self.head_len).in_header(kind)
                );
            }
        }
        for kind in [
            H::To,
            H::From,
            H::CSeq,
            H::CallId,
            H::MaxForwards,
            H::ContentLength,
        ] {
            if let Some(second) = self.headers.iter().filter(|h| h.kind == kind).nth(1) {
                return Err(
                    ParseError::new(ErrorKind::DuplicateHeader, second.offset).in_header(kind)
                );
            }
        }
        self.check_matched_headers()
    }

    /// Checks the grammar of the headers a message is matched on, which the parse leaves
    /// to first use: the topmost Via, From, To, Call-ID and CSeq (and, in a request, that
    /// the CSeq method is the request method). Any that is absent passes. What
    /// [`Message::check_request_headers`] adds to its presence checks; for a response,
    /// what a transport checks before handing it on (a failure: drop it).
    pub fn check_matched_headers(&self) -> Result<(), ParseError> {
        self.top_via
            .check(self.first[VIA], &self.headers, top_via_value)?;
        self.from
            .check(self.first[FROM], &self.headers, NameAddr::from_value)?;
        self.to
            .check(self.first[TO], &self.headers, NameAddr::from_value)?;
        self.call_id
            .check(self.first[CALL_ID], &self.headers, CallId::from_value)?;
        self.check_cseq_method()
    }

    /// Serialises the message in canonical form: known headers re-rendered from their typed
    /// values with canonical names, other headers with folds collapsed, then the body.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{}\r\n", self.start);
        for h in &self.headers {
            let typed = Typed::parse(h.kind, h.value).unwrap_or(Typed::Raw(h.value));
            let _ = write!(out, "{}: {}\r\n", h.write_name(), typed);
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body);
    }

    /// [`Message::write_to`] into a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.head_len + self.body.len());
        self.write_to(&mut v);
        v
    }
}

/// Where a header line lies in the message: its start, the end of its name, its colon and
/// the end of its value (the line end of its last continuation line).
#[derive(Debug, Clone, Copy)]
struct HeaderLine {
    start: usize,
    name_end: usize,
    colon: usize,
    end: usize,
}

/// The length of the header name at the start of `b`: up to the first `:`, SP, HTAB, CR or
/// LF, found eight bytes at a time (SWAR: a byte equal to `c` is a zero byte of `w ^ c`,
/// and the lowest byte flagged by `(x - 0x01..) & !x & 0x80..` is always a true zero).
#[inline]
fn name_len(b: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let ends = |c: &u8| matches!(c, b':' | b' ' | b'\t' | b'\r' | b'\n');
    let mut k = 0;
    while let Some(chunk) = b.get(k..k + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        let w = u64::from_le_bytes(a);
        let found = zero(w ^ (LO * u64::from(b':')))
            | zero(w ^ (LO * u64::from(b' ')))
            | zero(w ^ (LO * u64::from(b'\t')))
            | zero(w ^ (LO * u64::from(b'\r')))
            | zero(w ^ (LO * u64::from(b'\n')));
        if found != 0 {
            return k + (found.trailing_zeros() / 8) as usize;
        }
        k += 8;
    }
    let rest = b.get(k..).unwrap_or_default();
    k + rest.iter().position(ends).unwrap_or(rest.len())
}

/// What is wrong with the header line at `pos`, which has no `name HCOLON`.
#[cold]
fn header_line_fault(buf: &[u8], pos: usize) -> ParseError {
    let line = &buf[pos..line_end(buf, pos)];
    let what = if matches!(line.first(), Some(b' ' | b'\t')) {
        "continuation line without a header"
    } else if memchr::memchr(b':', line).is_none() {
        "no ':' after header name"
    } else {
        "bad header name"
    };
    ParseError::new(ErrorKind::HeaderLine(what), pos)
}

/// Slots of [`Message::first`]: the headers read lazily, and one nobody reads.
const VIA: usize = 0;
const FROM: usize = 1;
const TO: usize = 2;
const CALL_ID: usize = 3;
const CSEQ: usize = 4;
const NO_SLOT: usize = 5;
const LAZY_SLOTS: usize = 6;

/// The slot of each header kind (indexed by `HeaderName as usize`).
static LAZY_SLOT: [u8; HeaderName::Other as usize + 1] = {
    let mut slots = [NO_SLOT as u8; HeaderName::Other as usize + 1];
    slots[HeaderName::Via as usize] = VIA as u8;
    slots[HeaderName::From as usize] = FROM as u8;
    slots[HeaderName::To as usize] = TO as u8;
    slots[HeaderName::CallId as usize] = CALL_ID as u8;
    slots[HeaderName::CSeq as usize] = CSEQ as u8;
    slots
};

/// A header value parsed on first use from the header at a given index (the first of its
/// kind; `usize::MAX` when there is none): the cached result, `None` inside when the value
/// is malformed. The topmost Via, From, To, Call-ID and CSeq are read so, and checked by
/// `check_request_headers()`; the rest of the Via list is only copied into responses
/// (`validate()` checks it).
#[derive(Debug, Clone)]
struct Lazy<T> {
    value: OnceCell<Option<T>>,
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy {
            value: OnceCell::new(),
        }
    }
}

impl<'a, T> Lazy<T> {
    /// Parses the value of the header at index `at`.
    fn check(
        &self,
        at: usize,
        headers: &[Header<'a>],
        parse: impl FnOnce(&'a str) -> Result<T, Fault>,
    ) -> Result<Option<T>, ParseError> {
        let Some(h) = headers.get(at) else {
            return Ok(None);
        };
        parse(h.value).map(Some).map_err(|f| h.error(f))
    }

    /// The value, parsed on first use; `None` when absent or malformed.
    fn get(
        &self,
        at: usize,
        headers: &[Header<'a>],
        parse: impl FnOnce(&'a str) -> Result<T, Fault>,
    ) -> Option<&T> {
        self.value
            .get_or_init(|| self.check(at, headers, parse).ok().flatten())
            .as_ref()
    }
}

/// The first via-parm of a Via header value.
fn top_via_value(v: &str) -> Result<Via<'_>, Fault> {
    if v.is_empty() {
        return Err(Fault::at("empty header value", v));
    }
    Via::parse_prefix(v).map(|(_, via)| via)
}

/// `b`, which starts at `offset` in the message, as text (RFC 3261 §25.1: TEXT-UTF8).
#[inline]
fn utf8(b: &[u8], offset: usize) -> Result<&str, ParseError> {
    std::str::from_utf8(b)
        .map_err(|e| ParseError::new(ErrorKind::NotUtf8, offset + e.valid_up_to()))
}

/// The fault to report for a message in which the one-pass parse found `e`: an incomplete
/// head first, then text that is not UTF-8 anywhere in the head, then `e` (so the answer
/// does not depend on where the parse happened to stop).
#[cold]
fn first_fault(buf: &[u8], e: ParseError) -> ParseError {
    if e.kind == ErrorKind::Empty {
        return e;
    }
    let skip = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    match head_end(&buf[skip..]) {
        None => ParseError::new(ErrorKind::Incomplete, buf.len()),
        Some((stop, _)) => utf8(&buf[skip..skip + stop], skip).err().unwrap_or(e),
    }
}

/// Parses the start line: Request-Line or Status-Line (RFC 3261 §7.1, §7.2, §25.1).
fn start_line(line: &str) -> Result<StartLine<'_>, (ErrorKind, Fault)> {
    let sp = crate::parse::find_byte(line, b' ');
    if line.starts_with("SIP/") {
        let Some(sp) = sp else {
            return Err((
                ErrorKind::StatusLine("missing Status-Code"),
                Fault::at("", line),
            ));
        };
        version(&line[..sp]).map_err(|k| (k, Fault::at("", line)))?;
        let rest = &line[sp + 1..];
        let (code_txt, reason) = match crate::parse::find_byte(rest, b' ') {
            Some(s) => (&rest[..s], &rest[s + 1..]),
            None => (rest, ""),
        };
        let code = match *code_txt.as_bytes() {
            [a @ b'1'..=b'6', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => {
                return Err((
                    ErrorKind::StatusLine("Status-Code is not 3 digits 100-699"),
                    Fault::at("", rest),
                ));
            }
        };
        if let Some(p) = control_char(reason) {
            return Err((
                ErrorKind::StatusLine("control character in Reason-Phrase"),
                Fault::at("", &reason[p..]),
            ));
        }
        return Ok(StartLine::Response(StatusLine { code, reason }));
    }
    let bad_line = || {
        (
            ErrorKind::RequestLine("expected Method SP Request-URI SP SIP-Version"),
            Fault::at("", line),
        )
    };
    let sp = sp.ok_or_else(bad_line)?;
    let (m, rest) = (&line[..sp], &line[sp + 1..]);
    let sp2 = crate::parse::find_byte(rest, b' ').ok_or_else(bad_line)?;
    let (uri, ver) = (&rest[..sp2], &rest[sp2 + 1..]);
    if crate::parse::find_byte(ver, b' ').is_some() {
        return Err(bad_line());
    }
    if m.is_empty() || crate::parse::span(m, crate::parse::class::TOKEN) != m.len() {
        return Err((ErrorKind::RequestLine("bad Method"), Fault::at("", line)));
    }
    version(ver).map_err(|k| (k, Fault::at("", ver)))?;
    let uri_parsed = Uri::parse_at(uri).map_err(|f| (ErrorKind::RequestUri(f.what), f))?;
    if let Uri::Sip(u) = &uri_parsed
        && u.headers.is_some()
    {
        // RFC 3261 §19.1.1, table 1: headers are not allowed in a Request-URI.
        return Err((
            ErrorKind::RequestUri("headers not allowed in Request-URI"),
            Fault::at("", uri),
        ));
    }
    Ok(StartLine::Request(RequestLine {
        method: Method::from_token(m),
        uri: uri_parsed,
    }))
}

/// Offset of the first control character other than HTAB in `s` (Unicode category Cc:
/// C0, DEL and C1), which a Reason-Phrase may not hold (RFC 3261 §25.1 TEXT-UTF8char).
fn control_char(s: &str) -> Option<usize> {
    if s.is_ascii() {
        s.bytes()
            .position(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
    } else {
        s.char_indices()
            .find(|&(_, c)| c.is_control() && c != '\t')
            .map(|(p, _)| p)
    }
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; only 2.0 is supported.
fn version(v: &str) -> Result<(), ErrorKind> {
    if v == "SIP/2.0" {
        return Ok(());
    }
    let Some(num) = v
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .map(|_| &v[4..])
    else {
        return Err(ErrorKind::RequestLine("bad SIP-Version"));
    };
    let mut halves = num.split('.');
    let ok = matches!((halves.next(), halves.next(), halves.next()), (Some(a), Some(b), None)
        if !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|d| d.is_ascii_digit()));
    if !ok {
        return Err(ErrorKind::RequestLine("bad SIP-Version"));
    }
    if num != "2.0" {
        return Err(ErrorKind::Version);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Rport;

    const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n\
Via: SIP/2.0/TCP proxy.example.com:5061;branch=z9hG4bK1,\r\n SIP/2.0/UDP 192.0.2.7;received=192.0.2.8;rport=5070;branch=z9hG4bK2\r\n\
Max-Forwards: 70\r\n\
t: Bob <sip:bob@biloxi.example.com>\r\n\
f: \"Alice \\\"A\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
i: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
m: <sip:alice@pc33.atlanta.example.com>;expires=60, \"Other\" <sip:o@x>;q=0.5\r\n\
X-Custom: one\r\n\
x-custom: two\r\n\
c: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\r\nEXTRA";

    #[test]
    fn parses_typed_headers_in_order() {
        let m = Message::parse(INVITE.as_bytes()).unwrap();
        assert_eq!(m.method(), Some(Method::Invite));
        let vias: Vec<_> = m.via().collect();
        assert_eq!(vias.len(), 3);
        assert_eq!(vias[0].rport(), Some(Rport::Requested));
        assert_eq!(vias[1].port, Some(5061));
        assert_eq!(vias[2].rport(), Some(Rport::Port(5070)));
        assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(m.from().unwrap().tag(), Some("1928301774"));
        assert_eq!(m.to().unwrap().tag(), None);
        assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.atlanta.example.com"));
        assert_eq!(m.cseq().unwrap().seq, 314159);
        assert_eq!(m.max_forwards(), Some(70));
        let contacts: Vec<_> = m.contacts().collect();
        assert_eq!(contacts.len(), 2);
        let values: Vec<_> = m.headers_named("X-CUSTOM").map(|h| h.value).collect();
        assert_eq!(values, ["one", "two"]);
        assert_eq!(m.header("Content-Type").unwrap().name, "c");
        assert!(m.content_type().unwrap().is("application", "sdp"));
        assert_eq!(m.body(), b"v=0\r");
        m.validate().unwrap();
        m.check_request_headers().unwrap();
    }

    #[test]
    fn bare_lf_and_folding() {
        let text = INVITE.replace("\r\n", "\n");
        let m = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(m.via().count(), 3);
        assert_eq!(m.body(), b"v=0\n");
    }

    #[test]
    fn errors_name_header_and_offset() {
        // CSeq is read lazily: the request check names the fault.
        let bad = INVITE.replace("CSeq: 314159 INVITE", "CSeq: x INVITE");
        let m = Message::parse(bad.as_bytes()).unwrap();
        assert_eq!(m.cseq(), None);
        let e = m.check_request_headers().unwrap_err();
        assert_eq!(m.validate().unwrap_err(), e);
        assert_eq!(e.header, Some(HeaderName::CSeq));
        assert_eq!(&bad[e.offset..e.offset + 7], "x INVIT");
        assert_eq!(e.status_code(), 400);
        assert!(
            e.reason_phrase()
                .starts_with("Bad Request (malformed header value")
        );

        // From is read lazily: the parse accepts it, the request check and the full
        // validation name the fault, and the accessor gives nothing.
        let bad = INVITE.replace("sip:alice@atlanta", "sip:alice@[atlanta");
        let m = Message::parse(bad.as_bytes()).unwrap();
        assert_eq!(m.from(), None);
        assert_eq!(
            m.validate().unwrap_err(),
            m.check_request_headers().unwrap_err()
        );
        let e = m.check_request_headers().unwrap_err();
        assert_eq!(e.header, Some(HeaderName::From));
        assert_eq!(e.status_code(), 400);
        assert!(
            bad[e.offset..].starts_with("[atlanta"),
            "{}",
            &bad[e.offset..]
        );

        let bad = INVITE.replace("SIP/2.0\r\n", "SIP/3.0\r\n");
        assert_eq!(
            Message::parse(bad.as_bytes()).unwrap_err().status_code(),
            505
        );
        assert_eq!(
            Message::parse(b"\r\n\r\n").unwrap_err().kind,
            ErrorKind::Empty
        );
        assert_eq!(
            Message::parse(b"INVITE sip:a@b SIP/2.0\r\nVia: x")
                .unwrap_err()
                .kind,
            ErrorKind::Incomplete
        );
        assert!(matches!(
            Message::parse(b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n")
                .unwrap_err()
                .kind,
            ErrorKind::HeaderLine(_)
        ));
    }

    #[test]
    fn responses_and_reason_phrases() {
        let m = Message::parse(b"SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n").unwrap();
        assert_eq!(m.status(), Some(180));
        let m = Message::parse(b"SIP/2.0 100\r\n\r\n").unwrap();
        assert_eq!(
            m.start_line(),
            &StartLine::Response(StatusLine {
                code: 100,
                reason: ""
            })
        );
        for bad in [
            "SIP/2.0 99 x",
            "SIP/2.0 4294967301 x",
            "SIP/2.0 700 x",
            "SIP/2.0",
        ] {
            assert!(
                Message::parse(format!("{bad}\r\n\r\n").as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn via_is_read_lazily_and_checked_on_request() {
        // A malformed second via-parm is copied, not acted on: only the full check
        // names it, with its offset.
        let text = INVITE.replace("SIP/2.0/UDP 192.0.2.7;", "SIP/2.0/UDP 192.0.2.7 junk;");
        let m = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
        m.check_request_headers().unwrap();
        let e = m.validate().unwrap_err();
        assert_eq!(e.header, Some(HeaderName::Via));
        assert!(
            text[e.offset..].starts_with("junk;"),
            "{}",
            &text[e.offset..]
        );
        // A malformed topmost one is no top Via, and a request carrying it is answered 400,
        // also when a list follows it.
        let top = "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n";
        for (bad, at) in [
            (
                "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport junk\r\n",
                "junk",
            ),
            (
                "v: SIP/2.0/UDP pc33.atlanta.example.com;rport=x, SIP/2.0/UDP a\r\n",
                "x, SIP",
            ),
            ("v: ,SIP/2.0/UDP pc33.atlanta.example.com\r\n", ",SIP"),
        ] {
            let text = INVITE.replace(top, bad);
            let m = Message::parse(text.as_bytes()).unwrap();
            assert_eq!(m.top_via(), None, "{bad}");
            let e = m.check_request_headers().unwrap_err();
            assert_eq!(
                (e.header, e.status_code()),
                (Some(HeaderName::Via), 400),
                "{bad}"
            );
            assert!(
                text[e.offset..].starts_with(at),
                "{bad}: {}",
                &text[e.offset..]
            );
            assert_eq!(m.validate().unwrap_err().header, Some(HeaderName::Via));
        }
    }

    #[test]
    fn cseq_method_must_be_the_request_method() {
        let bad = INVITE.replace("CSeq: 314159 INVITE", "CSeq: 314159 ACK");
        let m = Message::parse(bad.as_bytes()).unwrap();
        assert_eq!(m.cseq().unwrap().method, Method::Ack);
        let e = m.check_request_headers().unwrap_err();
        assert_eq!(m.validate().unwrap_err(), e);
        assert_eq!(
            (e.kind, e.status_code()),
            (ErrorKind::CSeqMethodMismatch, 400)
        );
        assert!(bad[e.offset..].starts_with("CSeq: 314159 ACK"));
        // A response carries the method of the request it answers.
        let ok = "SIP/2.0 200 OK\r\nCSeq: 1 BYE\r\n\r\n";
        Message::parse(ok.as_bytes()).unwrap().validate().unwrap();
    }

    #[test]
    fn responses_are_checked_without_presence_rules() {
        let ok = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\r\n";
        Message::parse(ok.as_bytes())
            .unwrap()
            .check_matched_headers()
            .unwrap();
        let bad = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nTo: <sip:b@[x>\r\n\r\n";
        let m = Message::parse(bad.as_bytes()).unwrap();
        assert_eq!(m.to(), None);
        let e = m.check_matched_headers().unwrap_err();
        assert_eq!(e.header, Some(HeaderName::To));
        assert!(bad[e.offset..].starts_with("[x>"), "{}", &bad[e.offset..]);
    }

    #[test]
    fn header_line_faults() {
        for (line, what) in [
            (" x: 1", "continuation line without a header"),
            (": 1", "bad header name"),
            ("Bad Name: 1", "bad header name"),
            ("NoColon", "no ':' after header name"),
        ] {
            let text = format!("OPTIONS sip:a@b SIP/2.0\r\n{line}\r\n\r\n");
            let e = Message::parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::HeaderLine(what), "{line}");
            assert_eq!(e.offset, 25, "{line}");
        }
        let m = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nX-A \t: 1\r\n\r\n").unwrap();
        assert_eq!((m.headers()[0].name, m.headers()[0].value), ("X-A", "1"));
    }

    #[test]
    fn faults_are_reported_in_a_fixed_order() {
        // Incomplete head first, then non-UTF-8 text anywhere in the head, then the first
        // grammar fault, wherever the one-pass parse happens to stop.
        let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: 1\r\nX: 2\r\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Incomplete);
        let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: 1\r\nX: \xff\r\n\r\n")
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::NotUtf8, 41));
        let e =
            Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: 1\r\nX: 2\r\n\r\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::HeaderLine("bad header name"));
    }

    #[test]
    fn many_headers_spill_without_error() {
        let mut text = String::from("OPTIONS sip:a@b SIP/2.0\r\n");
        for k in 0..100 {
            text.push_str(&format!("X-H{k}: {k}\r\n"));
        }
        text.push_str("\r\n");
        let m = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(m.headers().len(), 100);
        assert_eq!(m.header("x-h99").unwrap().value, "99");
    }
}
