//! The per-call timers of `tipring answer`: each call's ringing, answer, hold re-INVITE and
//! hang-up fall due on their own clock (counted from its INVITE or its ACK). One min-heap
//! holds them all, so the loop finds the next among thousands of calls in O(log n); an
//! entry whose call has ended is dropped when it falls due.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;
use tipring_sip::ua::CallHandle;

/// What falls due for a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    /// 180 Ringing.
    Ring,
    /// 200 OK with the SDP answer.
    Answer,
    /// The re-INVITE putting the call on hold (a=sendonly).
    Hold,
    /// BYE.
    Hangup,
}

/// The pending steps of every call, earliest first.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    heap: BinaryHeap<Reverse<(Instant, CallHandle, Step)>>,
}

impl Schedule {
    /// `step` of `call` falls due at `at`.
    pub(super) fn at(&mut self, at: Instant, call: CallHandle, step: Step) {
        self.heap.push(Reverse((at, call, step)));
    }

    /// When the earliest step falls due.
    pub(super) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The earliest step due at `now`, removed.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(CallHandle, Step)> {
        if self.next()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse((_, call, step))| (call, step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steps_fall_due_in_time_order_and_not_before_their_time() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut s = Schedule::default();
        s.at(ms(500), CallHandle(1), Step::Answer);
        s.at(ms(0), CallHandle(1), Step::Ring);
        s.at(ms(200), CallHandle(2), Step::Answer);
        s.at(ms(900), CallHandle(2), Step::Hangup);
        assert_eq!(s.next(), Some(ms(0)));
        assert_eq!(s.pop_due(ms(0)), Some((CallHandle(1), Step::Ring)));
        assert_eq!(s.pop_due(ms(199)), None);
        assert_eq!(s.pop_due(ms(600)), Some((CallHandle(2), Step::Answer)));
        assert_eq!(s.pop_due(ms(600)), Some((CallHandle(1), Step::Answer)));
        assert_eq!(s.pop_due(ms(600)), None);
        assert_eq!(s.next(), Some(ms(900)));
        assert_eq!(s.pop_due(ms(900)), Some((CallHandle(2), Step::Hangup)));
        assert_eq!(s.next(), None);
    }
}
