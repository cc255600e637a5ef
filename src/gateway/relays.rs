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
use tipring_media::jitter::JitterConfig;

/// One relay's sockets and, while its call lasts, its thread.
struct Slot {
    sockets: [UdpSocket; 2],
    running: Option<Relay>,
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

    /// A leg of relay `k` has media: its relay starts if it was not running.
    pub fn media(&mut self, k: usize, leg: RelayLeg, media: MediaParams) -> std::io::Result<()> {
        let Some(slot) = self.slots.get_mut(k) else {
            return Ok(());
        };
        let relay = match &mut slot.running {
            Some(r) => r,
            None => {
                let sockets = [slot.sockets[0].try_clone()?, slot.sockets[1].try_clone()?];
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
        let relay = self.slots.get_mut(k)?.running.take()?;
        let stats = relay.stop();
        // What arrived for the call after it ended is not the next call's.
        if let Some(slot) = self.slots.get(k) {
            for s in &slot.sockets {
                drain(s);
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
