//! Building requests and responses (RFC 3261 §7, §8.1.1, §8.2.6): a typed builder that
//! writes each part straight into the output bytes, once. Nothing is re-parsed.

use crate::header::{CSeq, HeaderName, Method, NameAddr, Via};
use crate::message::Message;
use crate::uri::Uri;
use std::fmt::{self, Display, Write as _};

/// Writes one message. Start with [`MessageBuilder::request`], [`MessageBuilder::response`]
/// or [`MessageBuilder::response_to`], add headers in the order they should appear, and end
/// with [`MessageBuilder::finish`] or [`MessageBuilder::body`], which write Content-Length.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    buf: Vec<u8>,
}

/// Writes a value, turning any CR or LF into a space so that no value can end its header
/// line early and smuggle in another header.
struct NoLineBreaks<'b>(&'b mut Vec<u8>);

impl fmt::Write for NoLineBreaks<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.split_inclusive(['\r', '\n']) {
            match chunk.strip_suffix(['\r', '\n']) {
                Some(text) => {
                    self.0.extend_from_slice(text.as_bytes());
                    self.0.push(b' ');
                }
                None => self.0.extend_from_slice(chunk.as_bytes()),
            }
        }
        Ok(())
    }
}

impl MessageBuilder {
    /// Starts a request: `METHOD Request-URI SIP/2.0` (RFC 3261 §7.1).
    pub fn request(method: Method<'_>, uri: &Uri<'_>) -> Self {
        let mut b = MessageBuilder {
            buf: Vec::with_capacity(512),
        };
        let _ = write!(NoLineBreaks(&mut b.buf), "{method} {uri} SIP/2.0");
        b.buf.extend_from_slice(b"\r\n");
        b
    }

    /// Starts a response: `SIP/2.0 code reason` (RFC 3261 §7.2). A code outside 100-699 is
    /// clamped to 500, so the builder never writes an unparsable Status-Line.
    pub fn response(code: u16, reason: &str) -> Self {
        let code = if (100..=699).contains(&code) {
            code
        } else {
            500
        };
        let mut b = MessageBuilder {
            buf: Vec::with_capacity(512),
        };
        let _ = write!(NoLineBreaks(&mut b.buf), "SIP/2.0 {code} {reason}");
        b.buf.extend_from_slice(b"\r\n");
        b
    }

    /// Starts a response to `req` as a UAS does (RFC 3261 §8.2.6.2): the Via headers in
    /// order, From, To (with `to_tag` added when To has no tag yet), Call-ID and CSeq are
    /// copied; for a dialog-creating response (101-299) Record-Route is copied too
    /// (RFC 3261 §12.1.1).
    pub fn response_to(req: &Message<'_>, code: u16, reason: &str, to_tag: Option<&str>) -> Self {
        let mut b = MessageBuilder::response(code, reason);
        for h in req.headers() {
            match h.kind {
                HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                    b = b.header_typed(h.kind, h.value);
                }
                HeaderName::RecordRoute if (101..=299).contains(&code) => {
                    b = b.header_typed(h.kind, h.value);
                }
                _ => {}
            }
        }
        if let Some(to) = req.to() {
            b = b.to(to);
            if to.tag().is_none()
                && let Some(tag) = to_tag
            {
                // The To written above ends with its parameters; append the tag to it.
                b.buf.truncate(b.buf.len() - 2);
                let _ = write!(NoLineBreaks(&mut b.buf), ";tag={tag}");
                b.buf.extend_from_slice(b"\r\n");
            }
        }
        b
    }

    /// Copies a received header value, re-rendered by its type (folds removed).
    fn header_typed(self, kind: HeaderName, value: &str) -> Self {
        match crate::header::Typed::parse(kind, value) {
            Ok(t) => self.header(kind, t),
            Err(_) => self.header(kind, value),
        }
    }

    /// Adds a known header with a value written by its `Display` form.
    pub fn header(mut self, name: HeaderName, value: impl Display) -> Self {
        self.buf.extend_from_slice(name.canonical().as_bytes());
        self.buf.extend_from_slice(b": ");
        let _ = write!(NoLineBreaks(&mut self.buf), "{value}");
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Adds any header by name. A name that is not a token is written as `X-Invalid`.
    pub fn raw_header(mut self, name: &str, value: impl Display) -> Self {
        let ok = !name.is_empty() && name.chars().all(crate::parse::is_token_char);
        self.buf
            .extend_from_slice(if ok { name } else { "X-Invalid" }.as_bytes());
        self.buf.extend_from_slice(b": ");
        let _ = write!(NoLineBreaks(&mut self.buf), "{value}");
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Via.
    pub fn via(self, via: &Via<'_>) -> Self {
        self.header(HeaderName::Via, via)
    }

    /// From.
    pub fn from(self, from: &NameAddr<'_>) -> Self {
        self.header(HeaderName::From, from)
    }

    /// To.
    pub fn to(self, to: &NameAddr<'_>) -> Self {
        self.header(HeaderName::To, to)
    }

    /// Call-ID.
    pub fn call_id(self, id: &str) -> Self {
        self.header(HeaderName::CallId, id)
    }

    /// CSeq.
    pub fn cseq(self, seq: u32, method: Method<'_>) -> Self {
        self.header(HeaderName::CSeq, CSeq { seq, method })
    }

    /// Max-Forwards.
    pub fn max_forwards(self, n: u8) -> Self {
        self.header(HeaderName::MaxForwards, n)
    }

    /// Contact.
    pub fn contact(self, c: &NameAddr<'_>) -> Self {
        self.header(HeaderName::Contact, c)
    }

    /// Ends the message with `Content-Length: 0`.
    pub fn finish(self) -> Vec<u8> {
        self.body_bytes(None, &[])
    }

    /// Ends the message with Content-Type, Content-Length and the body.
    pub fn body(self, content_type: &str, body: &[u8]) -> Vec<u8> {
        self.body_bytes(Some(content_type), body)
    }

    fn body_bytes(mut self, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
        if let Some(ct) = content_type {
            self = self.header(HeaderName::ContentType, ct);
        }
        let mut line = String::new();
        let _ = write!(line, "Content-Length: {}\r\n\r\n", body.len());
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.extend_from_slice(body);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::FromValue;

    #[test]
    fn request_then_response() {
        let uri = Uri::parse("sip:bob@192.0.2.4").unwrap();
        let via = Via::from_value("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport").unwrap();
        let from = NameAddr::from_value("\"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl")
            .unwrap();
        let to = NameAddr::from_value("<sip:bob@biloxi.example.com>").unwrap();
        let rr = "<sip:p1.example.com;lr>";
        let bytes = MessageBuilder::request(Method::Invite, &uri)
            .via(&via)
            .max_forwards(70)
            .from(&from)
            .to(&to)
            .call_id("3848276298220188511@atlanta.example.com")
            .cseq(1, Method::Invite)
            .raw_header("Record-Route", rr)
            .raw_header("X-Evil", "a\r\nInjected: yes")
            .body("application/sdp", b"v=0\r\n");
        let req = Message::parse(&bytes).unwrap();
        assert_eq!(req.top_via(), Some(&via));
        assert_eq!(req.from(), Some(&from));
        assert_eq!(req.cseq().map(|c| c.seq), Some(1));
        assert_eq!(req.body(), b"v=0\r\n");
        assert!(req.header("Injected").is_none());

        let resp = MessageBuilder::response_to(&req, 180, "Ringing", Some("314159")).finish();
        let r = Message::parse(&resp).unwrap();
        assert_eq!(r.status(), Some(180));
        assert_eq!(r.via().collect::<Vec<_>>(), req.via().collect::<Vec<_>>());
        assert_eq!(r.from(), req.from());
        assert_eq!(r.to().unwrap().tag(), Some("314159"));
        assert_eq!(r.to().unwrap().uri, to.uri);
        assert_eq!(r.call_id(), req.call_id());
        assert_eq!(r.cseq(), req.cseq());
        assert_eq!(r.record_routes().count(), 1);
        assert_eq!(r.content_length(), Some(0));

        let trying = MessageBuilder::response_to(&req, 100, "Trying", None).finish();
        let t = Message::parse(&trying).unwrap();
        assert_eq!(t.to().unwrap().tag(), None);
        assert_eq!(t.record_routes().count(), 0);
    }
}
