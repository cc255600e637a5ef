//! Goodbye (RFC 3550 §6.6): the sources leaving and an optional reason.

use super::{RtcpError, RtcpPacket, be32, emit_header, packet_type};

/// The SSRC/CSRC list of a BYE: wire form or values to emit.
#[derive(Clone, Copy, Debug)]
pub enum SsrcList<'a> {
    /// A multiple of 4 octets.
    Wire(&'a [u8]),
    /// Values to emit.
    Values(&'a [u32]),
}

impl<'a> SsrcList<'a> {
    /// Number of sources.
    pub fn len(&self) -> usize {
        match self {
            SsrcList::Wire(b) => b.len() / 4,
            SsrcList::Values(v) => v.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The sources in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let (wire, vals): (&'a [u8], &'a [u32]) = match *self {
            SsrcList::Wire(b) => (b, &[]),
            SsrcList::Values(v) => (&[], v),
        };
        wire.chunks_exact(4)
            .map(|c| be32(c, 0))
            .chain(vals.iter().copied())
    }
}

impl PartialEq for SsrcList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}
impl Eq for SsrcList<'_> {}

/// A BYE packet (PT 203).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByeRepr<'a> {
    /// The sources leaving.
    pub sources: SsrcList<'a>,
    /// Reason for leaving.
    pub reason: Option<&'a [u8]>,
}

impl<'a> ByeRepr<'a> {
    /// Parses a BYE.
    pub fn parse(p: &RtcpPacket<'a>) -> Result<Self, RtcpError> {
        if p.packet_type() != packet_type::BYE {
            return Err(RtcpError::WrongType(p.packet_type()));
        }
        let body = p.body();
        let n = 4 * usize::from(p.count());
        if body.len() < n {
            return Err(RtcpError::Body {
                packet_type: p.packet_type(),
                count: p.count(),
                len: body.len(),
            });
        }
        let reason = match body.get(n) {
            None => None,
            Some(&len) => {
                let end = n + 1 + usize::from(len);
                if end > body.len() {
                    return Err(RtcpError::ByeReason(usize::from(len)));
                }
                Some(&body[n + 1..end])
            }
        };
        Ok(ByeRepr {
            sources: SsrcList::Wire(&body[..n]),
            reason,
        })
    }
    /// Emitted length.
    pub fn buffer_len(&self) -> usize {
        let reason = self.reason.map_or(0, |r| (1 + r.len()).div_ceil(4) * 4);
        4 + 4 * self.sources.len() + reason
    }
    /// Writes the BYE, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, RtcpError> {
        if let Some(r) = self.reason
            && r.len() > 255
        {
            return Err(RtcpError::TextTooLong(r.len()));
        }
        let len = self.buffer_len();
        emit_header(buf, self.sources.len(), packet_type::BYE, len)?;
        let mut o = 4;
        for s in self.sources.iter() {
            buf[o..o + 4].copy_from_slice(&s.to_be_bytes());
            o += 4;
        }
        if let Some(r) = self.reason {
            buf[o..len].fill(0);
            buf[o] = r.len() as u8;
            buf[o + 1..o + 1 + r.len()].copy_from_slice(r);
        }
        Ok(len)
    }
}
