//! [`T38Relay`]: one call's fax as T.38 over UDPTL, sans-IO. The line's audio goes through
//! spandsp's gateway ([`FaxGateway`]) into IFP packets, each framed by UDPTL with the
//! previous ones as redundancy (T.38 §9.1.2.1) and sent to the far end; the far end's
//! datagrams are put back in order (recovering lost packets from the redundancy) and their
//! IFP packets rebuilt into the modem signal played to the line.
//!
//! Only the negotiated far address is listened to: UDPTL from anywhere else is dropped and
//! counted, so no other host can inject pages or signals into the line.

use crate::gateway::{FRAME_SAMPLES, FaxGateway, GatewayConfig, GatewayError, TransferStats};
use std::collections::VecDeque;
use std::net::SocketAddr;
use tipring_media::udptl::{UdptlReceiver, UdptlSender};

/// Datagrams waiting to be sent: beyond this many the newest are dropped.
pub const MAX_OUTGOING: usize = 64;

/// What the relay needs: the gateway's T.38 parameters, the far end, the redundancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    pub gateway: GatewayConfig,
    /// Where the far end's UDPTL is (the SDP answer's `m=image` port and `c=` address).
    pub remote: SocketAddr,
    /// How many earlier IFP packets each datagram carries again (0..=
    /// [`tipring_media::udptl::MAX_SECONDARIES`]).
    pub redundancy: usize,
}

/// The relay's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayStats {
    pub datagrams_sent: u64,
    pub datagrams_received: u64,
    /// IFP packets given to the gateway (received or recovered).
    pub ifp_received: u64,
    /// IFP packets rebuilt from a later datagram's redundancy.
    pub ifp_recovered: u64,
    /// IFP packets lost beyond what the redundancy covered.
    pub ifp_lost: u64,
    /// Datagrams that were not UDPTL.
    pub malformed: u64,
    /// Datagrams from another address than the far end's.
    pub foreign: u64,
    /// Datagrams or IFP packets dropped because a queue was full or a packet too big.
    pub dropped: u64,
    /// What spandsp reports of the fax.
    pub transfer: TransferStats,
}

/// One call's T.38 relay.
pub struct T38Relay {
    gateway: FaxGateway,
    sender: UdptlSender,
    receiver: UdptlReceiver,
    remote: SocketAddr,
    outgoing: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    stats: RelayStats,
}

impl T38Relay {
    /// A relay towards `cfg.remote`; `first_seq`: the first UDPTL sequence number (from
    /// the caller's random source).
    pub fn new(cfg: &RelayConfig, first_seq: u16) -> Result<T38Relay, GatewayError> {
        let mut sender = UdptlSender::new(first_seq);
        // Beyond the most the framing takes, the most it takes.
        if sender.set_redundancy(cfg.redundancy).is_err() {
            let _ = sender.set_redundancy(tipring_media::udptl::MAX_SECONDARIES);
        }
        sender.set_max_datagram(usize::from(cfg.gateway.max_datagram));
        Ok(T38Relay {
            gateway: FaxGateway::new(&cfg.gateway)?,
            sender,
            receiver: UdptlReceiver::new(),
            remote: cfg.remote,
            outgoing: VecDeque::new(),
            spare: Vec::new(),
            stats: RelayStats::default(),
        })
    }

    /// The far end's address.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// One 20 ms frame captured from the line: what it carries is queued for the network;
    /// returns the frame to play to the line.
    pub fn handle_frame(&mut self, capture: &[i16; FRAME_SAMPLES]) -> [i16; FRAME_SAMPLES] {
        self.gateway.rx(capture);
        let play = self.gateway.tx();
        self.frame_ifps();
        play
    }

    /// One datagram from `from`.
    pub fn handle_datagram(&mut self, from: SocketAddr, d: &[u8]) {
        if from != self.remote {
            self.stats.foreign += 1;
            return;
        }
        self.stats.datagrams_received += 1;
        let gateway = &mut self.gateway;
        let mut delivered = 0u64;
        if self
            .receiver
            .on_datagram(d, |seq, ifp| {
                delivered += 1;
                gateway.rx_ifp(seq, ifp);
            })
            .is_err()
        {
            self.stats.malformed += 1;
        }
        self.stats.ifp_received += delivered;
        self.frame_ifps();
    }

    /// The next datagram to send and where.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        let d = self.outgoing.pop_front()?;
        self.stats.datagrams_sent += 1;
        Some((self.remote, d))
    }

    /// Gives back a sent datagram's buffer.
    pub fn recycle(&mut self, d: Vec<u8>) {
        if self.spare.len() < MAX_OUTGOING {
            self.spare.push(d);
        }
    }

    /// The counters.
    pub fn stats(&self) -> RelayStats {
        let r = self.receiver.stats();
        RelayStats {
            ifp_recovered: r.recovered,
            ifp_lost: r.lost,
            dropped: self.stats.dropped + self.gateway.dropped(),
            transfer: self.gateway.stats(),
            ..self.stats
        }
    }

    /// Frames the gateway's IFP packets, each datagram queued as many times as spandsp
    /// asks for its category (one sequence number: the receiver keeps the first copy).
    fn frame_ifps(&mut self) {
        while let Some(ifp) = self.gateway.poll_ifp() {
            let mut d = self.spare.pop().unwrap_or_default();
            d.clear();
            if self.sender.packet(&ifp.bytes, &mut d).is_err() {
                self.stats.dropped += 1;
            } else {
                for _ in 1..ifp.count {
                    if self.outgoing.len() < MAX_OUTGOING {
                        self.outgoing.push_back(d.clone());
                    }
                }
                if self.outgoing.len() < MAX_OUTGOING {
                    self.outgoing.push_back(d);
                } else {
                    self.stats.dropped += 1;
                }
            }
            self.gateway.recycle(ifp);
        }
    }
}
