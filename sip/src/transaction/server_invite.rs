//! The INVITE server transaction (RFC 3261 §17.2.1, with the Accepted state and Timer L of
//! RFC 6026 §8.5-§8.7): Proceeding, Completed, Confirmed, Accepted, Terminated.

use super::output::{Output, Peer, Transmit, TuEvent, Verdict};
use super::timer::{TimerConfig, TimerName, Timers};
use crate::builder::MessageBuilder;
use crate::header::Method;
use crate::message::Message;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the TU may stay silent before the transaction sends 100 Trying (§17.2.1), by
/// default ([`TimerConfig::trying`]).
pub const TRYING_AFTER: Duration = Duration::from_millis(200);

/// States of the INVITE server transaction (§17.2.1 figure 7, RFC 6026 figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The INVITE went to the TU; retransmissions get the last provisional response.
    Proceeding,
    /// A 300-699 was sent; Timer G retransmits it until the ACK or Timer H.
    Completed,
    /// The ACK arrived; its retransmissions are absorbed until Timer I.
    Confirmed,
    /// A 2xx was sent (RFC 6026): INVITE retransmissions are absorbed, ACKs go to the TU,
    /// the TU's 2xx retransmissions pass through, until Timer L.
    Accepted,
    /// Done.
    Terminated,
}

/// An INVITE server transaction.
#[derive(Debug)]
pub struct ServerInvite {
    state: ServerInviteState,
    cfg: TimerConfig,
    peer: Peer,
    trying: Option<Arc<[u8]>>,
    last_response: Option<Arc<[u8]>>,
    timer_g: Duration,
    timers: Timers,
    out: VecDeque<Output>,
    single_refusal: bool,
}

impl ServerInvite {
    /// Creates the transaction for an INVITE from `peer` at `now`. The caller passes the
    /// INVITE to the TU; if the TU has not responded within [`TimerConfig::trying`] the
    /// transaction sends 100 Trying itself (§17.2.1).
    pub fn new(now: Instant, cfg: TimerConfig, peer: Peer, invite: &Message<'_>) -> Self {
        let trying = MessageBuilder::response_to(invite, 100, "Trying", None).finish();
        let mut timers = Timers::default();
        timers.start(TimerName::Trying, now, cfg.trying);
        let mut tx = ServerInvite {
            state: ServerInviteState::Proceeding,
            cfg,
            peer,
            trying: Some(trying.into()),
            last_response: None,
            timer_g: cfg.t1,
            timers,
            out: VecDeque::new(),
            single_refusal: false,
        };
        // A zero delay: the 100 goes out now, before the TU sees the INVITE.
        if cfg.trying.is_zero() {
            tx.handle_timeout(now);
        }
        tx
    }

    /// Single refusal (a deliberate deviation from §17.2.1): a 300-699 response sent while
    /// no provisional response has been sent goes out once and the transaction ends at
    /// once, instead of Timer G retransmitting it until an ACK (which a forged source never
    /// sends: up to ten copies per request, a reflection amplifier) and Timer H holding the
    /// state for 64*T1. Nothing is lost for a real client: until it hears a provisional
    /// response it retransmits the INVITE itself (Timer A, §17.1.1.2), and each
    /// retransmission, now a new transaction, is refused again; its ACK matches nothing
    /// and is dropped (§17.2.3). Once a provisional was sent the client stops
    /// retransmitting, so the RFC behaviour is kept.
    pub fn set_single_refusal(&mut self, on: bool) {
        self.single_refusal = on;
    }

    /// The current state.
    pub fn state(&self) -> ServerInviteState {
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

    /// A request matched to this transaction arrived: an INVITE retransmission or an ACK.
    pub fn on_request(&mut self, now: Instant, method: Method<'_>) -> Verdict {
        use ServerInviteState::*;
        match (self.state, method) {
            (Proceeding | Completed, Method::Invite) => {
                self.resend();
                Verdict::Absorb
            }
            (Completed, Method::Ack) => {
                self.timers.stop(TimerName::G);
                self.timers.stop(TimerName::H);
                if self.peer.transport.is_reliable() {
                    self.terminate();
                } else {
                    self.state = Confirmed;
                    self.timers.start(TimerName::I, now, self.cfg.t4);
                }
                Verdict::Absorb
            }
            // RFC 6026 §8.7: the ACK for a 2xx is passed to the TU.
            (Accepted, Method::Ack) => Verdict::Deliver,
            _ => Verdict::Absorb,
        }
    }

    /// The TU sends a response with status `code`.
    pub fn respond(&mut self, now: Instant, code: u16, bytes: Arc<[u8]>) {
        use ServerInviteState::*;
        match (self.state, code) {
            (Proceeding, 100..=199) => {
                self.timers.stop(TimerName::Trying);
                self.last_response = Some(bytes);
                self.resend();
            }
            (Proceeding, 200..=299) => {
                self.timers.clear();
                self.last_response = Some(bytes);
                self.resend();
                self.state = Accepted;
                self.timers.start(TimerName::L, now, self.cfg.t1x64());
            }
            (Proceeding, _) if self.single_refusal && self.last_response.is_none() => {
                self.last_response = Some(bytes);
                self.resend();
                self.terminate();
            }
            (Proceeding, _) => {
                self.timers.clear();
                self.last_response = Some(bytes);
                self.resend();
                self.state = Completed;
                if !self.peer.transport.is_reliable() {
                    self.timers.start(TimerName::G, now, self.timer_g);
                }
                self.timers.start(TimerName::H, now, self.cfg.t1x64());
            }
            // RFC 6026 §8.6: the TU's 2xx retransmissions are sent in Accepted.
            (Accepted, 200..=299) => self.out.push_back(Output::Transmit(Transmit {
                to: self.peer,
                bytes,
            })),
            _ => {}
        }
    }

    /// The transport failed to send a response (§17.2.4).
    pub fn on_transport_error(&mut self) {
        self.out.push_back(Output::Event(TuEvent::TransportError));
        self.terminate();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ServerInviteState::*;
        while let Some(t) = self.timers.pop_due(now) {
            match (self.state, t) {
                (Proceeding, TimerName::Trying) if self.last_response.is_none() => {
                    self.last_response = self.trying.take();
                    self.resend();
                }
                (Completed, TimerName::G) => {
                    self.resend();
                    self.timer_g = (self.timer_g * 2).min(self.cfg.t2);
                    self.timers.start(TimerName::G, now, self.timer_g);
                }
                (Completed, TimerName::H) => {
                    self.out.push_back(Output::Event(TuEvent::Timeout));
                    self.terminate();
                }
                (Confirmed, TimerName::I) | (Accepted, TimerName::L) => self.terminate(),
                _ => {}
            }
        }
    }

    fn resend(&mut self) {
        if let Some(b) = &self.last_response {
            self.out.push_back(Output::Transmit(Transmit {
                to: self.peer,
                bytes: b.clone(),
            }));
        }
    }

    fn terminate(&mut self) {
        self.timers.clear();
        if self.state != ServerInviteState::Terminated {
            self.state = ServerInviteState::Terminated;
            self.out.push_back(Output::Event(TuEvent::Terminated));
        }
    }
}
