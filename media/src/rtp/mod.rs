//! RTP, the Real-time Transport Protocol (RFC 3550): the packet format, a sender and the
//! receiver-side statistics of a source.

mod packet;
mod receiver;
mod sender;

pub use packet::{HEADER_LEN, MAX_CSRCS, RtpPacket, RtpRepr, VERSION};
pub use receiver::{ReceptionReport, RtpReceiver, SeqUpdate};
pub use sender::RtpSender;
/// The generator RTP senders draw their initial values from (RFC 3550 §5.1).
pub use tipring_rng::SplitMix64;

/// What is wrong with an RTP packet, or why one cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// The packet ends before a part its header announces.
    #[error("RTP packet truncated: {needed} octets needed, {len} present")]
    Truncated { needed: usize, len: usize },
    /// Field V is not 2 (RFC 3550 §5.1).
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The padding count is zero or exceeds the octets after the header (RFC 3550 §5.1).
    #[error("RTP padding count {count} invalid, {available} octets after the header")]
    Padding { count: usize, available: usize },
    /// More than 15 CSRCs requested.
    #[error("{0} CSRCs, at most 15 fit")]
    TooManyCsrcs(usize),
    /// A payload type above 127.
    #[error("payload type {0} does not fit 7 bits")]
    PayloadType(u8),
    /// Extension data not a multiple of 4 octets or too long (RFC 3550 §5.3.1).
    #[error("header extension of {0} octets is not a whole number of 32-bit words")]
    ExtensionLength(usize),
    /// The output buffer is too small.
    #[error("buffer of {len} octets, {needed} needed")]
    BufferTooSmall { needed: usize, len: usize },
}
