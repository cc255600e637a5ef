//! An adaptive jitter buffer, sans-IO: packets go in with their arrival instant, frames come
//! out at the instants the local audio clock asks for them.
//!
//! Timing model. Each packet's *transit* is its arrival minus its media time (its extended
//! RTP timestamp in microseconds); the smallest transit over a recent window is the fastest
//! path through the network, and the spread above it is the jitter to absorb. The buffer
//! plays the frame with media time `m` at `m + min_transit + delay`; it keeps `delay` near a
//! *target* equal to the observed spread plus one frame, clamped to configured bounds
//! (default 20-200 ms), rising at once when jitter grows and decaying slowly when it falls.
//! Because the local clock and the far sender's clock differ (drift), `delay` wanders; when it
//! leaves the band `[target - frame/2, target + 3 frame/2]` the buffer inserts one concealed
//! frame or drops one frame (counted as `inserted` / `removed`), so it neither grows without
//! bound nor starves. A talkspurt start (RTP marker) after the buffer ran dry re-anchors the
//! delay on the target (RFC 3551 §4.1 allows the receiver to adjust there); a timestamp jump
//! with consecutive sequence numbers restarts the timeline.
//!
//! Storage is a fixed ring of frame slots allocated once: no allocation per push or pop.

mod ring;

use crate::instant::Instant;
use crate::rtp::RtpPacket;
use ring::Ring;

/// Transit samples kept for the jitter estimate (about 2 s of 20 ms frames).
const TRANSIT_WINDOW: usize = 100;
/// Target decay per received packet when the jitter falls, in microseconds (1 ms/s at 50 pps).
const TARGET_DECAY_US: i64 = 20;

/// Configuration of a [`JitterBuffer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// Media clock rate in Hz (8000 for G.711).
    pub clock_rate: u32,
    /// Samples per frame (160 = 20 ms at 8 kHz).
    pub frame_samples: u32,
    /// Lowest target delay, microseconds.
    pub min_delay_us: u64,
    /// Highest target delay, microseconds.
    pub max_delay_us: u64,
    /// Frame slots in the ring (raised to hold at least the highest delay plus headroom).
    pub capacity: usize,
    /// Largest payload accepted, octets.
    pub max_payload: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            clock_rate: 8000,
            frame_samples: 160,
            min_delay_us: 20_000,
            max_delay_us: 200_000,
            capacity: 32,
            max_payload: 160,
        }
    }
}

/// What became of a pushed packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Stored,
    /// The same frame is already stored.
    Duplicate,
    /// Its playout instant has passed.
    Late,
    /// A timestamp jump: the timeline restarted on this packet.
    Resynced,
    /// Payload larger than `max_payload`.
    Oversize,
    /// Too far from the playout point to store, and not a timeline restart.
    OutOfRange,
}

/// One frame of playout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Playout<'a> {
    /// The payload of the frame due now.
    Audio(&'a [u8]),
    /// No frame: conceal (loss, underrun, or a frame inserted to absorb drift).
    Conceal,
    /// Nothing to play yet (before the first packet, or while waiting for the target delay).
    Silence,
}

/// Counters and gauges of a [`JitterBuffer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Delay of the last frame played over the fastest observed path, microseconds.
    pub current_delay_us: i64,
    /// Target delay, microseconds.
    pub target_delay_us: i64,
    /// Frames stored and not yet played.
    pub buffered: usize,
    /// Packets stored.
    pub stored: u64,
    /// Packets that arrived after their playout instant.
    pub late: u64,
    /// Duplicate packets dropped.
    pub duplicates: u64,
    /// Packets dropped as oversize or out of range.
    pub dropped: u64,
    /// Frames missing at playout while later frames were present (lost or late).
    pub lost: u64,
    /// Frames handed out as `Conceal` (lost, underrun or inserted).
    pub concealed: u64,
    /// Frames inserted to raise the delay (far clock slower, or jitter grew).
    pub inserted: u64,
    /// Frames dropped to lower the delay (far clock faster, or jitter fell).
    pub removed: u64,
    /// Timeline restarts after a timestamp jump.
    pub resyncs: u64,
    /// Re-anchors at a talkspurt start.
    pub talkspurts: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No packet yet.
    Empty,
    /// Holding frames until the first playout instant.
    Waiting { start_at: Instant },
    /// Playing one frame per pop.
    Playing,
}

/// The adaptive jitter buffer.
#[derive(Clone, Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    ring: Ring,
    phase: Phase,
    /// Extended-timestamp reference: `ref_ts` maps to `ref_ext`.
    ref_ts: u32,
    ref_ext: i64,
    /// Extended timestamp of the next frame to play.
    next_ext: i64,
    /// Highest extended timestamp stored.
    highest_ext: i64,
    last_seq: u16,
    transits: [i64; TRANSIT_WINDOW],
    transit_len: usize,
    transit_pos: usize,
    min_transit: i64,
    target: i64,
    /// The target no longer follows the jitter ([`JitterBuffer::fix_delay`]).
    fixed: bool,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer with `cfg`; this is the only allocation it makes.
    pub fn new(mut cfg: JitterConfig) -> Self {
        cfg.frame_samples = cfg.frame_samples.max(1);
        cfg.clock_rate = cfg.clock_rate.max(1);
        cfg.max_delay_us = cfg.max_delay_us.max(cfg.min_delay_us);
        let frame_us = u64::from(cfg.frame_samples) * 1_000_000 / u64::from(cfg.clock_rate);
        let needed = (cfg.max_delay_us / frame_us.max(1)) as usize + 8;
        cfg.capacity = cfg.capacity.max(needed);
        JitterBuffer {
            ring: Ring::new(cfg.capacity, cfg.max_payload, i64::from(cfg.frame_samples)),
            phase: Phase::Empty,
            ref_ts: 0,
            ref_ext: 0,
            next_ext: 0,
            highest_ext: 0,
            last_seq: 0,
            transits: [0; TRANSIT_WINDOW],
            transit_len: 0,
            transit_pos: 0,
            min_transit: 0,
            target: cfg.min_delay_us as i64,
            fixed: false,
            stats: JitterStats::default(),
            cfg,
        }
    }

    /// The configuration in force (capacity possibly raised).
    pub fn config(&self) -> &JitterConfig {
        &self.cfg
    }

    /// Current statistics.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            target_delay_us: self.target,
            buffered: self.ring.count_from(self.next_ext),
            ..self.stats
        }
    }

    fn frame(&self) -> i64 {
        i64::from(self.cfg.frame_samples)
    }
    fn frame_us(&self) -> i64 {
        self.media_us(self.frame())
    }
    fn media_us(&self, ext: i64) -> i64 {
        ext * 1_000_000 / i64::from(self.cfg.clock_rate)
    }
    fn ext_of(&self, ts: u32) -> i64 {
        self.ref_ext + i64::from(ts.wrapping_sub(self.ref_ts) as i32)
    }
    fn span(&self) -> i64 {
        self.frame() * self.ring.capacity() as i64
    }

    /// Pushes a parsed RTP packet that arrived at `arrival`.
    pub fn push(&mut self, packet: &RtpPacket<'_>, arrival: Instant) -> PushOutcome {
        self.push_frame(
            packet.timestamp(),
            packet.sequence_number(),
            packet.marker(),
            packet.payload(),
            arrival,
        )
    }

    /// Pushes one frame given by its RTP fields.
    pub fn push_frame(
        &mut self,
        ts: u32,
        seq: u16,
        marker: bool,
        payload: &[u8],
        arrival: Instant,
    ) -> PushOutcome {
        if payload.len() > self.cfg.max_payload {
            self.stats.dropped += 1;
            return PushOutcome::Oversize;
        }
        if self.phase == Phase::Empty {
            self.restart(ts, seq, arrival);
            return self.store(0, seq, payload, arrival, PushOutcome::Stored);
        }
        let ext = self.ext_of(ts);
        let consecutive = seq == self.last_seq.wrapping_add(1);
        if (ext - self.next_ext).abs() >= self.span() {
            if marker || consecutive {
                self.stats.resyncs += 1;
                self.restart(ts, seq, arrival);
                return self.store(0, seq, payload, arrival, PushOutcome::Resynced);
            }
            self.stats.dropped += 1;
            return PushOutcome::OutOfRange;
        }
        match self.phase {
            Phase::Playing if marker && self.highest_ext < self.next_ext => {
                // A talkspurt begins after the buffer ran dry: play it after the target delay.
                self.stats.talkspurts += 1;
                self.ring.realign(ext);
                self.next_ext = ext;
                self.phase = Phase::Waiting {
                    start_at: arrival + self.target as u64,
                };
            }
            Phase::Waiting { .. } if ext < self.next_ext => {
                // Reordered before the first playout: start earlier.
                self.next_ext = ext;
            }
            Phase::Playing if ext < self.next_ext => {
                self.stats.late += 1;
                self.observe_transit(ext, arrival);
                return PushOutcome::Late;
            }
            _ => {}
        }
        self.store(ext, seq, payload, arrival, PushOutcome::Stored)
    }

    fn store(
        &mut self,
        ext: i64,
        seq: u16,
        payload: &[u8],
        arrival: Instant,
        ok: PushOutcome,
    ) -> PushOutcome {
        if !self.ring.insert(ext, payload) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        self.stats.stored += 1;
        self.highest_ext = self.highest_ext.max(ext);
        self.last_seq = seq;
        self.ref_ts = self.ref_ts.wrapping_add((ext - self.ref_ext) as u32);
        self.ref_ext = ext;
        self.observe_transit(ext, arrival);
        ok
    }

    /// Starts a new timeline on a packet with timestamp `ts`, given extended timestamp 0.
    fn restart(&mut self, ts: u32, seq: u16, arrival: Instant) {
        self.ring.clear();
        self.ring.realign(0);
        self.ref_ts = ts;
        self.ref_ext = 0;
        self.next_ext = 0;
        self.highest_ext = 0;
        self.last_seq = seq;
        self.transit_len = 0;
        self.transit_pos = 0;
        self.phase = Phase::Waiting {
            start_at: arrival + self.target as u64,
        };
    }

    /// Holds the target delay where it is now for the rest of the stream: voice-band
    /// data (fax, modems) wants a fixed delay, not one that adapts (ITU-T V.152 § 6); it
    /// is not moved at once either, which would insert or drop a frame of the data. Clock
    /// drift is still absorbed by whole frames.
    pub fn fix_delay(&mut self) {
        self.fixed = true;
    }

    /// Whether [`JitterBuffer::fix_delay`] fixed the delay.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// Records a transit sample and updates the minimum transit and the target delay.
    fn observe_transit(&mut self, ext: i64, arrival: Instant) {
        let transit = arrival.as_micros() as i64 - self.media_us(ext);
        self.transits[self.transit_pos] = transit;
        self.transit_pos = (self.transit_pos + 1) % TRANSIT_WINDOW;
        self.transit_len = (self.transit_len + 1).min(TRANSIT_WINDOW);
        let window = &self.transits[..self.transit_len];
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for &t in window {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        self.min_transit = lo;
        if self.fixed {
            return;
        }
        let wanted = (hi - lo + self.frame_us())
            .clamp(self.cfg.min_delay_us as i64, self.cfg.max_delay_us as i64);
        self.target = if wanted >= self.target {
            wanted
        } else {
            (self.target - TARGET_DECAY_US).max(wanted)
        };
    }

    /// The frame to play at `now` (called once per frame period by the audio clock).
    pub fn pop(&mut self, now: Instant) -> Playout<'_> {
        match self.phase {
            Phase::Empty => return Playout::Silence,
            Phase::Waiting { start_at } if now < start_at => return Playout::Silence,
            Phase::Waiting { .. } => self.phase = Phase::Playing,
            Phase::Playing => {}
        }
        let frame = self.frame();
        let frame_us = self.frame_us();
        let delay = now.as_micros() as i64 - (self.media_us(self.next_ext) + self.min_transit);
        self.stats.current_delay_us = delay;
        if delay < self.target - frame_us / 2 {
            // Too little delay: hold the timeline one frame.
            self.stats.inserted += 1;
            self.stats.concealed += 1;
            return Playout::Conceal;
        }
        if delay > self.target + frame_us * 3 / 2 {
            // Too much delay: drop the frame due now.
            self.stats.removed += 1;
            self.ring.take(self.next_ext);
            self.next_ext += frame;
        }
        let ext = self.next_ext;
        self.next_ext += frame;
        match self.ring.take(ext) {
            Some(i) => Playout::Audio(self.ring.payload(i)),
            None => {
                if self.highest_ext > ext {
                    self.stats.lost += 1;
                }
                self.stats.concealed += 1;
                Playout::Conceal
            }
        }
    }
}

#[cfg(test)]
mod tests;
