//! One TCP or TLS connection (RFC 3261 §18.3): messages framed by Content-Length, what is
//! queued for the peer written by the connection's own writer. The connection closes when
//! the peer does, on an error, after an idle period, when a message begun is not complete
//! within the message timeout (a peer trickling bytes), when a write stalls, or when its
//! send queue overflows.

use super::inbound::{Inbound, vet};
use super::link::{Link, Outbox};
use super::slots::Slot;
use super::{Received, Shared};
use crate::framing::{Frame, Framer};
use crate::transaction::Peer;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 4096;

/// Why a connection's reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The peer closed, or reading failed.
    Eof,
    /// Nothing either way for the idle timeout.
    Idle,
    /// A message begun was not complete within the message timeout.
    Slow,
    /// Unframeable input (over the size limit, bad Content-Length): answered if possible.
    Broken,
    /// The transport is gone.
    Gone,
    /// Our own answer (a 4xx/5xx, a keepalive pong) did not fit the send queue.
    QueueFull,
}

/// Runs a connection until it closes (see the module docs); the slot is given back then.
pub(crate) async fn run<S>(
    stream: S,
    peer: Peer,
    link: Link,
    outbox: Outbox,
    shared: Arc<Shared>,
    _slot: Slot,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let written = AtomicU64::new(0);
    let Outbox { rx, queued, close } = outbox;
    let writer = write_loop(wr, rx, &queued, &written, &shared);
    tokio::pin!(writer);
    let ended = {
        let reader = read_loop(rd, peer, &link, &written, &shared);
        tokio::pin!(reader);
        tokio::select! {
            end = &mut reader => Ended::Reader(end),
            w = &mut writer => Ended::Writer(w),
            _ = close.notified() => Ended::Closed,
        }
    };
    let id = link.id;
    let delivered = match ended {
        Ended::Reader(end) => {
            tracing::debug!(peer = %peer.addr, ?end, "stream connection closing");
            // What is queued (a 513 for an oversized message) still goes out, within the
            // write timeout, once nothing more can be queued.
            shared.forget(peer, id);
            drop(link);
            tokio::time::timeout(shared.cfg.write_timeout, &mut writer)
                .await
                .is_ok_and(|w| w.is_ok())
        }
        Ended::Writer(w) => w.is_ok(),
        // Closed by a sender whose message did not fit: it reports the failure itself.
        Ended::Closed => true,
    };
    shared.forget(peer, id);
    if !delivered {
        shared.stats.write_failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(peer = %peer.addr, "stream write failed or stalled: connection closed");
        shared.report_failure(peer);
    }
}

/// Which side of a connection ended it.
enum Ended {
    Reader(End),
    Writer(io::Result<()>),
    Closed,
}

/// Reads, frames and hands up messages until the connection should close.
async fn read_loop<R: AsyncRead + Unpin>(
    mut rd: R,
    peer: Peer,
    link: &Link,
    written: &AtomicU64,
    shared: &Shared,
) -> End {
    let cfg = &shared.cfg;
    let mut framer = Framer::new(cfg.max_message_size);
    let mut buf: Vec<u8> = Vec::new();
    let mut active = Instant::now();
    let mut seen_written = 0;
    // When the first byte of the message now in `buf` arrived.
    let mut begun: Option<Instant> = None;
    loop {
        let idle_at = active + cfg.idle_timeout;
        let deadline = begun.map_or(idle_at, |b| idle_at.min(b + cfg.message_timeout));
        if buf.is_empty() && buf.capacity() > READ_CHUNK {
            // An idle connection keeps no large buffer.
            buf = Vec::new();
        }
        buf.reserve(READ_CHUNK);
        let read = tokio::time::timeout_at(deadline.into(), rd.read_buf(&mut buf)).await;
        let now = Instant::now();
        match read {
            Ok(Ok(0) | Err(_)) => return End::Eof,
            Ok(Ok(_)) => {}
            Err(_) => {
                if begun.is_some_and(|b| now >= b + cfg.message_timeout) {
                    shared
                        .stats
                        .message_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(peer = %peer.addr, "message not complete in time: connection closed");
                    return End::Slow;
                }
                let w = written.load(Ordering::Relaxed);
                if w != seen_written {
                    seen_written = w;
                    active = now;
                } else if now >= idle_at {
                    return End::Idle;
                }
                continue;
            }
        }
        loop {
            match framer.decode(&buf) {
                Ok(None) => break,
                Ok(Some(Frame::Keepalive { len })) => {
                    buf.drain(..len);
                    active = now;
                    if len >= 4 && link.push(Arc::from(&b"\r\n"[..])).is_err() {
                        return End::QueueFull;
                    }
                }
                Ok(Some(Frame::Message { len })) => {
                    let verdict = vet(&buf[..len], peer.addr, peer.transport, cfg.max_message_size);
                    buf.drain(..len);
                    active = now;
                    begun = None;
                    if let Some(end) = deliver(shared, verdict, peer, link) {
                        return end;
                    }
                }
                Err(e) => {
                    // The stream cannot resynchronise: answer if possible, close.
                    let verdict = vet_broken(&buf, &e, cfg.max_message_size);
                    let _ = deliver(shared, verdict, peer, link);
                    return End::Broken;
                }
            }
        }
        if buf.is_empty() {
            begun = None;
        } else if begun.is_none() {
            begun = Some(now);
        }
    }
}

/// Writes what is queued, each message within the write timeout, until every sender is
/// gone; an error or a stalled write ends it.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::Receiver<Arc<[u8]>>,
    queued: &AtomicUsize,
    written: &AtomicU64,
    shared: &Shared,
) -> io::Result<()> {
    let limit = shared.cfg.write_timeout;
    while let Some(bytes) = rx.recv().await {
        let w = tokio::time::timeout(limit, async {
            wr.write_all(&bytes).await?;
            wr.flush().await
        })
        .await;
        queued.fetch_sub(bytes.len(), Ordering::Relaxed);
        w.unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "write stalled")))?;
        shared.stats.sent.fetch_add(1, Ordering::Relaxed);
        written.fetch_add(1, Ordering::Relaxed);
    }
    let _ = tokio::time::timeout(limit, wr.shutdown()).await;
    Ok(())
}

/// A framing error (over the size limit, bad Content-Length): the head may still be
/// answerable with 513 or 400.
fn vet_broken(buf: &[u8], e: &crate::ParseError, max: usize) -> Inbound {
    let head = crate::message::head_end(buf).map_or(buf.len().min(max), |(_, b)| b);
    super::inbound::reject_raw(&buf[..head], e.status_code(), &e.reason_phrase())
}

/// Passes a vetted message on; `Some` when the connection should close.
fn deliver(shared: &Shared, verdict: Inbound, peer: Peer, link: &Link) -> Option<End> {
    match verdict {
        Inbound::Request { bytes, respond_to } => {
            let up = shared.push(Received {
                bytes,
                source: peer,
                respond_to,
            });
            (!up).then_some(End::Gone)
        }
        Inbound::Response(bytes) => {
            let up = shared.push(Received {
                bytes,
                source: peer,
                respond_to: peer,
            });
            (!up).then_some(End::Gone)
        }
        Inbound::Reject { code, bytes } => {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::info!(peer = %peer.addr, code, "rejected malformed request");
            link.push(Arc::from(bytes)).err().map(|_| End::QueueFull)
        }
        Inbound::Drop(why) => {
            shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.addr, why, "dropped unanswerable message");
            None
        }
    }
}
