//! The ports' public RTP addresses behind a NAT, learnt from a STUN server (RFC 8489,
//! `[media] stun_server`): a Binding request from each idle port's RTP socket, at start,
//! every [`REFRESH`] (which also keeps the NAT's mapping of the port open between calls)
//! and when the box moved (its addresses changed, a registrar sees it somewhere new). The reflexive address goes into the SDP of the port's calls. A port with a call
//! is left alone (its RTP keeps the mapping open, and its bridge reads the socket).

use crate::gateway::sip_side::RtpSocket;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use tipring_media::stun::{StunError, binding_request, parse_binding_response};

/// How often idle ports ask again.
pub const REFRESH: Duration = Duration::from_secs(25);

/// The waits for an answer: the request is sent again after each (RFC 8489 §6.2.1, with
/// RTO 500 ms and three tries: a port learns nothing after 3.5 s of silence).
pub const TRIES: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

/// Why a port learnt nothing.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("no answer from the STUN server")]
    NoAnswer,
    #[error("STUN: {0}")]
    Stun(#[from] StunError),
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// Asks `server` where `socket`'s datagrams come from (blocking, at most 3.5 s). Only an
/// answer from `server` to this transaction (96 random bits) counts; RTP that arrives
/// meanwhile is dropped. The socket's read timeout is put back as it was.
pub fn query(socket: &UdpSocket, server: SocketAddr) -> Result<SocketAddr, QueryError> {
    let mut id = [0u8; 12];
    getrandom::fill(&mut id).map_err(|e| std::io::Error::other(e.to_string()))?;
    let request = binding_request(id);
    let before = socket.read_timeout()?;
    let result = (|| {
        let mut buf = [0u8; 576];
        for wait in TRIES {
            socket.send_to(&request, server)?;
            let end = Instant::now() + wait;
            while let Some(left) = end.checked_duration_since(Instant::now()) {
                socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) if from == server => {
                        match parse_binding_response(&buf[..n], id) {
                            Ok(addr) => return Ok(addr),
                            Err(StunError::Refused) => return Err(StunError::Refused.into()),
                            Err(_) => {}
                        }
                    }
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Err(QueryError::NoAnswer)
    })();
    socket.set_read_timeout(before)?;
    result
}

/// One RTP socket (a clone: a port's, a relay leg's), and whether its bridge or relay
/// runs.
pub struct PortSocket {
    pub id: RtpSocket,
    pub socket: UdpSocket,
    pub busy: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PortSocket {
    fn idle(&self) -> bool {
        !self.busy.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Asks for every idle port of `ports` at once (a thread each); the ports that learnt
/// their address, and why the others did not.
pub fn query_all(
    ports: &[PortSocket],
    server: SocketAddr,
) -> Vec<(RtpSocket, Result<SocketAddr, QueryError>)> {
    std::thread::scope(|s| {
        let asks: Vec<_> = ports
            .iter()
            .filter(|p| p.idle())
            .map(|p| (p.id, s.spawn(move || query(&p.socket, server))))
            .collect();
        asks.into_iter()
            .map(|(p, h)| {
                let r = h.join().unwrap_or(Err(QueryError::NoAnswer));
                (p, r)
            })
            .collect()
    })
}

/// Asks at once, every [`REFRESH`] and whenever `moved` is woken (the box's address
/// changed), telling the SIP side each port's address as it is learnt or changes, and
/// `log` why a port learnt nothing (once per port until it does); ends when the SIP side
/// is gone.
pub async fn keep(
    ports: Vec<PortSocket>,
    server: SocketAddr,
    sip: tokio::sync::mpsc::Sender<crate::gateway::sip_side::FromLine>,
    log: crate::gateway::Log,
    moved: std::sync::Arc<tokio::sync::Notify>,
) {
    let ports = std::sync::Arc::new(ports);
    let mut known: std::collections::BTreeMap<RtpSocket, Option<SocketAddr>> = Default::default();
    loop {
        let asked = ports.clone();
        let Ok(results) = tokio::task::spawn_blocking(move || query_all(&asked, server)).await
        else {
            return;
        };
        for (port, r) in results {
            let now = r.as_ref().ok().copied();
            let before = known.insert(port, now);
            match r {
                Ok(addr) if before != Some(Some(addr)) => {
                    log.line(format_args!(
                        "{port}: RTP reached at {addr} (STUN {server})"
                    ));
                    let m = crate::gateway::sip_side::FromLine::RtpMapped(port, addr);
                    if sip.send(m).await.is_err() {
                        return;
                    }
                }
                Err(e) if before.is_none_or(|b| b.is_some()) => {
                    log.line(format_args!("{port}: STUN {server}: {e}"));
                }
                _ => {}
            }
        }
        tokio::select! {
            () = tokio::time::sleep(REFRESH) => {}
            () = moved.notified() => {}
        }
    }
}

/// `[media] stun_server` as an address: an IP literal, or a name looked up through the
/// configured DNS servers (A/AAAA of `local`'s family first).
pub async fn server_address(
    cfg: &crate::config::Config,
    local: SocketAddr,
) -> Option<Result<SocketAddr, String>> {
    let (host, port) = cfg.media.stun_server()?;
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(Ok(SocketAddr::new(ip, port)));
    }
    let found = crate::gateway::names::resolve_names(cfg, std::slice::from_ref(&host), local).await;
    Some(
        found
            .table
            .get(&host)
            .map(|ip| SocketAddr::new(ip, port))
            .ok_or_else(|| {
                found
                    .failed
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("{host}: no address"))
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A STUN server in a thread: answers one Binding request with `mapped`.
    fn server(mapped: SocketAddr) -> SocketAddr {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let at = s.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 576];
            let (n, from) = s.recv_from(&mut buf).unwrap();
            assert_eq!(n, 20);
            let mut r = buf[..20].to_vec();
            r[0..2].copy_from_slice(&[0x01, 0x01]);
            r[2..4].copy_from_slice(&[0, 12]);
            let port = mapped.port() ^ 0x2112;
            let std::net::IpAddr::V4(ip) = mapped.ip() else {
                panic!("v4")
            };
            let x: Vec<u8> = ip
                .octets()
                .iter()
                .zip([0x21, 0x12, 0xa4, 0x42])
                .map(|(a, b)| a ^ b)
                .collect();
            r.extend_from_slice(&[0x00, 0x20, 0x00, 0x08, 0x00, 0x01]);
            r.extend_from_slice(&port.to_be_bytes());
            r.extend_from_slice(&x);
            // First some RTP from elsewhere and a stray STUN answer, then the right one.
            let other = UdpSocket::bind("127.0.0.1:0").unwrap();
            other.send_to(b"\x80\x00rtp", from).unwrap();
            let mut wrong = r.clone();
            wrong[8] ^= 1;
            s.send_to(&wrong, from).unwrap();
            s.send_to(&r, from).unwrap();
        });
        at
    }

    #[test]
    fn a_port_learns_its_mapped_address_and_keeps_its_timeout() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let at = server("198.51.100.7:40000".parse().unwrap());
        assert_eq!(
            query(&sock, at).unwrap(),
            "198.51.100.7:40000".parse().unwrap()
        );
        assert_eq!(
            sock.read_timeout().unwrap(),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn a_silent_server_gives_no_answer_after_the_tries() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let t = Instant::now();
        let r = query(&sock, silent.local_addr().unwrap());
        assert!(matches!(r, Err(QueryError::NoAnswer)), "{r:?}");
        assert!(t.elapsed() >= Duration::from_millis(3400));
        // The server saw the request three times.
        silent.set_nonblocking(true).unwrap();
        let mut n = 0;
        while silent.recv_from(&mut [0u8; 64]).is_ok() {
            n += 1;
        }
        assert_eq!(n, 3);
    }
}
