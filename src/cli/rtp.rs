//! The RTP stream of a diagnostic call (`tipring answer`, `tipring call`): G.711 frames of
//! silence or a 1 kHz tone, paced by the negotiated ptime, sent to the media in force. The
//! packets come from media's [`RtpSender`] (random SSRC, sequence and timestamp, RFC 3550
//! §5.1) and the tone from its [`ToneGenerator`]; the codec mapping is the bridge's
//! ([`MediaParams::of`]).

use std::time::Duration;
use tipring::gateway::sip_side::media::MediaParams;
use tipring_media::rtp::{RtpSender, SplitMix64};
use tipring_media::tone::{ToneGenerator, ToneSpec};
use tipring_sip::sdp::NegotiatedMedia;
use tokio::sync::watch;

/// The test tone: 1000 Hz, continuous, at -10 dBm0.
fn test_tone() -> Option<ToneGenerator> {
    ToneSpec::new(&[1000.0], -10.0, &[])
        .ok()
        .map(|s| ToneGenerator::new(&s))
}

/// Sends G.711 packets (silence, or the 1 kHz tone) until aborted, to the media in force:
/// a re-offer sent through `media` retargets the stream (address, codec, ptime) and a
/// direction that does not send (hold) pauses it (RFC 3264 §8); the timestamp runs on
/// through the pause and the first packet after it carries the marker (RFC 3551 §4.1).
/// `seed` draws the stream's SSRC, first sequence number and timestamp.
pub(super) async fn send_rtp(
    sock: tokio::net::UdpSocket,
    mut media: watch::Receiver<NegotiatedMedia>,
    tone: bool,
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed);
    let mut tone = tone.then(test_tone).flatten();
    // The stream, with the payload type it was made for.
    let mut sender: Option<(u8, RtpSender)> = None;
    loop {
        let m = media.borrow_and_update().clone();
        let ptime = m.ptime.clamp(10, 60);
        let samples = ptime * 8;
        let params = MediaParams::of(&m);
        // A codec change (another payload type) starts a new stream.
        if let Some(p) = &params
            && sender.as_ref().is_none_or(|(pt, _)| *pt != p.payload_type)
        {
            sender = Some((p.payload_type, RtpSender::new(p.payload_type, &mut rng)));
        }
        let mut pcm = vec![0i16; samples as usize];
        let mut payload = vec![0u8; samples as usize];
        let mut buf = vec![0u8; 12 + samples as usize];
        let mut tick = tokio::time::interval(Duration::from_millis(u64::from(ptime)));
        while !media.has_changed().unwrap_or(false) {
            tick.tick().await;
            let (Some(p), Some((_, s))) = (params.as_ref().filter(|p| p.send), sender.as_mut())
            else {
                if let Some((_, s)) = sender.as_mut() {
                    s.skip_silence(samples);
                }
                continue;
            };
            match tone.as_mut() {
                Some(g) => g.fill(&mut pcm),
                None => pcm.fill(0),
            }
            p.law.encode(&pcm, &mut payload);
            if let Ok(len) = s.send_frame(&payload, samples, &mut buf) {
                let _ = sock.send_to(&buf[..len], p.remote).await;
            }
        }
    }
}
