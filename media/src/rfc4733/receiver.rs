//! The receiving side of RFC 4733 events (§2.5.2): one notice when an event begins (from
//! the marker packet, or from the first update that arrives if the beginning was lost), one
//! notice when it ends (repeated final packets de-duplicated), segments of long events
//! joined (§2.5.1.5), stale packets from earlier events ignored after reordering, and an end
//! inferred when the final packets are all lost.

use super::{EventCode, TelephoneEventRepr};

/// Length of one segment of a long event (RFC 4733 §2.5.1.5).
const MAX_SEGMENT: u32 = 0xFFFF;

/// An event started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventBegan {
    /// The event.
    pub event: EventCode,
    /// Its RTP timestamp (the start of the event).
    pub timestamp: u32,
    /// Volume, dB below 0 dBm0.
    pub volume: u8,
}

/// An event finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventEnded {
    /// The event.
    pub event: EventCode,
    /// Its RTP timestamp (the start of the event).
    pub timestamp: u32,
    /// Total duration over all segments, in timestamp units.
    pub duration: u32,
    /// The end was inferred (a newer event or a timeout), not reported with the E bit.
    pub inferred: bool,
}

/// What one packet (or a timeout) produced. An event can end and the next begin in one step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventOutput {
    /// An event ended (reported first: it precedes any `began`).
    pub ended: Option<EventEnded>,
    /// An event began.
    pub began: Option<EventBegan>,
}

#[derive(Clone, Copy, Debug)]
struct Current {
    event: EventCode,
    /// Timestamp of the first segment.
    start_ts: u32,
    /// Timestamp of the segment being received.
    segment_ts: u32,
    /// Sum of the durations of the finished segments.
    base: u32,
    /// Largest duration seen in this segment.
    duration: u32,
    ended: bool,
}

/// Tracks the events of one RTP stream.
#[derive(Clone, Debug, Default)]
pub struct TelephoneEventReceiver {
    current: Option<Current>,
}

/// Whether timestamp `a` is after `b` in RTP's wrapping order.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl TelephoneEventReceiver {
    /// A receiver with no event seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether an event is in progress (begun and not ended).
    pub fn active(&self) -> Option<EventCode> {
        self.current.filter(|c| !c.ended).map(|c| c.event)
    }

    /// Takes one event packet: its RTP timestamp and payload. The marker bit is not needed:
    /// a new timestamp begins a new event whether or not its first packet arrived.
    pub fn on_packet(&mut self, timestamp: u32, repr: &TelephoneEventRepr) -> EventOutput {
        let mut out = EventOutput::default();
        let dur = u32::from(repr.duration);
        if let Some(cur) = &mut self.current {
            if timestamp == cur.segment_ts {
                if cur.ended {
                    return out; // repeated final packet or a late update
                }
                cur.duration = cur.duration.max(dur);
                if repr.end {
                    cur.ended = true;
                    out.ended = Some(EventEnded {
                        event: cur.event,
                        timestamp: cur.start_ts,
                        duration: cur.base.saturating_add(cur.duration),
                        inferred: false,
                    });
                }
                return out;
            }
            if !after(timestamp, cur.segment_ts) {
                return out; // an older segment or event, arrived late
            }
            if !cur.ended
                && repr.event == cur.event
                && timestamp.wrapping_sub(cur.segment_ts) == MAX_SEGMENT
            {
                // The next segment of a long event (§2.5.1.5).
                cur.base = cur.base.saturating_add(MAX_SEGMENT);
                cur.segment_ts = timestamp;
                cur.duration = dur;
                if repr.end {
                    cur.ended = true;
                    out.ended = Some(EventEnded {
                        event: cur.event,
                        timestamp: cur.start_ts,
                        duration: cur.base.saturating_add(cur.duration),
                        inferred: false,
                    });
                }
                return out;
            }
            if !cur.ended {
                // A newer event while this one never reported its end.
                cur.ended = true;
                out.ended = Some(EventEnded {
                    event: cur.event,
                    timestamp: cur.start_ts,
                    duration: cur.base.saturating_add(cur.duration),
                    inferred: true,
                });
            }
        }
        self.current = Some(Current {
            event: repr.event,
            start_ts: timestamp,
            segment_ts: timestamp,
            base: 0,
            duration: dur,
            ended: repr.end,
        });
        out.began = Some(EventBegan {
            event: repr.event,
            timestamp,
            volume: repr.volume,
        });
        if repr.end {
            out.ended = Some(EventEnded {
                event: repr.event,
                timestamp,
                duration: dur,
                inferred: false,
            });
        }
        out
    }

    /// Ends the current event if nothing newer than `timeout` units has been heard of it at
    /// media time `now` (its final packets were all lost).
    pub fn on_timeout(&mut self, now: u32, timeout: u32) -> Option<EventEnded> {
        let cur = self.current.as_mut()?;
        let heard = cur.segment_ts.wrapping_add(cur.duration);
        if cur.ended || !after(now, heard.wrapping_add(timeout)) {
            return None;
        }
        cur.ended = true;
        Some(EventEnded {
            event: cur.event,
            timestamp: cur.start_ts,
            duration: cur.base.saturating_add(cur.duration),
            inferred: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EventRtp, TelephoneEventSender};
    use super::*;

    /// Runs a sender over `digits` (each 100 ms on, 100 ms off) and returns its packets.
    fn send(digits: &[(u8, u32)]) -> Vec<EventRtp> {
        let mut s = TelephoneEventSender::new(400);
        let mut out = Vec::new();
        let mut now = 8000u32;
        for &(d, on) in digits {
            s.start(EventCode(d), 10, now);
            let end = now + on;
            while now < end {
                while let Some(p) = s.poll(now) {
                    out.push(p);
                }
                now += 160;
            }
            s.stop(now);
            for _ in 0..6 {
                while let Some(p) = s.poll(now) {
                    out.push(p);
                }
                now += 160;
            }
        }
        out
    }

    fn receive(packets: &[EventRtp]) -> (Vec<EventBegan>, Vec<EventEnded>) {
        let mut r = TelephoneEventReceiver::new();
        let (mut b, mut e) = (Vec::new(), Vec::new());
        for p in packets {
            let o = r.on_packet(p.timestamp, &p.event);
            e.extend(o.ended);
            b.extend(o.began);
        }
        (b, e)
    }

    #[test]
    fn each_digit_is_reported_once_despite_three_end_packets() {
        let pk = send(&[(1, 800), (2, 800), (11, 800)]);
        let (b, e) = receive(&pk);
        let keys: Vec<char> = b.iter().map(|x| x.event.key().unwrap()).collect();
        assert_eq!(keys, ['1', '2', '#']);
        assert_eq!(e.len(), 3);
        assert!(e.iter().all(|x| x.duration == 800 && !x.inferred));
    }

    #[test]
    fn a_lost_begin_is_recovered_from_an_update() {
        let mut pk = send(&[(7, 1600)]);
        assert!(pk[0].marker);
        pk.remove(0);
        let (b, e) = receive(&pk);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].event, EventCode(7));
        assert_eq!(e[0].duration, 1600);
    }

    #[test]
    fn reordering_and_late_packets_do_not_create_events() {
        let mut pk = send(&[(3, 800), (4, 800)]);
        // Move the first event's final packets after the second event's first packets.
        let first_end = pk.iter().position(|p| p.event.end).unwrap();
        let late: Vec<EventRtp> = pk.drain(first_end..first_end + 3).collect();
        pk.splice(first_end + 2..first_end + 2, late);
        // And swap two updates of the second event.
        let n = pk.len();
        pk.swap(n - 5, n - 6);
        let (b, e) = receive(&pk);
        assert_eq!(b.iter().map(|x| x.event.0).collect::<Vec<_>>(), [3, 4]);
        // The first event's end was inferred when the second began.
        assert_eq!(e.len(), 2);
        assert!(e[0].inferred && e[0].event == EventCode(3));
        assert!(!e[1].inferred && e[1].duration == 800);
    }

    #[test]
    fn long_events_are_joined_across_segments() {
        let pk = send(&[(16, 150_400)]);
        let (b, e) = receive(&pk);
        assert_eq!(b.len(), 1);
        assert!(b[0].event.is_flash());
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].duration, 150_400);
        assert!(!e[0].inferred);
    }

    #[test]
    fn lost_end_packets_time_out() {
        let pk = send(&[(9, 800)]);
        let mut r = TelephoneEventReceiver::new();
        for p in pk.iter().filter(|p| !p.event.end) {
            r.on_packet(p.timestamp, &p.event);
        }
        let ts = pk[0].timestamp;
        assert_eq!(r.on_timeout(ts + 800 + 100, 800), None);
        let end = r.on_timeout(ts + 800 + 1700, 800).unwrap();
        assert!(end.inferred);
        assert_eq!(r.active(), None);
    }
}
