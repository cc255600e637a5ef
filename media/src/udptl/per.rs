//! The pieces of aligned PER (X.691 (07/2002)) that UDPTL uses, all octet-aligned: the
//! length determinant (§10.9) in its one- and two-octet forms, and a reader that never
//! indexes past the end of the datagram.

use super::{Part, UdptlError};

/// The longest field an unfragmented length determinant can announce (X.691 §10.9.3.7:
/// two octets, 14 bits).
pub const MAX_FIELD_LEN: usize = 0x3FFF;

/// Octets the length determinant of `len` takes (X.691 §10.9.3.6 and .7); `len` is at most
/// [`MAX_FIELD_LEN`].
pub(super) fn det_len(len: usize) -> usize {
    if len < 0x80 { 1 } else { 2 }
}

/// Length of a field written as determinant and contents (an open type or octet string).
pub(super) fn field_len(len: usize) -> usize {
    det_len(len) + len
}

/// A cursor over a received datagram. Every read checks the bounds and names the part it
/// was reading when the datagram ends.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Octets not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next `n` octets.
    pub(super) fn bytes(&mut self, n: usize, part: Part) -> Result<&'a [u8], UdptlError> {
        let end = self.pos.checked_add(n).ok_or(UdptlError::Truncated(part))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(UdptlError::Truncated(part))?;
        self.pos = end;
        Ok(out)
    }

    pub(super) fn u8(&mut self, part: Part) -> Result<u8, UdptlError> {
        Ok(self.bytes(1, part)?[0])
    }

    pub(super) fn u16(&mut self, part: Part) -> Result<u16, UdptlError> {
        let b = self.bytes(2, part)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A length determinant: `0xxxxxxx` for 0..=127, `10xxxxxx xxxxxxxx` for up to 16383,
    /// `11......` for the fragmented form, refused.
    pub(super) fn length(&mut self, part: Part) -> Result<usize, UdptlError> {
        let b0 = self.u8(part)?;
        match b0 >> 6 {
            0 | 1 => Ok(usize::from(b0)),
            2 => Ok((usize::from(b0 & 0x3F) << 8) | usize::from(self.u8(part)?)),
            _ => Err(UdptlError::Fragmented(part)),
        }
    }

    /// A determinant and the octets it counts (an octet string, or an open type's contents).
    pub(super) fn field(&mut self, part: Part) -> Result<&'a [u8], UdptlError> {
        let n = self.length(part)?;
        self.bytes(n, part)
    }
}

/// A cursor over an output buffer the caller has checked is long enough for everything
/// written (`UdptlPacket::emit` checks it against `buffer_len`).
pub(super) struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    pub(super) fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Octets written so far.
    pub(super) fn len(&self) -> usize {
        self.pos
    }

    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }

    /// A length determinant of `len`, at most [`MAX_FIELD_LEN`].
    pub(super) fn length(&mut self, len: usize) {
        if len < 0x80 {
            self.bytes(&[len as u8]);
        } else {
            self.bytes(&[0x80 | (len >> 8) as u8, len as u8]);
        }
    }

    /// A determinant and `b`.
    pub(super) fn field(&mut self, b: &[u8]) {
        self.length(b.len());
        self.bytes(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn determinants_read_back_what_was_written() {
        for len in [0, 1, 127, 128, 200, 255, 256, 0x1234, MAX_FIELD_LEN] {
            let mut buf = [0u8; 2];
            let mut w = Writer::new(&mut buf);
            w.length(len);
            let n = w.len();
            assert_eq!(n, det_len(len));
            let mut r = Reader::new(&buf[..n]);
            assert_eq!(r.length(Part::Primary), Ok(len));
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn two_octet_form_and_fragmentation() {
        // 200 = 0x00C8: 10 000000 11001000.
        assert_eq!(Reader::new(&[0x80, 0xC8]).length(Part::Primary), Ok(200));
        // A non-minimal two-octet form of 5 is still a length of 5.
        assert_eq!(Reader::new(&[0x80, 0x05]).length(Part::Primary), Ok(5));
        assert_eq!(
            Reader::new(&[0x80]).length(Part::Secondary),
            Err(UdptlError::Truncated(Part::Secondary))
        );
        assert_eq!(
            Reader::new(&[0xC1]).length(Part::FecData),
            Err(UdptlError::Fragmented(Part::FecData))
        );
    }
}
