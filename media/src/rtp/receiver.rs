//! Receiver-side statistics of one RTP source, exactly as RFC 3550 Appendix A.1 (sequence
//! validation with probation), A.3 (expected and lost packets, fraction lost) and A.8
//! (interarrival jitter), reported in the form of §6.4.1.

use crate::instant::Instant;

/// Packets in sequence required before a source is valid (A.1, MIN_SEQUENTIAL).
const MIN_SEQUENTIAL: u32 = 2;
/// Largest forward jump still taken as in-sequence (A.1, MAX_DROPOUT).
const MAX_DROPOUT: u32 = 3000;
/// Largest backward jump taken as reordering (A.1, MAX_MISORDER).
const MAX_MISORDER: u32 = 100;
/// The sequence number space (A.1, RTP_SEQ_MOD).
const RTP_SEQ_MOD: u32 = 1 << 16;

/// What [`RtpReceiver::on_packet`] made of a packet's sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqUpdate {
    /// Counted: in sequence, reordered or duplicated (A.1 returns 1).
    Valid,
    /// The source is still on probation; the packet is not counted (A.1 returns 0).
    Probation,
    /// A large jump; dropped unless the next packet confirms it (A.1 returns 0).
    BadJump,
}

/// The figures of one report block (RFC 3550 §6.4.1) except LSR/DLSR, which RTCP adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceptionReport {
    /// SSRC of the source reported on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256 (A.3).
    pub fraction_lost: u8,
    /// Cumulative packets lost, clamped to 24 signed bits (A.3).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received: cycles in the top 16 bits (A.1).
    pub extended_highest_sequence: u32,
    /// Interarrival jitter in timestamp units (A.8).
    pub jitter: u32,
}

/// The reception state of one source (A.1's `source` structure plus A.8's jitter).
#[derive(Clone, Debug)]
pub struct RtpReceiver {
    clock_rate: u32,
    ssrc: Option<u32>,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Relative transit time of the previous packet, in timestamp units (A.8).
    transit: Option<u32>,
    /// Jitter scaled by 16 (A.8, integer form), wide enough for any transit difference.
    jitter: u64,
    ssrc_changes: u32,
}

impl RtpReceiver {
    /// A receiver for a media clock of `clock_rate` Hz (8000 for G.711).
    pub fn new(clock_rate: u32) -> Self {
        RtpReceiver {
            clock_rate,
            ssrc: None,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0,
            ssrc_changes: 0,
        }
    }

    /// The SSRC being tracked, once a packet has been seen.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }
    /// How many times the source changed SSRC (each change restarts the statistics).
    pub fn ssrc_changes(&self) -> u32 {
        self.ssrc_changes
    }
    /// Packets counted as received (A.1).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// A.1 `init_seq`.
    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Starts tracking `ssrc` afresh, on probation (A.1: `init_seq(s, seq); s->max_seq =
    /// seq - 1; s->probation = MIN_SEQUENTIAL`).
    fn restart(&mut self, ssrc: u32, seq: u16) {
        self.ssrc = Some(ssrc);
        self.init_seq(seq);
        self.max_seq = seq.wrapping_sub(1);
        self.probation = MIN_SEQUENTIAL;
        self.transit = None;
        self.jitter = 0;
    }

    /// A.1 `update_seq`.
    fn update_seq(&mut self, seq: u16) -> SeqUpdate {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return SeqUpdate::Valid;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqUpdate::Probation;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the source restarted (A.1).
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return SeqUpdate::BadJump;
            }
        }
        // else: duplicate or reordered packet, counted.
        self.received = self.received.wrapping_add(1);
        SeqUpdate::Valid
    }

    /// Accounts for one received packet: its SSRC, sequence number, RTP timestamp and
    /// arrival instant. A new SSRC restarts the statistics (RFC 3550 §8.2: the source changed).
    pub fn on_packet(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        arrival: Instant,
    ) -> SeqUpdate {
        match self.ssrc {
            None => self.restart(ssrc, seq),
            Some(s) if s != ssrc => {
                self.ssrc_changes += 1;
                self.restart(ssrc, seq);
            }
            Some(_) => {}
        }
        let update = self.update_seq(seq);
        if update == SeqUpdate::Valid {
            self.update_jitter(timestamp, arrival);
        }
        update
    }

    /// A.8: `transit = arrival - r->ts; d = transit - s->transit; s->transit = transit;
    /// if (d < 0) d = -d; s->jitter += d - ((s->jitter + 8) >> 4)`, arrival in timestamp units.
    fn update_jitter(&mut self, timestamp: u32, arrival: Instant) {
        let arrival_ts =
            (u128::from(arrival.as_micros()) * u128::from(self.clock_rate) / 1_000_000) as u32;
        let transit = arrival_ts.wrapping_sub(timestamp);
        if let Some(prev) = self.transit {
            let d = u64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
            self.jitter = self.jitter + d - ((self.jitter + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Extended highest sequence number received (A.3 `extended_max`).
    pub fn extended_highest_sequence(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far (A.3).
    pub fn expected(&self) -> u32 {
        self.extended_highest_sequence()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Cumulative packets lost, clamped to 24 signed bits (A.3).
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7F_FFFF) as i32
    }

    /// Interarrival jitter in timestamp units (A.8: `s->jitter >> 4`).
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter >> 4).unwrap_or(u32::MAX)
    }

    /// Produces a report block and starts the next interval (A.3 fraction lost).
    pub fn report(&mut self) -> Option<ReceptionReport> {
        let ssrc = self.ssrc?;
        if self.probation > 0 {
            return None;
        }
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        Some(ReceptionReport {
            ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            extended_highest_sequence: self.extended_highest_sequence(),
            jitter: self.jitter(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_ms(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn probation_then_counting() {
        let mut r = RtpReceiver::new(8000);
        assert_eq!(r.on_packet(9, 100, 0, at_ms(0)), SeqUpdate::Probation);
        assert!(r.report().is_none());
        assert_eq!(r.on_packet(9, 101, 160, at_ms(20)), SeqUpdate::Valid);
        assert_eq!(r.on_packet(9, 102, 320, at_ms(40)), SeqUpdate::Valid);
        let rep = r.report().unwrap();
        assert_eq!(rep.extended_highest_sequence, 102);
        assert_eq!(rep.cumulative_lost, 0);
        assert_eq!(rep.fraction_lost, 0);
    }

    #[test]
    fn sequence_wrap_extends_the_highest_sequence_and_counts_loss() {
        let mut r = RtpReceiver::new(8000);
        let mut seq: u16 = 65530;
        let mut received = 0;
        for i in 0..20u32 {
            // Lose packets 3, 8, 13 and 18.
            if i % 5 != 3 {
                r.on_packet(1, seq, i * 160, at_ms(u64::from(i) * 20));
                received += 1;
            }
            seq = seq.wrapping_add(1);
        }
        let rep = r.report().unwrap();
        // Last sequence sent is 65530 + 19 = 13 after one wrap.
        assert_eq!(rep.extended_highest_sequence, (1 << 16) + 13);
        // Counting starts at 65531 (the packet ending probation): 19 expected.
        assert_eq!(r.expected(), 19);
        assert_eq!(received, 16);
        assert_eq!(rep.cumulative_lost, 4);
        assert_eq!(rep.fraction_lost, (4 * 256 / 19) as u8);
        // The next interval with no loss reports a zero fraction but keeps the total.
        for i in 20..30u32 {
            r.on_packet(1, seq, i * 160, at_ms(u64::from(i) * 20));
            seq = seq.wrapping_add(1);
        }
        let rep = r.report().unwrap();
        assert_eq!(rep.fraction_lost, 0);
        assert_eq!(rep.cumulative_lost, 4);
    }

    #[test]
    fn duplicates_make_loss_negative_as_a3_allows() {
        let mut r = RtpReceiver::new(8000);
        for s in [1u16, 2, 3, 3, 3, 4] {
            r.on_packet(5, s, u32::from(s) * 160, at_ms(u64::from(s) * 20));
        }
        assert_eq!(r.cumulative_lost(), -2);
        assert_eq!(r.report().unwrap().fraction_lost, 0);
    }

    #[test]
    fn a_large_jump_needs_two_sequential_packets() {
        let mut r = RtpReceiver::new(8000);
        for s in 10..20u16 {
            r.on_packet(5, s, 0, at_ms(0));
        }
        assert_eq!(r.on_packet(5, 30000, 0, at_ms(0)), SeqUpdate::BadJump);
        assert_eq!(r.on_packet(5, 30001, 0, at_ms(0)), SeqUpdate::Valid);
        assert_eq!(r.extended_highest_sequence(), 30001);
        assert_eq!(r.expected(), 1);
    }

    #[test]
    fn ssrc_change_restarts_the_statistics() {
        let mut r = RtpReceiver::new(8000);
        for s in 0..10u16 {
            r.on_packet(5, s, 0, at_ms(0));
        }
        assert_eq!(r.on_packet(6, 500, 0, at_ms(0)), SeqUpdate::Probation);
        assert_eq!(r.ssrc(), Some(6));
        assert_eq!(r.ssrc_changes(), 1);
        assert_eq!(r.on_packet(6, 501, 0, at_ms(0)), SeqUpdate::Valid);
        assert_eq!(r.extended_highest_sequence(), 501);
        assert_eq!(r.cumulative_lost(), 0);
    }

    #[test]
    fn jitter_follows_the_a8_recurrence_on_a_known_pattern() {
        // Packets every 20 ms of media; arrivals alternate 0 and +4 ms late: |D| = 32
        // timestamp units on every packet after the first.
        let mut r = RtpReceiver::new(8000);
        let mut model = 0.0f64;
        for i in 0..200u64 {
            let late = if i % 2 == 1 { 4 } else { 0 };
            r.on_packet(1, i as u16, (i * 160) as u32, at_ms(i * 20 + late));
            if i > 0 {
                model += (32.0 - model) / 16.0;
            }
        }
        // The float recurrence converges to 32; the integer form stays within a unit.
        assert!(
            (f64::from(r.jitter()) - model).abs() <= 1.0,
            "{} vs {model}",
            r.jitter()
        );
        assert!(r.jitter() >= 31);
        // A perfectly regular stream has none.
        let mut q = RtpReceiver::new(8000);
        for i in 0..100u64 {
            q.on_packet(1, i as u16, (i * 160) as u32, at_ms(i * 20));
        }
        assert_eq!(q.jitter(), 0);
    }

    #[test]
    fn extreme_timestamp_swings_do_not_overflow_the_jitter() {
        // Timestamps alternating half the space apart: |D| near 2^31 on every packet, which
        // drives 16 * J past 32 bits.
        let mut r = RtpReceiver::new(8000);
        for i in 0..2000u32 {
            let ts = if i % 2 == 0 { 0 } else { 0x7FFF_FFFF };
            r.on_packet(1, i as u16, ts, at_ms(u64::from(i) * 20));
        }
        assert!(r.jitter() > 0x7000_0000);
    }
}
