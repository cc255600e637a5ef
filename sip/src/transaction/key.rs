//! Matching messages to transactions: clients by branch and CSeq method (RFC 3261 §17.1.3),
//! servers by branch, sent-by and method when the branch carries the magic cookie
//! `z9hG4bK`, otherwise by the RFC 2543 rule (§17.2.3).

use crate::header::Method;
use crate::message::Message;
use std::fmt::Write as _;

/// The magic cookie that starts every RFC 3261 branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The identity of a transaction in the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A client transaction: the branch of the top Via of the request we sent and its
    /// method (§17.1.3: CANCEL and the INVITE it cancels share a branch).
    Client {
        /// Branch parameter.
        branch: Box<str>,
        /// CSeq method.
        method: Box<str>,
    },
    /// A server transaction keyed per §17.2.3 for an RFC 3261 branch.
    Server {
        /// Branch parameter.
        branch: Box<str>,
        /// sent-by (host and port) of the top Via.
        sent_by: Box<str>,
        /// Request method, ACK counted as INVITE.
        method: Box<str>,
    },
    /// A server transaction for an RFC 2543 request (no magic cookie): Request-URI, To tag,
    /// From tag, Call-ID, CSeq number and top Via, plus the method (ACK counted as INVITE).
    Rfc2543 {
        /// All the compared fields, rendered.
        fields: Box<str>,
        /// Request method, ACK counted as INVITE.
        method: Box<str>,
    },
}

/// Why a message has no transaction key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No Via header (§8.1.1.7).
    #[error("no Via header")]
    NoVia,
    /// No CSeq header (§8.1.1.5).
    #[error("no CSeq header")]
    NoCSeq,
    /// A response's top Via has no branch, so no client transaction can match (§17.1.3).
    #[error("top Via has no branch parameter")]
    NoBranch,
    /// A request without the RFC 2543 identifying headers (Call-ID, From).
    #[error("request lacks Call-ID or From for RFC 2543 matching")]
    Rfc2543Fields,
}

fn server_method(m: Method<'_>) -> Box<str> {
    match m {
        Method::Ack => Method::Invite.as_str().into(),
        m => m.as_str().into(),
    }
}

impl Key {
    /// The client key of a request we send or a response we receive: top Via branch and
    /// CSeq method (§17.1.3).
    pub fn client(msg: &Message<'_>) -> Result<Key, KeyError> {
        let via = msg.top_via().ok_or(KeyError::NoVia)?;
        let cseq = msg.cseq().ok_or(KeyError::NoCSeq)?;
        let branch = via.branch().ok_or(KeyError::NoBranch)?;
        Ok(Key::Client {
            branch: branch.into(),
            method: cseq.method.as_str().into(),
        })
    }

    /// The server key of a received request (§17.2.3). An ACK gets the key of the INVITE
    /// it acknowledges; for an RFC 2543 ACK, `to_tag` overrides the To tag (the tag of our
    /// response, which the INVITE did not carry).
    pub fn server(req: &Message<'_>) -> Result<Key, KeyError> {
        let method = req.method().ok_or(KeyError::NoCSeq)?;
        Key::server_as(req, server_method(method), false)
    }

    /// The key of the INVITE server transaction a CANCEL cancels (§9.2, §17.2.3).
    pub fn cancelled_invite(cancel: &Message<'_>) -> Result<Key, KeyError> {
        Key::server_as(cancel, Method::Invite.as_str().into(), false)
    }

    /// For an RFC 2543 ACK: the key of its INVITE, which had no To tag (an initial INVITE).
    /// `None` when the ACK has an RFC 3261 branch, or no To tag.
    pub fn rfc2543_ack_untagged(ack: &Message<'_>) -> Option<Key> {
        let via = ack.top_via()?;
        if via.is_rfc3261_branch() || ack.to()?.tag().is_none() {
            return None;
        }
        Key::server_as(ack, Method::Invite.as_str().into(), true).ok()
    }

    fn server_as(req: &Message<'_>, method: Box<str>, drop_to_tag: bool) -> Result<Key, KeyError> {
        let via = req.top_via().ok_or(KeyError::NoVia)?;
        if let Some(branch) = via.branch().filter(|b| b.starts_with(MAGIC_COOKIE)) {
            let mut sent_by = String::with_capacity(32);
            let _ = write!(sent_by, "{}:{}", via.host, via.port.unwrap_or(0));
            return Ok(Key::Server {
                branch: branch.into(),
                sent_by: sent_by.into(),
                method,
            });
        }
        let (Some(call_id), Some(from)) = (req.call_id(), req.from()) else {
            return Err(KeyError::Rfc2543Fields);
        };
        let cseq = req.cseq().ok_or(KeyError::NoCSeq)?;
        let uri = req.request_uri().ok_or(KeyError::Rfc2543Fields)?;
        let to_tag = if drop_to_tag {
            ""
        } else {
            req.to().and_then(|t| t.tag()).unwrap_or("")
        };
        let mut f = String::with_capacity(128);
        let _ = write!(
            f,
            "{uri}\n{to_tag}\n{}\n{call_id}\n{}\n{via}",
            from.tag().unwrap_or(""),
            cseq.seq
        );
        Ok(Key::Rfc2543 {
            fields: f.into(),
            method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, branch: &str, to_tag: &str, sent_by: &str) -> Vec<u8> {
        format!(
            "{method} sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP {sent_by};branch={branch}\r\n\
             From: <sip:a@x>;tag=f1\r\nTo: <sip:bob@y>{to_tag}\r\nCall-ID: c1@x\r\n\
             CSeq: 7 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn key(b: &[u8]) -> Key {
        Key::server(&Message::parse(b).unwrap()).unwrap()
    }

    #[test]
    fn rfc3261_ack_and_retransmission_match_invite() {
        let inv = key(&req("INVITE", "z9hG4bKa", "", "192.0.2.1:5060"));
        assert_eq!(key(&req("INVITE", "z9hG4bKa", "", "192.0.2.1:5060")), inv);
        assert_eq!(
            key(&req("ACK", "z9hG4bKa", ";tag=t", "192.0.2.1:5060")),
            inv
        );
        // Different sent-by, branch or method: different transactions.
        assert_ne!(key(&req("INVITE", "z9hG4bKa", "", "192.0.2.2:5060")), inv);
        assert_ne!(key(&req("INVITE", "z9hG4bKb", "", "192.0.2.1:5060")), inv);
        let cancel = req("CANCEL", "z9hG4bKa", "", "192.0.2.1:5060");
        assert_ne!(key(&cancel), inv);
        let c = Message::parse(&cancel).unwrap();
        assert_eq!(Key::cancelled_invite(&c).unwrap(), inv);
        assert_eq!(Key::rfc2543_ack_untagged(&c), None);
    }

    #[test]
    fn rfc2543_fallback() {
        let inv = key(&req("INVITE", "old1", "", "192.0.2.1:5060"));
        assert!(matches!(inv, Key::Rfc2543 { .. }));
        assert_eq!(key(&req("INVITE", "old1", "", "192.0.2.1:5060")), inv);
        // The ACK carries our To tag: matched by the untagged form.
        let ack = req("ACK", "old1", ";tag=t9", "192.0.2.1:5060");
        assert_ne!(key(&ack), inv);
        let a = Message::parse(&ack).unwrap();
        assert_eq!(Key::rfc2543_ack_untagged(&a), Some(inv.clone()));
        // A different top Via is a different transaction.
        assert_ne!(key(&req("INVITE", "old2", "", "192.0.2.1:5060")), inv);
        let c = req("CANCEL", "old1", "", "192.0.2.1:5060");
        assert_eq!(
            Key::cancelled_invite(&Message::parse(&c).unwrap()).unwrap(),
            inv
        );
    }

    #[test]
    fn client_key_from_response() {
        let r =
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCSeq: 3 INVITE\r\n\r\n";
        let k = Key::client(&Message::parse(r).unwrap()).unwrap();
        let sent = req("INVITE", "z9hG4bKq", "", "h");
        assert_eq!(Key::client(&Message::parse(&sent).unwrap()).unwrap(), k);
        let no_branch = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h\r\nCSeq: 3 INVITE\r\n\r\n";
        assert_eq!(
            Key::client(&Message::parse(no_branch).unwrap()),
            Err(KeyError::NoBranch)
        );
    }
}
