//! The SDP of a port's call (RFC 3264 offer/answer through `tipring_sip::sdp`): our
//! offer or answer from the configuration and the port's RTP address, and what the media
//! bridge needs from the outcome.

use crate::config::{Codec as CfgCodec, Media};
use std::net::SocketAddr;
use tipring_media::g711::Law;
use tipring_sip::sdp::{
    Codec, EventSet, MediaConfig, NegotiatedMedia, OfferAnswer, OfferAnswerError,
    SessionDescription, TelephoneEvent,
};

pub use crate::bridge::MediaParams;

impl MediaParams {
    /// The bridge's view of a negotiation; `None` while the far end gives no address
    /// (`c=0.0.0.0` hold, RFC 3264 §8.4, or a host name).
    pub fn of(n: &NegotiatedMedia) -> Option<MediaParams> {
        Some(MediaParams {
            law: match n.codec {
                Codec::Pcmu => Law::Ulaw,
                Codec::Pcma => Law::Alaw,
            },
            payload_type: n.payload_type,
            event_payload_type: n.telephone_event.map(|t| t.payload_type),
            remote: n.remote_rtp?,
            send: n.direction.sends(),
            receive: n.direction.receives(),
        })
    }
}

/// Our side of the media: the configured codecs in preference order, telephone-event
/// 0-16 (DTMF and flash, RFC 4733 §3.2) on the configured payload type, the configured
/// ptime, at the port's RTP address.
pub fn media_config(m: &Media, rtp: SocketAddr) -> MediaConfig {
    let mut c = MediaConfig::new(rtp.ip(), rtp.port());
    c.codecs = m
        .codecs
        .iter()
        .map(|k| match k {
            CfgCodec::Pcmu => Codec::Pcmu,
            CfgCodec::Pcma => Codec::Pcma,
        })
        .collect();
    c.telephone_event = Some(TelephoneEvent {
        payload_type: m.telephone_event_pt,
        events: EventSet::range(0, 16),
    });
    c.ptime = m.ptime_ms;
    c
}

/// One call's offer/answer state.
#[derive(Debug, Clone)]
pub struct Session {
    oa: OfferAnswer,
    /// UAC: the state right after our offer, so each answer (183 of one fork, the 200 of
    /// another) is taken against the offer it answers.
    offered: Option<OfferAnswer>,
    /// The parameters last given to the bridge.
    pub sent: Option<MediaParams>,
}

impl Session {
    /// A session for one call.
    pub fn new(cfg: MediaConfig, session_id: u64) -> Session {
        Session {
            oa: OfferAnswer::new(cfg, session_id),
            offered: None,
            sent: None,
        }
    }

    /// Our offer for an INVITE.
    pub fn offer(&mut self) -> Vec<u8> {
        let sdp = self.oa.create_offer().to_string().into_bytes();
        self.offered = Some(self.oa.clone());
        sdp
    }

    /// An answer (in a 18x or the 2xx) to our offer.
    pub fn take_answer(&mut self, body: &[u8]) -> Result<NegotiatedMedia, OfferAnswerError> {
        let sd = SessionDescription::parse(body).map_err(OfferAnswerError::Malformed)?;
        let mut oa = self
            .offered
            .clone()
            .ok_or(OfferAnswerError::NoOfferPending)?;
        let n = oa.process_answer(&sd)?;
        self.oa = oa;
        Ok(n)
    }

    /// Our answer to an offer (the INVITE's, or a re-INVITE's).
    pub fn answer(&mut self, body: &[u8]) -> Result<(Vec<u8>, NegotiatedMedia), OfferAnswerError> {
        let sd = SessionDescription::parse(body).map_err(OfferAnswerError::Malformed)?;
        let (ans, n) = self.oa.answer_offer(&sd)?;
        Ok((ans.to_string().into_bytes(), n))
    }

    /// The bridge parameters of `n` if they differ from what the bridge has.
    pub fn changed(&mut self, n: &NegotiatedMedia) -> Option<MediaParams> {
        let p = match MediaParams::of(n) {
            Some(p) => p,
            // c=0.0.0.0 (old-style hold, RFC 3264 §8.4): the last address, nothing sent.
            None => MediaParams {
                send: false,
                receive: n.direction.receives(),
                ..self.sent?
            },
        };
        if self.sent == Some(p) {
            return None;
        }
        self.sent = Some(p);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tipring_sip::sdp::Direction;

    fn negotiated(direction: Direction) -> NegotiatedMedia {
        NegotiatedMedia {
            remote_rtp: Some("192.0.2.10:4000".parse().unwrap()),
            remote_rtcp: None,
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: None,
            ptime: 20,
            direction,
        }
    }

    #[test]
    fn the_bridge_learns_a_source_only_while_the_far_end_sends() {
        // Our direction is the far end's reversed (RFC 3264 §6.1).
        for (ours, send, receive) in [
            (Direction::SendRecv, true, true),
            (Direction::SendOnly, true, false),
            (Direction::RecvOnly, false, true),
            (Direction::Inactive, false, false),
        ] {
            let p = MediaParams::of(&negotiated(ours)).unwrap();
            assert_eq!((p.send, p.receive), (send, receive), "{ours:?}");
        }
    }
}
