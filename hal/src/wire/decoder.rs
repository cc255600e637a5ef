//! Stream side of the framing: splits the byte stream at 0x00 delimiters, undoes COBS,
//! checks and parses each frame; and the reverse, [`encode_frame`].

use super::frame::{Frame, FrameRepr, MAX_FRAME, MAX_WIRE_FRAME};
use super::{WireError, cobs};

/// Accumulates received bytes and yields one result per delimiter.
/// After garbage or an overrun it resynchronises at the next 0x00.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: heapless::Vec<u8, MAX_WIRE_FRAME>,
    overrun: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            buf: heapless::Vec::new(),
            overrun: false,
        }
    }

    /// Drops any partial frame (e.g. after the device was reopened).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.overrun = false;
    }

    /// Feeds one byte; returns a result when the byte was a delimiter ending a non-empty frame.
    pub fn push(&mut self, byte: u8) -> Option<Result<FrameRepr, WireError>> {
        if byte != 0 {
            if self.buf.push(byte).is_err() {
                self.overrun = true;
            }
            return None;
        }
        if self.overrun {
            self.reset();
            return Some(Err(WireError::Overrun));
        }
        if self.buf.is_empty() {
            // Back-to-back delimiters are allowed (a sender may lead each frame with 0x00).
            return None;
        }
        let r = decode_block(&self.buf);
        self.buf.clear();
        Some(r)
    }

    /// Feeds many bytes, calling `sink` with each result.
    pub fn feed(&mut self, bytes: &[u8], mut sink: impl FnMut(Result<FrameRepr, WireError>)) {
        for &b in bytes {
            if let Some(r) = self.push(b) {
                sink(r);
            }
        }
    }
}

fn decode_block(block: &[u8]) -> Result<FrameRepr, WireError> {
    let mut raw = [0u8; MAX_FRAME];
    let n = cobs::decode(block, &mut raw).map_err(|e| match e {
        cobs::CobsError::Overflow => WireError::TooLong(block.len()),
        other => WireError::Cobs(other),
    })?;
    let frame = Frame::new_checked(&raw[..n])?;
    FrameRepr::parse(&frame)
}

/// Encodes a frame for the wire into `out` (COBS + trailing 0x00); returns the length.
pub fn encode_frame(repr: &FrameRepr, out: &mut [u8]) -> Result<usize, WireError> {
    let mut raw = [0u8; MAX_FRAME];
    let n = repr.emit(&mut raw)?;
    let m = cobs::encode(&raw[..n], out).map_err(|_| WireError::BufferTooSmall)?;
    *out.get_mut(m).ok_or(WireError::BufferTooSmall)? = 0;
    Ok(m + 1)
}
