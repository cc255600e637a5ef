//! What a transaction hands back: bytes to send to a peer, and events for the TU.

use std::net::SocketAddr;
use std::sync::Arc;

/// The transport protocol of a hop (RFC 3261 §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, so the transactions retransmit (§17.1.1.2).
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// Whether the transport is reliable: no retransmission timers and zero wait timers (§17).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The Via transport token (§20.42).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Parses a Via transport token, any case.
    pub fn from_via_token(t: &str) -> Option<Transport> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|k| k.via_token().eq_ignore_ascii_case(t))
    }
}

/// Where a transaction sends: the transport and the remote address. For a server
/// transaction this is the address computed per §18.2.2 / RFC 3581 (the source address and
/// port of the request); over TCP/TLS the transport layer uses the connection to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Transport protocol.
    pub transport: Transport,
    /// Remote address.
    pub addr: SocketAddr,
}

/// Bytes to send to a peer. The bytes are shared so a retransmission copies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub to: Peer,
    /// One whole SIP message.
    pub bytes: Arc<[u8]>,
}

/// Something a transaction tells its TU on its own (not in answer to a received message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuEvent {
    /// The transaction timed out: Timer B or F for a client (§17.1.1.2, §17.1.2.2: the TU
    /// treats it as 408), Timer H for an INVITE server (no ACK arrived, §17.2.1).
    Timeout,
    /// The transport reported a failure (§17.1.4, §17.2.4).
    TransportError,
    /// The transaction ended and was removed.
    Terminated,
}

/// One output of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes.
    Transmit(Transmit),
    /// Tell the TU.
    Event(TuEvent),
}

/// What to do with a message just fed to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it up to the TU.
    Deliver,
    /// The transaction absorbed it (a retransmission, or a response after completion).
    Absorb,
}
