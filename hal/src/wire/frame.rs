//! A frame after COBS decoding: `version (1 byte) | postcard body | CRC-16 (2 bytes, big-endian)`.
//! The CRC (see [`super::crc`]) covers the version byte and the body.
//! [`Frame`] is the checked view over those bytes, [`FrameRepr`] the parsed form.

use super::WireError;
use super::crc::crc16;
use super::packet::Packet;

/// The protocol version this code speaks.
pub const PROTOCOL_VERSION: u8 = 1;
/// Largest decoded frame (version + body + CRC).
pub const MAX_FRAME: usize = 256;
/// Largest frame on the wire: COBS overhead plus the 0x00 delimiter.
pub const MAX_WIRE_FRAME: usize = super::cobs::max_encoded_len(MAX_FRAME) + 1;

mod field {
    pub const VERSION: usize = 0;
    pub const BODY: usize = 1;
    pub const CRC_LEN: usize = 2;
}

/// A checked view over a decoded frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps bytes without checks (accessors may then panic); use [`Frame::new_checked`].
    pub fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps bytes after checking the length and the CRC; afterwards no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let f = Frame::new_unchecked(buffer);
        f.check()?;
        Ok(f)
    }

    fn check(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < field::BODY + field::CRC_LEN {
            return Err(WireError::TooShort(b.len()));
        }
        if b.len() > MAX_FRAME {
            return Err(WireError::TooLong(b.len()));
        }
        let (data, crc) = b.split_at(b.len() - field::CRC_LEN);
        let found = u16::from_be_bytes([crc[0], crc[1]]);
        let computed = crc16(data);
        if found != computed {
            return Err(WireError::Crc { found, computed });
        }
        Ok(())
    }

    /// The protocol version byte.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// The postcard-encoded body.
    pub fn body(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[field::BODY..b.len() - field::CRC_LEN]
    }

    /// The CRC carried in the frame.
    pub fn crc(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[b.len() - 2], b[b.len() - 1]])
    }
}

/// A parsed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRepr {
    pub version: u8,
    pub packet: Packet,
}

impl FrameRepr {
    /// A frame of the current [`PROTOCOL_VERSION`].
    pub fn new(packet: Packet) -> Self {
        FrameRepr {
            version: PROTOCOL_VERSION,
            packet,
        }
    }

    /// Parses a checked frame. Bodies of another version are refused (their layout may differ).
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Self, WireError> {
        if frame.version() != PROTOCOL_VERSION {
            return Err(WireError::Version(frame.version()));
        }
        let (packet, rest) =
            postcard::take_from_bytes::<Packet>(frame.body()).map_err(WireError::Body)?;
        if !rest.is_empty() {
            return Err(WireError::TrailingBytes(rest.len()));
        }
        Ok(FrameRepr {
            version: frame.version(),
            packet,
        })
    }

    /// Writes the decoded frame (version, body, CRC) into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let (ver, rest) = buf.split_first_mut().ok_or(WireError::BufferTooSmall)?;
        *ver = self.version;
        let body_len = postcard::to_slice(&self.packet, rest)
            .map_err(|_| WireError::BufferTooSmall)?
            .len();
        let end = field::BODY + body_len;
        let crc = crc16(&buf[..end]);
        buf.get_mut(end..end + field::CRC_LEN)
            .ok_or(WireError::BufferTooSmall)?
            .copy_from_slice(&crc.to_be_bytes());
        Ok(end + field::CRC_LEN)
    }
}
