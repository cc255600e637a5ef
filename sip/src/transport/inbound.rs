//! Vetting received bytes before the transaction layer sees them, sans-IO (RFC 3261 §18.2.1,
//! §18.1.2, RFC 3581): the top Via of a request gets `received` and `rport`; a request
//! that cannot be used is answered with 400 naming the fault, 505 or 513 when the sender
//! can be found; anything else is dropped with a reason.

use crate::builder::MessageBuilder;
use crate::header::HeaderName;
use crate::header::Rport;
use crate::message::Message;
use crate::transaction::{Peer, Transport};
use crate::uri::Host;
use std::net::{IpAddr, SocketAddr};

/// The default SIP port for UDP and TCP (§19.1.2).
pub const SIP_PORT: u16 = 5060;
/// The default SIP port for TLS (§19.1.2).
pub const SIPS_PORT: u16 = 5061;

/// What to do with received bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A request: its bytes (with `received`/`rport` stamped in the top Via when needed) and
    /// the address its responses go to (§18.2.2, RFC 3581 §4).
    Request {
        /// The message.
        bytes: Vec<u8>,
        /// Where responses go.
        respond_to: Peer,
    },
    /// A response, for the transaction layer (§18.1.2).
    Response(Vec<u8>),
    /// Answer the sender with this error response and drop the request.
    Reject {
        /// Status code (400, 505, 513).
        code: u16,
        /// The response.
        bytes: Vec<u8>,
    },
    /// Nothing can be answered: drop it.
    Drop(&'static str),
}

/// Vets one datagram or framed stream message received from `src` over `transport`.
/// `max_size` is the message size limit (513 above it, §21.4.12).
pub fn vet(buf: &[u8], src: SocketAddr, transport: Transport, max_size: usize) -> Inbound {
    if buf.len() > max_size {
        return reject_raw(
            buf,
            513,
            &format!("Message Too Large (limit {max_size} bytes)"),
        );
    }
    let msg = match Message::parse(buf) {
        Ok(m) => m,
        Err(e) if e.kind == crate::ErrorKind::Empty => return Inbound::Drop("empty message"),
        Err(e) => return reject_raw(buf, e.status_code(), &e.reason_phrase()),
    };
    if !msg.is_request() {
        // A response whose matched headers (top Via, From, To, Call-ID, CSeq) break their
        // grammar cannot be matched reliably: drop it (§18.1.2, §17.1.3).
        if msg.check_matched_headers().is_err() {
            return Inbound::Drop("response with a malformed Via, From, To, Call-ID or CSeq");
        }
        // §18.1.2: a response needs a top Via to be matched at all.
        return match msg.top_via() {
            Some(_) => Inbound::Response(buf.to_vec()),
            None => Inbound::Drop("response without Via"),
        };
    }
    if let Err(e) = msg.check_request_headers() {
        return reject_raw(buf, e.status_code(), &e.reason_phrase());
    }
    let Some(via) = msg.top_via() else {
        return Inbound::Drop("request without Via");
    };
    let rport = via.rport() == Some(Rport::Requested);
    let sent_by_ip = match via.host {
        Host::Ipv4(a) => Some(IpAddr::V4(a)),
        Host::Ipv6(a) => Some(IpAddr::V6(a)),
        Host::Domain(_) => None,
    };
    let needs_received = rport || sent_by_ip != Some(src.ip());
    let respond_to = if transport.is_reliable() || rport {
        // Reliable: the same connection. RFC 3581 §4: the source address and port.
        src
    } else {
        // §18.2.2: the received address and the sent-by port.
        let default = if transport == Transport::Tls {
            SIPS_PORT
        } else {
            SIP_PORT
        };
        SocketAddr::new(src.ip(), via.port.unwrap_or(default))
    };
    let respond_to = Peer {
        transport,
        addr: respond_to,
    };
    if !needs_received {
        return Inbound::Request {
            bytes: buf.to_vec(),
            respond_to,
        };
    }
    Inbound::Request {
        bytes: stamp_via(buf, &msg, src, rport),
        respond_to,
    }
}

/// Copies `buf` with `;received=<src ip>` (and `;rport=<src port>` in place of a bare
/// `;rport`) added to the top Via (§18.2.1, RFC 3581 §4).
fn stamp_via(buf: &[u8], msg: &Message<'_>, src: SocketAddr, rport: bool) -> Vec<u8> {
    let base = buf.as_ptr() as usize;
    let off = |s: &str| s.as_ptr() as usize - base;
    // End of the top Via value: its parameters' end, or the end of the first Via header
    // value up to a comma.
    let Some(via) = msg.top_via() else {
        return buf.to_vec();
    };
    let params = via.params.as_str();
    let end = if !params.is_empty() {
        off(params) + params.len()
    } else {
        match msg.headers().iter().find(|h| h.kind == HeaderName::Via) {
            Some(h) => off(h.value) + h.value.find(',').unwrap_or(h.value.len()),
            None => return buf.to_vec(),
        }
    };
    // A bare `;rport` is removed and written again with its value.
    let cut = if rport {
        via.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("rport"))
            .map(|p| {
                let start = off(p.name);
                let semi = buf[..start]
                    .iter()
                    .rposition(|&b| b == b';')
                    .unwrap_or(start);
                (semi, start + p.name.len())
            })
    } else {
        None
    };
    let mut out = Vec::with_capacity(buf.len() + 48);
    match cut {
        Some((a, b)) => {
            out.extend_from_slice(&buf[..a]);
            out.extend_from_slice(&buf[b..end]);
        }
        None => out.extend_from_slice(&buf[..end]),
    }
    let ip = match src.ip() {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    out.extend_from_slice(format!(";received={ip}").as_bytes());
    if rport {
        out.extend_from_slice(format!(";rport={}", src.port()).as_bytes());
    }
    out.extend_from_slice(&buf[end..]);
    out
}

/// Builds an error response to a request that did not parse, from its raw header lines;
/// drops it when it is not a request or has no Via to answer to.
pub(crate) fn reject_raw(buf: &[u8], code: u16, reason: &str) -> Inbound {
    let text = String::from_utf8_lossy(&buf[..buf.len().min(64 * 1024)]);
    let mut lines = text.lines();
    let Some(first) = lines.next() else {
        return Inbound::Drop("empty message");
    };
    if first.starts_with("SIP/") || first.split(' ').count() != 3 {
        return Inbound::Drop("malformed response or start line: cannot answer");
    }
    let mut b = MessageBuilder::response(code, reason);
    let mut has_via = false;
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let kind = HeaderName::from_name(name.trim());
        if matches!(
            kind,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
        ) {
            has_via |= kind == HeaderName::Via;
            b = b.header(kind, value.trim());
        }
    }
    if !has_via {
        return Inbound::Drop("request without Via: cannot answer");
    }
    Inbound::Reject {
        code,
        bytes: b.finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "192.0.2.9:40000";

    fn req(via: &str) -> String {
        format!(
            "OPTIONS sip:gw@192.0.2.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:gw@y>\r\nCall-ID: c@x\r\nCSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        )
    }

    fn request(v: Inbound) -> (Vec<u8>, Peer) {
        match v {
            Inbound::Request { bytes, respond_to } => (bytes, respond_to),
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn responses_with_malformed_matched_headers_are_dropped() {
        let src = SRC.parse().unwrap();
        let resp = |cseq: &str| {
            format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n\
                 From: <sip:a@x>;tag=1\r\nTo: <sip:gw@y>;tag=2\r\nCall-ID: c@x\r\n\
                 CSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let good = vet(resp("1 OPTIONS").as_bytes(), src, Transport::Udp, 65535);
        assert!(matches!(good, Inbound::Response(_)), "{good:?}");
        let bad = vet(resp("one OPTIONS").as_bytes(), src, Transport::Udp, 65535);
        assert!(matches!(bad, Inbound::Drop(_)), "{bad:?}");
    }

    #[test]
    fn rport_and_received_are_stamped() {
        let src = SRC.parse().unwrap();
        let r =
            req("SIP/2.0/UDP 10.0.0.1:5062;rport;branch=z9hG4bKx, SIP/2.0/UDP p;branch=z9hG4bKy");
        let (bytes, to) = request(vet(r.as_bytes(), src, Transport::Udp, 65535));
        let m = Message::parse(&bytes).unwrap();
        let v = m.top_via().unwrap();
        assert_eq!(v.received(), Some("192.0.2.9".parse().unwrap()));
        assert_eq!(v.rport(), Some(Rport::Port(40000)));
        assert_eq!(v.branch(), Some("z9hG4bKx"));
        assert_eq!(m.via().count(), 2);
        assert_eq!(to.addr, src);
    }

    #[test]
    fn received_without_rport_responds_to_sent_by_port() {
        let src = SRC.parse().unwrap();
        let (bytes, to) = request(vet(
            req("SIP/2.0/UDP host.example.com:5070;branch=z9hG4bKx").as_bytes(),
            src,
            Transport::Udp,
            65535,
        ));
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.top_via().unwrap().received(), Some(src.ip()));
        assert_eq!(m.top_via().unwrap().rport(), None);
        assert_eq!(to.addr, "192.0.2.9:5070".parse().unwrap());
        // Matching sent-by: untouched.
        let r = req("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx");
        let (bytes, to) = request(vet(r.as_bytes(), src, Transport::Udp, 65535));
        assert_eq!(bytes, r.as_bytes());
        assert_eq!(to.addr.port(), 5060);
        let (_, to) = request(vet(r.as_bytes(), src, Transport::Tcp, 65535));
        assert_eq!(to.addr, src, "same connection");
    }

    #[test]
    fn bad_requests_are_answered_or_dropped() {
        let src = SRC.parse().unwrap();
        let bad = req("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx")
            .replace("Max-Forwards: 70", "Max-Forwards: many");
        let Inbound::Reject { code, bytes } = vet(bad.as_bytes(), src, Transport::Udp, 65535)
        else {
            panic!("400 expected");
        };
        assert_eq!(code, 400);
        let r = Message::parse(&bytes).unwrap();
        let StartLine::Response(s) = r.start_line() else {
            panic!()
        };
        assert!(s.reason.contains("Max-Forwards"), "{}", s.reason);
        assert_eq!(r.call_id(), Some("c@x"));
        let v = req("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx").replace("SIP/2.0\r\n", "SIP/7.0\r\n");
        assert!(matches!(
            vet(v.as_bytes(), src, Transport::Udp, 65535),
            Inbound::Reject { code: 505, .. }
        ));
        let big = req("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx");
        assert!(matches!(
            vet(big.as_bytes(), src, Transport::Udp, 100),
            Inbound::Reject { code: 513, .. }
        ));
        let no_via = "OPTIONS sip:a@b SIP/2.0\r\nCSeq: x\r\n\r\n";
        assert!(matches!(
            vet(no_via.as_bytes(), src, Transport::Udp, 65535),
            Inbound::Drop(_)
        ));
        assert!(matches!(
            vet(
                b"SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n",
                src,
                Transport::Udp,
                65535
            ),
            Inbound::Drop(_)
        ));
        assert!(matches!(
            vet(b"\r\n\r\n", src, Transport::Udp, 65535),
            Inbound::Drop(_)
        ));
        // A request missing a mandatory header is answered 400.
        let missing = req("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx")
            .replace("Max-Forwards: 70\r\n", "")
            .replace("Call-ID: c@x\r\n", "");
        assert!(matches!(
            vet(missing.as_bytes(), src, Transport::Udp, 65535),
            Inbound::Reject { code: 400, .. }
        ));
    }

    use crate::message::StartLine;
}
