//! UDPTL, the UDP framing of T.38 fax (ITU-T T.38 §9.1): each datagram carries one IFP
//! packet (the primary) and, for error recovery, either copies of the previous IFP packets
//! (redundancy) or forward error correction data, in the aligned PER encoding (X.691) of
//! the `UDPTLPacket` ASN.1 type.
//!
//! [`UdptlPacket`] parses and emits one datagram, [`UdptlSender`] numbers the outgoing IFP
//! packets and adds the redundant copies, [`UdptlReceiver`] delivers the incoming IFP
//! packets in order, recovering lost ones from the redundant copies.

mod list;
mod packet;
mod per;
mod receiver;
mod sender;

use std::fmt;

pub use list::SliceList;
pub use packet::{FecInfo, Recovery, UdptlPacket};
pub use per::MAX_FIELD_LEN;
pub use receiver::{RESYNC_DISTANCE, UdptlReceiver, UdptlStats};
pub use sender::{DEFAULT_MAX_DATAGRAM, DEFAULT_REDUNDANCY, UdptlSender};

/// The most secondary IFP packets accepted in one datagram, and the deepest redundancy a
/// sender can be set to. Hostile input cannot make a parse collect more.
pub const MAX_SECONDARIES: usize = 16;
/// The most `fec-data` entries accepted in one datagram.
pub const MAX_FEC_ENTRIES: usize = 16;

/// A part of the `UDPTLPacket` type (T.38 §9.1), named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `seq-number`.
    SeqNumber,
    /// `primary-ifp-packet`.
    Primary,
    /// The `error-recovery` CHOICE index.
    ErrorRecovery,
    /// The count of `secondary-ifp-packets`.
    SecondaryCount,
    /// One of the `secondary-ifp-packets`.
    Secondary,
    /// `fec-npackets`.
    FecPackets,
    /// The count of `fec-data` entries.
    FecCount,
    /// One `fec-data` entry.
    FecData,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::SeqNumber => "seq-number",
            Part::Primary => "primary-ifp-packet",
            Part::ErrorRecovery => "error-recovery",
            Part::SecondaryCount => "secondary-ifp-packets count",
            Part::Secondary => "secondary-ifp-packet",
            Part::FecPackets => "fec-npackets",
            Part::FecCount => "fec-data count",
            Part::FecData => "fec-data entry",
        })
    }
}

/// What is wrong with a UDPTL datagram, or why one cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UdptlError {
    /// The datagram ends inside this part.
    #[error("UDPTL packet truncated in {0}")]
    Truncated(Part),
    /// A length determinant of this part uses the fragmented form (X.691 §10.9.3.8), for
    /// fields of 16384 octets or more, which no UDPTL datagram needs.
    #[error("fragmented length in {0} (16384 octets or more) not supported")]
    Fragmented(Part),
    /// An IFP packet of no octets: an IFP packet is a complete PER encoding, never empty
    /// (X.691 sends an empty one as a single zero octet).
    #[error("empty IFP packet in {0}")]
    EmptyIfp(Part),
    /// The `error-recovery` octet is neither 0x00 (redundancy) nor 0x80 (FEC): a CHOICE of
    /// two alternatives takes one bit, the other seven are padding and zero.
    #[error("error-recovery octet {0:#04x}, expected 0x00 or 0x80")]
    RecoveryChoice(u8),
    /// More secondary IFP packets than [`MAX_SECONDARIES`], in a datagram or asked of a
    /// sender.
    #[error("{0} secondary IFP packets, at most {max}", max = MAX_SECONDARIES)]
    TooManySecondaries(usize),
    /// More `fec-data` entries than [`MAX_FEC_ENTRIES`].
    #[error("{0} fec-data entries, at most {max}", max = MAX_FEC_ENTRIES)]
    TooManyFecEntries(usize),
    /// `fec-npackets` not encoded in one octet.
    #[error("fec-npackets of {0} octets, 1 expected")]
    FecPacketsLength(usize),
    /// Octets follow the end of the packet.
    #[error("{0} octets after the end of the UDPTL packet")]
    TrailingBytes(usize),
    /// A field longer than [`MAX_FIELD_LEN`] to emit (it would need fragmentation).
    #[error("{part} of {len} octets, at most {max} without fragmentation", max = MAX_FIELD_LEN)]
    TooLong { part: Part, len: usize },
    /// The output buffer is too small.
    #[error("buffer of {len} octets, {needed} needed")]
    BufferTooSmall { needed: usize, len: usize },
    /// The IFP packet alone makes a datagram longer than the peer accepts
    /// (T38FaxMaxDatagram).
    #[error("datagram of {needed} octets, the maximum is {max}")]
    DatagramTooLarge { needed: usize, max: usize },
}
