//! The sending side of one RTP source (RFC 3550 §5.1): random initial SSRC, sequence number
//! and timestamp, the sequence incremented per packet, the timestamp per sample, and the
//! marker bit on the first packet of each talkspurt (RFC 3551 §4.1).

use super::{RtpError, RtpRepr};
use tipring_rng::SplitMix64;

/// One outgoing RTP stream.
#[derive(Clone, Debug)]
pub struct RtpSender {
    ssrc: u32,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    /// The next packet starts a talkspurt.
    talkspurt_start: bool,
    packet_count: u32,
    octet_count: u32,
}

impl RtpSender {
    /// A sender whose SSRC, first sequence number and first timestamp are drawn from `rng`.
    pub fn new(payload_type: u8, rng: &mut SplitMix64) -> Self {
        let r = rng.next_u64();
        let r2 = rng.next_u64();
        RtpSender {
            ssrc: r as u32,
            payload_type,
            sequence_number: (r >> 32) as u16,
            timestamp: r2 as u32,
            talkspurt_start: true,
            packet_count: 0,
            octet_count: 0,
        }
    }

    /// The SSRC of this stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }
    /// The sequence number the next packet will carry.
    pub fn sequence_number(&self) -> u16 {
        self.sequence_number
    }
    /// The timestamp the next media packet will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }
    /// Packets sent so far (for the sender report, RFC 3550 §6.4.1).
    pub fn packet_count(&self) -> u32 {
        self.packet_count
    }
    /// Payload octets sent so far (for the sender report).
    pub fn octet_count(&self) -> u32 {
        self.octet_count
    }

    /// Builds the packet for one frame of `samples` samples into `buf`, returning its length.
    /// The marker is set when this frame starts a talkspurt.
    pub fn send_frame(
        &mut self,
        payload: &[u8],
        samples: u32,
        buf: &mut [u8],
    ) -> Result<usize, RtpError> {
        let marker = self.talkspurt_start;
        let n = self.send_at(self.payload_type, self.timestamp, marker, payload, buf)?;
        self.talkspurt_start = false;
        self.timestamp = self.timestamp.wrapping_add(samples);
        Ok(n)
    }

    /// Lets `samples` of silence pass without a packet (silence suppression): the timestamp
    /// advances and the next frame carries the marker (RFC 3551 §4.1).
    pub fn skip_silence(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.talkspurt_start = true;
    }

    /// Builds a packet with an explicit payload type, timestamp and marker (RFC 4733 events
    /// share the stream's sequence space but carry the event's own timestamp).
    pub fn send_at(
        &mut self,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, RtpError> {
        let repr = RtpRepr::simple(
            payload_type,
            self.sequence_number,
            timestamp,
            self.ssrc,
            marker,
            payload,
        );
        let n = repr.emit(buf)?;
        self.sequence_number = self.sequence_number.wrapping_add(1);
        self.packet_count = self.packet_count.wrapping_add(1);
        self.octet_count = self.octet_count.wrapping_add(payload.len() as u32);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpPacket;

    #[test]
    fn initial_values_come_from_the_seed_and_differ_between_seeds() {
        let a = RtpSender::new(0, &mut SplitMix64::new(1));
        let b = RtpSender::new(0, &mut SplitMix64::new(1));
        let c = RtpSender::new(0, &mut SplitMix64::new(2));
        assert_eq!(
            (a.ssrc(), a.sequence_number(), a.timestamp()),
            (b.ssrc(), b.sequence_number(), b.timestamp())
        );
        assert_ne!(a.ssrc(), c.ssrc());
        assert_ne!(a.timestamp(), c.timestamp());
    }

    #[test]
    fn sequence_and_timestamp_advance_and_marker_starts_talkspurts() {
        let mut s = RtpSender::new(8, &mut SplitMix64::new(7));
        let (seq0, ts0) = (s.sequence_number(), s.timestamp());
        let mut buf = [0u8; 200];
        let mut marks = Vec::new();
        for i in 0..6 {
            if i == 3 {
                s.skip_silence(800);
            }
            let n = s.send_frame(&[0xD5; 160], 160, &mut buf).unwrap();
            let p = RtpPacket::new_checked(&buf[..n]).unwrap();
            assert_eq!(p.payload_type(), 8);
            assert_eq!(p.sequence_number(), seq0.wrapping_add(i));
            let gap = if i >= 3 { 800 } else { 0 };
            assert_eq!(p.timestamp(), ts0.wrapping_add(160 * u32::from(i) + gap));
            marks.push(p.marker());
        }
        assert_eq!(marks, [true, false, false, true, false, false]);
        assert_eq!(s.packet_count(), 6);
        assert_eq!(s.octet_count(), 960);
    }
}
