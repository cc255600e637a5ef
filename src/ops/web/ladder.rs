//! A call's SIP ladder for the admin page: the captured messages of one Call-ID, in order,
//! each as its direction, the far address and its first line.

use crate::ops::capture::Captured;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

/// The most rungs one ladder shows (the first ones).
pub const MAX_RUNGS: usize = 200;
/// The longest first line shown.
const MAX_LINE: usize = 160;

/// One message of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rung {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The gateway sent it (else received).
    pub sent: bool,
    /// The other end's address.
    pub peer: String,
    /// The request or status line.
    pub line: String,
}

/// The messages of `call_id` among `messages`; `local` is the address the gateway's
/// messages were captured from.
pub fn ladder(messages: &[Captured], call_id: &str, local: SocketAddr) -> Vec<Rung> {
    messages
        .iter()
        .filter(|m| header(&m.bytes, "call-id", "i").is_some_and(|v| v == call_id))
        .take(MAX_RUNGS)
        .map(|m| {
            let sent = m.from == local;
            let line = m
                .bytes
                .split(|&b| b == b'\r' || b == b'\n')
                .next()
                .unwrap_or_default();
            let line = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]).into_owned();
            Rung {
                at_ms: m
                    .at
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis() as u64,
                sent,
                peer: if sent { m.to } else { m.from }.to_string(),
                line,
            }
        })
        .collect()
}

/// The first value of header `name` (or its compact form) in a message's head.
fn header<'a>(bytes: &'a [u8], name: &str, compact: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        let n = n.trim();
        (n.eq_ignore_ascii_case(name) || n.eq_ignore_ascii_case(compact)).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn msg(from: &str, to: &str, text: &str) -> Captured {
        Captured {
            at: SystemTime::now(),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            bytes: text.as_bytes().into(),
            orig_len: text.len(),
        }
    }

    #[test]
    fn the_ladder_holds_one_call_in_order_with_directions() {
        let us = "127.0.0.1:5060";
        let them = "127.0.0.2:5060";
        let m = [
            msg(
                us,
                them,
                "INVITE sip:1@x SIP/2.0\r\nCall-ID: abc\r\n\r\nv=0",
            ),
            msg(them, us, "SIP/2.0 180 Ringing\r\ni: abc\r\n\r\n"),
            msg(them, us, "OPTIONS sip:x SIP/2.0\r\nCall-ID: other\r\n\r\n"),
            msg(them, us, "SIP/2.0 200 OK\r\ncall-id:  abc \r\n\r\n"),
        ];
        let l = ladder(&m, "abc", us.parse().unwrap());
        let lines: Vec<_> = l.iter().map(|r| (r.sent, r.line.as_str())).collect();
        assert_eq!(
            lines,
            [
                (true, "INVITE sip:1@x SIP/2.0"),
                (false, "SIP/2.0 180 Ringing"),
                (false, "SIP/2.0 200 OK")
            ]
        );
        assert!(l.iter().all(|r| r.peer == them));
    }

    #[test]
    fn a_call_id_in_the_body_does_not_count() {
        let m = [msg(
            "127.0.0.2:5060",
            "127.0.0.1:5060",
            "MESSAGE sip:x SIP/2.0\r\nCall-ID: z\r\n\r\nCall-ID: abc\r\n",
        )];
        assert!(ladder(&m, "abc", "127.0.0.1:5060".parse().unwrap()).is_empty());
    }
}
