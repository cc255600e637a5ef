//! The sending side of RFC 4733 events (§2.5.1): a first packet with the marker bit when the
//! event begins, updates at a fixed interval carrying the growing duration, the final packet
//! with the E bit sent three times with the same timestamp and duration (§2.5.1.4), and
//! events longer than 0xFFFF timestamp units split into segments (§2.5.1.5).
//!
//! Time is the RTP media clock (`u32` timestamp units); the caller polls with the current
//! media timestamp and wraps each returned payload in RTP with the returned timestamp and
//! marker (for example with [`crate::rtp::RtpSender::send_at`]).

use super::{EventCode, TelephoneEventRepr};

/// Times each final packet is sent (RFC 4733 §2.5.1.4).
const END_REPEATS: u8 = 3;
/// Longest duration one segment can carry (RFC 4733 §2.5.1.5).
const MAX_SEGMENT: u32 = 0xFFFF;

/// One packet to send: RTP timestamp and marker plus the event payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRtp {
    /// The RTP timestamp: the start of the event (or of its segment).
    pub timestamp: u32,
    /// The RTP marker bit: set on the first packet of an event only.
    pub marker: bool,
    /// The payload.
    pub event: TelephoneEventRepr,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Idle,
    Active {
        code: EventCode,
        volume: u8,
        /// Start of the current segment.
        segment_ts: u32,
        /// Media time of the next update.
        next_due: u32,
        /// The begin packet (with marker) is not yet sent.
        begin_pending: bool,
    },
    Ending {
        packet: EventRtp,
        remaining: u8,
        next_due: u32,
    },
}

/// Sends one event at a time.
#[derive(Clone, Debug)]
pub struct TelephoneEventSender {
    interval: u32,
    state: State,
    /// A start requested while final packets were still due.
    queued: Option<(EventCode, u8, u32)>,
}

fn due(now: u32, at: u32) -> bool {
    now.wrapping_sub(at) as i32 >= 0
}

impl TelephoneEventSender {
    /// A sender sending updates every `interval` timestamp units (400 = 50 ms at 8 kHz).
    pub fn new(interval: u32) -> Self {
        TelephoneEventSender {
            interval: interval.max(1),
            state: State::Idle,
            queued: None,
        }
    }

    /// Whether an event (or its final retransmissions) is in progress.
    pub fn is_busy(&self) -> bool {
        !matches!(self.state, State::Idle) || self.queued.is_some()
    }

    /// Begins `code` at media time `now`. If final packets of the previous event are still
    /// due, they are sent first without waiting for their interval.
    pub fn start(&mut self, code: EventCode, volume: u8, now: u32) {
        let volume = volume.min(0x3F);
        match self.state {
            State::Ending { .. } => self.queued = Some((code, volume, now)),
            State::Idle | State::Active { .. } => {
                self.state = State::Active {
                    code,
                    volume,
                    segment_ts: now,
                    next_due: now,
                    begin_pending: true,
                }
            }
        }
    }

    /// Ends the current event at media time `now`; the final packet follows from `poll`.
    pub fn stop(&mut self, now: u32) {
        if let State::Active {
            code,
            volume,
            segment_ts,
            begin_pending,
            ..
        } = self.state
        {
            let duration = now.wrapping_sub(segment_ts).min(MAX_SEGMENT) as u16;
            self.state = State::Ending {
                packet: EventRtp {
                    timestamp: segment_ts,
                    marker: begin_pending,
                    event: TelephoneEventRepr {
                        event: code,
                        end: true,
                        volume,
                        duration,
                    },
                },
                remaining: END_REPEATS,
                next_due: now,
            };
        }
    }

    /// The next packet due at media time `now`, if any. Call until it returns `None`.
    pub fn poll(&mut self, now: u32) -> Option<EventRtp> {
        match &mut self.state {
            State::Idle => None,
            State::Active {
                code,
                volume,
                segment_ts,
                next_due,
                begin_pending,
            } => {
                if !due(now, *next_due) {
                    return None;
                }
                let elapsed = now.wrapping_sub(*segment_ts);
                let (timestamp, duration) = if elapsed >= MAX_SEGMENT {
                    // Close this segment at 0xFFFF; the next starts where it ends (§2.5.1.5).
                    let ts = *segment_ts;
                    *segment_ts = segment_ts.wrapping_add(MAX_SEGMENT);
                    *next_due = now.wrapping_add(self.interval);
                    (ts, MAX_SEGMENT as u16)
                } else {
                    *next_due = next_due.wrapping_add(self.interval);
                    if !due(*next_due, now) {
                        *next_due = now.wrapping_add(self.interval);
                    }
                    (*segment_ts, elapsed as u16)
                };
                let marker = *begin_pending;
                *begin_pending = false;
                Some(EventRtp {
                    timestamp,
                    marker,
                    event: TelephoneEventRepr {
                        event: *code,
                        end: false,
                        volume: *volume,
                        duration,
                    },
                })
            }
            State::Ending {
                packet,
                remaining,
                next_due,
            } => {
                if self.queued.is_none() && !due(now, *next_due) {
                    return None;
                }
                let out = *packet;
                // Only the first of the three may carry the marker (a one-packet event).
                packet.marker = false;
                *remaining -= 1;
                *next_due = now.wrapping_add(self.interval);
                if *remaining == 0 {
                    self.state = State::Idle;
                    if let Some((code, volume, at)) = self.queued.take() {
                        self.start(code, volume, at);
                    }
                }
                Some(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut TelephoneEventSender, now: u32, out: &mut Vec<EventRtp>) {
        while let Some(p) = s.poll(now) {
            out.push(p);
        }
    }

    #[test]
    fn begin_with_marker_updates_every_interval_and_three_equal_ends() {
        let mut s = TelephoneEventSender::new(400);
        let t0 = 1_000u32;
        s.start(EventCode(5), 10, t0);
        let mut out = Vec::new();
        // Poll every 20 ms (160 units) for 200 ms, then stop.
        let mut now = t0;
        while now < t0 + 1600 {
            drain(&mut s, now, &mut out);
            now += 160;
        }
        s.stop(now);
        for _ in 0..10 {
            drain(&mut s, now, &mut out);
            now += 160;
        }
        assert!(!s.is_busy());
        assert!(out[0].marker && !out[0].event.end);
        assert!(out[1..].iter().all(|p| !p.marker && p.timestamp == t0));
        let updates: Vec<u16> = out
            .iter()
            .filter(|p| !p.event.end)
            .map(|p| p.event.duration)
            .collect();
        // 0, then at >= 400, 800, 1200 units on the 160-unit poll grid.
        assert_eq!(updates, [0, 480, 800, 1280]);
        let ends: Vec<&EventRtp> = out.iter().filter(|p| p.event.end).collect();
        assert_eq!(ends.len(), 3);
        assert!(
            ends.iter()
                .all(|p| p.event.duration == 1600 && p.timestamp == t0)
        );
    }

    #[test]
    fn events_longer_than_0xffff_are_segmented() {
        let mut s = TelephoneEventSender::new(400);
        let t0 = u32::MAX - 1000; // also crosses the timestamp wrap
        s.start(EventCode::FLASH, 0, t0);
        let mut out = Vec::new();
        let total = 150_000u32;
        let mut el = 0;
        while el < total {
            drain(&mut s, t0.wrapping_add(el), &mut out);
            el += 160;
        }
        s.stop(t0.wrapping_add(total));
        for k in 0..5 {
            drain(&mut s, t0.wrapping_add(total + k * 400), &mut out);
        }
        let seg_ts: Vec<u32> = out.iter().map(|p| p.timestamp).collect();
        let mut distinct = seg_ts.clone();
        distinct.dedup();
        assert_eq!(
            distinct,
            [t0, t0.wrapping_add(0xFFFF), t0.wrapping_add(2 * 0xFFFF)]
        );
        // Each closed segment reports exactly 0xFFFF; the final one the rest.
        for seg in &distinct[..2] {
            let max = out
                .iter()
                .filter(|p| p.timestamp == *seg)
                .map(|p| p.event.duration)
                .max();
            assert_eq!(max, Some(0xFFFF));
        }
        let last = out.last().unwrap();
        assert!(last.event.end);
        assert_eq!(u32::from(last.event.duration), total - 2 * 0xFFFF);
        assert_eq!(out.iter().filter(|p| p.marker).count(), 1);
    }

    #[test]
    fn a_new_event_flushes_pending_ends_first() {
        let mut s = TelephoneEventSender::new(400);
        s.start(EventCode(1), 10, 0);
        let mut out = Vec::new();
        drain(&mut s, 0, &mut out);
        s.stop(800);
        drain(&mut s, 800, &mut out);
        s.start(EventCode(2), 10, 900);
        drain(&mut s, 900, &mut out);
        let codes: Vec<(u8, bool, bool)> = out
            .iter()
            .map(|p| (p.event.event.0, p.event.end, p.marker))
            .collect();
        assert_eq!(
            codes,
            [
                (1, false, true),
                (1, true, false),
                (1, true, false),
                (1, true, false),
                (2, false, true)
            ]
        );
    }
}
