//! Sender and receiver reports and their report blocks (RFC 3550 §6.4.1, §6.4.2).

use super::{RtcpError, RtcpPacket, be32, emit_header, packet_type};
use crate::rtp::ReceptionReport;

/// Length of one report block.
const BLOCK_LEN: usize = 24;
/// Length of the sender info.
const SENDER_INFO_LEN: usize = 20;

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// SSRC_n: the source reported on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter, timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (0 if none).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s (0 if none).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// A block from receiver statistics plus the LSR/DLSR the caller tracked.
    pub fn from_reception(r: &ReceptionReport, last_sr: u32, delay_since_last_sr: u32) -> Self {
        ReportBlock {
            ssrc: r.ssrc,
            fraction_lost: r.fraction_lost,
            cumulative_lost: r.cumulative_lost,
            extended_highest_sequence: r.extended_highest_sequence,
            jitter: r.jitter,
            last_sr,
            delay_since_last_sr,
        }
    }

    fn parse(b: &[u8]) -> Self {
        let lost = (i32::from(b[5]) << 16) | (i32::from(b[6]) << 8) | i32::from(b[7]);
        // Sign-extend the 24-bit field.
        let lost = (lost << 8) >> 8;
        ReportBlock {
            ssrc: be32(b, 0),
            fraction_lost: b[4],
            cumulative_lost: lost,
            extended_highest_sequence: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        }
    }

    fn emit(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        b[4] = self.fraction_lost;
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32;
        b[5..8].copy_from_slice(&lost.to_be_bytes()[1..]);
        b[8..12].copy_from_slice(&self.extended_highest_sequence.to_be_bytes());
        b[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        b[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        b[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// The report blocks of a report: parsed from bytes or given for emission.
#[derive(Clone, Copy, Debug)]
pub enum ReportBlocks<'a> {
    /// Blocks still in wire form (a multiple of 24 octets).
    Wire(&'a [u8]),
    /// Blocks to emit.
    Blocks(&'a [ReportBlock]),
}

impl<'a> ReportBlocks<'a> {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        match self {
            ReportBlocks::Wire(b) => b.len() / BLOCK_LEN,
            ReportBlocks::Blocks(b) => b.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The blocks in order.
    pub fn iter(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        let (wire, blocks): (&'a [u8], &'a [ReportBlock]) = match *self {
            ReportBlocks::Wire(b) => (b, &[]),
            ReportBlocks::Blocks(b) => (&[], b),
        };
        wire.chunks_exact(BLOCK_LEN)
            .map(ReportBlock::parse)
            .chain(blocks.iter().copied())
    }
    fn emit(&self, buf: &mut [u8]) {
        for (i, b) in self.iter().enumerate() {
            b.emit(&mut buf[i * BLOCK_LEN..(i + 1) * BLOCK_LEN]);
        }
    }
}

impl PartialEq for ReportBlocks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}
impl Eq for ReportBlocks<'_> {}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// NTP timestamp of this report (64-bit fixed point seconds since 1900).
    pub ntp_timestamp: u64,
    /// The RTP timestamp corresponding to the same instant.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
}

fn blocks_of<'a>(p: &RtcpPacket<'a>, fixed: usize) -> Result<&'a [u8], RtcpError> {
    let body = p.body();
    let need = fixed + BLOCK_LEN * usize::from(p.count());
    if body.len() < need {
        return Err(RtcpError::Body {
            packet_type: p.packet_type(),
            count: p.count(),
            len: body.len(),
        });
    }
    // Octets after the blocks are a profile-specific extension, ignored (§6.4.1).
    Ok(&body[fixed..need])
}

/// A sender report (PT 200).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderReportRepr<'a> {
    /// SSRC of the sender.
    pub ssrc: u32,
    /// Sender info.
    pub sender_info: SenderInfo,
    /// Reception reports.
    pub reports: ReportBlocks<'a>,
}

impl<'a> SenderReportRepr<'a> {
    /// Parses an SR.
    pub fn parse(p: &RtcpPacket<'a>) -> Result<Self, RtcpError> {
        if p.packet_type() != packet_type::SR {
            return Err(RtcpError::WrongType(p.packet_type()));
        }
        let wire = blocks_of(p, 4 + SENDER_INFO_LEN)?;
        let b = p.body();
        Ok(SenderReportRepr {
            ssrc: be32(b, 0),
            sender_info: SenderInfo {
                ntp_timestamp: (u64::from(be32(b, 4)) << 32) | u64::from(be32(b, 8)),
                rtp_timestamp: be32(b, 12),
                packet_count: be32(b, 16),
                octet_count: be32(b, 20),
            },
            reports: ReportBlocks::Wire(wire),
        })
    }
    /// Emitted length.
    pub fn buffer_len(&self) -> usize {
        4 + 4 + SENDER_INFO_LEN + BLOCK_LEN * self.reports.len()
    }
    /// Writes the SR, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, RtcpError> {
        let len = self.buffer_len();
        emit_header(buf, self.reports.len(), packet_type::SR, len)?;
        let s = &self.sender_info;
        buf[4..8].copy_from_slice(&self.ssrc.to_be_bytes());
        buf[8..16].copy_from_slice(&s.ntp_timestamp.to_be_bytes());
        buf[16..20].copy_from_slice(&s.rtp_timestamp.to_be_bytes());
        buf[20..24].copy_from_slice(&s.packet_count.to_be_bytes());
        buf[24..28].copy_from_slice(&s.octet_count.to_be_bytes());
        self.reports.emit(&mut buf[28..len]);
        Ok(len)
    }
}

/// A receiver report (PT 201).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverReportRepr<'a> {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    /// Reception reports.
    pub reports: ReportBlocks<'a>,
}

impl<'a> ReceiverReportRepr<'a> {
    /// Parses an RR.
    pub fn parse(p: &RtcpPacket<'a>) -> Result<Self, RtcpError> {
        if p.packet_type() != packet_type::RR {
            return Err(RtcpError::WrongType(p.packet_type()));
        }
        let wire = blocks_of(p, 4)?;
        Ok(ReceiverReportRepr {
            ssrc: be32(p.body(), 0),
            reports: ReportBlocks::Wire(wire),
        })
    }
    /// Emitted length.
    pub fn buffer_len(&self) -> usize {
        8 + BLOCK_LEN * self.reports.len()
    }
    /// Writes the RR, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, RtcpError> {
        let len = self.buffer_len();
        emit_header(buf, self.reports.len(), packet_type::RR, len)?;
        buf[4..8].copy_from_slice(&self.ssrc.to_be_bytes());
        self.reports.emit(&mut buf[8..len]);
        Ok(len)
    }
}
