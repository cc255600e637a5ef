//! The non-INVITE server transaction (RFC 3261 §17.2.2): Trying, Proceeding, Completed,
//! Terminated.

use super::output::{Output, Peer, Transmit, TuEvent, Verdict};
use super::timer::{TimerConfig, TimerName, Timers};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// States of the non-INVITE server transaction (§17.2.2 figure 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// The request went to the TU; retransmissions are absorbed.
    Trying,
    /// The TU sent a provisional response; retransmissions get it again.
    Proceeding,
    /// The TU sent a final response; retransmissions get it again until Timer J.
    Completed,
    /// Done.
    Terminated,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub struct ServerNonInvite {
    state: ServerNonInviteState,
    cfg: TimerConfig,
    peer: Peer,
    last_response: Option<Arc<[u8]>>,
    timers: Timers,
    out: VecDeque<Output>,
}

impl ServerNonInvite {
    /// Creates the transaction for a request received from `peer` (the response address of
    /// §18.2.2). The caller passes the request to the TU.
    pub fn new(cfg: TimerConfig, peer: Peer) -> Self {
        ServerNonInvite {
            state: ServerNonInviteState::Trying,
            cfg,
            peer,
            last_response: None,
            timers: Timers::default(),
            out: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerNonInviteState {
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

    /// A retransmission of the request arrived (§17.2.2): absorbed, the last response
    /// (if any) is sent again.
    pub fn on_request(&mut self) -> Verdict {
        if matches!(
            self.state,
            ServerNonInviteState::Proceeding | ServerNonInviteState::Completed
        ) {
            self.resend();
        }
        Verdict::Absorb
    }

    /// The TU sends a response with status `code`.
    pub fn respond(&mut self, now: Instant, code: u16, bytes: Arc<[u8]>) {
        use ServerNonInviteState::*;
        match (self.state, code) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.last_response = Some(bytes);
                self.resend();
            }
            (Trying | Proceeding, _) => {
                self.last_response = Some(bytes);
                self.resend();
                if self.peer.transport.is_reliable() {
                    self.terminate();
                } else {
                    self.state = Completed;
                    self.timers.start(TimerName::J, now, self.cfg.t1x64());
                }
            }
            // §17.2.2: any other response from the TU in Completed is discarded.
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
        while let Some(t) = self.timers.pop_due(now) {
            if (self.state, t) == (ServerNonInviteState::Completed, TimerName::J) {
                self.terminate();
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
        if self.state != ServerNonInviteState::Terminated {
            self.state = ServerNonInviteState::Terminated;
            self.out.push_back(Output::Event(TuEvent::Terminated));
        }
    }
}
