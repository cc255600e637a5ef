//! The counters of one media session, for the owner to publish (the gateway's bridge
//! copies them to atomics after every input).

/// Counters of one [`super::MediaSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    /// Captured frames handled.
    pub frames_captured: u64,
    /// Frames produced for playback.
    pub frames_played: u64,
    /// RTP audio packets sent.
    pub rtp_sent: u64,
    /// RTP packets received from the call's source (audio and events).
    pub rtp_received: u64,
    /// Datagrams that were neither valid RTP nor RTCP.
    pub malformed: u64,
    /// RTP and RTCP from a source other than the call's latched one, dropped.
    pub foreign: u64,
    /// Packets lost by the RTP sequence accounting (RFC 3550 A.3 cumulative).
    pub lost: u64,
    /// Packets that arrived after their playout instant.
    pub late: u64,
    /// Frames concealed by PLC.
    pub concealed: u64,
    /// Interarrival jitter, timestamp units (RFC 3550 A.8).
    pub jitter: u64,
    /// RFC 4733 packets sent.
    pub events_sent: u64,
    /// RFC 4733 events begun at the far end.
    pub events_received: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// RTCP compound packets received.
    pub rtcp_received: u64,
    /// Payload type of the last audio packet received (256 = none yet).
    pub last_rx_payload_type: u64,
    /// Datagrams thrown away unparsed because a frame's receive budget was spent (a flood).
    pub rx_dropped: u64,
    /// Frames whose receive budget was spent.
    pub rx_overloaded: u64,
    /// Datagrams to send dropped because the outbox was full (never in a paced session).
    pub tx_dropped: u64,
    /// Frames of far audio silenced because they held a DTMF tone
    /// ([`super::SessionConfig::mute_far_dtmf`]).
    pub far_dtmf_muted: u64,
    /// SRTP/SRTCP datagrams refused: not authenticated, replayed or too short (RFC 3711).
    pub srtp_refused: u64,
}

impl Default for SessionStats {
    fn default() -> Self {
        SessionStats {
            frames_captured: 0,
            frames_played: 0,
            rtp_sent: 0,
            rtp_received: 0,
            malformed: 0,
            foreign: 0,
            lost: 0,
            late: 0,
            concealed: 0,
            jitter: 0,
            events_sent: 0,
            events_received: 0,
            rtcp_sent: 0,
            rtcp_received: 0,
            last_rx_payload_type: 256,
            rx_dropped: 0,
            rx_overloaded: 0,
            tx_dropped: 0,
            far_dtmf_muted: 0,
            srtp_refused: 0,
        }
    }
}
