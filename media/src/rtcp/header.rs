//! The RTCP common header (RFC 3550 §6.4.1) and compound-packet validation (§6.1, A.2).

use super::RtcpError;

/// Packet types (RFC 3550 §12.1).
pub mod packet_type {
    /// Sender report.
    pub const SR: u8 = 200;
    /// Receiver report.
    pub const RR: u8 = 201;
    /// Source description.
    pub const SDES: u8 = 202;
    /// Goodbye.
    pub const BYE: u8 = 203;
    /// Application-defined.
    pub const APP: u8 = 204;
}

/// A checked view of one RTCP packet: the header's length lies within the buffer and the
/// padding, if any, within the packet.
#[derive(Clone, Copy, Debug)]
pub struct RtcpPacket<'a> {
    buf: &'a [u8],
    pad: usize,
}

impl<'a> RtcpPacket<'a> {
    /// Validates the packet at the start of `buf` (which may hold more packets after it).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtcpError> {
        Self::check_at(buf, 0)
    }

    fn check_at(buf: &'a [u8], offset: usize) -> Result<Self, RtcpError> {
        if buf.len() < 4 {
            return Err(RtcpError::Truncated {
                offset,
                needed: 4,
                len: buf.len(),
            });
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version { offset, version });
        }
        let total = (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1) * 4;
        if buf.len() < total {
            return Err(RtcpError::Truncated {
                offset,
                needed: total,
                len: buf.len(),
            });
        }
        let mut pad = 0;
        if buf[0] & 0x20 != 0 {
            pad = usize::from(buf[total - 1]);
            if pad == 0 || pad > total - 4 {
                return Err(RtcpError::Padding { offset, count: pad });
            }
        }
        Ok(RtcpPacket {
            buf: &buf[..total],
            pad,
        })
    }

    /// The packet's octets, header and padding included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
    /// Field P.
    pub fn padding(&self) -> bool {
        self.pad > 0
    }
    /// The 5-bit count (RC for SR/RR, SC for SDES/BYE, subtype for APP).
    pub fn count(&self) -> u8 {
        self.buf[0] & 0x1F
    }
    /// Field PT.
    pub fn packet_type(&self) -> u8 {
        self.buf[1]
    }
    /// Length of the packet in octets.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    /// Always false: a packet has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The body after the 4-octet header, without padding.
    pub fn body(&self) -> &'a [u8] {
        &self.buf[4..self.buf.len() - self.pad]
    }
}

/// A checked compound RTCP packet (RFC 3550 §6.1 and the validity checks of A.2): every
/// packet well-formed, lengths adding up to the datagram, the first an SR or RR, padding only
/// on the last.
#[derive(Clone, Copy, Debug)]
pub struct RtcpCompound<'a> {
    buf: &'a [u8],
}

impl<'a> RtcpCompound<'a> {
    /// Validates a whole datagram.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtcpError> {
        let mut offset = 0;
        let mut first = true;
        while offset < buf.len() {
            let p = RtcpPacket::check_at(&buf[offset..], offset)?;
            if first {
                let pt = p.packet_type();
                if pt != super::packet_type::SR && pt != super::packet_type::RR {
                    return Err(RtcpError::FirstNotReport(pt));
                }
                first = false;
            }
            if p.padding() && offset + p.len() != buf.len() {
                return Err(RtcpError::PaddingNotLast(offset));
            }
            offset += p.len();
        }
        if first {
            return Err(RtcpError::Truncated {
                offset: 0,
                needed: 4,
                len: 0,
            });
        }
        Ok(RtcpCompound { buf })
    }

    /// The packets in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut rest = self.buf;
        core::iter::from_fn(move || {
            let p = RtcpPacket::new_checked(rest).ok()?;
            rest = &rest[p.len()..];
            Some(p)
        })
    }
}
