//! Framing SIP over stream transports (TCP, TLS): messages are delimited by the empty line
//! and Content-Length (RFC 3261 §18.3); CRLF keepalives between messages are skipped
//! (RFC 5626 §3.5.1). Sans-IO: the transport appends received bytes to its buffer, asks the
//! framer what the front of the buffer holds, and drains what it consumed. The framer
//! resumes where it stopped, so a message arriving in small pieces is scanned once.
//!
//! ```
//! use tipring_sip::framing::{Frame, Framer};
//! let mut framer = Framer::new(64 * 1024);
//! let mut buf: Vec<u8> = b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhi".to_vec();
//! let mut messages = 0;
//! while let Some(frame) = framer.decode(&buf).unwrap() {
//!     let n = match frame {
//!         Frame::Keepalive { len } => len,
//!         Frame::Message { len } => {
//!             let m = tipring_sip::Message::parse(&buf[..len]).unwrap();
//!             assert_eq!(m.body(), b"hi");
//!             messages += 1;
//!             len
//!         }
//!     };
//!     buf.drain(..n);
//! }
//! assert_eq!(messages, 1);
//! ```

use crate::error::{ErrorKind, ParseError};
use crate::header::HeaderName;
use crate::message::head_end;

/// What the front of the stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `len` bytes of CR / LF between messages: a keepalive to skip. Four or more bytes
    /// (`CRLFCRLF`) are a ping the peer expects a `CRLF` pong for (RFC 5626 §4.4.1).
    Keepalive {
        /// Bytes to drop.
        len: usize,
    },
    /// One complete message in the first `len` bytes.
    Message {
        /// Bytes of the message, head and body.
        len: usize,
    },
}

/// Finds message boundaries in a stream, refusing messages larger than a maximum. It
/// remembers how far it has looked into the message at the front of the buffer (where the
/// head's end search stopped, then the head's end and the message's length), so bytes
/// arriving one at a time cost linear time, not a rescan of the buffer on each.
///
/// The contract with the caller: after `Ok(Some(frame))` it removes exactly the frame's
/// bytes from the front of the buffer; after `Ok(None)` it only appends; anything else
/// (a buffer discarded) calls [`Framer::reset`].
#[derive(Debug, Clone)]
pub struct Framer {
    max_size: usize,
    /// Bytes of the buffer already searched for the head's end without finding it.
    searched: usize,
    /// Once the head's end is found: the whole message's length.
    total: Option<usize>,
    /// Bytes handed to the head's end search so far (for the linearity test).
    #[cfg(test)]
    examined: usize,
}

impl Framer {
    /// A framer that rejects messages over `max_size` bytes (a UAS answers 513,
    /// RFC 3261 §21.4.12, and closes the connection since the stream cannot resynchronise).
    pub fn new(max_size: usize) -> Self {
        Framer {
            max_size,
            searched: 0,
            total: None,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// The configured maximum.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Forgets what it learnt about the front of the buffer.
    pub fn reset(&mut self) {
        self.searched = 0;
        self.total = None;
    }

    /// Looks at the front of `buf`: `Ok(None)` when more bytes are needed.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Option<Frame>, ParseError> {
        let r = self.look(buf);
        if !matches!(r, Ok(None)) {
            self.reset();
        }
        r
    }

    fn look(&mut self, buf: &[u8]) -> Result<Option<Frame>, ParseError> {
        let too_large = || {
            ParseError::new(
                ErrorKind::TooLarge {
                    limit: self.max_size,
                },
                0,
            )
        };
        let total = match self.total {
            Some(t) => t,
            None => {
                if self.searched == 0 {
                    let blank = buf
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    if blank > 0 {
                        return Ok(Some(Frame::Keepalive { len: blank }));
                    }
                }
                // The end is `\n\n` or `\n\r\n`: one may start in the last two bytes
                // already searched.
                let from = self.searched.saturating_sub(2).min(buf.len());
                #[cfg(test)]
                {
                    self.examined += buf.len() - from;
                }
                let Some((_, end)) = head_end(&buf[from..]) else {
                    self.searched = buf.len();
                    if buf.len() > self.max_size {
                        return Err(too_large());
                    }
                    return Ok(None);
                };
                let body_start = from + end;
                let declared = content_length(&buf[..body_start])?;
                let total = body_start.checked_add(declared).ok_or_else(too_large)?;
                if total > self.max_size {
                    return Err(too_large());
                }
                self.total = Some(total);
                total
            }
        };
        if buf.len() < total {
            return Ok(None);
        }
        Ok(Some(Frame::Message { len: total }))
    }
}

/// Content-Length from a head without parsing it all; absent means 0 (RFC 3261 §18.3 makes
/// it mandatory on streams, §20.14 says a missing one means no body).
fn content_length(head: &[u8]) -> Result<usize, ParseError> {
    let mut found: Option<usize> = None;
    let mut offset = 0;
    for line in head.split(|&b| b == b'\n') {
        let here = offset;
        offset += line.len() + 1;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii_end();
        let is_cl = name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l");
        if !is_cl || line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let value = line[colon + 1..].trim_ascii();
        let bad = || {
            ParseError::new(
                ErrorKind::HeaderValue("Content-Length is not a number of octets"),
                here,
            )
            .in_header(HeaderName::ContentLength)
        };
        if value.is_empty() || value.len() > 10 || !value.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n = value
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        match found {
            Some(old) if old != n => {
                return Err(ParseError::new(ErrorKind::ContentLengthConflict, here)
                    .in_header(HeaderName::ContentLength));
            }
            _ => found = Some(n),
        }
    }
    Ok(found.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"BYE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello";

    #[test]
    fn frames_grow_byte_by_byte() {
        let mut f = Framer::new(1000);
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(MSG);
        stream.extend_from_slice(MSG);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for &b in &stream {
            buf.push(b);
            while let Some(frame) = f.decode(&buf).unwrap() {
                let n = match frame {
                    Frame::Keepalive { len } => len,
                    Frame::Message { len } => {
                        got.push(buf[..len].to_vec());
                        len
                    }
                };
                buf.drain(..n);
            }
        }
        assert_eq!(got, [MSG.to_vec(), MSG.to_vec()]);
        assert!(buf.is_empty());
    }

    #[test]
    fn limits_and_bad_lengths() {
        let mut f = Framer::new(30);
        assert_eq!(
            f.decode(MSG).unwrap_err().kind,
            ErrorKind::TooLarge { limit: 30 }
        );
        assert_eq!(f.decode(MSG).unwrap_err().status_code(), 513);
        assert_eq!(f.decode(&[b'A'; 31]).unwrap_err().status_code(), 513);
        assert_eq!(f.decode(&[b'A'; 30]).unwrap(), None);
        let mut f = Framer::new(1000);
        assert!(
            f.decode(b"BYE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n")
                .is_err()
        );
        assert!(
            f.decode(b"BYE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n")
                .is_err()
        );
        assert_eq!(
            f.decode(b"BYE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nxx")
                .unwrap_err()
                .kind,
            ErrorKind::ContentLengthConflict
        );
        assert_eq!(
            f.decode(b"BYE sip:a@b SIP/2.0\r\n\r\nrest").unwrap(),
            Some(Frame::Message { len: 23 })
        );
    }

    /// A 64 KB message arriving one byte at a time: each byte is searched about once (the
    /// framer resumes where it stopped), not the whole buffer again on each byte.
    #[test]
    fn a_message_trickled_byte_by_byte_costs_linear_time() {
        let mut msg = b"MESSAGE sip:a@b SIP/2.0\r\n".to_vec();
        while msg.len() < 32 * 1024 {
            msg.extend_from_slice(b"X-Pad: 0123456789abcdef0123456789abcdef\r\n");
        }
        let body = vec![b'z'; 64 * 1024 - msg.len() - 30];
        msg.extend_from_slice(format!("l: {}\r\n\r\n", body.len()).as_bytes());
        msg.extend_from_slice(&body);
        let mut f = Framer::new(64 * 1024);
        let mut buf = Vec::new();
        let mut frames = Vec::new();
        for &b in &msg {
            buf.push(b);
            if let Some(frame) = f.decode(&buf).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, [Frame::Message { len: msg.len() }]);
        assert!(msg.len() <= 64 * 1024);
        // Three bytes per byte received at most (the two re-read at each resume).
        assert!(
            f.examined <= 3 * msg.len(),
            "{} for {}",
            f.examined,
            msg.len()
        );
    }

    #[test]
    fn a_head_end_split_across_reads_is_found() {
        for cut in 1..MSG.len() {
            let mut f = Framer::new(1000);
            let first = f.decode(&MSG[..cut]).unwrap();
            let whole = f.decode(MSG).unwrap();
            assert_eq!(first, None, "cut {cut}");
            assert_eq!(whole, Some(Frame::Message { len: MSG.len() }), "cut {cut}");
        }
        // A bare-LF head end, split in its middle.
        let lf = b"BYE sip:a@b SIP/2.0\nl: 1\n\nx";
        let mut f = Framer::new(1000);
        assert_eq!(f.decode(&lf[..25]).unwrap(), None);
        assert_eq!(
            f.decode(lf).unwrap(),
            Some(Frame::Message { len: lf.len() })
        );
    }
}
