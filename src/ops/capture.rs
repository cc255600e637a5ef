//! On-box capture for support cases: a ring of the SIP messages the gateway sent and
//! received lately (bounded in bytes, the oldest dropped first), written on request as a
//! pcap file that Wireshark and tshark open (`tipring capture --last 5m FILE`).
//!
//! Each message becomes one packet of link type RAW (101): an IPv4 or IPv6 header and a
//! UDP header between the real addresses and ports, then the message. Messages that went
//! over TCP or TLS appear as UDP datagrams too (TLS as the plain text the gateway saw),
//! which Wireshark's SIP dissector reads the same way. The digest `response` of
//! `Authorization` and `Proxy-Authorization` headers is blanked in the ring: with the
//! nonce it would let whoever gets the file guess the account's password offline.
//!
//! With `[capture] rtp_bytes`, an [`RtpTap`] also keeps the headers of the calls' RTP and
//! RTCP packets (RFC 3550 §5.1, §6.4: sequence numbers, timestamps, SSRCs, reports — what
//! a support desk needs for loss, jitter and one-way audio), never the voice: each is
//! written as a packet cut after its header, its original length kept, as a capture with
//! a small snap length would have it.

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one held message costs beyond its bytes (addresses, time, the ring's slot).
const OVERHEAD: usize = 96;
/// IPv4 header (no options) and UDP header.
const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const UDP_HEADER: usize = 8;
/// The IP protocol number of UDP.
const PROTO_UDP: u8 = 17;

/// One message as the gateway sent or received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub at: SystemTime,
    pub from: SocketAddr,
    pub to: SocketAddr,
    /// What was kept of it.
    pub bytes: Arc<[u8]>,
    /// Its whole length (longer than `bytes` for an RTP packet cut after its header).
    pub orig_len: usize,
}

/// Why a capture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("pcap: {0}")]
    Pcap(#[from] pcap_file::PcapError),
}

/// The recent messages, at most `max_bytes` of them.
#[derive(Debug)]
pub struct CaptureRing {
    max_bytes: usize,
    held: usize,
    ring: VecDeque<Captured>,
}

impl CaptureRing {
    /// A ring holding at most `max_bytes` (0: nothing is kept).
    pub fn new(max_bytes: usize) -> CaptureRing {
        CaptureRing {
            max_bytes,
            held: 0,
            ring: VecDeque::new(),
        }
    }

    /// Keeps `bytes`, sent `from` → `to` at `at`, dropping the oldest messages to make room
    /// (a message larger than the whole ring is not kept).
    pub fn push(&mut self, at: SystemTime, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        if bytes.len() + OVERHEAD > self.max_bytes {
            return;
        }
        self.keep(Captured {
            at,
            from,
            to,
            bytes: redact(bytes).into(),
            orig_len: bytes.len(),
        });
    }

    /// Keeps `c`, dropping the oldest messages to make room (one larger than the whole
    /// ring is not kept).
    fn keep(&mut self, c: Captured) {
        let cost = c.bytes.len() + OVERHEAD;
        if cost > self.max_bytes {
            return;
        }
        while self.held + cost > self.max_bytes {
            match self.ring.pop_front() {
                Some(old) => self.held -= old.bytes.len() + OVERHEAD,
                None => break,
            }
        }
        self.held += cost;
        self.ring.push_back(c);
    }

    /// The messages of the last `span` before `now`, oldest first.
    pub fn since(&self, now: SystemTime, span: Duration) -> Vec<Captured> {
        let start = now.checked_sub(span).unwrap_or(UNIX_EPOCH);
        self.ring
            .iter()
            .filter(|c| c.at >= start)
            .cloned()
            .collect()
    }

    /// Bytes held (with the per-message overhead).
    pub fn held(&self) -> usize {
        self.held
    }
}

/// `messages` as a pcap file.
pub fn pcap(messages: &[Captured]) -> Result<Vec<u8>, CaptureError> {
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header)?;
    for m in messages {
        let Some(packet) = datagram(m) else {
            continue;
        };
        let ts = m.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let whole = packet.len() + m.orig_len.saturating_sub(m.bytes.len());
        w.write_packet(&PcapPacket::new(ts, whole as u32, &packet))?;
    }
    Ok(w.into_writer())
}

/// The message in IP and UDP headers (`None` for a v4/v6 mix, or one too long for UDP);
/// the headers' lengths are those of the whole message.
fn datagram(m: &Captured) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(UDP_HEADER + m.orig_len.max(m.bytes.len())).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&m.from.port().to_be_bytes());
    udp.extend_from_slice(&m.to.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&m.bytes);
    match (m.from.ip(), m.to.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(IPV4_HEADER + usize::from(udp_len)).ok()?;
            let mut ip = Vec::with_capacity(usize::from(total));
            ip.extend_from_slice(&[0x45, 0]);
            ip.extend_from_slice(&total.to_be_bytes());
            // Identification 0, don't fragment, TTL 64.
            ip.extend_from_slice(&[0, 0, 0x40, 0, 64, PROTO_UDP, 0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let sum = checksum(&[&ip]);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            // UDP over IPv4 may leave its checksum 0 (RFC 768).
            ip.extend_from_slice(&udp);
            Some(ip)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // UDP over IPv6 must have its checksum (RFC 8200 §8.1), over the pseudo-header.
            let pseudo = [
                &s.octets()[..],
                &d.octets()[..],
                &u32::from(udp_len).to_be_bytes()[..],
                &[0, 0, 0, PROTO_UDP][..],
            ];
            let sum = match checksum(&[pseudo[0], pseudo[1], pseudo[2], pseudo[3], &udp]) {
                0 => 0xffff,
                s => s,
            };
            udp[6..8].copy_from_slice(&sum.to_be_bytes());
            let mut ip = Vec::with_capacity(IPV6_HEADER + udp.len());
            ip.extend_from_slice(&[0x60, 0, 0, 0]);
            ip.extend_from_slice(&udp_len.to_be_bytes());
            ip.extend_from_slice(&[PROTO_UDP, 64]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip.extend_from_slice(&udp);
            Some(ip)
        }
        _ => None,
    }
}

/// The headers of the calls' RTP and RTCP packets, shared by the bridges' threads.
#[derive(Debug, Clone)]
pub struct RtpTap {
    ring: Arc<std::sync::Mutex<CaptureRing>>,
}

/// The most of an RTCP compound packet kept (reports and SDES; no voice in RTCP).
const RTCP_KEPT: usize = 256;

impl RtpTap {
    /// A tap holding at most `max_bytes` (with the per-packet overhead).
    pub fn new(max_bytes: usize) -> RtpTap {
        RtpTap {
            ring: Arc::new(std::sync::Mutex::new(CaptureRing::new(max_bytes))),
        }
    }

    /// Keeps the header of `datagram`, sent `from` → `to` now, if it is RTP or RTCP.
    pub fn record(&self, from: SocketAddr, to: SocketAddr, datagram: &[u8]) {
        let Some(kept) = header_len(datagram) else {
            return;
        };
        let c = Captured {
            at: SystemTime::now(),
            from,
            to,
            bytes: datagram[..kept].into(),
            orig_len: datagram.len(),
        };
        self.ring.lock().unwrap_or_else(|p| p.into_inner()).keep(c);
    }

    /// The headers of the last `span`, oldest first.
    pub fn since(&self, span: Duration) -> Vec<Captured> {
        self.ring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .since(SystemTime::now(), span)
    }
}

/// How much of `d` is header: for RTP (version 2) the fixed header, its CSRCs and its
/// extension (RFC 3550 §5.1, §5.3.1); for RTCP (packet types 192..=223, RFC 5761 §4) the
/// packet up to [`RTCP_KEPT`]; `None` for anything else or a header longer than `d`.
pub fn header_len(d: &[u8]) -> Option<usize> {
    const FIXED: usize = 12;
    if d.len() < FIXED || d[0] >> 6 != 2 {
        return None;
    }
    if (192..=223).contains(&d[1]) {
        return Some(d.len().min(RTCP_KEPT));
    }
    let mut len = FIXED + 4 * usize::from(d[0] & 0x0f);
    if d[0] & 0x10 != 0 {
        let ext = d.get(len + 2..len + 4)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    (len <= d.len()).then_some(len)
}

/// The Internet checksum (RFC 1071) of the concatenated `parts`.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for b in parts.iter().flat_map(|p| p.iter().copied()) {
        match odd.take() {
            Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
            None => odd = Some(b),
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `bytes` with the value of every digest `response=` parameter in an `Authorization` or
/// `Proxy-Authorization` header line replaced by `x`s (same length; the body untouched).
fn redact(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let mut line_start = 0;
    while line_start < head_end {
        let line_end = bytes[line_start..head_end]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head_end, |p| line_start + p);
        let line = &bytes[line_start..line_end];
        let name = line
            .split(|&b| b == b':')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if name.eq_ignore_ascii_case(b"authorization")
            || name.eq_ignore_ascii_case(b"proxy-authorization")
        {
            blank_response(&mut out[line_start..line_end]);
        }
        line_start = line_end + 2;
    }
    blank_sdes_keys(&mut out[head_end.min(bytes.len())..]);
    out
}

/// Blanks every SDES key in a body: what follows `inline:` (RFC 4568 §6.1, in
/// `a=crypto` lines) up to the end of the key and salt.
fn blank_sdes_keys(body: &mut [u8]) {
    const INLINE: &[u8] = b"inline:";
    let mut from = 0;
    while let Some(p) = body.get(from..).and_then(|b| {
        b.windows(INLINE.len())
            .position(|w| w.eq_ignore_ascii_case(INLINE))
    }) {
        let mut end = from + p + INLINE.len();
        while end < body.len() && !matches!(body[end], b'|' | b';' | b' ' | b'\t' | b'\r' | b'\n') {
            body[end] = b'x';
            end += 1;
        }
        from = end;
    }
}

/// Blanks the value of each `response=` parameter in one header line.
fn blank_response(line: &mut [u8]) {
    let lower: Vec<u8> = line.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..]
        .windows(9)
        .position(|w| w == b"response=")
        .map(|p| from + p + 9)
    {
        let quoted = line.get(p) == Some(&b'"');
        let start = p + usize::from(quoted);
        let mut end = start;
        while end < line.len() && !matches!(line[end], b'"' | b',' | b' ' | b'\t') {
            line[end] = b'x';
            end += 1;
        }
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_315_430 + s)
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_ring_keeps_the_newest_within_its_bytes() {
        let mut r = CaptureRing::new(3 * (100 + OVERHEAD));
        for s in 0..5 {
            r.push(
                at(s),
                addr("127.0.0.1:5060"),
                addr("127.0.0.2:5060"),
                &[b'a'; 100],
            );
        }
        let kept = r.since(at(10), Duration::from_secs(3600));
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].at, at(2));
        assert_eq!(r.held(), 3 * (100 + OVERHEAD));
        // The last 7 s before t=10: only t=3 and t=4.
        assert_eq!(r.since(at(10), Duration::from_secs(7)).len(), 2);
        r.push(
            at(6),
            addr("127.0.0.1:5060"),
            addr("127.0.0.2:5060"),
            &[0; 4096],
        );
        assert_eq!(
            r.since(at(10), Duration::from_secs(3600)).len(),
            3,
            "too big: not kept"
        );
        assert!(CaptureRing::new(0).since(at(0), Duration::MAX).is_empty());
    }

    #[test]
    fn packets_carry_the_addresses_ports_time_and_a_valid_ipv4_checksum() {
        let m = Captured {
            at: at(0) + Duration::from_micros(250),
            from: addr("127.0.0.1:5060"),
            to: addr("192.0.2.7:5070"),
            bytes: Arc::from(&b"OPTIONS sip:x SIP/2.0\r\n\r\n"[..]),
            orig_len: 25,
        };
        let file = pcap(std::slice::from_ref(&m)).unwrap();
        let mut r = PcapReader::new(&file[..]).unwrap();
        assert_eq!(r.header().datalink, DataLink::RAW);
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.timestamp, m.at.duration_since(UNIX_EPOCH).unwrap());
        let d = &p.data;
        assert_eq!(d[0], 0x45);
        assert_eq!(checksum(&[&d[..20]]), 0, "header checksum verifies");
        assert_eq!(&d[12..16], &[127, 0, 0, 1]);
        assert_eq!(&d[16..20], &[192, 0, 2, 7]);
        assert_eq!(u16::from_be_bytes([d[20], d[21]]), 5060);
        assert_eq!(u16::from_be_bytes([d[22], d[23]]), 5070);
        assert_eq!(&d[28..], &m.bytes[..]);
    }

    #[test]
    fn ipv6_packets_have_a_udp_checksum_that_verifies() {
        let m = Captured {
            at: at(0),
            from: addr("[::1]:5060"),
            to: addr("[2001:db8::2]:5060"),
            bytes: Arc::from(&b"SIP/2.0 200 OK\r\n\r\n"[..]),
            orig_len: 18,
        };
        let d = datagram(&m).unwrap();
        let udp = &d[40..];
        let len = (udp.len() as u32).to_be_bytes();
        let sum = checksum(&[&d[8..24], &d[24..40], &len, &[0, 0, 0, PROTO_UDP], udp]);
        assert_eq!(sum, 0);
        let mixed = Captured {
            from: addr("127.0.0.1:5060"),
            ..m
        };
        assert!(datagram(&mixed).is_none());
    }

    /// An RTP packet: version 2, `cc` CSRCs, an extension of `ext` words when some, and
    /// `payload` bytes of voice.
    fn rtp(cc: u8, ext: Option<u16>, payload: usize) -> Vec<u8> {
        let mut p = vec![0x80 | cc | if ext.is_some() { 0x10 } else { 0 }, 0];
        p.extend_from_slice(&[0, 7, 0, 0, 0, 160, 1, 2, 3, 4]);
        p.extend(std::iter::repeat_n(9, 4 * usize::from(cc)));
        if let Some(words) = ext {
            p.extend_from_slice(&[0xbe, 0xde]);
            p.extend_from_slice(&words.to_be_bytes());
            p.extend(std::iter::repeat_n(8, 4 * usize::from(words)));
        }
        p.extend(std::iter::repeat_n(0xff, payload));
        p
    }

    #[test]
    fn only_the_rtp_header_is_kept() {
        assert_eq!(header_len(&rtp(0, None, 160)), Some(12));
        assert_eq!(header_len(&rtp(2, None, 160)), Some(20));
        assert_eq!(header_len(&rtp(1, Some(2), 160)), Some(12 + 4 + 4 + 8));
        let rtcp = [0x80, 200, 0, 6]
            .iter()
            .chain(&[0; 24])
            .copied()
            .collect::<Vec<_>>();
        assert_eq!(header_len(&rtcp), Some(28), "RTCP whole");
        assert_eq!(header_len(&[0x80, 201, 0, 1].repeat(100)), Some(RTCP_KEPT));
        let mut cut = rtp(3, None, 0);
        cut.truncate(20);
        assert_eq!(header_len(&cut), None, "CSRCs beyond the datagram");
        assert_eq!(header_len(b"\x00\x01STUN-ish binding request"), None);
        assert_eq!(header_len(&[0x80; 4]), None);
    }

    #[test]
    fn the_tap_writes_headers_with_their_original_length() {
        let tap = RtpTap::new(64 * 1024);
        let (a, b) = (addr("127.0.0.1:40000"), addr("127.0.0.2:40002"));
        tap.record(a, b, &rtp(0, None, 160));
        tap.record(b, a, b"not rtp at all");
        let held = tap.since(Duration::from_secs(60));
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].bytes.len(), held[0].orig_len), (12, 172));
        let file = pcap(&held).unwrap();
        let mut r = PcapReader::new(&file[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.data.len(), 20 + 8 + 12, "no voice in the file");
        assert_eq!(p.orig_len, 20 + 8 + 172);
        let d = &p.data;
        assert_eq!(
            u16::from_be_bytes([d[2], d[3]]),
            20 + 8 + 172,
            "IP total length"
        );
        assert_eq!(u16::from_be_bytes([d[24], d[25]]), 8 + 172, "UDP length");
        assert_eq!(&d[28..], &rtp(0, None, 0)[..]);
    }

    proptest::proptest! {
        #[test]
        fn any_datagram_is_cut_within_itself(d in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Some(n) = header_len(&d) {
                proptest::prop_assert!(n <= d.len());
            }
        }
    }

    #[test]
    fn sdes_keys_in_a_body_are_blanked() {
        let msg = b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99\r\n\r\nv=0\r\n\
            a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20\r\n\
            a=crypto:2 AES_CM_128_HMAC_SHA1_32 INLINE:QS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n";
        let out = String::from_utf8(redact(msg)).unwrap();
        assert_eq!(out.len(), msg.len());
        assert!(!out.contains("PS1u") && !out.contains("QS1u"), "{out}");
        assert!(
            out.contains("inline:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|2^20\r\n"),
            "{out}"
        );
        assert!(out.contains("INLINE:xxxx"), "{out}");
    }

    #[test]
    fn digest_responses_are_blanked_and_nothing_else() {
        let msg = b"INVITE sip:a@b SIP/2.0\r\nProxy-Authorization: Digest username=\"gw1\", \
                    realm=\"r\", nonce=\"n1\", response=\"0123456789abcdef\", qop=auth\r\n\
                    authorization: Digest response=fedc, nonce=\"n2\"\r\n\
                    Subject: response=\"keep\"\r\nContent-Length: 14\r\n\r\nresponse=keep!";
        let out = String::from_utf8(redact(msg)).unwrap();
        assert!(
            out.contains("response=\"xxxxxxxxxxxxxxxx\", qop=auth"),
            "{out}"
        );
        assert!(out.contains("Digest response=xxxx, nonce=\"n2\""), "{out}");
        assert!(out.contains("Subject: response=\"keep\""));
        assert!(out.ends_with("\r\n\r\nresponse=keep!"));
        assert_eq!(out.len(), msg.len());
    }

    proptest::proptest! {
        /// Whatever arrives from the network, the ring keeps something of the same length.
        #[test]
        fn redaction_never_panics_and_keeps_the_length(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            auth in proptest::bool::ANY,
        ) {
            let mut msg = if auth { b"A\r\nAuthorization: response=".to_vec() } else { Vec::new() };
            msg.extend_from_slice(&bytes);
            proptest::prop_assert_eq!(redact(&msg).len(), msg.len());
        }
    }
}
