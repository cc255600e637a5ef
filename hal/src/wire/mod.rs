//! The serial wire protocol between the gateway and a line card (`hal/PROTOCOL.md`):
//! COBS framing with a 0x00 delimiter, a version byte, a postcard-encoded [`Packet`] and a
//! CRC-16/CCITT-FALSE. Everything here is `no_std`.

pub mod cobs;
pub mod crc;
mod decoder;
mod frame;
mod packet;

pub use decoder::{Decoder, encode_frame};
pub use frame::{Frame, FrameRepr, MAX_FRAME, MAX_WIRE_FRAME, PROTOCOL_VERSION};
pub use packet::{Hello, Packet, Role, Seq};

/// Why a frame was rejected. Every decoder input error ends here; none panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("frame of {0} bytes is shorter than version + CRC")]
    TooShort(usize),
    #[error("frame of {0} bytes exceeds the maximum")]
    TooLong(usize),
    #[error("CRC mismatch: frame carries {found:#06x}, computed {computed:#06x}")]
    Crc { found: u16, computed: u16 },
    #[error("unsupported protocol version {0}")]
    Version(u8),
    #[error("malformed message body: {0}")]
    Body(postcard::Error),
    #[error("{0} bytes left after the message body")]
    TrailingBytes(usize),
    #[error("COBS: {0}")]
    Cobs(#[from] cobs::CobsError),
    #[error("frame overran the receive buffer before its delimiter; discarded")]
    Overrun,
    #[error("output buffer too small")]
    BufferTooSmall,
}

#[cfg(all(test, feature = "std"))]
mod tests;
