//! A port's three-way call in its bridge: the second far party's leg (a
//! [`MediaSession`] of its own on the call's socket, told apart by the far address) and
//! the mix. The line hears both far parties; each far party hears the line and the other
//! far party, never itself. What one far party said reaches the other one frame (20 ms)
//! later, the time it takes to be decoded before it is mixed in.

use super::MediaParams;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_media::instant::Instant;
use tipring_media::jitter::JitterConfig;
use tipring_media::session::{Identity, MediaSession, SessionConfig};

/// The second far party of a three-way call.
pub struct SecondLeg {
    session: MediaSession,
    /// What it said in the last frame (decoded, concealed).
    heard: Frame,
}

/// An identity for the second leg's session, apart from the first one's: its own SSRC,
/// sequence and timestamp (RFC 3550 §8.1), the same CNAME (the same endpoint, §6.5.1).
pub fn second_identity(first: &Identity) -> Identity {
    Identity {
        rtp_seed: first.rtp_seed.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15,
        rtcp_seed: first.rtcp_seed.rotate_left(31) ^ 0x6a09_e667_f3bc_c909,
        ..*first
    }
}

impl SecondLeg {
    /// The leg towards `p` (its own jitter buffer; no echo canceller: the first leg's
    /// cancels the line's echo).
    pub fn new(p: &MediaParams, jitter: JitterConfig, id: Identity) -> SecondLeg {
        let mut session = MediaSession::new(
            SessionConfig {
                remote: p.session_remote(),
                jitter,
                far_digits: false,
                echo: None,
                mute_far_dtmf: false,
            },
            id,
        );
        // Keys from our own SDES parsing (30 octets): never refused.
        let _ = session.set_srtp(p.srtp.as_ref());
        SecondLeg {
            session,
            heard: [0; FRAME_SAMPLES],
        }
    }

    /// Whether a datagram from `from` is this leg's.
    pub fn takes(&self, from: std::net::SocketAddr) -> bool {
        self.session.destination() == Some(from)
    }

    pub fn session(&self) -> &MediaSession {
        &self.session
    }

    pub fn session_mut(&mut self) -> &mut MediaSession {
        &mut self.session
    }

    /// One frame: this leg is sent the line's `capture` with the first party's `first`
    /// mixed in; returns what it said, to be mixed into the line and the first party's.
    pub fn frame(&mut self, now: Instant, capture: &Frame, first: &Frame) -> Frame {
        let heard = self.heard;
        self.session.handle_frame(now, &mix(capture, first));
        self.heard = self.session.poll_playout().unwrap_or([0; FRAME_SAMPLES]);
        heard
    }

    /// What this leg said in the last frame.
    pub fn heard(&self) -> &Frame {
        &self.heard
    }
}

/// Two frames summed, saturating (a conference bridge's mix of two talkers).
pub fn mix(a: &Frame, b: &Frame) -> Frame {
    let mut out = [0; FRAME_SAMPLES];
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x.saturating_add(*y);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_saturates_instead_of_wrapping() {
        let a = [30_000i16; FRAME_SAMPLES];
        let b = [10_000i16; FRAME_SAMPLES];
        assert_eq!(mix(&a, &b)[0], i16::MAX);
        assert_eq!(
            mix(&[-30_000; FRAME_SAMPLES], &[-10_000; FRAME_SAMPLES])[0],
            i16::MIN
        );
        assert_eq!(mix(&[5; FRAME_SAMPLES], &[-3; FRAME_SAMPLES])[0], 2);
    }

    #[test]
    fn the_second_identity_differs_in_its_seeds_only() {
        let first = Identity {
            rtp_seed: 1,
            rtcp_seed: 2,
            cname: [7; 16],
            ntp_at_zero: 9,
        };
        let second = second_identity(&first);
        assert_ne!(second.rtp_seed, first.rtp_seed);
        assert_ne!(second.rtcp_seed, first.rtcp_seed);
        assert_eq!(
            (second.cname, second.ntp_at_zero),
            (first.cname, first.ntp_at_zero)
        );
    }
}
