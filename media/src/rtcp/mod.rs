//! RTCP, the RTP Control Protocol (RFC 3550 §6): sender and receiver reports, source
//! descriptions (CNAME), BYE, compound packets, and the report interval.

mod bye;
mod header;
mod interval;
mod report;
mod sdes;

pub use bye::{ByeRepr, SsrcList};
pub use header::{RtcpCompound, RtcpPacket, packet_type};
pub use interval::{ReportInterval, ReportIntervalConfig};
pub use report::{ReceiverReportRepr, ReportBlock, ReportBlocks, SenderInfo, SenderReportRepr};
pub use sdes::{SdesChunk, SdesChunks, SdesRepr};

/// What is wrong with an RTCP packet, or why one cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// The buffer ends before a part the header announces.
    #[error("RTCP truncated at offset {offset}: {needed} octets needed, {len} present")]
    Truncated {
        offset: usize,
        needed: usize,
        len: usize,
    },
    /// Field V is not 2 (RFC 3550 §6.4.1).
    #[error("RTCP version {version} at offset {offset}, expected 2")]
    Version { offset: usize, version: u8 },
    /// The padding count is zero or larger than the packet body (RFC 3550 §6.4.1, P).
    #[error("RTCP padding count {count} invalid at offset {offset}")]
    Padding { offset: usize, count: usize },
    /// Padding on a packet that is not the last of a compound (RFC 3550 A.2).
    #[error("RTCP padding on a packet that is not the last, at offset {0}")]
    PaddingNotLast(usize),
    /// A compound packet must begin with SR or RR (RFC 3550 §6.1, A.2).
    #[error("compound RTCP begins with packet type {0}, not SR or RR")]
    FirstNotReport(u8),
    /// A packet body too short for the count in its header.
    #[error("RTCP packet type {packet_type}: body of {len} octets too short for count {count}")]
    Body {
        packet_type: u8,
        count: u8,
        len: usize,
    },
    /// An SDES chunk runs past its packet (RFC 3550 §6.5).
    #[error("SDES chunk {chunk} malformed at body offset {offset}")]
    Sdes { chunk: usize, offset: usize },
    /// The BYE reason runs past its packet (RFC 3550 §6.6).
    #[error("BYE reason of {0} octets runs past the packet")]
    ByeReason(usize),
    /// The packet is not of the type asked for.
    #[error("RTCP packet type {0} is not the expected type")]
    WrongType(u8),
    /// Too many report blocks, sources or chunks for the 5-bit count field.
    #[error("{0} items do not fit the 5-bit count")]
    TooMany(usize),
    /// An SDES item or BYE reason longer than 255 octets.
    #[error("text of {0} octets does not fit one length octet")]
    TextTooLong(usize),
    /// The output buffer is too small.
    #[error("buffer of {len} octets, {needed} needed")]
    BufferTooSmall { needed: usize, len: usize },
}

/// The middle 32 bits of a 64-bit NTP timestamp, as carried in LSR (RFC 3550 §6.4.1).
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A delay in microseconds expressed in units of 1/65536 s, as carried in DLSR
/// (RFC 3550 §6.4.1), saturating at the field's maximum.
pub fn dlsr_from_micros(us: u64) -> u32 {
    u32::try_from(u128::from(us) * 65536 / 1_000_000).unwrap_or(u32::MAX)
}

/// Writes the common header of one packet whose total length is `len` octets.
fn emit_header(buf: &mut [u8], count: usize, packet_type: u8, len: usize) -> Result<(), RtcpError> {
    if count > 31 {
        return Err(RtcpError::TooMany(count));
    }
    if buf.len() < len {
        return Err(RtcpError::BufferTooSmall {
            needed: len,
            len: buf.len(),
        });
    }
    buf[0] = 0x80 | count as u8;
    buf[1] = packet_type;
    buf[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
    Ok(())
}

fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

#[cfg(test)]
mod tests;
