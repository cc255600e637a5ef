//! The link session between gateway and card (`hal/PROTOCOL.md` §5–§6), sans-IO.
//!
//! Feed it received bytes and timeouts with the current time; it queues bytes to write and
//! [`LinkOutput`]s for the application, and tells when it next needs [`Link::handle_timeout`].
//! The same machine runs both ends: the gateway ([`Role::Gateway`]) sends commands and
//! receives events, the card ([`Role::Card`]) the reverse.

use crate::model::{CardInfo, CmdResult, Command, PortId, TimedEvent};
use crate::wire::{
    Decoder, FrameRepr, Hello, MAX_WIRE_FRAME, PROTOCOL_VERSION, Packet, Role, Seq, encode_frame,
};
use std::collections::VecDeque;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// Timers of the session (PROTOCOL.md §5, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Hello period while down.
    pub hello: Duration,
    /// Send a heartbeat when nothing was sent for this long.
    pub heartbeat: Duration,
    /// Link down when nothing valid was received for this long.
    pub dead: Duration,
    /// Retransmit an unacknowledged reliable message after this long.
    pub retry: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            hello: Duration::from_millis(100),
            heartbeat: Duration::from_millis(100),
            dead: Duration::from_millis(400),
            retry: Duration::from_millis(50),
        }
    }
}

/// What the application learns from the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutput {
    /// The session is up; the peer's hello (for a card: firmware and ports).
    Up(Hello),
    /// No valid frame for [`LinkConfig::dead`]: the session is down.
    Down,
    /// The peer speaks no common protocol version.
    Incompatible(Hello),
    /// Gateway: a card event, delivered exactly once and in order.
    Event(TimedEvent),
    /// Card: a command to carry out; answer with [`Link::answer`].
    Command {
        seq: Seq,
        port: PortId,
        command: Command,
    },
    /// Gateway: the card's result for the command submitted as `seq`.
    CommandDone { seq: Seq, result: CmdResult },
}

/// Counters for observability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bad_frames: u64,
    pub retransmissions: u64,
    pub duplicates: u64,
    pub link_downs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Down { next_hello: Duration },
    Up,
}

#[derive(Debug, Clone)]
struct Outstanding {
    packet: Packet,
    seq: Seq,
    /// When to retransmit; `None` while the link is down.
    retry_at: Option<Duration>,
}

/// One end of the session.
#[derive(Debug)]
pub struct Link {
    role: Role,
    cfg: LinkConfig,
    boot_id: u32,
    card: Option<CardInfo>,
    state: State,
    decoder: Decoder,
    last_rx: Duration,
    last_tx: Duration,
    peer: Option<Hello>,
    next_seq: Seq,
    queue: VecDeque<(Seq, Packet)>,
    outstanding: Option<Outstanding>,
    /// Last reliable `seq` accepted from the peer, and the result we acked it with.
    rx_last: Option<(Seq, Option<CmdResult>)>,
    transmit: Vec<u8>,
    outputs: VecDeque<LinkOutput>,
    stats: LinkStats,
}

impl Link {
    /// A new end, down, that will send its first hello at `now`.
    /// `card` must be given for [`Role::Card`] (it goes into the hello).
    pub fn new(
        role: Role,
        cfg: LinkConfig,
        boot_id: u32,
        card: Option<CardInfo>,
        now: Duration,
    ) -> Self {
        Link {
            role,
            cfg,
            boot_id,
            card,
            state: State::Down { next_hello: now },
            decoder: Decoder::new(),
            last_rx: now,
            last_tx: now,
            peer: None,
            next_seq: 0,
            queue: VecDeque::new(),
            outstanding: None,
            rx_last: None,
            transmit: Vec::new(),
            outputs: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// The peer's last hello.
    pub fn peer(&self) -> Option<&Hello> {
        self.peer.as_ref()
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Reliable messages not yet acknowledged (outstanding + queued).
    pub fn pending(&self) -> usize {
        self.queue.len() + usize::from(self.outstanding.is_some())
    }

    /// Gateway: queue a command; its result comes back as [`LinkOutput::CommandDone`] with
    /// the returned `seq`.
    pub fn submit_command(&mut self, now: Duration, port: PortId, command: Command) -> Seq {
        let seq = self.take_seq();
        self.enqueue(now, seq, Packet::Command { seq, port, command })
    }

    /// Card: queue an event for reliable delivery.
    pub fn submit_event(&mut self, now: Duration, event: TimedEvent) -> Seq {
        let seq = self.take_seq();
        self.enqueue(now, seq, Packet::Event { seq, event })
    }

    /// Withdraws a reliable message that has not been sent yet (a command whose caller gave
    /// up). One already on the wire cannot be withdrawn: returns `false` then.
    pub fn cancel(&mut self, seq: Seq) -> bool {
        let before = self.queue.len();
        self.queue.retain(|(s, _)| *s != seq);
        self.queue.len() != before
    }

    /// Card: answer the command delivered as `seq`.
    pub fn answer(&mut self, now: Duration, seq: Seq, result: CmdResult) {
        if self.rx_last == Some((seq, None)) {
            self.rx_last = Some((seq, Some(result)));
        }
        self.send(now, Packet::Ack { seq, result });
    }

    /// The transport was (re)opened: drop any partial frame and lead with a delimiter.
    pub fn transport_reset(&mut self) {
        self.decoder.reset();
        self.transmit.push(0);
    }

    /// Bytes received from the transport.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        let mut frames = Vec::new();
        self.decoder.feed(bytes, |r| frames.push(r));
        for r in frames {
            match r {
                Ok(f) => {
                    self.stats.frames_in += 1;
                    self.handle_packet(now, f.packet);
                }
                Err(_) => self.stats.bad_frames += 1,
            }
        }
        self.handle_timeout(now);
    }

    /// Let time pass to `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.state {
            State::Down { next_hello } => {
                if now >= next_hello {
                    self.transmit.push(0);
                    self.send_hello(now, false);
                    self.state = State::Down {
                        next_hello: now + self.cfg.hello,
                    };
                }
            }
            State::Up => {
                if now.saturating_sub(self.last_rx) >= self.cfg.dead {
                    self.go_down(now);
                    return self.handle_timeout(now);
                }
                if let Some(o) = &self.outstanding
                    && o.retry_at.is_some_and(|t| now >= t)
                {
                    self.stats.retransmissions += 1;
                    self.retransmit(now);
                }
                if now.saturating_sub(self.last_tx) >= self.cfg.heartbeat {
                    self.send(
                        now,
                        Packet::Heartbeat {
                            now_ms: now.as_millis() as u32,
                        },
                    );
                }
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Duration {
        match self.state {
            State::Down { next_hello } => next_hello,
            State::Up => {
                let mut t = (self.last_rx + self.cfg.dead).min(self.last_tx + self.cfg.heartbeat);
                if let Some(r) = self.outstanding.as_ref().and_then(|o| o.retry_at) {
                    t = t.min(r);
                }
                t
            }
        }
    }

    /// The next thing for the application.
    pub fn poll_output(&mut self) -> Option<LinkOutput> {
        self.outputs.pop_front()
    }

    /// Moves the bytes to write into `out` (appending).
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.transmit);
    }

    fn take_seq(&mut self) -> Seq {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        s
    }

    fn enqueue(&mut self, now: Duration, seq: Seq, packet: Packet) -> Seq {
        self.queue.push_back((seq, packet));
        self.pump(now);
        seq
    }

    /// Sends the head of the queue if nothing is outstanding and the link is up.
    fn pump(&mut self, now: Duration) {
        if self.outstanding.is_some() || !self.is_up() {
            return;
        }
        if let Some((seq, packet)) = self.queue.pop_front() {
            self.outstanding = Some(Outstanding {
                packet,
                seq,
                retry_at: None,
            });
            self.retransmit(now);
        }
    }

    fn retransmit(&mut self, now: Duration) {
        let up = self.is_up();
        if let Some(o) = &mut self.outstanding {
            if !up {
                o.retry_at = None;
                return;
            }
            o.retry_at = Some(now + self.cfg.retry);
            let p = o.packet.clone();
            self.send(now, p);
        }
    }

    fn go_down(&mut self, now: Duration) {
        self.state = State::Down { next_hello: now };
        self.stats.link_downs += 1;
        if let Some(o) = &mut self.outstanding {
            o.retry_at = None;
        }
        self.outputs.push_back(LinkOutput::Down);
    }

    fn send_hello(&mut self, now: Duration, answer: bool) {
        let hello = Hello {
            role: self.role,
            min_version: PROTOCOL_VERSION,
            max_version: PROTOCOL_VERSION,
            boot_id: self.boot_id,
            answer,
            card: self.card.clone(),
        };
        self.send(now, Packet::Hello(hello));
    }

    fn send(&mut self, now: Duration, packet: Packet) {
        let mut buf = [0u8; MAX_WIRE_FRAME];
        match encode_frame(&FrameRepr::new(packet), &mut buf) {
            Ok(n) => {
                self.transmit.extend_from_slice(&buf[..n]);
                self.stats.frames_out += 1;
                self.last_tx = now;
            }
            // Every message type fits MAX_FRAME by construction (bounded heapless fields).
            Err(e) => debug_assert!(false, "frame did not fit: {e}"),
        }
    }

    fn handle_packet(&mut self, now: Duration, packet: Packet) {
        if let Packet::Hello(h) = packet {
            return self.handle_hello(now, h);
        }
        if !self.is_up() {
            return;
        }
        self.last_rx = now;
        match (self.role, packet) {
            (_, Packet::Hello(_)) | (_, Packet::Heartbeat { .. }) => {}
            (_, Packet::Ack { seq, result }) => {
                if self.outstanding.as_ref().is_some_and(|o| o.seq == seq) {
                    self.outstanding = None;
                    if self.role == Role::Gateway {
                        self.outputs
                            .push_back(LinkOutput::CommandDone { seq, result });
                    }
                    self.pump(now);
                }
            }
            (Role::Gateway, Packet::Event { seq, event }) => {
                if self.accept(now, seq) {
                    self.rx_last = Some((seq, Some(CmdResult::Ok)));
                    self.outputs.push_back(LinkOutput::Event(event));
                    self.send(
                        now,
                        Packet::Ack {
                            seq,
                            result: CmdResult::Ok,
                        },
                    );
                }
            }
            (Role::Card, Packet::Command { seq, port, command }) => {
                if self.accept(now, seq) {
                    self.rx_last = Some((seq, None));
                    self.outputs
                        .push_back(LinkOutput::Command { seq, port, command });
                }
            }
            // Messages of the wrong direction are ignored.
            (Role::Gateway, Packet::Command { .. }) | (Role::Card, Packet::Event { .. }) => {}
        }
    }

    /// Stop-and-wait receive rule (PROTOCOL.md §5): new iff `seq` differs from the last.
    /// A duplicate is re-acked with the remembered result.
    fn accept(&mut self, now: Duration, seq: Seq) -> bool {
        match self.rx_last {
            Some((last, result)) if last == seq => {
                self.stats.duplicates += 1;
                if let Some(result) = result {
                    self.send(now, Packet::Ack { seq, result });
                }
                false
            }
            _ => true,
        }
    }

    fn handle_hello(&mut self, now: Duration, h: Hello) {
        if h.role == self.role {
            return;
        }
        self.last_rx = now;
        if !h.answer {
            self.send_hello(now, true);
        }
        if !(h.min_version..=h.max_version).contains(&PROTOCOL_VERSION) {
            self.outputs.push_back(LinkOutput::Incompatible(h));
            return;
        }
        if self.peer.as_ref().map(|p| p.boot_id) != Some(h.boot_id) {
            self.rx_last = None;
        }
        let was_up = self.is_up();
        self.state = State::Up;
        self.peer = Some(h.clone());
        if !was_up {
            self.outputs.push_back(LinkOutput::Up(h));
        }
        match &self.outstanding {
            Some(_) => self.retransmit(now),
            None => self.pump(now),
        }
    }
}
