//! The media of a diagnostic call (`tipring answer`, `tipring call`): a
//! [`MediaSession`], the gateway's own, fed 20 ms frames of silence or a 1 kHz tone on a
//! timer and the datagrams that reach the call's port, each stamped on arrival. So the
//! stream has the gateway's identifiers (random SSRC, sequence and timestamp, RFC 3550
//! §5.1), its RTCP, its source latch and its codec mapping ([`MediaParams::of`]).

use std::time::Duration;
use tipring::bridge::Clock;
use tipring::gateway::sip_side::media::MediaParams;
use tipring_media::jitter::JitterConfig;
use tipring_media::rtp::SplitMix64;
use tipring_media::session::{
    FRAME_SAMPLES, Frame, Identity, MTU, MediaSession, Remote, SessionConfig,
};
use tipring_media::tone::{ToneGenerator, ToneSpec};
use tipring_sip::sdp::NegotiatedMedia;
use tokio::sync::watch;

/// The session's frame.
const FRAME: Duration = Duration::from_millis(20);

/// The test tone: 1000 Hz, continuous, at -10 dBm0.
fn test_tone() -> Option<ToneGenerator> {
    ToneSpec::new(&[1000.0], -10.0, &[])
        .ok()
        .map(|s| ToneGenerator::new(&s))
}

/// The session's view of a negotiation (no address: nothing is sent).
fn remote(m: &NegotiatedMedia) -> Remote {
    let p = MediaParams::of(m);
    Remote {
        addr: p.map(|p| p.remote),
        law: p.map_or(tipring_media::g711::Law::Ulaw, |p| p.law),
        payload_type: p.map_or(m.payload_type, |p| p.payload_type),
        event_payload_type: p.and_then(|p| p.event_payload_type),
        send: p.is_some_and(|p| p.send),
        receive: p.is_some_and(|p| p.receive),
    }
}

/// The identifiers of a session drawn from `seed`, on `clock`.
fn identity(seed: u64, clock: &Clock) -> Identity {
    let mut rng = SplitMix64::new(seed);
    let (rtp_seed, rtcp_seed) = (rng.next_u64(), rng.next_u64());
    let mut cname = [0u8; 16];
    cname[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    cname[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    Identity {
        rtp_seed,
        rtcp_seed,
        cname,
        ntp_at_zero: clock.ntp_at_zero(),
    }
}

/// Runs the call's media until aborted: a frame (silence, or the 1 kHz tone) every
/// 20 ms to the media in force, RTCP, and the far end's RTP taken in. A re-offer sent
/// through `media` retargets the stream (address, codec) and a direction that does not
/// send (hold) pauses it (RFC 3264 §8); the timestamp runs on through the pause and the
/// first packet after it carries the marker (RFC 3551 §4.1). `seed` draws the stream's
/// SSRC, first sequence number and timestamp, and its CNAME.
pub(super) async fn send_rtp(
    sock: tokio::net::UdpSocket,
    mut media: watch::Receiver<NegotiatedMedia>,
    tone: bool,
    seed: u64,
) {
    let clock = Clock::start();
    let first = remote(&media.borrow_and_update());
    let mut session = MediaSession::new(
        SessionConfig {
            remote: first,
            jitter: JitterConfig::default(),
            far_digits: false,
            echo: None,
            mute_far_dtmf: false,
        },
        identity(seed, &clock),
    );
    let mut tone = tone.then(test_tone).flatten();
    let mut tick = tokio::time::interval(FRAME);
    let mut buf = [0u8; MTU];
    let mut capture: Frame = [0; FRAME_SAMPLES];
    let mut watching = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some(g) = tone.as_mut() {
                    g.fill(&mut capture);
                }
                session.handle_frame(clock.now(), &capture);
                let _ = session.poll_playout();
            }
            r = sock.recv_from(&mut buf), if session.wants_datagram() => {
                if let Ok((n, from)) = r {
                    session.handle_datagram(clock.now(), from, &buf[..n]);
                }
            }
            r = media.changed(), if watching => match r {
                Ok(()) => session.set_remote(remote(&media.borrow_and_update())),
                // No more re-offers: the media in force stays until the task is aborted.
                Err(_) => watching = false,
            },
        }
        while let Some((to, d)) = session.poll_transmit() {
            let _ = sock.send_to(d, to).await;
        }
        while session.poll_event().is_some() {}
    }
}
