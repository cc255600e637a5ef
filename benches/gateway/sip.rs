//! The bench's own SIP peer on a UDP socket: just enough of RFC 3261 to be a gateway's
//! far end (answer OPTIONS pings, refuse an INVITE) and to place a call on it (INVITE,
//! CANCEL, ACK, BYE), recording the moment each message arrived.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A message received, with when it arrived.
pub struct Msg {
    pub text: String,
    pub at: Instant,
}

impl Msg {
    fn start_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        let l = self.start_line();
        l.strip_prefix("SIP/2.0 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&str> {
        let l = self.start_line();
        if l.starts_with("SIP/2.0") {
            None
        } else {
            l.split(' ').next()
        }
    }

    fn head(&self) -> &str {
        self.text.split("\r\n\r\n").next().unwrap_or("")
    }

    /// The whole header lines named `long` or its compact form `short` (RFC 3261 §7.3.3).
    pub fn lines(&self, long: &str, short: &str) -> Vec<&str> {
        self.head()
            .lines()
            .skip(1)
            .filter(|l| {
                l.split_once(':').is_some_and(|(n, _)| {
                    let n = n.trim();
                    n.eq_ignore_ascii_case(long) || n.eq_ignore_ascii_case(short)
                })
            })
            .collect()
    }

    /// The value of the first header named `long` / `short`.
    pub fn value(&self, long: &str, short: &str) -> Option<&str> {
        self.lines(long, short)
            .first()
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim())
    }

    pub fn call_id(&self) -> Option<&str> {
        self.value("Call-ID", "i")
    }

    /// The CSeq method.
    pub fn cseq_method(&self) -> Option<&str> {
        self.value("CSeq", "CSeq")?.split_whitespace().nth(1)
    }

    pub fn body(&self) -> &str {
        self.text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }

    /// The RTP address of an SDP body (`c=` and the audio `m=` port).
    pub fn sdp_audio(&self) -> Option<SocketAddr> {
        let body = self.body();
        let ip = body
            .lines()
            .find_map(|l| l.strip_prefix("c=IN IP4 "))?
            .trim()
            .parse()
            .ok()?;
        let port = body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(SocketAddr::new(ip, port))
    }

    /// The URI inside the Contact header.
    pub fn contact_uri(&self) -> Option<String> {
        let v = self.value("Contact", "m")?;
        let inner = match (v.find('<'), v.find('>')) {
            (Some(a), Some(b)) if b > a => &v[a + 1..b],
            _ => v.split(';').next()?,
        };
        Some(inner.trim().to_string())
    }
}

/// A call the peer placed.
pub struct Call {
    pub call_id: String,
    branch: String,
    from: String,
    to: String,
    uri: String,
    target: SocketAddr,
    cseq: u32,
    /// When the INVITE left.
    pub sent: Instant,
    /// The To header with the far tag, once a response carried one.
    pub to_tagged: Option<String>,
    /// The far target (Contact of the 2xx).
    pub remote: Option<String>,
}

/// The peer.
pub struct Peer {
    pub sock: UdpSocket,
    pub addr: SocketAddr,
    n: u64,
}

impl Peer {
    pub fn bind() -> Result<Peer, String> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("peer bind: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .map_err(|e| e.to_string())?;
        let addr = sock.local_addr().map_err(|e| e.to_string())?;
        Ok(Peer { sock, addr, n: 0 })
    }

    fn next(&mut self) -> u64 {
        self.n += 1;
        self.n
    }

    fn send(&self, text: &str, to: SocketAddr) {
        let _ = self.sock.send_to(text.as_bytes(), to);
    }

    /// The next message before `limit` passes that `want` accepts. OPTIONS are answered
    /// 200 on the way (a gateway pings its proxy); other messages are dropped.
    pub fn wait(&self, limit: Duration, want: impl Fn(&Msg) -> bool) -> Option<Msg> {
        let end = Instant::now() + limit;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < end {
            let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            let msg = Msg {
                text: String::from_utf8_lossy(&buf[..n]).into_owned(),
                at: Instant::now(),
            };
            if msg.method() == Some("OPTIONS") {
                self.respond(&msg, from, 200, "OK", None, None);
                continue;
            }
            if want(&msg) {
                return Some(msg);
            }
        }
        None
    }

    /// The next message of the call `call_id` (a response or a request).
    pub fn wait_call(
        &self,
        call_id: &str,
        limit: Duration,
        want: impl Fn(&Msg) -> bool,
    ) -> Option<Msg> {
        self.wait(limit, |m| m.call_id() == Some(call_id) && want(m))
    }

    /// Answers the request `req` (from `to`) with `code`, copying Via, From, To, Call-ID
    /// and CSeq (RFC 3261 §8.2.6.2), adding `to_tag` to a To without one.
    pub fn respond(
        &self,
        req: &Msg,
        to: SocketAddr,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
        sdp: Option<&str>,
    ) {
        let mut r = format!("SIP/2.0 {code} {reason}\r\n");
        for v in req.lines("Via", "v") {
            r += v;
            r += "\r\n";
        }
        for (l, s) in [("From", "f"), ("Call-ID", "i"), ("CSeq", "CSeq")] {
            if let Some(line) = req.lines(l, s).first() {
                r += line;
                r += "\r\n";
            }
        }
        if let Some(t) = req.lines("To", "t").first() {
            r += t;
            if let Some(tag) = to_tag
                && !t.contains(";tag=")
            {
                r += &format!(";tag={tag}");
            }
            r += "\r\n";
        }
        r += &format!("Contact: <sip:bench@{}>\r\n", self.addr);
        let body = sdp.unwrap_or("");
        if !body.is_empty() {
            r += "Content-Type: application/sdp\r\n";
        }
        r += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.send(&r, to);
    }

    /// Places a call to `user` at `target`, offering PCMU on `rtp`.
    pub fn invite(&mut self, target: SocketAddr, user: &str, rtp: SocketAddr) -> Call {
        let n = self.next();
        let sdp = format!(
            "v=0\r\no=bench {n} {n} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
            ip = rtp.ip(),
            port = rtp.port()
        );
        let mut c = Call {
            call_id: format!("bench{n}-{}@{}", std::process::id(), self.addr),
            branch: format!("z9hG4bKbench{n}x{}", std::process::id()),
            from: format!("<sip:bench@{}>;tag=b{n}", self.addr),
            to: format!("<sip:{user}@{target}>"),
            uri: format!("sip:{user}@{target}"),
            target,
            cseq: 1,
            sent: Instant::now(),
            to_tagged: None,
            remote: None,
        };
        let req = self.request(&c, "INVITE", &c.uri, &c.branch, &c.to, c.cseq, &sdp);
        c.sent = Instant::now();
        self.send(&req, target);
        c
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        c: &Call,
        method: &str,
        uri: &str,
        branch: &str,
        to: &str,
        cseq: u32,
        sdp: &str,
    ) -> String {
        let ctype = if sdp.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:bench@{me}>\r\n{ctype}\
             Content-Length: {len}\r\n\r\n{sdp}",
            me = self.addr,
            from = c.from,
            cid = c.call_id,
            len = sdp.len()
        )
    }

    /// Notes the far tag and target of a response to the INVITE.
    pub fn learn(&self, c: &mut Call, m: &Msg) {
        if let Some(t) = m.value("To", "t")
            && t.contains(";tag=")
        {
            c.to_tagged = Some(t.to_string());
        }
        if m.status().is_some_and(|s| (200..300).contains(&s)) {
            c.remote = m.contact_uri();
        }
    }

    /// CANCEL of the pending INVITE (RFC 3261 §9.1: same branch, To without tag).
    pub fn cancel(&self, c: &Call) {
        let r = self.request(c, "CANCEL", &c.uri, &c.branch, &c.to, c.cseq, "");
        self.send(&r, c.target);
    }

    /// ACK of a final response: the INVITE's branch for a non-2xx (§17.1.1.3), a new
    /// one to the remote target for a 2xx (§13.2.2.4).
    pub fn ack(&mut self, c: &Call, for_2xx: bool) {
        let to = c.to_tagged.clone().unwrap_or_else(|| c.to.clone());
        let (uri, branch) = if for_2xx {
            let n = self.next();
            (
                c.remote.clone().unwrap_or_else(|| c.uri.clone()),
                format!("z9hG4bKbenchack{n}"),
            )
        } else {
            (c.uri.clone(), c.branch.clone())
        };
        let r = self.request(c, "ACK", &uri, &branch, &to, c.cseq, "");
        self.send(&r, c.target);
    }

    /// BYE in the dialog.
    pub fn bye(&mut self, c: &mut Call) {
        let n = self.next();
        c.cseq += 1;
        let to = c.to_tagged.clone().unwrap_or_else(|| c.to.clone());
        let uri = c.remote.clone().unwrap_or_else(|| c.uri.clone());
        let r = self.request(
            c,
            "BYE",
            &uri,
            &format!("z9hG4bKbenchbye{n}"),
            &to,
            c.cseq,
            "",
        );
        self.send(&r, c.target);
    }
}

/// Whether a UA at `to` answers an OPTIONS (RFC 3261 §11) within `limit`.
pub fn answers_options(to: SocketAddr, limit: Duration) -> bool {
    let Ok(p) = Peer::bind() else {
        return false;
    };
    let end = Instant::now() + limit;
    let mut n = 0;
    while Instant::now() < end {
        n += 1;
        let req = format!(
            "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKready{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:probe@{me}>;tag=probe{n}\r\nTo: <sip:{to}>\r\n\
             Call-ID: ready{n}@{me}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n",
            me = p.addr
        );
        p.send(&req, to);
        if p.wait(Duration::from_millis(300), |m| m.status().is_some())
            .is_some()
        {
            return true;
        }
    }
    false
}
