//! The non-INVITE client transaction (RFC 3261 §17.1.2): Trying, Proceeding, Completed,
//! Terminated.

use super::output::{Output, Peer, Transmit, TuEvent, Verdict};
use super::timer::{TimerConfig, TimerName, Timers};
use crate::message::Message;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// States of the non-INVITE client transaction (§17.1.2.2 figure 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// Request sent, no response yet.
    Trying,
    /// A provisional response arrived; retransmissions continue every T2.
    Proceeding,
    /// A final response arrived; retransmissions of it are absorbed until Timer K.
    Completed,
    /// Done.
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub struct ClientNonInvite {
    state: ClientNonInviteState,
    cfg: TimerConfig,
    request: Transmit,
    timer_e: Duration,
    timers: Timers,
    out: VecDeque<Output>,
}

impl ClientNonInvite {
    /// Starts the transaction: the request is sent, Timer E (unreliable only) and Timer F
    /// start (§17.1.2.2).
    pub fn new(now: Instant, cfg: TimerConfig, to: Peer, request: Arc<[u8]>) -> Self {
        let mut t = ClientNonInvite {
            state: ClientNonInviteState::Trying,
            cfg,
            request: Transmit { to, bytes: request },
            timer_e: cfg.t1,
            timers: Timers::default(),
            out: VecDeque::new(),
        };
        t.out.push_back(Output::Transmit(t.request.clone()));
        if !to.transport.is_reliable() {
            t.timers.start(TimerName::E, now, cfg.t1);
        }
        t.timers.start(TimerName::F, now, cfg.t1x64());
        t
    }

    /// The current state.
    pub fn state(&self) -> ClientNonInviteState {
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

    /// A response matched to this transaction arrived.
    pub fn on_response(&mut self, now: Instant, resp: &Message<'_>) -> Verdict {
        let Some(code) = resp.status() else {
            return Verdict::Absorb;
        };
        use ClientNonInviteState::*;
        match (self.state, code) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                Verdict::Deliver
            }
            (Trying | Proceeding, _) => {
                self.timers.clear();
                if self.request.to.transport.is_reliable() {
                    self.terminate();
                } else {
                    self.state = Completed;
                    self.timers.start(TimerName::K, now, self.cfg.t4);
                }
                Verdict::Deliver
            }
            _ => Verdict::Absorb,
        }
    }

    /// The transport could not send the request (§17.1.4).
    pub fn on_transport_error(&mut self) {
        if self.state != ClientNonInviteState::Completed {
            self.out.push_back(Output::Event(TuEvent::TransportError));
        }
        self.terminate();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ClientNonInviteState::*;
        while let Some(t) = self.timers.pop_due(now) {
            match (self.state, t) {
                (Trying, TimerName::E) => {
                    // §17.1.2.2: double up to T2.
                    self.out.push_back(Output::Transmit(self.request.clone()));
                    self.timer_e = (self.timer_e * 2).min(self.cfg.t2);
                    self.timers.start(TimerName::E, now, self.timer_e);
                }
                (Proceeding, TimerName::E) => {
                    // §17.1.2.2: in Proceeding the interval is T2.
                    self.out.push_back(Output::Transmit(self.request.clone()));
                    self.timers.start(TimerName::E, now, self.cfg.t2);
                }
                (Trying | Proceeding, TimerName::F) => {
                    self.out.push_back(Output::Event(TuEvent::Timeout));
                    self.terminate();
                }
                (Completed, TimerName::K) => self.terminate(),
                _ => {}
            }
        }
    }

    fn terminate(&mut self) {
        self.timers.clear();
        if self.state != ClientNonInviteState::Terminated {
            self.state = ClientNonInviteState::Terminated;
            self.out.push_back(Output::Event(TuEvent::Terminated));
        }
    }
}
