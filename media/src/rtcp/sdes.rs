//! Source description (RFC 3550 §6.5): chunks of an SSRC and items, of which this crate
//! builds and reads CNAME (§6.5.1); other items are skipped when parsing.

use super::{RtcpError, RtcpPacket, be32, emit_header, packet_type};

/// Item type of CNAME (RFC 3550 §6.5.1).
const CNAME: u8 = 1;

/// One SDES chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    /// Its canonical name, if the chunk carries one.
    pub cname: Option<&'a [u8]>,
}

impl SdesChunk<'_> {
    fn wire_len(&self) -> usize {
        // SSRC, the item, then at least one null octet, padded to 32 bits.
        let items = self.cname.map_or(0, |c| 2 + c.len());
        (4 + items + 1).div_ceil(4) * 4
    }
}

/// The chunks of an SDES packet: validated wire form or chunks to emit.
#[derive(Clone, Copy, Debug)]
pub enum SdesChunks<'a> {
    /// Validated chunk octets and the chunk count.
    Wire(&'a [u8], usize),
    /// Chunks to emit.
    Chunks(&'a [SdesChunk<'a>]),
}

/// Walks one chunk at `o` in `b`; returns the chunk and the offset after it.
fn walk(b: &[u8], o: usize, chunk: usize) -> Result<(SdesChunk<'_>, usize), RtcpError> {
    let err = |offset| RtcpError::Sdes { chunk, offset };
    if b.len() < o + 4 {
        return Err(err(o));
    }
    let ssrc = be32(b, o);
    let mut i = o + 4;
    let mut cname = None;
    loop {
        let Some(&ty) = b.get(i) else {
            return Err(err(i));
        };
        if ty == 0 {
            // End of items; skip to the next 32-bit boundary.
            let next = (i + 1).div_ceil(4) * 4;
            if next > b.len() {
                return Err(err(i));
            }
            return Ok((SdesChunk { ssrc, cname }, next));
        }
        let Some(&len) = b.get(i + 1) else {
            return Err(err(i));
        };
        let end = i + 2 + usize::from(len);
        if end > b.len() {
            return Err(err(i));
        }
        if ty == CNAME {
            cname = Some(&b[i + 2..end]);
        }
        i = end;
    }
}

impl<'a> SdesChunks<'a> {
    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self {
            SdesChunks::Wire(_, n) => *n,
            SdesChunks::Chunks(c) => c.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The chunks in order.
    pub fn iter(&self) -> impl Iterator<Item = SdesChunk<'a>> + 'a {
        let (wire, n, given): (&'a [u8], usize, &'a [SdesChunk<'a>]) = match *self {
            SdesChunks::Wire(b, n) => (b, n, &[]),
            SdesChunks::Chunks(c) => (&[], 0, c),
        };
        let mut o = 0;
        let mut k = 0;
        core::iter::from_fn(move || {
            if k >= n {
                return None;
            }
            let (c, next) = walk(wire, o, k).ok()?;
            o = next;
            k += 1;
            Some(c)
        })
        .chain(given.iter().copied())
    }
}

impl PartialEq for SdesChunks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}
impl Eq for SdesChunks<'_> {}

/// An SDES packet (PT 202).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesRepr<'a> {
    /// The chunks.
    pub chunks: SdesChunks<'a>,
}

impl<'a> SdesRepr<'a> {
    /// Parses and validates every chunk.
    pub fn parse(p: &RtcpPacket<'a>) -> Result<Self, RtcpError> {
        if p.packet_type() != packet_type::SDES {
            return Err(RtcpError::WrongType(p.packet_type()));
        }
        let body = p.body();
        let n = usize::from(p.count());
        let mut o = 0;
        for k in 0..n {
            o = walk(body, o, k)?.1;
        }
        Ok(SdesRepr {
            chunks: SdesChunks::Wire(&body[..o], n),
        })
    }
    /// Emitted length.
    pub fn buffer_len(&self) -> usize {
        4 + self.chunks.iter().map(|c| c.wire_len()).sum::<usize>()
    }
    /// Writes the SDES packet, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, RtcpError> {
        for c in self.chunks.iter() {
            if let Some(n) = c.cname
                && n.len() > 255
            {
                return Err(RtcpError::TextTooLong(n.len()));
            }
        }
        let len = self.buffer_len();
        emit_header(buf, self.chunks.len(), packet_type::SDES, len)?;
        let mut o = 4;
        for c in self.chunks.iter() {
            let end = o + c.wire_len();
            buf[o..end].fill(0);
            buf[o..o + 4].copy_from_slice(&c.ssrc.to_be_bytes());
            if let Some(name) = c.cname {
                buf[o + 4] = CNAME;
                buf[o + 5] = name.len() as u8;
                buf[o + 6..o + 6 + name.len()].copy_from_slice(name);
            }
            o = end;
        }
        Ok(len)
    }
}
