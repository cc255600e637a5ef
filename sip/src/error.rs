//! The one error type of the message layer: what is wrong, where (byte offset into the
//! received buffer) and in which header, plus the response a UAS answers with
//! (RFC 3261 §8.2, §21.4).

use crate::header::HeaderName;

/// What is wrong with a message. Each variant names the rule of RFC 3261 it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// Nothing but whitespace was received.
    #[error("empty message")]
    Empty,
    /// The header section does not end with an empty line (RFC 3261 §7).
    #[error("header section is not terminated by an empty line")]
    Incomplete,
    /// Header text must be UTF-8 (RFC 3261 §25.1, TEXT-UTF8).
    #[error("header section is not valid UTF-8")]
    NotUtf8,
    /// Request-Line (RFC 3261 §7.1, §25.1).
    #[error("malformed Request-Line: {0}")]
    RequestLine(&'static str),
    /// Status-Line (RFC 3261 §7.2, §25.1).
    #[error("malformed Status-Line: {0}")]
    StatusLine(&'static str),
    /// A SIP-Version other than SIP/2.0 (RFC 3261 §8.2.2... §21.5.6: 505).
    #[error("unsupported SIP version")]
    Version,
    /// A Request-URI that does not parse (RFC 3261 §19.1, §25.1).
    #[error("malformed Request-URI: {0}")]
    RequestUri(&'static str),
    /// A header line without a valid name and colon (RFC 3261 §7.3.1).
    #[error("malformed header line: {0}")]
    HeaderLine(&'static str),
    /// A header value that breaks its grammar (RFC 3261 §20, §25.1).
    #[error("malformed header value: {0}")]
    HeaderValue(&'static str),
    /// Content-Length names more bytes than were received (RFC 3261 §18.3).
    #[error("body shorter than Content-Length ({declared} declared, {available} received)")]
    BodyTruncated {
        /// Content-Length value.
        declared: usize,
        /// Bytes after the empty line.
        available: usize,
    },
    /// Two Content-Length headers that disagree (RFC 3261 §20.14).
    #[error("conflicting Content-Length values")]
    ContentLengthConflict,
    /// CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    /// A header every request must carry is absent (RFC 3261 §8.1.1).
    #[error("mandatory header missing")]
    MissingHeader,
    /// A header allowed once appears more than once (RFC 3261 §7.3.1).
    #[error("header allowed once appears more than once")]
    DuplicateHeader,
    /// The message is larger than the configured maximum (RFC 3261 §21.4.12: 513).
    #[error("message larger than the maximum of {limit} bytes")]
    TooLarge {
        /// The configured maximum.
        limit: usize,
    },
}

/// A parse failure: [`ErrorKind`], the byte offset into the parsed buffer where the fault
/// was found, and the header it is in (when it is in a known header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{} at byte {offset}", header_suffix(self.header))]
pub struct ParseError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Byte offset into the buffer given to the parser.
    pub offset: usize,
    /// The header the fault is in, when known.
    pub header: Option<HeaderName>,
}

fn header_suffix(h: Option<HeaderName>) -> String {
    match h {
        Some(h) => format!(" in {}", h.canonical()),
        None => String::new(),
    }
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError {
            kind,
            offset,
            header: None,
        }
    }

    pub(crate) fn in_header(mut self, h: HeaderName) -> Self {
        if h != HeaderName::Other {
            self.header = Some(h);
        }
        self
    }

    /// The status code a UAS sends when a request fails with this error
    /// (RFC 3261 §8.2.2-§8.2.3, §21.4.1, §21.4.12, §21.5.6).
    pub fn status_code(&self) -> u16 {
        match self.kind {
            ErrorKind::Version => 505,
            ErrorKind::TooLarge { .. } => 513,
            _ => 400,
        }
    }

    /// A reason phrase for the response that names the fault, e.g.
    /// `Bad Request (malformed header value: Via sent-by in Via at byte 63)`.
    pub fn reason_phrase(&self) -> String {
        let base = match self.status_code() {
            505 => "Version Not Supported",
            513 => "Message Too Large",
            _ => "Bad Request",
        };
        // The fault text is ASCII and free of CR/LF, so it is a valid Reason-Phrase.
        format!("{base} ({self})")
    }
}

/// A fault found by a grammar rule on a borrowed value, located by the address of the byte
/// where it was found; [`Fault::offset_from`] turns it into an offset into the buffer the
/// value borrows from. The message layer converts it into a [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What is wrong.
    pub what: &'static str,
    /// Address of the offending byte.
    pub addr: usize,
}

impl Fault {
    /// A fault at the start of `rest`.
    pub fn at(what: &'static str, rest: &str) -> Self {
        Fault {
            what,
            addr: rest.as_ptr() as usize,
        }
    }

    /// Offset of this fault from `base`, saturating for a fault outside it.
    pub fn offset_from(&self, base: &[u8]) -> usize {
        self.addr.saturating_sub(base.as_ptr() as usize)
    }
}
