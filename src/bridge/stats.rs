//! The bridge's counters: the session's, published by the bridge's threads after each
//! input, and read by anyone without locking.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use tipring_media::session::SessionStats;

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
    /// Datagrams thrown away unparsed because a frame's receive budget was spent (a flood).
    rx_dropped,
    /// Frames whose receive budget was spent.
    rx_overloaded,
    /// SRTP/SRTCP datagrams refused: not authenticated, replayed or too short.
    srtp_refused,
}

impl Stats {
    /// Publishes the session's counters and the audio port's xruns.
    pub(super) fn publish(&self, s: &SessionStats) {
        let set = |c: &AtomicU64, v: u64| c.store(v, Relaxed);
        set(&self.frames_captured, s.frames_captured);
        set(&self.frames_played, s.frames_played);
        set(&self.rtp_sent, s.rtp_sent);
        set(&self.rtp_received, s.rtp_received);
        set(&self.malformed, s.malformed);
        set(&self.foreign, s.foreign);
        set(&self.lost, s.lost);
        set(&self.late, s.late);
        set(&self.concealed, s.concealed);
        set(&self.jitter, s.jitter);
        set(&self.events_sent, s.events_sent);
        set(&self.events_received, s.events_received);
        set(&self.rtcp_sent, s.rtcp_sent);
        set(&self.rtcp_received, s.rtcp_received);
        set(&self.last_rx_payload_type, s.last_rx_payload_type);
        set(&self.rx_dropped, s.rx_dropped);
        set(&self.rx_overloaded, s.rx_overloaded);
        set(&self.srtp_refused, s.srtp_refused);
    }

    /// Publishes the audio port's capture and playback xruns.
    pub(super) fn set_xruns(&self, xruns: u64) {
        self.xruns.store(xruns, Relaxed);
    }
}
