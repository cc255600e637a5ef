//! The INVITE client transaction (RFC 3261 §17.1.1, with the Accepted state of RFC 6026
//! §8.4): Calling, Proceeding, Accepted, Completed, Terminated.

use super::output::{Output, Peer, Transmit, TuEvent, Verdict};
use super::timer::{TimerConfig, TimerName, Timers};
use crate::builder::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// States of the INVITE client transaction (§17.1.1.2 figure 5, RFC 6026 figure 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// INVITE sent, no response yet; Timer A retransmits over UDP, Timer B times out.
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A 2xx arrived and went to the TU; further 2xx go to the TU too until Timer M.
    Accepted,
    /// A 300-699 arrived and was ACKed; retransmissions of it are ACKed again until Timer D.
    Completed,
    /// Done.
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub struct ClientInvite {
    state: ClientInviteState,
    cfg: TimerConfig,
    request: Transmit,
    ack: Option<Arc<[u8]>>,
    timer_a: Duration,
    timers: Timers,
    out: VecDeque<Output>,
}

impl ClientInvite {
    /// Starts the transaction at `now`: the INVITE is passed to the transport at once, Timer
    /// A (unreliable transports only) and Timer B start (§17.1.1.2).
    pub fn new(now: Instant, cfg: TimerConfig, to: Peer, request: Arc<[u8]>) -> Self {
        let mut t = ClientInvite {
            state: ClientInviteState::Calling,
            cfg,
            request: Transmit { to, bytes: request },
            ack: None,
            timer_a: cfg.t1,
            timers: Timers::default(),
            out: VecDeque::new(),
        };
        t.out.push_back(Output::Transmit(t.request.clone()));
        if !to.transport.is_reliable() {
            t.timers.start(TimerName::A, now, cfg.t1);
        }
        t.timers.start(TimerName::B, now, cfg.t1x64());
        t
    }

    /// The current state.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// The earliest running timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A response matched to this transaction (§17.1.3) arrived.
    pub fn on_response(&mut self, now: Instant, resp: &Message<'_>) -> Verdict {
        let Some(code) = resp.status() else {
            return Verdict::Absorb;
        };
        use ClientInviteState::*;
        match (self.state, code) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                // §17.1.1.2: no more retransmissions once a provisional arrived; Timer B
                // only guards the Calling state (the TU cancels a call that rings too long).
                self.timers.stop(TimerName::A);
                self.timers.stop(TimerName::B);
                Verdict::Deliver
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.timers.clear();
                self.timers.start(TimerName::M, now, self.cfg.t1x64());
                Verdict::Deliver
            }
            (Calling | Proceeding, _) => {
                self.timers.clear();
                self.ack = ack_for(&self.request.bytes, resp).map(Arc::from);
                self.send_ack();
                if self.request.to.transport.is_reliable() {
                    self.terminate();
                } else {
                    self.state = Completed;
                    self.timers
                        .start(TimerName::D, now, Duration::from_secs(32));
                }
                Verdict::Deliver
            }
            // RFC 6026 §8.4: 2xx retransmissions (and 2xx from other forks) go to the TU,
            // which ACKs them (§13.2.2.4).
            (Accepted, 200..=299) => Verdict::Deliver,
            (Completed, 300..=699) => {
                self.send_ack();
                Verdict::Absorb
            }
            _ => Verdict::Absorb,
        }
    }

    /// The transport could not send the request (§17.1.4).
    pub fn on_transport_error(&mut self) {
        if matches!(
            self.state,
            ClientInviteState::Calling | ClientInviteState::Proceeding
        ) {
            self.out.push_back(Output::Event(TuEvent::TransportError));
        }
        self.terminate();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(t) = self.timers.pop_due(now) {
            match (self.state, t) {
                (ClientInviteState::Calling, TimerName::A) => {
                    // §17.1.1.2: retransmit, double the interval (no T2 cap for INVITE).
                    self.out.push_back(Output::Transmit(self.request.clone()));
                    self.timer_a *= 2;
                    self.timers.start(TimerName::A, now, self.timer_a);
                }
                (ClientInviteState::Calling, TimerName::B) => {
                    self.out.push_back(Output::Event(TuEvent::Timeout));
                    self.terminate();
                }
                (ClientInviteState::Completed, TimerName::D)
                | (ClientInviteState::Accepted, TimerName::M) => self.terminate(),
                _ => {}
            }
        }
    }

    fn send_ack(&mut self) {
        if let Some(bytes) = &self.ack {
            self.out.push_back(Output::Transmit(Transmit {
                to: self.request.to,
                bytes: bytes.clone(),
            }));
        }
    }

    fn terminate(&mut self) {
        self.timers.clear();
        if self.state != ClientInviteState::Terminated {
            self.state = ClientInviteState::Terminated;
            self.out.push_back(Output::Event(TuEvent::Terminated));
        }
    }
}

/// The ACK for a non-2xx final response (§17.1.1.3): Request-URI, Call-ID, From and the CSeq
/// number of the INVITE, To of the response, the INVITE's top Via only, its Route headers.
pub fn ack_for(invite: &[u8], resp: &Message<'_>) -> Option<Vec<u8>> {
    let req = Message::parse(invite).ok()?;
    let mut b = MessageBuilder::request(Method::Ack, req.request_uri()?)
        .via(req.top_via()?)
        .max_forwards(70)
        .from(req.from()?)
        .to(resp.to()?)
        .call_id(req.call_id()?)
        .cseq(req.cseq()?.seq, Method::Ack);
    for h in req.headers().iter().filter(|h| h.kind == HeaderName::Route) {
        b = b.header(HeaderName::Route, h.value);
    }
    Some(b.finish())
}
