//! A UAS that answers, built on the UA core ([`tipring_sip::ua::Ua`]): INVITE with 180 then 200
//! (after a configurable delay, so INVITE retransmissions meet a pending final response),
//! the 2xx retransmitted until the ACK (RFC 3261 §13.3.1.4), BYE and OPTIONS with 200,
//! CANCEL with 200 and 487 (§9.2). This loop only moves bytes and counts; every SIP rule
//! lives in the core.

use super::{Endpoint, EndpointError, sdp};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tipring_sip::transaction::{Peer, Transport};
use tipring_sip::ua::{CallHandle, EndReason, Ua, UaConfig, UaEvent, UaStats};

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

impl Endpoint {
    /// Serves calls forever (until the transports close), any number at a time.
    pub async fn serve(mut self, opts: UasOptions) -> Result<(), EndpointError> {
        // The first bound transport writes our Via and Contact; responses always go back
        // the way their request came (§18.2.2).
        let (transport, local) = [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find_map(|t| self.local(t).ok().map(|a| (t, a)))
            .ok_or_else(|| EndpointError::Bad("no transport bound".into()))?;
        let mut cfg = UaConfig::new(local, transport, "tipring");
        cfg.single_line = false;
        cfg.timers = self.layer.config();
        let mut ua = Ua::new(cfg);
        let mut answers: HashMap<CallHandle, Instant> = HashMap::new();
        let mut seen = UaStats::default();
        loop {
            let wake = [ua.poll_timeout(), answers.values().min().copied()]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.rx.recv() => {
                    let r = r.ok_or(EndpointError::Closed)?;
                    let from: Peer = if r.bytes.starts_with(b"SIP/") { r.source } else { r.respond_to };
                    ua.handle_message(Instant::now(), &r.bytes, from);
                }
                _ = sleep => ua.handle_timeout(Instant::now()),
            }
            let now = Instant::now();
            let due: Vec<CallHandle> = answers
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(h, _)| *h)
                .collect();
            for h in due {
                answers.remove(&h);
                let _ = ua.answer(now, h, &sdp(local, 40000));
            }
            while let Some(ev) = ua.poll_event() {
                match ev {
                    UaEvent::Incoming { call, .. } => {
                        self.counters.invites.fetch_add(1, Ordering::Relaxed);
                        if opts.ring {
                            let _ = ua.ring(now, call, 180, None);
                        }
                        if opts.answer_after.is_zero() {
                            let _ = ua.answer(now, call, &sdp(local, 40000));
                        } else {
                            answers.insert(call, now + opts.answer_after);
                        }
                    }
                    UaEvent::Confirmed { .. } => {
                        self.counters.acks.fetch_add(1, Ordering::Relaxed);
                    }
                    UaEvent::Ended { call, reason } => {
                        answers.remove(&call);
                        if reason == EndReason::RemoteBye {
                            self.counters.byes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {}
                }
            }
            ua.reap();
            let st = ua.stats();
            let c = &self.counters;
            c.absorbed
                .fetch_add(st.absorbed - seen.absorbed, Ordering::Relaxed);
            c.retransmitted_2xx.fetch_add(
                st.retransmitted_2xx - seen.retransmitted_2xx,
                Ordering::Relaxed,
            );
            c.options
                .fetch_add(st.options - seen.options, Ordering::Relaxed);
            c.cancels
                .fetch_add(st.cancels - seen.cancels, Ordering::Relaxed);
            c.timeouts
                .fetch_add(st.timeouts - seen.timeouts, Ordering::Relaxed);
            seen = st;
            while let Some(t) = ua.poll_transmit() {
                if let Err(e) = self.tp.send(t.to, t.bytes).await {
                    tracing::warn!(peer = %t.to.addr, error = %e, "send failed");
                }
            }
        }
    }
}

/// Our Contact URI for a transport.
pub fn contact_uri(local: std::net::SocketAddr, t: tipring_sip::transaction::Transport) -> String {
    match t {
        Transport::Udp => format!("sip:tipring@{local}"),
        Transport::Tcp => format!("sip:tipring@{local};transport=tcp"),
        Transport::Tls => format!("sips:tipring@{local}"),
    }
}
