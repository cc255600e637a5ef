//! A tshark capture on the loopback interface, started by a test before the traffic and
//! read back through tshark's own SIP dissector: what really crossed the wire, decoded by
//! an independent implementation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One SIP message seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipPacket {
    /// Source `ip:port`.
    pub src: String,
    /// Destination `ip:port`.
    pub dst: String,
    /// Request method (empty for a response).
    pub method: String,
    /// Response status code (empty for a request).
    pub status: String,
    /// The CSeq method (says what a response answers).
    pub cseq_method: String,
}

/// One RTP packet seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpSeen {
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Destination UDP port.
    pub dst_port: u16,
    /// RTP SSRC.
    pub ssrc: u32,
    /// RTP payload type.
    pub payload_type: u8,
    /// Everything after the RTP header (with SRTP: the encrypted payload and the tag).
    pub payload: Vec<u8>,
}

impl RtpSeen {
    /// The share of payload octets equal to the octet 8 before: near 1 for G.711 of a
    /// 1 kHz tone or of silence (periodic at 8 kHz), near 1/256 for ciphertext.
    pub fn periodicity(&self) -> f64 {
        let p = &self.payload;
        if p.len() <= 8 {
            return 0.0;
        }
        let same = p.windows(9).filter(|w| w[0] == w[8]).count();
        same as f64 / (p.len() - 8) as f64
    }
}

/// A running capture of UDP traffic on the given ports.
pub struct Capture {
    child: Option<Child>,
    file: PathBuf,
    ports: Vec<u16>,
}

impl Capture {
    /// Starts capturing UDP on `ports` on `lo`; returns once tshark captures.
    pub fn start(test: &str, ports: &[u16]) -> Capture {
        let filter = ports
            .iter()
            .map(|p| format!("udp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        Capture::start_filter(test, &filter, ports)
    }

    /// Starts capturing what the capture `filter` takes on `lo`; `ports` are decoded as
    /// SIP by [`Capture::stop`], the first of them (which the filter must take) proves
    /// the recording started.
    pub fn start_filter(test: &str, filter: &str, ports: &[u16]) -> Capture {
        let dir = std::env::temp_dir().join(format!("tipring-cap-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("capture.pcapng");
        let err = dir.join("stderr");
        let child = Command::new("tshark")
            .args(["-i", "lo", "-q", "-f", filter, "-w"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("stderr"))
            .spawn()
            .expect("tshark (Debian tshark) must be installed");
        let end = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&err)
            .unwrap_or_default()
            .contains("Capturing on")
        {
            assert!(
                Instant::now() < end,
                "tshark did not start: {}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let cap = Capture {
            child: Some(child),
            file,
            ports: ports.to_vec(),
        };
        cap.wait_recording(end);
        cap
    }

    /// "Capturing on" can come before the filter sees packets: sends marker datagrams (not
    /// SIP, to an address nobody listens on) to the first port until the file grows.
    fn wait_recording(&self, end: Instant) {
        let size = || std::fs::metadata(&self.file).map_or(0, |m| m.len());
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("marker socket");
        let to = SocketAddr::from(([127, 0, 0, 253], self.ports[0]));
        while size() == 0 {
            assert!(Instant::now() < end, "tshark wrote no file");
            std::thread::sleep(Duration::from_millis(20));
        }
        let start = size();
        while size() <= start {
            assert!(Instant::now() < end, "tshark records nothing");
            let _ = sock.send_to(b"tipring capture marker", to);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Lets the last packets reach the file, then stops tshark cleanly (SIGINT flushes).
    fn finish(&mut self) {
        std::thread::sleep(Duration::from_millis(300));
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// Stops the capture (which must hold the SIP port `sip_port` and the media `ports`)
    /// and reads as T.38 ([`t38_fields`]) what went on `ports` once the call had moved
    /// to T.38: after the 200 OK whose SDP has an `m=image` stream, and 200 ms more for
    /// the audio still in flight then.
    pub fn stop_t38(mut self, sip_port: u16, ports: &[u16]) -> Vec<String> {
        self.finish();
        let out = Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&self.file)
            .args(["-d", &format!("udp.port=={sip_port},sip")])
            .args([
                "-Y",
                "sip.Status-Code == 200 && sdp.media.media == \"image\"",
            ])
            .args(["-T", "fields", "-e", "frame.time_relative"])
            .output()
            .expect("tshark -r");
        let answered: f64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.trim().parse().ok())
            .expect("no 200 OK with m=image in the capture: the call never moved to T.38");
        t38_fields(&self.file, ports, Some(answered + 0.2))
    }

    /// Stops the capture and reads the RTP in it, in order: every UDP datagram whose
    /// first octets are an RTP version 2 header that is not RTCP (RFC 5761 §4), parsed
    /// here (tshark's heuristic RTP dissector skips some ports).
    pub fn stop_rtp(mut self) -> Vec<RtpSeen> {
        self.finish();
        let out = Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&self.file)
            .args(["-Y", "udp", "-T", "fields", "-E", "separator=|"])
            .args(["-e", "ip.src", "-e", "ip.dst", "-e", "udp.dstport"])
            .args(["-e", "udp.payload"])
            .output()
            .expect("tshark -r");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                let hex: String = f
                    .get(3)?
                    .chars()
                    .filter(|c| c.is_ascii_hexdigit())
                    .collect();
                let d: Vec<u8> = (0..hex.len() / 2)
                    .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                    .collect();
                let header = 12 + 4 * usize::from(*d.first()? & 0x0f);
                if d.len() < header || d[0] >> 6 != 2 || (192..=223).contains(&d[1]) {
                    return None;
                }
                Some(RtpSeen {
                    src: f.first()?.to_string(),
                    dst: f.get(1)?.to_string(),
                    dst_port: f.get(2)?.trim().parse().ok()?,
                    ssrc: u32::from_be_bytes([d[8], d[9], d[10], d[11]]),
                    payload_type: d[1] & 0x7f,
                    payload: d[header..].to_vec(),
                })
            })
            .collect()
    }

    /// Stops the capture and decodes the SIP messages in it, in order.
    pub fn stop(mut self) -> Vec<SipPacket> {
        self.finish();
        sip_packets(&self.file, &self.ports)
    }
}

/// The SIP messages of the pcap file `file`, in order, with the UDP ports `ports` decoded
/// as SIP.
pub fn sip_packets(file: &std::path::Path, ports: &[u16]) -> Vec<SipPacket> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file);
    for p in ports {
        cmd.args(["-d", &format!("udp.port=={p},sip")]);
    }
    let out = cmd
        .args([
            "-Y",
            "sip",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "ip.src",
            "-e",
            "udp.srcport",
            "-e",
            "ip.dst",
            "-e",
            "udp.dstport",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
            "-e",
            "sip.CSeq.method",
        ])
        .output()
        .expect("tshark -r");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.len() == 7).then(|| SipPacket {
                src: format!("{}:{}", f[0], f[1]),
                dst: format!("{}:{}", f[2], f[3]),
                method: f[4].to_owned(),
                status: f[5].to_owned(),
                cseq_method: f[6].to_owned(),
            })
        })
        .collect()
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        crate::process::remove_scratch(self.file.parent());
    }
}

impl SipPacket {
    /// `INVITE` for a request, `180/INVITE` for a response (status and CSeq method).
    pub fn label(&self) -> String {
        if self.method.is_empty() {
            format!("{}/{}", self.status, self.cseq_method)
        } else {
            self.method.clone()
        }
    }
}

/// Seed §5.1 (a call answered and cleared by the caller) as [`ladder`] shows it after
/// [`without_trying`]: `>` the caller's side sent it, `<` the called side did (a UAS that
/// rings within its 100 Trying delay sends 180 alone, RFC 3261 §17.2.1).
pub const SEED_5_1: [&str; 6] = [
    "> INVITE",
    "< 180/INVITE",
    "< 200/INVITE",
    "> ACK",
    "> BYE",
    "< 200/BYE",
];

/// The call's messages between `a` and `b`, in order, as [`SipPacket::label`]s after
/// `>` (sent by `a`) or `<` (sent by `b`): INVITE, ACK, BYE, CANCEL and the responses to them, each label at
/// its first appearance (retransmissions left out); OPTIONS and REGISTER traffic left out.
pub fn ladder(packets: &[SipPacket], a: SocketAddr, b: SocketAddr) -> Vec<String> {
    let (a, b) = (a.to_string(), b.to_string());
    packets
        .iter()
        .filter(|p| (p.src == a && p.dst == b) || (p.src == b && p.dst == a))
        .filter(|p| {
            let m = if p.method.is_empty() {
                &p.cseq_method
            } else {
                &p.method
            };
            matches!(m.as_str(), "INVITE" | "ACK" | "BYE" | "CANCEL")
        })
        .map(|p| format!("{} {}", if p.src == a { '>' } else { '<' }, p.label()))
        .fold(Vec::new(), |mut seen, l| {
            if !seen.contains(&l) {
                seen.push(l);
            }
            seen
        })
}

/// `ladder` with its `< 100/INVITE` taken out, after checking it came right after the
/// INVITE: a UAS that answers within 200 ms sends no 100 Trying (RFC 3261 §17.2.1), so on
/// a fast machine it is absent and on a loaded one present.
pub fn without_trying(mut ladder: Vec<String>) -> Vec<String> {
    if let Some(i) = ladder.iter().position(|l| l == "< 100/INVITE") {
        assert_eq!(i, 1, "100 Trying not right after the INVITE: {ladder:?}");
        ladder.remove(i);
    }
    ladder
}

/// tshark's reading of a capture with the UDP ports `ports` decoded as T.38 (UDPTL), of
/// the datagrams after `after` seconds from its start when given: one line per datagram, tab-separated: UDPTL sequence number, T.30 indicators, T.38 data
/// types, field types (primary and secondaries, comma-separated), number of secondary
/// (redundant) IFP packets, and tshark's expert messages (empty when it found nothing
/// wrong).
pub fn t38_fields(path: &std::path::Path, ports: &[u16], after: Option<f64>) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path);
    for p in ports {
        cmd.arg("-d").arg(format!("udp.port=={p},t38"));
    }
    let filter = match after {
        Some(t) => format!("t38 && frame.time_relative > {t:.3}"),
        None => "t38".to_owned(),
    };
    cmd.args(["-Y", &filter, "-T", "fields", "-E", "separator=/t"]);
    for f in [
        "t38.seq_number",
        "t38.t30_indicator",
        "t38.t30_data",
        "t38.field_type",
        "t38.secondary_ifp_packets",
        "_ws.expert.message",
    ] {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
