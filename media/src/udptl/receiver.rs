//! The receiving side of UDPTL (T.38 §9.1): IFP packets delivered once each, in sequence
//! order, with the ones the network lost rebuilt from the secondary IFP packets of the
//! next datagram that arrives.
//!
//! - The datagram the receiver expects next: its primary is delivered.
//! - A datagram ahead of that: the missing IFP packets its secondaries cover are delivered
//!   first, oldest first, then its primary; the rest of the gap is counted lost.
//! - A datagram behind it (a duplicate, or a late arrival of one already rebuilt or given
//!   up): dropped and counted.
//! - A datagram more than [`RESYNC_DISTANCE`] away either way: a restarted or different
//!   stream, or a stray packet. It is dropped, unless the datagram just before it was such
//!   a jump to the number before it: two in a row resynchronise the receiver there (as
//!   RFC 3550 A.1 does for RTP), so that neither a single stray packet nor a new stream can
//!   stall it.
//!
//! FEC datagrams are parsed and validated and their primary delivered, but their FEC data
//! is not used to rebuild lost IFP packets: a gap before one is counted lost. (This gateway
//! offers redundancy, T38FaxUdpEC `t38UDPRedundancy`.)

use super::{UdptlError, UdptlPacket};

/// How far, in sequence numbers, a datagram may be from the expected one and still belong
/// to the same run. At the usual rate of tens of datagrams a second this is well beyond
/// any reordering, yet far less than half the sequence space.
pub const RESYNC_DISTANCE: u16 = 1000;

/// Counters of a [`UdptlReceiver`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdptlStats {
    /// Datagrams that parsed.
    pub received: u64,
    /// IFP packets delivered, primaries and recovered ones.
    pub delivered: u64,
    /// IFP packets delivered from secondaries (their own datagram was lost or late).
    pub recovered: u64,
    /// IFP packets skipped: a gap wider than the secondaries covered.
    pub lost: u64,
    /// Datagrams dropped because their primary was already delivered or given up
    /// (duplicates and late arrivals).
    pub duplicates: u64,
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Datagrams dropped as far from the expected sequence number.
    pub stray: u64,
    /// Times the receiver resynchronised on a new sequence number run.
    pub resyncs: u64,
}

/// One incoming UDPTL stream. Sans-IO: fed datagrams, it hands IFP packets to a callback;
/// it keeps no buffers, the IFP packets are slices of the datagram given.
#[derive(Clone, Debug, Default)]
pub struct UdptlReceiver {
    /// Sequence number of the next IFP packet to deliver; `None` before the first datagram.
    next: Option<u16>,
    /// After a datagram far from `next`: the sequence number that would confirm the jump.
    jump: Option<u16>,
    stats: UdptlStats,
}

impl UdptlReceiver {
    /// A receiver that has seen nothing: the first datagram sets where the stream is.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counters.
    pub fn stats(&self) -> UdptlStats {
        self.stats
    }

    /// Sequence number of the next IFP packet to deliver, once a datagram has been seen.
    pub fn next_seq(&self) -> Option<u16> {
        self.next
    }

    /// Takes one datagram and calls `deliver(seq, ifp)` for each IFP packet it makes
    /// deliverable, in sequence order. A datagram that does not parse is counted and its
    /// error returned, for the caller to log; the state is unchanged.
    pub fn on_datagram<F>(&mut self, datagram: &[u8], mut deliver: F) -> Result<(), UdptlError>
    where
        F: FnMut(u16, &[u8]),
    {
        let pkt = match UdptlPacket::parse(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        self.stats.received += 1;
        let Some(next) = self.next else {
            // The first datagram: nothing was delivered, so every secondary is new.
            self.start_at(&pkt, &mut deliver);
            return Ok(());
        };
        let ahead = pkt.seq.wrapping_sub(next);
        let behind = next.wrapping_sub(pkt.seq);
        if ahead <= RESYNC_DISTANCE {
            self.jump = None;
            let secondaries = pkt.recovery.secondaries();
            let gap = usize::from(ahead);
            let have = gap.min(secondaries.len());
            self.stats.lost += (gap - have) as u64;
            // secondaries[j - 1] is seq - j; the oldest still missing goes first.
            for j in (1..=have).rev() {
                self.emit(
                    pkt.seq.wrapping_sub(j as u16),
                    secondaries[j - 1],
                    &mut deliver,
                );
                self.stats.recovered += 1;
            }
            self.emit(pkt.seq, pkt.primary, &mut deliver);
            self.next = Some(pkt.seq.wrapping_add(1));
        } else if behind <= RESYNC_DISTANCE {
            self.stats.duplicates += 1;
        } else if self.jump == Some(pkt.seq) {
            self.stats.resyncs += 1;
            self.start_at(&pkt, &mut deliver);
        } else {
            self.stats.stray += 1;
            self.jump = Some(pkt.seq.wrapping_add(1));
        }
        Ok(())
    }

    /// Starts afresh at `pkt`: its secondaries (oldest first), then its primary.
    fn start_at<F: FnMut(u16, &[u8])>(&mut self, pkt: &UdptlPacket<'_>, deliver: &mut F) {
        let secondaries = pkt.recovery.secondaries();
        for (j, ifp) in secondaries.iter().enumerate().rev() {
            self.emit(pkt.seq.wrapping_sub(j as u16 + 1), ifp, deliver);
            self.stats.recovered += 1;
        }
        self.emit(pkt.seq, pkt.primary, deliver);
        self.next = Some(pkt.seq.wrapping_add(1));
        self.jump = None;
    }

    fn emit<F: FnMut(u16, &[u8])>(&mut self, seq: u16, ifp: &[u8], deliver: &mut F) {
        self.stats.delivered += 1;
        deliver(seq, ifp);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SliceList, UdptlSender};
    use super::*;
    use tipring_rng::SplitMix64;

    /// An IFP packet that names its sequence number, so a delivery can be checked.
    fn ifp(seq: u16) -> [u8; 3] {
        let [a, b] = seq.to_be_bytes();
        [0x42, a, b]
    }

    /// `n` datagrams from a sender with redundancy 3, starting at `first`.
    fn stream(first: u16, n: usize) -> Vec<Vec<u8>> {
        let mut s = UdptlSender::new(first);
        (0..n)
            .map(|i| {
                let mut out = Vec::new();
                s.packet(&ifp(first.wrapping_add(i as u16)), &mut out)
                    .unwrap();
                out
            })
            .collect()
    }

    /// Feeds `datagrams` in order; returns the sequence numbers delivered, checking each
    /// IFP packet is the one of its number.
    fn feed(rx: &mut UdptlReceiver, datagrams: &[&Vec<u8>]) -> Vec<u16> {
        let mut got = Vec::new();
        for d in datagrams {
            rx.on_datagram(d, |seq, data| {
                assert_eq!(data, ifp(seq), "IFP of {seq}");
                got.push(seq);
            })
            .unwrap();
        }
        got
    }

    #[test]
    fn in_order_stream_is_delivered_as_sent() {
        let d = stream(0, 10);
        let mut rx = UdptlReceiver::new();
        let got = feed(&mut rx, &d.iter().collect::<Vec<_>>());
        assert_eq!(got, (0..10).collect::<Vec<u16>>());
        let st = rx.stats();
        assert_eq!(
            (st.received, st.delivered, st.recovered, st.lost),
            (10, 10, 0, 0)
        );
        assert_eq!(rx.next_seq(), Some(10));
    }

    #[test]
    fn one_two_and_three_lost_datagrams_are_recovered() {
        for lost in 1..=3usize {
            let d = stream(100, 10);
            let mut rx = UdptlReceiver::new();
            // Datagrams 102 .. 102 + lost never arrive.
            let kept: Vec<&Vec<u8>> = d
                .iter()
                .enumerate()
                .filter(|(i, _)| !(2..2 + lost).contains(i))
                .map(|(_, d)| d)
                .collect();
            let got = feed(&mut rx, &kept);
            assert_eq!(got, (100..110).collect::<Vec<u16>>(), "{lost} lost");
            let st = rx.stats();
            assert_eq!(st.recovered, lost as u64);
            assert_eq!(st.lost, 0);
        }
    }

    #[test]
    fn loss_beyond_the_redundancy_is_counted() {
        let d = stream(0, 12);
        let mut rx = UdptlReceiver::new();
        // 2..=6 lost: datagram 7 carries 6, 5, 4; 2 and 3 are gone.
        let kept: Vec<&Vec<u8>> = d[..2].iter().chain(&d[7..]).collect();
        let got = feed(&mut rx, &kept);
        let want: Vec<u16> = (0..12).filter(|s| !(2..4).contains(s)).collect();
        assert_eq!(got, want);
        let st = rx.stats();
        assert_eq!((st.recovered, st.lost), (3, 2));
    }

    #[test]
    fn wrap_around_with_loss_across_it() {
        let d = stream(65533, 8); // 65533, 65534, 65535, 0, 1, 2, 3, 4
        let mut rx = UdptlReceiver::new();
        // 65535 and 0 lost; 1 brings them back.
        let kept: Vec<&Vec<u8>> = d[..2].iter().chain(&d[4..]).collect();
        let got = feed(&mut rx, &kept);
        assert_eq!(got, [65533, 65534, 65535, 0, 1, 2, 3, 4]);
        assert_eq!(rx.stats().recovered, 2);
        assert_eq!(rx.next_seq(), Some(5));
    }

    #[test]
    fn duplicates_and_late_arrivals_are_dropped() {
        let d = stream(0, 6);
        let mut rx = UdptlReceiver::new();
        // 0, 0 again, 2 (recovers 1), 1 late, 3, 2 again, 4, 5.
        let order = [0, 0, 2, 1, 3, 2, 4, 5];
        let got = feed(&mut rx, &order.iter().map(|&i| &d[i]).collect::<Vec<_>>());
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
        let st = rx.stats();
        assert_eq!((st.duplicates, st.recovered, st.lost), (3, 1, 0));
    }

    #[test]
    fn the_first_datagram_brings_its_secondaries() {
        let d = stream(0, 5);
        let mut rx = UdptlReceiver::new();
        // 0 and 1 lost: 2 starts the receiver and carries them.
        let got = feed(&mut rx, &d[2..].iter().collect::<Vec<_>>());
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_huge_jump_resynchronises_and_a_stray_packet_does_not() {
        let old = stream(10, 5); // 10..=14
        let new = stream(40_000, 5); // 40000..=40004
        let mut rx = UdptlReceiver::new();
        let mut got = feed(&mut rx, &old[..3].iter().collect::<Vec<_>>());
        // One stray from far away: dropped, the old stream goes on.
        got.extend(feed(&mut rx, &[&new[0], &old[3], &old[4]]));
        assert_eq!(got, [10, 11, 12, 13, 14]);
        assert_eq!(rx.stats().stray, 1);
        // Two in a row of the new stream: the second resynchronises and brings the first.
        let got = feed(&mut rx, &new[1..].iter().collect::<Vec<_>>());
        assert_eq!(got, [40_000, 40_001, 40_002, 40_003, 40_004]);
        let st = rx.stats();
        assert_eq!((st.stray, st.resyncs), (2, 1));
        // A stream restarted far behind resynchronises the same way.
        let restart = stream(0, 3);
        let got = feed(&mut rx, &restart.iter().collect::<Vec<_>>());
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(rx.stats().resyncs, 2);
    }

    #[test]
    fn a_jump_within_the_window_delivers_what_it_has() {
        let mut rx = UdptlReceiver::new();
        let first = stream(0, 1);
        feed(&mut rx, &[&first[0]]);
        // Datagram 500 with secondaries 499, 498: 1..=497 are lost.
        let (a, b, c) = (ifp(500), ifp(499), ifp(498));
        let pkt = UdptlPacket::redundant(500, &a, SliceList::from_slices(&[&b, &c]).unwrap());
        let mut buf = vec![0; pkt.buffer_len()];
        pkt.emit(&mut buf).unwrap();
        let got = feed(&mut rx, &[&buf]);
        assert_eq!(got, [498, 499, 500]);
        assert_eq!(rx.stats().lost, 497);
    }

    #[test]
    fn fec_datagrams_deliver_their_primary_and_count_the_gap() {
        let mut rx = UdptlReceiver::new();
        let d = stream(0, 1);
        feed(&mut rx, &[&d[0]]);
        // seq 3, primary ifp(3), fec-npackets 2, one entry.
        let bytes = vec![0, 3, 3, 0x42, 0, 3, 0x80, 1, 2, 1, 2, 0xAA, 0xBB];
        let got = feed(&mut rx, &[&bytes]);
        assert_eq!(got, [3]);
        assert_eq!(rx.stats().lost, 2);
    }

    #[test]
    fn malformed_datagrams_are_counted_and_change_nothing() {
        let d = stream(0, 2);
        let mut rx = UdptlReceiver::new();
        feed(&mut rx, &[&d[0]]);
        let mut calls = 0;
        for bad in [&[][..], &[0, 1, 0x80], &d[1][..d[1].len() - 1]] {
            assert!(rx.on_datagram(bad, |_, _| calls += 1).is_err());
        }
        assert_eq!(calls, 0);
        assert_eq!(rx.stats().malformed, 3);
        assert_eq!(feed(&mut rx, &[&d[1]]), [1]);
    }

    #[test]
    fn a_lossy_reordering_network_never_breaks_the_order() {
        // Loss, duplication and swaps of neighbours: deliveries stay strictly in order,
        // each IFP packet is the right one, and every number is delivered or counted lost.
        for seed in 0..20 {
            let mut rng = SplitMix64::new(seed);
            let first = (rng.next_u64() >> 48) as u16;
            let n = 400;
            let d = stream(first, n);
            let mut order: Vec<usize> = Vec::new();
            for i in 0..n {
                let r = rng.next_u64() % 100;
                if r < 15 {
                    continue; // lost
                }
                order.push(i);
                if r >= 95 {
                    order.push(i); // duplicated
                }
            }
            for k in 1..order.len() {
                if rng.next_u64() % 100 < 5 {
                    order.swap(k - 1, k);
                }
            }
            let mut rx = UdptlReceiver::new();
            let mut got: Vec<u16> = Vec::new();
            for &i in &order {
                rx.on_datagram(&d[i], |seq, data| {
                    assert_eq!(data, ifp(seq));
                    got.push(seq);
                })
                .unwrap();
            }
            let offsets: Vec<u16> = got.iter().map(|s| s.wrapping_sub(first)).collect();
            assert!(offsets.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
            let st = rx.stats();
            assert_eq!(st.delivered, got.len() as u64);
            let span = u64::from(*offsets.last().unwrap()) - u64::from(offsets[0]) + 1;
            assert_eq!(st.delivered + st.lost, span, "seed {seed}");
        }
    }
}
