//! The session's RTCP (RFC 3550 §6): an SR while we send, else an RR, with one report
//! block on the far source and an SDES CNAME, at the randomised §6.3 interval; the far
//! end's SRs give the LSR and DLSR of our blocks (§6.4.1).

use super::Identity;
use crate::instant::Instant;
use crate::rtcp::{
    ReceiverReportRepr, ReportBlock, ReportBlocks, ReportInterval, ReportIntervalConfig,
    RtcpCompound, SdesChunk, SdesChunks, SdesRepr, SenderInfo, SenderReportRepr, dlsr_from_micros,
    ntp_middle,
};
use crate::rtp::{RtpReceiver, RtpSender, SplitMix64};

/// Members of the session: us and the far end (a unicast call).
const MEMBERS: u32 = 2;
/// Length of the CNAME: a prefix and 128 random bits in hex (RFC 7022 §4.2).
const CNAME_LEN: usize = 8 + 32;

/// When and what to report.
pub(super) struct Reporter {
    cname: [u8; CNAME_LEN],
    interval: ReportInterval,
    rng: SplitMix64,
    next: Option<Instant>,
    /// LSR (the middle 32 bits of the far end's last SR) and when that SR arrived.
    last_sr: Option<(u32, Instant)>,
    ntp_at_zero: u64,
}

impl Reporter {
    pub(super) fn new(id: &Identity) -> Reporter {
        let mut cname = [0u8; CNAME_LEN];
        cname[..8].copy_from_slice(b"tipring-");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in id.cname.iter().enumerate() {
            cname[8 + 2 * i] = HEX[usize::from(b >> 4)];
            cname[9 + 2 * i] = HEX[usize::from(b & 15)];
        }
        Reporter {
            cname,
            interval: ReportInterval::new(ReportIntervalConfig::default(), 52),
            rng: SplitMix64::new(id.rtcp_seed),
            next: None,
            last_sr: None,
            ntp_at_zero: id.ntp_at_zero,
        }
    }

    pub(super) fn cname(&self) -> &[u8] {
        &self.cname
    }

    /// When the next report is due, once the first has been scheduled.
    pub(super) fn next(&self) -> Option<Instant> {
        self.next
    }

    /// A compound from the far end's host; `false` if it does not parse.
    pub(super) fn on_compound(&mut self, now: Instant, d: &[u8]) -> bool {
        let Ok(c) = RtcpCompound::new_checked(d) else {
            return false;
        };
        self.interval.on_rtcp_packet(d.len());
        for p in c.packets() {
            if let Ok(sr) = SenderReportRepr::parse(&p) {
                self.last_sr = Some((ntp_middle(sr.sender_info.ntp_timestamp), now));
            }
        }
        true
    }

    /// Whether a report is due at `now` (the first interval starts at the first call).
    pub(super) fn due(&mut self, now: Instant, senders: u32, we_sent: bool) -> bool {
        if self.next.is_none() {
            self.schedule(now, senders, we_sent);
        }
        self.next.is_some_and(|t| now >= t)
    }

    /// The next report falls due one randomised interval after `now`.
    pub(super) fn schedule(&mut self, now: Instant, senders: u32, we_sent: bool) {
        let us = self
            .interval
            .next_interval_us(MEMBERS, senders, we_sent, &mut self.rng);
        self.next = Some(now + us);
    }

    /// The NTP timestamp (RFC 3550 §4) of `now`.
    fn ntp(&self, now: Instant) -> u64 {
        let us = now.as_micros();
        let secs = us / 1_000_000;
        let frac = ((us % 1_000_000) << 32) / 1_000_000;
        self.ntp_at_zero.wrapping_add(secs << 32).wrapping_add(frac)
    }

    /// Writes the compound due at `now` into `buf`: SR (or RR before we send) and SDES.
    pub(super) fn emit(
        &mut self,
        now: Instant,
        tx: &RtpSender,
        rx: &mut RtpReceiver,
        buf: &mut [u8],
    ) -> Option<usize> {
        let mut block = [ReportBlock::default()];
        let blocks: &[ReportBlock] = match rx.report() {
            Some(r) => {
                let (lsr, dlsr) = match self.last_sr {
                    Some((lsr, at)) => (
                        lsr,
                        dlsr_from_micros(now.as_micros().saturating_sub(at.as_micros())),
                    ),
                    None => (0, 0),
                };
                block[0] = ReportBlock::from_reception(&r, lsr, dlsr);
                &block
            }
            None => &[],
        };
        let n = if tx.packet_count() > 0 {
            SenderReportRepr {
                ssrc: tx.ssrc(),
                sender_info: SenderInfo {
                    ntp_timestamp: self.ntp(now),
                    rtp_timestamp: tx.timestamp(),
                    packet_count: tx.packet_count(),
                    octet_count: tx.octet_count(),
                },
                reports: ReportBlocks::Blocks(blocks),
            }
            .emit(buf)
        } else {
            ReceiverReportRepr {
                ssrc: tx.ssrc(),
                reports: ReportBlocks::Blocks(blocks),
            }
            .emit(buf)
        };
        // RFC 3550 §6.1: every compound carries an SDES CNAME.
        let chunk = [SdesChunk {
            ssrc: tx.ssrc(),
            cname: Some(&self.cname),
        }];
        let n = n
            .and_then(|n| {
                SdesRepr {
                    chunks: SdesChunks::Chunks(&chunk),
                }
                .emit(&mut buf[n..])
                .map(|m| n + m)
            })
            .ok()?;
        self.interval.on_rtcp_packet(n);
        self.interval.on_report_sent();
        Some(n)
    }
}
