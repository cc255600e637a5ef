//! One TCP or TLS connection (RFC 3261 §18.3): messages framed by Content-Length, responses
//! written back on the same connection, closed after an idle period.

use super::inbound::{Inbound, vet};
use super::{Received, Shared};
use crate::framing::{Frame, Framer};
use crate::transaction::Peer;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Runs a connection until the peer closes it, an error, or `idle` without traffic.
pub(crate) async fn run<S>(
    stream: S,
    peer: Peer,
    mut rx: mpsc::Receiver<Arc<[u8]>>,
    shared: Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let framer = Framer::new(shared.cfg.max_message_size);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let idle = shared.cfg.idle_timeout;
    'conn: loop {
        tokio::select! {
            r = rd.read(&mut chunk) => {
                let n = match r {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                loop {
                    match framer.decode(&buf) {
                        Ok(None) => break,
                        Ok(Some(Frame::Keepalive { len })) => {
                            if len >= 4 && wr.write_all(b"\r\n").await.is_err() {
                                break 'conn;
                            }
                            buf.drain(..len);
                        }
                        Ok(Some(Frame::Message { len })) => {
                            let verdict = vet(&buf[..len], peer.addr, peer.transport, shared.cfg.max_message_size);
                            buf.drain(..len);
                            if !deliver(&shared, verdict, peer, &mut wr).await {
                                break 'conn;
                            }
                        }
                        Err(e) => {
                            // The stream cannot resynchronise: answer if possible, close.
                            let verdict = vet_broken(&buf, &e, shared.cfg.max_message_size);
                            deliver(&shared, verdict, peer, &mut wr).await;
                            break 'conn;
                        }
                    }
                }
            }
            out = rx.recv() => {
                let Some(bytes) = out else { break 'conn };
                if wr.write_all(&bytes).await.is_err() {
                    break 'conn;
                }
                shared.stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            _ = tokio::time::sleep(idle) => {
                tracing::debug!(peer = %peer.addr, "closing idle connection");
                break 'conn;
            }
        }
    }
    let _ = wr.shutdown().await;
    shared.forget(peer);
}

/// A framing error (over the size limit, bad Content-Length): the head may still be
/// answerable with 513 or 400.
fn vet_broken(buf: &[u8], e: &crate::ParseError, max: usize) -> Inbound {
    let head = crate::message::head_end(buf).map_or(buf.len().min(max), |(_, b)| b);
    super::inbound::reject_raw(&buf[..head], e.status_code(), &e.reason_phrase())
}

/// Passes a vetted message on; returns false when the connection should close.
async fn deliver<W: AsyncWrite + Unpin>(
    shared: &Shared,
    verdict: Inbound,
    peer: Peer,
    wr: &mut W,
) -> bool {
    match verdict {
        Inbound::Request { bytes, respond_to } => shared.push(Received {
            bytes,
            source: peer,
            respond_to,
        }),
        Inbound::Response(bytes) => shared.push(Received {
            bytes,
            source: peer,
            respond_to: peer,
        }),
        Inbound::Reject { code, bytes } => {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::info!(peer = %peer.addr, code, "rejected malformed request");
            wr.write_all(&bytes).await.is_ok()
        }
        Inbound::Drop(why) => {
            shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.addr, why, "dropped unanswerable message");
            true
        }
    }
}
