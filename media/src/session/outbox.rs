//! The datagrams a session has made and its owner has not sent yet: a fixed ring of
//! buffers, so the media path does not allocate.

use core::net::SocketAddr;

/// Largest datagram made or handled.
pub const MTU: usize = 1500;
/// Datagrams held at once: one frame makes at most one audio packet, a few RFC 4733
/// packets (an end is sent three times, RFC 4733 §2.5.1.4) and one RTCP compound.
const SLOTS: usize = 8;

/// A ring of outgoing datagrams.
pub(super) struct Outbox {
    bufs: [[u8; MTU]; SLOTS],
    meta: [(Option<SocketAddr>, usize); SLOTS],
    head: usize,
    len: usize,
}

impl Outbox {
    pub(super) fn new() -> Outbox {
        Outbox {
            bufs: [[0; MTU]; SLOTS],
            meta: [(None, 0); SLOTS],
            head: 0,
            len: 0,
        }
    }

    /// The next free buffer, or `None` when all are taken.
    pub(super) fn slot(&mut self) -> Option<&mut [u8; MTU]> {
        (self.len < SLOTS).then(|| &mut self.bufs[(self.head + self.len) % SLOTS])
    }

    /// Queues the first `n` octets of the buffer [`Outbox::slot`] gave, for `to`.
    pub(super) fn commit(&mut self, to: SocketAddr, n: usize) {
        if self.len < SLOTS {
            self.meta[(self.head + self.len) % SLOTS] = (Some(to), n.min(MTU));
            self.len += 1;
        }
    }

    /// The oldest queued datagram, removed.
    pub(super) fn pop(&mut self) -> Option<(SocketAddr, &[u8])> {
        if self.len == 0 {
            return None;
        }
        let i = self.head;
        self.head = (self.head + 1) % SLOTS;
        self.len -= 1;
        let (to, n) = self.meta[i];
        Some((to?, &self.bufs[i][..n]))
    }
}
