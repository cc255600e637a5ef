//! The RTP fixed header (RFC 3550 §5.1, §5.3.1): a checked view over bytes and a plain
//! representation that parses from and emits into it.

use super::RtpError;

/// Length of the fixed header, before CSRCs (RFC 3550 §5.1).
pub const HEADER_LEN: usize = 12;
/// The only RTP version in use (RFC 3550 §5.1, field V).
pub const VERSION: u8 = 2;
/// At most 15 contributing sources fit the 4-bit CC field (RFC 3550 §5.1).
pub const MAX_CSRCS: usize = 15;

/// A checked view of an RTP packet. After [`RtpPacket::new_checked`] succeeds, no accessor
/// can panic: the header, CSRC list, extension and padding all lie within the buffer.
#[derive(Clone, Copy, Debug)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    /// Offset of the payload (after CSRCs and extension).
    payload_start: usize,
    /// Offset one past the payload (before padding).
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Validates `buf` as an RTP packet (RFC 3550 §5.1, §5.3.1).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::Truncated {
                needed: HEADER_LEN,
                len: buf.len(),
            });
        }
        let version = buf[0] >> 6;
        if version != VERSION {
            return Err(RtpError::Version(version));
        }
        let mut start = HEADER_LEN + 4 * usize::from(buf[0] & 0x0F);
        if buf.len() < start {
            return Err(RtpError::Truncated {
                needed: start,
                len: buf.len(),
            });
        }
        if buf[0] & 0x10 != 0 {
            // Extension header: profile (16 bits) and length in 32-bit words (§5.3.1).
            if buf.len() < start + 4 {
                return Err(RtpError::Truncated {
                    needed: start + 4,
                    len: buf.len(),
                });
            }
            let words = usize::from(u16::from_be_bytes([buf[start + 2], buf[start + 3]]));
            start += 4 + 4 * words;
            if buf.len() < start {
                return Err(RtpError::Truncated {
                    needed: start,
                    len: buf.len(),
                });
            }
        }
        let mut end = buf.len();
        if buf[0] & 0x20 != 0 {
            // The last octet counts the padding octets, itself included (§5.1, field P).
            let pad = usize::from(buf[buf.len() - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::Padding {
                    count: pad,
                    available: end - start,
                });
            }
            end -= pad;
        }
        Ok(RtpPacket {
            buf,
            payload_start: start,
            payload_end: end,
        })
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
    /// Field V.
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }
    /// Field P: padding octets follow the payload.
    pub fn padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }
    /// Field X: a header extension follows the CSRCs.
    pub fn extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }
    /// Field CC: number of CSRCs.
    pub fn csrc_count(&self) -> usize {
        usize::from(self.buf[0] & 0x0F)
    }
    /// Field M: for audio, the first packet of a talkspurt (RFC 3551 §4.1).
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }
    /// Field PT.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7F
    }
    /// Field sequence number.
    pub fn sequence_number(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }
    /// Field timestamp.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }
    /// Field SSRC.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }
    /// The `i`th CSRC, if present.
    pub fn csrc(&self, i: usize) -> Option<u32> {
        if i >= self.csrc_count() {
            return None;
        }
        let o = HEADER_LEN + 4 * i;
        Some(u32::from_be_bytes([
            self.buf[o],
            self.buf[o + 1],
            self.buf[o + 2],
            self.buf[o + 3],
        ]))
    }
    /// The header extension: profile-defined 16 bits and the data (§5.3.1).
    pub fn header_extension(&self) -> Option<(u16, &'a [u8])> {
        if !self.extension() {
            return None;
        }
        let o = HEADER_LEN + 4 * self.csrc_count();
        let profile = u16::from_be_bytes([self.buf[o], self.buf[o + 1]]);
        Some((profile, &self.buf[o + 4..self.payload_start]))
    }
    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }
    /// Number of padding octets (0 when P is clear).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }
}

/// A plain representation of an RTP packet. CSRCs are held in a fixed array so that
/// parsing allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpRepr<'a> {
    /// Field M.
    pub marker: bool,
    /// Field PT (7 bits).
    pub payload_type: u8,
    /// Field sequence number.
    pub sequence_number: u16,
    /// Field timestamp.
    pub timestamp: u32,
    /// Field SSRC.
    pub ssrc: u32,
    /// Number of valid entries in `csrcs`.
    pub csrc_count: u8,
    /// Contributing sources; only the first `csrc_count` are meaningful.
    pub csrcs: [u32; MAX_CSRCS],
    /// Header extension: profile-defined 16 bits and data (a multiple of 4 octets).
    pub extension: Option<(u16, &'a [u8])>,
    /// Payload.
    pub payload: &'a [u8],
    /// Number of padding octets to append (0 for none; emitted with the P bit).
    pub padding: u8,
}

impl<'a> RtpRepr<'a> {
    /// A packet with no CSRCs, extension or padding.
    pub fn simple(
        payload_type: u8,
        sequence_number: u16,
        timestamp: u32,
        ssrc: u32,
        marker: bool,
        payload: &'a [u8],
    ) -> Self {
        RtpRepr {
            marker,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrc_count: 0,
            csrcs: [0; MAX_CSRCS],
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// Reads the representation out of a checked view.
    pub fn parse(packet: &RtpPacket<'a>) -> Self {
        let mut csrcs = [0; MAX_CSRCS];
        for (i, c) in csrcs.iter_mut().enumerate().take(packet.csrc_count()) {
            *c = packet.csrc(i).unwrap_or(0);
        }
        RtpRepr {
            marker: packet.marker(),
            payload_type: packet.payload_type(),
            sequence_number: packet.sequence_number(),
            timestamp: packet.timestamp(),
            ssrc: packet.ssrc(),
            csrc_count: packet.csrc_count() as u8,
            csrcs,
            extension: packet.header_extension(),
            payload: packet.payload(),
            padding: packet.padding_len() as u8,
        }
    }

    /// Checks and parses `buf` in one step.
    pub fn parse_bytes(buf: &'a [u8]) -> Result<Self, RtpError> {
        Ok(Self::parse(&RtpPacket::new_checked(buf)?))
    }

    /// The contributing sources in use.
    pub fn csrcs(&self) -> &[u32] {
        &self.csrcs[..usize::from(self.csrc_count).min(MAX_CSRCS)]
    }

    /// Length of the header (fixed part, CSRCs, extension).
    pub fn header_len(&self) -> usize {
        HEADER_LEN
            + 4 * usize::from(self.csrc_count)
            + self.extension.map_or(0, |(_, d)| 4 + d.len())
    }

    /// Length of the whole packet as emitted.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len() + usize::from(self.padding)
    }

    /// Writes the packet into `buf`, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        if usize::from(self.csrc_count) > MAX_CSRCS {
            return Err(RtpError::TooManyCsrcs(usize::from(self.csrc_count)));
        }
        if self.payload_type > 0x7F {
            return Err(RtpError::PayloadType(self.payload_type));
        }
        if let Some((_, data)) = self.extension
            && (data.len() % 4 != 0 || data.len() / 4 > usize::from(u16::MAX))
        {
            return Err(RtpError::ExtensionLength(data.len()));
        }
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(RtpError::BufferTooSmall {
                needed: len,
                len: buf.len(),
            });
        }
        buf[0] = (VERSION << 6)
            | if self.padding > 0 { 0x20 } else { 0 }
            | if self.extension.is_some() { 0x10 } else { 0 }
            | self.csrc_count;
        buf[1] = (u8::from(self.marker) << 7) | self.payload_type;
        buf[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        buf[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        let mut o = HEADER_LEN;
        for c in self.csrcs() {
            buf[o..o + 4].copy_from_slice(&c.to_be_bytes());
            o += 4;
        }
        if let Some((profile, data)) = self.extension {
            buf[o..o + 2].copy_from_slice(&profile.to_be_bytes());
            buf[o + 2..o + 4].copy_from_slice(&((data.len() / 4) as u16).to_be_bytes());
            buf[o + 4..o + 4 + data.len()].copy_from_slice(data);
            o += 4 + data.len();
        }
        buf[o..o + self.payload.len()].copy_from_slice(self.payload);
        o += self.payload.len();
        if self.padding > 0 {
            let p = usize::from(self.padding);
            buf[o..o + p - 1].fill(0);
            buf[o + p - 1] = self.padding;
            o += p;
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse_round_trips_every_field() {
        let ext = [1, 2, 3, 4, 5, 6, 7, 8];
        let payload = [0xAB; 160];
        let mut repr = RtpRepr::simple(8, 0xFFFE, 0xDEAD_BEEF, 0x1234_5678, true, &payload);
        repr.csrc_count = 2;
        repr.csrcs[0] = 11;
        repr.csrcs[1] = 22;
        repr.extension = Some((0xBEDE, &ext));
        repr.padding = 3;
        let mut buf = [0u8; 256];
        let n = repr.emit(&mut buf).unwrap();
        assert_eq!(n, 12 + 8 + 4 + 8 + 160 + 3);
        let view = RtpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(view.version(), 2);
        assert!(view.padding() && view.extension());
        assert_eq!(view.payload().len(), 160);
        assert_eq!(RtpRepr::parse(&view), repr);
    }

    #[test]
    fn known_bytes_parse_to_known_fields() {
        // V=2, CC=0, M=1, PT=0, seq=0x0102, ts=0x03040506, ssrc=0x0708090A, payload "hi".
        let bytes = [
            0x80, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, b'h', b'i',
        ];
        let r = RtpRepr::parse_bytes(&bytes).unwrap();
        assert!(r.marker);
        assert_eq!(r.payload_type, 0);
        assert_eq!(r.sequence_number, 0x0102);
        assert_eq!(r.timestamp, 0x0304_0506);
        assert_eq!(r.ssrc, 0x0708_090A);
        assert_eq!(r.payload, b"hi");
    }

    #[test]
    fn malformed_packets_give_typed_errors() {
        assert_eq!(
            RtpPacket::new_checked(&[0x80; 5]).err(),
            Some(RtpError::Truncated { needed: 12, len: 5 })
        );
        let mut b = [0u8; 12];
        b[0] = 0x40;
        assert_eq!(RtpPacket::new_checked(&b).err(), Some(RtpError::Version(1)));
        b[0] = 0x83; // three CSRCs announced, none present
        assert_eq!(
            RtpPacket::new_checked(&b).err(),
            Some(RtpError::Truncated {
                needed: 24,
                len: 12
            })
        );
        let mut p = [0u8; 14];
        p[0] = 0xA0; // padding with a count larger than what follows the header
        p[13] = 5;
        assert_eq!(
            RtpPacket::new_checked(&p).err(),
            Some(RtpError::Padding {
                count: 5,
                available: 2
            })
        );
        p[13] = 0;
        assert!(matches!(
            RtpPacket::new_checked(&p),
            Err(RtpError::Padding { count: 0, .. })
        ));
        let mut x = [0u8; 16];
        x[0] = 0x90; // extension of 1 word announced but absent
        x[15] = 1;
        assert_eq!(
            RtpPacket::new_checked(&x).err(),
            Some(RtpError::Truncated {
                needed: 20,
                len: 16
            })
        );
    }

    #[test]
    fn emit_refuses_a_short_buffer() {
        let r = RtpRepr::simple(0, 1, 2, 3, false, &[0; 160]);
        assert_eq!(
            r.emit(&mut [0u8; 100]),
            Err(RtpError::BufferTooSmall {
                needed: 172,
                len: 100
            })
        );
    }
}
