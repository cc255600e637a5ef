//! The sockets of the calls the box forwards itself (`forward_mode = "gateway"`): two RTP
//! sockets per relayed call at once (`[limits] max_relayed_calls`), bound at start in the
//! `[media]` RTP range (so the SIP side names them in its SDP and the number of relays is
//! bounded by configuration, not by what callers ask), and the relay running on each pair
//! while its call lasts.

use super::GatewayError;
use super::ports::bind_rtp;
use crate::bridge::{MediaParams, Relay, RelayLeg, StatsSnapshot};
use crate::config::Loaded;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tipring_media::jitter::JitterConfig;

/// One relay's sockets and, while its call lasts, its thread.
struct Slot {
    sockets: [UdpSocket; 2],
    running: Option<Relay>,
    /// Whether the relay runs (then STUN leaves its sockets alone).
    busy: Arc<AtomicBool>,
}

/// The relays of one gateway.
pub struct Relays {
    slots: Vec<Slot>,
    jitter: JitterConfig,
}

impl Relays {
    /// The relay sockets on `ip`: none unless a port forwards by the gateway.
    pub fn open(loaded: &Loaded, ip: IpAddr) -> Result<Relays, GatewayError> {
        let c = &loaded.config;
        let n = if c.ports.iter().any(|p| p.forwards_by_gateway()) {
            c.limits.max_relayed_calls as usize
        } else {
            0
        };
        let (min, max) = (c.media.rtp_port_min, c.media.rtp_port_max);
        let mut slots = Vec::with_capacity(n);
        for _ in 0..n {
            let bind = || {
                bind_rtp(ip, min, max, crate::bridge::random::u64()?)
                    .ok_or(GatewayError::NoRelayPort { ip, min, max })
            };
            slots.push(Slot {
                sockets: [bind()?, bind()?],
                running: None,
                busy: Arc::default(),
            });
        }
        Ok(Relays {
            slots,
            jitter: c.media.jitter_config(),
        })
    }

    /// Each relay's `[caller leg, target leg]` addresses, for the SIP side's SDP.
    pub fn addrs(&self) -> Vec<[SocketAddr; 2]> {
        self.slots
            .iter()
            .filter_map(|s| {
                Some([
                    s.sockets[0].local_addr().ok()?,
                    s.sockets[1].local_addr().ok()?,
                ])
            })
            .collect()
    }

    /// Each relay socket for the STUN client (behind a NAT the SDP names what it sees).
    pub fn stun_handles(&self) -> std::io::Result<Vec<super::stun::PortSocket>> {
        let mut out = Vec::new();
        for (k, slot) in self.slots.iter().enumerate() {
            for (socket, leg) in slot
                .sockets
                .iter()
                .zip([RelayLeg::Caller, RelayLeg::Target])
            {
                out.push(super::stun::PortSocket {
                    id: super::sip_side::RtpSocket::Relay(k, leg),
                    socket: socket.try_clone()?,
                    busy: slot.busy.clone(),
                });
            }
        }
        Ok(out)
    }

    /// A leg of relay `k` has media: its relay starts if it was not running.
    pub fn media(&mut self, k: usize, leg: RelayLeg, media: MediaParams) -> std::io::Result<()> {
        let Some(slot) = self.slots.get_mut(k) else {
            return Ok(());
        };
        let relay = match &mut slot.running {
            Some(r) => r,
            None => {
                let sockets = [slot.sockets[0].try_clone()?, slot.sockets[1].try_clone()?];
                slot.busy.store(true, Ordering::Relaxed);
                slot.running.insert(Relay::start(sockets, self.jitter)?)
            }
        };
        if !relay.set_media(leg, media) {
            return Err(std::io::Error::other("relay control queue full"));
        }
        Ok(())
    }

    /// Relay `k`'s call is over: its thread stops; each leg's last counters if it ran.
    pub fn end(&mut self, k: usize) -> Option<[StatsSnapshot; 2]> {
        let slot = self.slots.get_mut(k)?;
        let relay = slot.running.take()?;
        let stats = relay.stop();
        slot.busy.store(false, Ordering::Relaxed);
        // What arrived for the call after it ended is not the next call's; the sockets
        // block again, as the STUN client reads them (the relay made them non-blocking:
        // the flag is the sockets', shared by every clone).
        if let Some(slot) = self.slots.get(k) {
            for s in &slot.sockets {
                drain(s);
                let _ = s.set_nonblocking(false);
            }
        }
        Some(stats)
    }
}

/// Reads and drops what waits on `s` (at most a socket buffer's worth: a flood still
/// arriving is the next relay's latch's business).
fn drain(s: &UdpSocket) {
    let mut buf = [0u8; 64];
    if s.set_nonblocking(true).is_ok() {
        for _ in 0..1024 {
            if s.recv_from(&mut buf).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};
    use tipring_media::g711::Law;

    fn loaded(forward_mode: &str) -> Loaded {
        let text = format!(
            "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\n\
             hotline = \"sip:1@192.0.2.1\"\nforward_mode = \"{forward_mode}\"\n"
        );
        let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
        crate::config::load_str("t.toml", &text, &board).unwrap()
    }

    #[test]
    fn relays_are_bound_only_where_a_port_forwards_by_the_gateway() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert!(
            Relays::open(&loaded("redirect"), ip)
                .unwrap()
                .addrs()
                .is_empty()
        );
        let r = Relays::open(&loaded("gateway"), ip).unwrap();
        let addrs = r.addrs();
        assert_eq!(addrs.len(), 2, "limits.max_relayed_calls");
        assert!(addrs.iter().flatten().all(|a| a.port() % 2 == 0));
        assert_eq!(r.stun_handles().unwrap().len(), 4);
    }

    #[test]
    fn after_a_relayed_call_its_sockets_block_again_for_the_stun_client() {
        let mut r = Relays::open(&loaded("gateway"), IpAddr::from([127, 0, 0, 1])).unwrap();
        let p = MediaParams {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: None,
            remote: "127.0.0.1:9".parse().unwrap(),
            send: true,
            receive: true,
            srtp: None,
        };
        r.media(0, RelayLeg::Caller, p).unwrap();
        let handles = r.stun_handles().unwrap();
        assert!(
            handles[0].busy.load(Ordering::Relaxed),
            "STUN leaves it alone"
        );
        assert!(r.end(0).is_some());
        assert!(!handles[0].busy.load(Ordering::Relaxed));
        let s = &handles[0].socket;
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let t = Instant::now();
        assert!(s.recv_from(&mut [0u8; 16]).is_err());
        assert!(
            t.elapsed() >= Duration::from_millis(40),
            "{:?}",
            t.elapsed()
        );
    }
}
