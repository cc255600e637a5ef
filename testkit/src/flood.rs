//! An INVITE flood generator for the flood tests and benchmark (loopback only): INVITEs
//! with fresh Call-IDs, branches and tags at a paced rate from one or more local source
//! addresses, counting the responses that come back by status code.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// What to send.
#[derive(Debug, Clone)]
pub struct FloodSpec {
    /// The gateway's SIP address.
    pub target: SocketAddr,
    /// Source addresses, used in turn (each bound to a port of the system's choosing).
    pub sources: Vec<IpAddr>,
    /// INVITEs per second (`u32::MAX`: as fast as the generator goes).
    pub rate: u32,
    /// How long to send.
    pub duration: Duration,
    /// How long to keep counting responses after the last INVITE.
    pub linger: Duration,
    /// The Request-URI user.
    pub user: String,
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct FloodReport {
    /// INVITEs sent.
    pub sent: u64,
    /// Responses received, by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// The rate actually reached, INVITEs per second.
    pub achieved_rate: f64,
}

impl FloodReport {
    /// Every response received.
    pub fn responses(&self) -> u64 {
        self.by_status.values().sum()
    }

    /// Responses per INVITE sent.
    pub fn per_request(&self) -> f64 {
        self.responses() as f64 / self.sent.max(1) as f64
    }
}

fn invite(target: SocketAddr, from: SocketAddr, user: &str, n: u64) -> Vec<u8> {
    format!(
        "INVITE sip:{user}@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bKfl{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:flood@{from}>;tag=fl{n}\r\nTo: <sip:{user}@{target}>\r\n\
         Call-ID: flood-{n}@{from}\r\nCSeq: 1 INVITE\r\nContact: <sip:flood@{from}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Sends the flood and counts the answers; blocks for `duration + linger`.
pub fn run(spec: &FloodSpec) -> io::Result<FloodReport> {
    let socks: Vec<(UdpSocket, SocketAddr)> = spec
        .sources
        .iter()
        .map(|ip| {
            let s = UdpSocket::bind(SocketAddr::new(*ip, 0))?;
            s.set_nonblocking(true)?;
            let a = s.local_addr()?;
            Ok((s, a))
        })
        .collect::<io::Result<_>>()?;
    if socks.is_empty() {
        return Err(io::Error::other("no source address"));
    }
    let mut report = FloodReport::default();
    let mut buf = vec![0u8; 4096];
    let t0 = Instant::now();
    let end = t0 + spec.duration;
    let stop = end + spec.linger;
    let mut next = 0usize;
    loop {
        let now = Instant::now();
        if now >= stop {
            break;
        }
        let mut busy = false;
        if now < end {
            let due = if spec.rate == u32::MAX {
                report.sent + 64
            } else {
                (now.duration_since(t0).as_secs_f64() * f64::from(spec.rate)) as u64
            };
            while report.sent < due {
                let (s, a) = &socks[next % socks.len()];
                next += 1;
                match s.send_to(
                    &invite(spec.target, *a, &spec.user, report.sent),
                    spec.target,
                ) {
                    Ok(_) => report.sent += 1,
                    // The socket buffer is full: the generator is at its ceiling.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
                busy = true;
            }
            report.achieved_rate = report.sent as f64 / now.duration_since(t0).as_secs_f64();
        }
        for (s, _) in &socks {
            while let Ok((n, _)) = s.recv_from(&mut buf) {
                busy = true;
                let code = std::str::from_utf8(&buf[..n.min(12)])
                    .ok()
                    .and_then(|l| l.strip_prefix("SIP/2.0 "))
                    .and_then(|c| c.get(..3))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                *report.by_status.entry(code).or_default() += 1;
            }
        }
        if !busy {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    Ok(report)
}
