//! A UAS that answers: INVITE with 180 then 200 (after a configurable delay, so INVITE
//! retransmissions meet a pending final response), the 2xx retransmitted until the ACK
//! (RFC 3261 §13.3.1.4), BYE and OPTIONS with 200, CANCEL with 200 and 487 (§9.2).

use super::{Endpoint, EndpointError, Event, sdp};
use crate::builder::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::transaction::{Peer, TxnId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How the UAS answers.
#[derive(Debug, Clone, Copy)]
pub struct UasOptions {
    /// Send 180 Ringing at once.
    pub ring: bool,
    /// Delay before the 200 OK.
    pub answer_after: Duration,
}

impl Default for UasOptions {
    fn default() -> Self {
        UasOptions {
            ring: true,
            answer_after: Duration::ZERO,
        }
    }
}

struct PendingAnswer {
    at: Instant,
    request: Vec<u8>,
    tag: String,
    respond_to: Peer,
}

/// A 2xx the UA core retransmits until the ACK (§13.3.1.4).
struct Unacked {
    txn: TxnId,
    bytes: Vec<u8>,
    to: Peer,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

impl Endpoint {
    /// Serves calls forever (until the transports close).
    pub async fn serve(mut self, opts: UasOptions) -> Result<(), EndpointError> {
        let mut answers: HashMap<TxnId, PendingAnswer> = HashMap::new();
        let mut unacked: HashMap<String, Unacked> = HashMap::new();
        let t = self.layer.config();
        loop {
            let wake = answers
                .values()
                .map(|a| a.at)
                .chain(unacked.values().map(|u| u.next))
                .min();
            let ev = self.next_event(wake).await?;
            let now = Instant::now();
            // Due answers.
            let due: Vec<TxnId> = answers
                .iter()
                .filter(|(_, a)| a.at <= now)
                .map(|(k, _)| *k)
                .collect();
            for id in due {
                let Some(a) = answers.remove(&id) else {
                    continue;
                };
                let Ok(req) = Message::parse(&a.request) else {
                    continue;
                };
                let bytes = self.answer(&req, 200, "OK", &a.tag, a.respond_to, true)?;
                let call_id = req.call_id().unwrap_or_default().to_string();
                if self.respond(id, 200, bytes.clone()).await.is_ok() {
                    unacked.insert(
                        call_id,
                        Unacked {
                            txn: id,
                            bytes,
                            to: a.respond_to,
                            next: now + t.t1,
                            interval: t.t1,
                            give_up: now + t.t1x64(),
                        },
                    );
                }
            }
            // 2xx retransmissions: T1 doubling up to T2, for 64*T1.
            for u in unacked.values_mut() {
                if u.next > now {
                    continue;
                }
                self.counters
                    .retransmitted_2xx
                    .fetch_add(1, Ordering::Relaxed);
                if self.respond(u.txn, 200, u.bytes.clone()).await.is_err() {
                    let _ = self.send_raw(u.to, u.bytes.clone().into()).await;
                }
                u.interval = (u.interval * 2).min(t.t2);
                u.next = now + u.interval;
            }
            unacked.retain(|_, u| u.give_up > now);
            let Some(ev) = ev else { continue };
            match ev {
                Event::Request {
                    id,
                    bytes,
                    respond_to,
                } => {
                    let Ok(req) = Message::parse(&bytes) else {
                        continue;
                    };
                    let tag = self.token();
                    match req.method() {
                        Some(Method::Invite) => {
                            self.counters.invites.fetch_add(1, Ordering::Relaxed);
                            if opts.ring {
                                let r =
                                    self.answer(&req, 180, "Ringing", &tag, respond_to, false)?;
                                self.respond(id, 180, r).await?;
                            }
                            answers.insert(
                                id,
                                PendingAnswer {
                                    at: now + opts.answer_after,
                                    request: bytes.clone(),
                                    tag,
                                    respond_to,
                                },
                            );
                        }
                        Some(Method::Bye) => {
                            self.counters.byes.fetch_add(1, Ordering::Relaxed);
                            let r =
                                MessageBuilder::response_to(&req, 200, "OK", Some(&tag)).finish();
                            self.respond(id, 200, r).await?;
                        }
                        Some(Method::Options) => {
                            self.counters.options.fetch_add(1, Ordering::Relaxed);
                            let r = MessageBuilder::response_to(&req, 200, "OK", Some(&tag))
                                .raw_header("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
                                .raw_header("Accept", "application/sdp")
                                .finish();
                            self.respond(id, 200, r).await?;
                        }
                        _ => {
                            let r = MessageBuilder::response_to(
                                &req,
                                501,
                                "Not Implemented",
                                Some(&tag),
                            )
                            .finish();
                            self.respond(id, 501, r).await?;
                        }
                    }
                }
                Event::Cancel { id, invite, bytes } => {
                    self.counters.cancels.fetch_add(1, Ordering::Relaxed);
                    let Ok(req) = Message::parse(&bytes) else {
                        continue;
                    };
                    let pending = invite.and_then(|i| answers.remove(&i).map(|a| (i, a)));
                    let code = if invite.is_some() { 200 } else { 481 };
                    let reason = if code == 200 {
                        "OK"
                    } else {
                        "Call/Transaction Does Not Exist"
                    };
                    let r = MessageBuilder::response_to(&req, code, reason, None).finish();
                    self.respond(id, code, r).await?;
                    if let Some((i, a)) = pending
                        && let Ok(inv) = Message::parse(&a.request)
                    {
                        let r = MessageBuilder::response_to(
                            &inv,
                            487,
                            "Request Terminated",
                            Some(&a.tag),
                        )
                        .finish();
                        self.respond(i, 487, r).await?;
                    }
                }
                Event::Ack { bytes } => {
                    if let Ok(ack) = Message::parse(&bytes)
                        && let Some(c) = ack.call_id()
                        && unacked.remove(c).is_some()
                    {
                        self.counters.acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Event::Response { .. } | Event::StrayResponse { .. } | Event::Txn(..) => {}
            }
        }
    }

    /// A response to an INVITE with our Contact (and an SDP answer for a 2xx).
    fn answer(
        &self,
        req: &Message<'_>,
        code: u16,
        reason: &str,
        tag: &str,
        peer: Peer,
        with_sdp: bool,
    ) -> Result<Vec<u8>, EndpointError> {
        let local = self.local(peer.transport)?;
        let contact = contact_uri(local, peer.transport);
        let b = MessageBuilder::response_to(req, code, reason, Some(tag))
            .header(HeaderName::Contact, format!("<{contact}>"));
        Ok(if with_sdp {
            b.body("application/sdp", &sdp(local, 40000))
        } else {
            b.finish()
        })
    }
}

/// Our Contact URI for a transport.
pub fn contact_uri(local: std::net::SocketAddr, t: crate::transaction::Transport) -> String {
    use crate::transaction::Transport;
    match t {
        Transport::Udp => format!("sip:tipring@{local}"),
        Transport::Tcp => format!("sip:tipring@{local};transport=tcp"),
        Transport::Tls => format!("sips:tipring@{local}"),
    }
}
