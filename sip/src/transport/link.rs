//! The send side of one stream connection: a queue bounded in bytes, drained by the
//! connection's own writer, so that a sender never waits on a slow or dead peer. A message
//! that does not fit closes the connection (its peer is not reading) instead of waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::{Notify, mpsc};

/// Most messages queued on one connection, whatever their size.
const QUEUE_MESSAGES: usize = 256;

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Over the byte budget or the message count: the peer is not keeping up.
    Full,
    /// The connection's writer has ended.
    Closed,
}

/// The handle to queue messages on a connection; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Tells this connection from a later one to the same peer.
    pub(crate) id: u64,
    tx: mpsc::Sender<Arc<[u8]>>,
    queued: Arc<AtomicUsize>,
    budget: usize,
    close: Arc<Notify>,
}

/// The connection's end of its queue.
pub(crate) struct Outbox {
    pub(crate) rx: mpsc::Receiver<Arc<[u8]>>,
    pub(crate) queued: Arc<AtomicUsize>,
    pub(crate) close: Arc<Notify>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A queue holding at most `budget` bytes.
pub(crate) fn link(budget: usize) -> (Link, Outbox) {
    let (tx, rx) = mpsc::channel(QUEUE_MESSAGES);
    let queued = Arc::new(AtomicUsize::new(0));
    let close = Arc::new(Notify::new());
    let link = Link {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        tx,
        queued: queued.clone(),
        budget,
        close: close.clone(),
    };
    (link, Outbox { rx, queued, close })
}

impl Link {
    /// Queues `bytes` without waiting.
    pub(crate) fn push(&self, bytes: Arc<[u8]>) -> Result<(), Full> {
        if self.tx.is_closed() {
            return Err(Full::Closed);
        }
        let n = bytes.len();
        let before = self.queued.fetch_add(n, Ordering::Relaxed);
        if before + n > self.budget {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            return Err(Full::Full);
        }
        self.tx.try_send(bytes).map_err(|e| {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            match e {
                mpsc::error::TrySendError::Full(_) => Full::Full,
                mpsc::error::TrySendError::Closed(_) => Full::Closed,
            }
        })
    }

    /// Asks the connection to close at once, dropping what is queued.
    pub(crate) fn close(&self) {
        self.close.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_budget_bounds_the_queue() {
        let (l, mut out) = link(100);
        l.push(Arc::from(&[0u8; 60][..])).unwrap();
        assert_eq!(l.push(Arc::from(&[0u8; 41][..])), Err(Full::Full));
        l.push(Arc::from(&[0u8; 40][..])).unwrap();
        assert_eq!(out.queued.load(Ordering::Relaxed), 100);
        // The writer takes one and gives its bytes back once written.
        let b = out.rx.try_recv().unwrap();
        out.queued.fetch_sub(b.len(), Ordering::Relaxed);
        l.push(Arc::from(&[0u8; 60][..])).unwrap();
        drop(out);
        assert_eq!(l.push(Arc::from(&[0u8; 1][..])), Err(Full::Closed));
    }

    #[test]
    fn the_message_count_bounds_the_queue() {
        let (l, _out) = link(usize::MAX / 2);
        for _ in 0..QUEUE_MESSAGES {
            l.push(Arc::from(&b"x"[..])).unwrap();
        }
        assert_eq!(l.push(Arc::from(&b"x"[..])), Err(Full::Full));
    }
}
