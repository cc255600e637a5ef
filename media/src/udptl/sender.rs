//! The sending side of UDPTL with redundancy (T.38 §9.1): each IFP packet gets the next
//! sequence number and goes out as the primary of a datagram that also carries copies of
//! the IFP packets sent just before it, so that the receiver can rebuild what the network
//! lost. The copies are dropped, oldest first, to keep the datagram within the size the
//! peer accepts (T38FaxMaxDatagram, T.38 Annex D).

use super::packet::check_ifp;
use super::{MAX_SECONDARIES, Part, SliceList, UdptlError, UdptlPacket};

/// Secondary IFP packets per datagram unless set otherwise: a loss of up to three datagrams
/// in a row costs nothing.
pub const DEFAULT_REDUNDANCY: usize = 3;
/// Largest datagram, in octets, unless set otherwise: a modest size most peers accept;
/// set the peer's T38FaxMaxDatagram from its SDP.
pub const DEFAULT_MAX_DATAGRAM: usize = 400;

/// One outgoing UDPTL stream using redundancy for error recovery.
#[derive(Clone, Debug)]
pub struct UdptlSender {
    /// Sequence number of the next datagram.
    seq: u16,
    /// Secondaries wanted per datagram.
    redundancy: usize,
    max_datagram: usize,
    /// The last `redundancy` IFP packets sent, a ring; each buffer keeps its capacity so
    /// that once the largest IFP has passed, sending allocates nothing.
    history: Vec<Vec<u8>>,
    /// Index in `history` of the newest IFP packet.
    newest: usize,
    /// How many entries of `history` hold IFP packets.
    filled: usize,
}

impl UdptlSender {
    /// A sender whose first datagram carries `first_seq` (0 for a new stream), with
    /// [`DEFAULT_REDUNDANCY`] and [`DEFAULT_MAX_DATAGRAM`].
    pub fn new(first_seq: u16) -> Self {
        UdptlSender {
            seq: first_seq,
            redundancy: DEFAULT_REDUNDANCY,
            max_datagram: DEFAULT_MAX_DATAGRAM,
            history: vec![Vec::new(); DEFAULT_REDUNDANCY],
            newest: 0,
            filled: 0,
        }
    }

    /// Sets how many earlier IFP packets each datagram repeats, 0 to [`MAX_SECONDARIES`].
    /// The history kept so far is forgotten: set it before sending.
    pub fn set_redundancy(&mut self, redundancy: usize) -> Result<(), UdptlError> {
        if redundancy > MAX_SECONDARIES {
            return Err(UdptlError::TooManySecondaries(redundancy));
        }
        self.redundancy = redundancy;
        self.history.resize_with(redundancy, Vec::new);
        self.newest = 0;
        self.filled = 0;
        Ok(())
    }

    /// Sets the largest datagram to send, in octets (the peer's T38FaxMaxDatagram).
    pub fn set_max_datagram(&mut self, max_datagram: usize) {
        self.max_datagram = max_datagram;
    }

    /// The sequence number the next datagram will carry.
    pub fn next_seq(&self) -> u16 {
        self.seq
    }

    /// Secondaries wanted per datagram.
    pub fn redundancy(&self) -> usize {
        self.redundancy
    }

    /// The largest datagram sent.
    pub fn max_datagram(&self) -> usize {
        self.max_datagram
    }

    /// The `i`th newest IFP packet kept (0 = the last one sent), `i < filled`.
    fn kept(&self, i: usize) -> &[u8] {
        let n = self.history.len();
        &self.history[(self.newest + n - i) % n]
    }

    /// Builds the datagram for `ifp` into `out` (replacing its contents) and returns its
    /// sequence number. The datagram repeats up to `redundancy` earlier IFP packets, newest
    /// first, fewer when they would make it longer than the maximum. An IFP packet that is
    /// empty, or that does not fit the maximum even alone, is an error, and then nothing
    /// changes: no sequence number is used, the history stays.
    pub fn packet(&mut self, ifp: &[u8], out: &mut Vec<u8>) -> Result<u16, UdptlError> {
        check_ifp(ifp, Part::Primary)?;
        let mut secondaries = SliceList::new();
        for i in 0..self.filled {
            secondaries.push(self.kept(i));
        }
        let (pkt, needed) = loop {
            let pkt = UdptlPacket::redundant(self.seq, ifp, secondaries);
            let needed = pkt.buffer_len();
            if needed <= self.max_datagram {
                break (pkt, needed);
            }
            if secondaries.pop().is_none() {
                return Err(UdptlError::DatagramTooLarge {
                    needed,
                    max: self.max_datagram,
                });
            }
        };
        out.clear();
        out.resize(needed, 0);
        let n = pkt.emit(out)?;
        out.truncate(n);

        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        if self.redundancy > 0 {
            self.newest = (self.newest + 1) % self.redundancy;
            let slot = &mut self.history[self.newest];
            slot.clear();
            slot.extend_from_slice(ifp);
            self.filled = (self.filled + 1).min(self.redundancy);
        }
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secondaries(bytes: &[u8]) -> Vec<Vec<u8>> {
        let p = UdptlPacket::parse(bytes).unwrap();
        p.recovery
            .secondaries()
            .iter()
            .map(|s| s.to_vec())
            .collect()
    }

    #[test]
    fn numbers_datagrams_and_repeats_the_last_three_newest_first() {
        let mut s = UdptlSender::new(65534);
        let mut out = Vec::new();
        let mut seqs = Vec::new();
        for i in 1..=5u8 {
            seqs.push(s.packet(&[i], &mut out).unwrap());
            let p = UdptlPacket::parse(&out).unwrap();
            assert_eq!(p.primary, [i]);
            assert_eq!(p.seq, seqs[seqs.len() - 1]);
            let want: Vec<Vec<u8>> = (1..i).rev().take(3).map(|k| vec![k]).collect();
            assert_eq!(secondaries(&out), want);
        }
        assert_eq!(seqs, [65534, 65535, 0, 1, 2]);
        assert_eq!(s.next_seq(), 3);
    }

    #[test]
    fn first_datagram_is_the_known_encoding() {
        let mut s = UdptlSender::new(0x0102);
        let mut out = Vec::new();
        s.packet(&[0x00], &mut out).unwrap();
        assert_eq!(out, [0x01, 0x02, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn redundancy_zero_and_the_bound() {
        let mut s = UdptlSender::new(0);
        assert_eq!(
            s.set_redundancy(MAX_SECONDARIES + 1),
            Err(UdptlError::TooManySecondaries(MAX_SECONDARIES + 1))
        );
        s.set_redundancy(0).unwrap();
        let mut out = Vec::new();
        for i in 1..4u8 {
            s.packet(&[i], &mut out).unwrap();
            assert!(secondaries(&out).is_empty());
        }
        s.set_redundancy(MAX_SECONDARIES).unwrap();
        for i in 0..40u8 {
            s.packet(&[i], &mut out).unwrap();
        }
        let sec = secondaries(&out);
        assert_eq!(sec.len(), MAX_SECONDARIES);
        assert_eq!(sec[0], [38]);
        assert_eq!(sec[15], [23]);
    }

    #[test]
    fn oldest_secondaries_are_dropped_to_fit_the_maximum() {
        let mut s = UdptlSender::new(0);
        s.set_max_datagram(100);
        let mut out = Vec::new();
        for i in 1..=3u8 {
            s.packet(&[i; 30], &mut out).unwrap();
        }
        // Primary 31 + seq 2 + choice 1 + count 1 = 35; each copy 31: two fit in 100.
        s.packet(&[4; 30], &mut out).unwrap();
        assert_eq!(out.len(), 97);
        assert_eq!(secondaries(&out), [vec![3; 30], vec![2; 30]]);
        // A primary too long for any copy still goes out alone.
        s.packet(&[5; 90], &mut out).unwrap();
        assert_eq!(out.len(), 95);
        assert!(secondaries(&out).is_empty());
    }

    #[test]
    fn an_ifp_that_cannot_fit_is_refused_and_changes_nothing() {
        let mut s = UdptlSender::new(10);
        s.set_max_datagram(50);
        let mut out = Vec::new();
        s.packet(&[1], &mut out).unwrap();
        assert_eq!(
            s.packet(&[2; 47], &mut out),
            Err(UdptlError::DatagramTooLarge {
                needed: 52,
                max: 50
            })
        );
        assert_eq!(
            s.packet(&[], &mut out),
            Err(UdptlError::EmptyIfp(Part::Primary))
        );
        assert_eq!(s.next_seq(), 11);
        assert_eq!(s.packet(&[3], &mut out), Ok(11));
        assert_eq!(secondaries(&out), [vec![1]]);
    }

    #[test]
    fn two_octet_lengths_for_a_200_octet_ifp() {
        let mut s = UdptlSender::new(0);
        s.set_max_datagram(1400);
        let mut out = Vec::new();
        s.packet(&[0xA5; 200], &mut out).unwrap();
        s.packet(&[0x5A; 200], &mut out).unwrap();
        assert_eq!(out[2..4], [0x80, 0xC8]);
        let p = UdptlPacket::parse(&out).unwrap();
        assert_eq!(p.primary, [0x5A; 200]);
        assert_eq!(p.recovery.secondaries(), [&[0xA5; 200][..]]);
    }
}
