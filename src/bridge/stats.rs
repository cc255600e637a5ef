//! The bridge's counters, written by its thread and read by anyone without locking.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Live counters of one bridge.
        #[derive(Debug, Default)]
        pub struct Stats { $($(#[$doc])* pub $name: AtomicU64,)* }

        /// A copy of [`Stats`] at one moment.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct StatsSnapshot { $($(#[$doc])* pub $name: u64,)* }

        impl Stats {
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Relaxed),)* }
            }
        }
    };
}

counters! {
    /// Frames read from the audio port.
    frames_captured,
    /// Frames written to the audio port.
    frames_played,
    /// RTP audio packets sent.
    rtp_sent,
    /// RTP packets received (audio and events).
    rtp_received,
    /// Datagrams that were neither valid RTP nor RTCP.
    malformed,
    /// RTP and RTCP from a source other than the call's latched one, dropped.
    foreign,
    /// Packets lost by the RTP sequence accounting (RFC 3550 A.3 cumulative).
    lost,
    /// Packets that arrived after their playout instant.
    late,
    /// Frames concealed by PLC.
    concealed,
    /// Interarrival jitter, timestamp units (RFC 3550 A.8).
    jitter,
    /// Audio port capture and playback xruns.
    xruns,
    /// RFC 4733 packets sent.
    events_sent,
    /// RFC 4733 events begun at the far end.
    events_received,
    /// RTCP compound packets sent.
    rtcp_sent,
    /// RTCP compound packets received.
    rtcp_received,
    /// Payload type of the last audio packet received (256 = none yet).
    last_rx_payload_type,
    /// Datagrams thrown away unread because a frame's receive budget was spent (a flood).
    rx_dropped,
    /// Frames whose receive budget was spent.
    rx_overloaded,
}

impl Stats {
    pub(super) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }
    pub(super) fn set(c: &AtomicU64, v: u64) {
        c.store(v, Relaxed);
    }
}
