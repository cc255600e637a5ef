//! Which source a call's RTP is taken from, and so where ours goes: symmetric RTP
//! (RFC 4961) without handing the call to anyone who can reach the port.
//!
//! Replying to wherever packets come from lets a far end behind NAT be reached, but taken
//! literally it lets any host that sends a few datagrams to the port receive the call's
//! audio and inject its own, RFC 4733 digits included ("RTP bleed"). So the source is
//! latched once per offer/answer and then held: packets from the address the SDP gave are
//! taken at once; another address (the far end's NAT) must first send [`LEARN_PACKETS`]
//! consecutive packets of one SSRC, and only while nothing has been latched yet. Everything
//! from other sources is dropped until the next [`SourceLatch::retarget`] (a new SDP).
//! Without an SDP address (no call's media: the line only hears tones) nothing is learnt
//! at all, so nobody can start receiving the line's audio by sending to the port. Nor
//! while the far end said it does not send (recvonly or inactive, RFC 3264 §6.1: a hold):
//! its RTP then is not expected at all, so no other source can pass for its NAT; only the
//! SDP address itself is taken.

use core::net::SocketAddr;

/// Consecutive packets (one SSRC, sequence numbers in a row) a source other than the SDP
/// address sends before it is latched.
pub const LEARN_PACKETS: u8 = 4;

/// The latch of one RTP session.
#[derive(Debug, Clone)]
pub struct SourceLatch {
    /// The far end's address from the SDP, if any.
    expected: Option<SocketAddr>,
    /// The source media is taken from (and sent to) now.
    locked: Option<SocketAddr>,
    /// A source proving itself: address, SSRC, last sequence number, packets so far.
    candidate: Option<(SocketAddr, u32, u16, u8)>,
    /// The far end sends (its SDP is sendrecv or sendonly): another source may be learnt.
    learn: bool,
}

impl SourceLatch {
    /// A latch for a session whose SDP named `expected` (or nothing yet); `far_sends`:
    /// that SDP says the far end sends RTP (sendrecv, sendonly).
    pub fn new(expected: Option<SocketAddr>, far_sends: bool) -> SourceLatch {
        SourceLatch {
            expected,
            locked: None,
            candidate: None,
            learn: far_sends,
        }
    }

    /// A new SDP (re-INVITE, or the answer arriving): the far end may have moved, so the
    /// source is learnt again, if the far end now sends.
    pub fn retarget(&mut self, expected: Option<SocketAddr>, far_sends: bool) {
        *self = SourceLatch::new(expected, far_sends);
    }

    /// Whether an RTP packet from `from` (SSRC, sequence number) belongs to the call.
    pub fn accept(&mut self, from: SocketAddr, ssrc: u32, seq: u16) -> bool {
        match self.locked {
            Some(l) => return l == from,
            None if Some(from) == self.expected => {
                self.locked = Some(from);
                return true;
            }
            None if self.expected.is_none() || !self.learn => return false,
            None => {}
        }
        let count = match self.candidate {
            Some((a, s, q, n)) if a == from && s == ssrc && seq == q.wrapping_add(1) => n + 1,
            _ => 1,
        };
        if count >= LEARN_PACKETS {
            self.locked = Some(from);
            self.candidate = None;
            return true;
        }
        self.candidate = Some((from, ssrc, seq, count));
        false
    }

    /// Where media goes: the latched source, else the SDP's address.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.locked.or(self.expected)
    }

    /// Whether an RTCP packet from `from` belongs to the call: from the latched host (RTCP
    /// may come from another port of it, RFC 3550 §11).
    pub fn accept_rtcp(&self, from: SocketAddr) -> bool {
        self.locked
            .or(self.expected)
            .is_some_and(|l| l.ip() == from.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    impl SourceLatch {
        fn new_sending(expected: Option<SocketAddr>) -> SourceLatch {
            SourceLatch::new(expected, true)
        }
    }

    #[test]
    fn nothing_is_learnt_while_the_far_end_does_not_send() {
        // A hold: the far end is recvonly. A host sending a perfect run of packets from
        // elsewhere does not take the media over; the SDP address still can.
        let mut l = SourceLatch::new(Some(at("10.0.0.5:4000")), false);
        let nat = at("198.51.100.7:61000");
        for seq in 0..50 {
            assert!(!l.accept(nat, 1, seq));
        }
        assert_eq!(l.destination(), Some(at("10.0.0.5:4000")));
        assert!(l.accept(at("10.0.0.5:4000"), 1, 50));
        // A latched source from before the hold is not kept: the hold's SDP is the rule.
        let mut l = SourceLatch::new_sending(Some(at("10.0.0.5:4000")));
        for seq in 0..u16::from(LEARN_PACKETS) {
            l.accept(nat, 1, seq);
        }
        assert_eq!(l.destination(), Some(nat));
        l.retarget(Some(at("10.0.0.5:4000")), false);
        assert_eq!(l.destination(), Some(at("10.0.0.5:4000")));
        for seq in 10..60 {
            assert!(!l.accept(nat, 1, seq));
        }
        assert_eq!(l.destination(), Some(at("10.0.0.5:4000")));
        // Resumed (sendrecv again): the NAT may be learnt again.
        l.retarget(Some(at("10.0.0.5:4000")), true);
        for seq in 100..100 + u16::from(LEARN_PACKETS) {
            l.accept(nat, 1, seq);
        }
        assert_eq!(l.destination(), Some(nat));
    }

    #[test]
    fn the_sdp_address_is_taken_at_once_and_then_held() {
        let mut l = SourceLatch::new_sending(Some(at("192.0.2.10:4000")));
        assert_eq!(l.destination(), Some(at("192.0.2.10:4000")));
        assert!(l.accept(at("192.0.2.10:4000"), 7, 100));
        // Someone else, however regular, gets nothing.
        for seq in 0..20 {
            assert!(!l.accept(at("203.0.113.66:5000"), 9, seq));
        }
        assert_eq!(l.destination(), Some(at("192.0.2.10:4000")));
        assert!(l.accept(at("192.0.2.10:4000"), 7, 101));
    }

    #[test]
    fn a_nat_source_is_learnt_from_consecutive_packets_of_one_ssrc() {
        // The SDP names a private address that never sends; the far end's NAT does.
        let mut l = SourceLatch::new_sending(Some(at("10.0.0.5:4000")));
        let nat = at("198.51.100.7:61000");
        for seq in 10..10 + u16::from(LEARN_PACKETS) - 1 {
            assert!(!l.accept(nat, 1, seq));
        }
        assert!(l.accept(nat, 1, 10 + u16::from(LEARN_PACKETS) - 1));
        assert_eq!(l.destination(), Some(nat));
        // Latched: the SDP address itself no longer takes it over, nor a third party.
        assert!(!l.accept(at("10.0.0.5:4000"), 1, 50));
        assert!(!l.accept(at("203.0.113.66:5000"), 1, 51));
    }

    #[test]
    fn without_an_sdp_address_nothing_is_learnt() {
        let mut l = SourceLatch::new_sending(None);
        for seq in 0..20 {
            assert!(!l.accept(at("203.0.113.66:5000"), 9, seq));
        }
        assert_eq!(l.destination(), None);
    }

    #[test]
    fn broken_runs_and_interleaved_sources_do_not_latch() {
        let mut l = SourceLatch::new_sending(Some(at("10.0.0.5:4000")));
        let (a, b) = (at("198.51.100.7:61000"), at("203.0.113.66:5000"));
        assert!(!l.accept(a, 1, 1));
        assert!(!l.accept(a, 1, 2));
        assert!(!l.accept(b, 2, 3)); // another source restarts the count
        assert!(!l.accept(a, 1, 3));
        assert!(!l.accept(a, 1, 5)); // a gap restarts it
        assert!(!l.accept(a, 2, 6)); // so does another SSRC
        assert_eq!(l.destination(), Some(at("10.0.0.5:4000")));
        for seq in 7..7 + u16::from(LEARN_PACKETS) {
            l.accept(a, 2, seq);
        }
        assert_eq!(l.destination(), Some(a));
    }

    #[test]
    fn a_new_sdp_learns_again() {
        let mut l = SourceLatch::new_sending(Some(at("192.0.2.10:4000")));
        assert!(l.accept(at("192.0.2.10:4000"), 7, 1));
        l.retarget(Some(at("192.0.2.11:4002")), true);
        assert_eq!(l.destination(), Some(at("192.0.2.11:4002")));
        assert!(!l.accept(at("192.0.2.10:4000"), 7, 2));
        assert!(l.accept(at("192.0.2.11:4002"), 8, 1));
    }

    #[test]
    fn rtcp_from_the_latched_host_only() {
        let mut l = SourceLatch::new_sending(Some(at("192.0.2.10:4000")));
        assert!(l.accept_rtcp(at("192.0.2.10:4001")));
        assert!(!l.accept_rtcp(at("203.0.113.66:4001")));
        l.retarget(None, true);
        assert!(!l.accept_rtcp(at("192.0.2.10:4001")));
    }
}
