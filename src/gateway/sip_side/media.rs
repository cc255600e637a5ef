//! The SDP of a port's call (RFC 3264 offer/answer through `tipring_sip::sdp`): our
//! offer or answer from the configuration and the port's RTP address, and what the media
//! bridge needs from the outcome.

use crate::config::{Codec as CfgCodec, Media};
use std::net::SocketAddr;
use tipring_media::g711::Law;
use tipring_media::srtp::{MasterKey, SrtpParams, Suite};
use tipring_sip::sdp::{
    Codec, CryptoSuite, Direction, EventSet, MediaConfig, NegotiatedMedia, OfferAnswer,
    OfferAnswerError, SessionDescription, T38ErrorCorrection, T38Params, T38RateManagement,
    TelephoneEvent,
};

pub use crate::bridge::{FaxParams, MediaParams};

/// UDPTL redundancy depth we send with (T.38 §9.1.2.1): each datagram carries the three
/// IFP packets before its own again.
pub const FAX_REDUNDANCY: u8 = 3;

/// The largest UDPTL datagram we take, offered as `T38FaxMaxDatagram`.
pub const FAX_MAX_DATAGRAM: u32 = 400;

/// Our T.38 session parameters (T.38 Annex D.2.3): version 0, up to V.17's 14400 bit/s,
/// training checked end to end (transferredTCF, the method for UDP), redundancy for error
/// recovery, no transcoding.
pub fn our_t38() -> T38Params {
    T38Params {
        max_buffer: Some(1800),
        max_datagram: Some(FAX_MAX_DATAGRAM),
        error_correction: T38ErrorCorrection::Redundancy,
        ..T38Params::default()
    }
}

impl FaxParams {
    /// The bridge's view of a T.38 negotiation with the far end at `remote`: `params`
    /// are the ones in force, `far_max_datagram` the far end's own limit (its answer's or
    /// its offer's `T38FaxMaxDatagram`), which our datagrams keep to.
    pub fn of(
        remote: std::net::SocketAddr,
        params: &T38Params,
        far_max_datagram: Option<u32>,
    ) -> FaxParams {
        FaxParams {
            remote,
            version: params.version,
            max_bit_rate: params.max_bit_rate,
            transferred_tcf: params.rate_management == T38RateManagement::TransferredTcf,
            max_datagram: far_max_datagram.map_or(FAX_MAX_DATAGRAM, |d| d.clamp(100, 1400)) as u16,
            redundancy: if params.error_correction == T38ErrorCorrection::None {
                0
            } else {
                FAX_REDUNDANCY
            },
        }
    }
}

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
            srtp: n.srtp.as_ref().map(|k| SrtpParams {
                suite: match k.suite {
                    CryptoSuite::AesCm128HmacSha1_80 => Suite::AesCm128HmacSha1_80,
                    CryptoSuite::AesCm128HmacSha1_32 => Suite::AesCm128HmacSha1_32,
                },
                ours: MasterKey::new(k.ours.0),
                theirs: MasterKey::new(k.theirs.0),
            }),
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

    /// Whether the call's media is or must be encrypted (SRTP).
    pub fn encrypted(&self) -> bool {
        self.oa.encrypted()
    }

    /// Our re-offer holding the call (`a=sendonly`, RFC 3264 §8.4) or taking it back
    /// (`a=sendrecv`); its answer goes to [`Session::take_answer`].
    pub fn hold_offer(&mut self, hold: bool) -> Vec<u8> {
        self.oa.set_direction(if hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        });
        self.offer()
    }

    /// Our re-offer failed (a 491, a timeout): withdrawn, the session as it was.
    pub fn reoffer_failed(&mut self) {
        self.oa.cancel_offer();
        self.offered = None;
    }

    /// Our re-offer moving the call to T.38.
    pub fn fax_offer(&mut self) -> Vec<u8> {
        self.oa
            .create_t38_offer(&our_t38())
            .to_string()
            .into_bytes()
    }

    /// The answer to our T.38 re-offer: the bridge's T.38 parameters, or `None` when the
    /// far end refused the image stream (the call stays on audio).
    pub fn take_fax_answer(&mut self, body: &[u8]) -> Result<Option<FaxParams>, OfferAnswerError> {
        let sd = SessionDescription::parse(body).map_err(OfferAnswerError::Malformed)?;
        let taken = self.oa.process_t38_answer(&sd)?;
        Ok(taken.map(|(far, params)| self.fax_started(far, &params, params.max_datagram)))
    }

    /// Our T.38 re-offer failed (a 488, a timeout): the offer is withdrawn.
    pub fn fax_offer_failed(&mut self) {
        self.oa.cancel_offer();
    }

    /// Our answer to a re-offer moving the call to T.38, and the bridge's parameters;
    /// `None` when the offer has no T.38 stream (an audio offer: [`Session::answer`]).
    pub fn answer_fax(
        &mut self,
        body: &[u8],
    ) -> Result<Option<(Vec<u8>, FaxParams)>, OfferAnswerError> {
        let sd = SessionDescription::parse(body).map_err(OfferAnswerError::Malformed)?;
        let Some((answer, far, agreed)) = self.oa.answer_t38_offer(&sd, &our_t38())? else {
            return Ok(None);
        };
        // The answer carries our limits; the far end's are in its offer.
        let theirs = sd
            .media
            .iter()
            .filter(|m| m.port != 0)
            .find_map(|m| T38Params::from_media(m).ok().flatten());
        let limit = theirs.and_then(|t| t.max_datagram);
        Ok(Some((
            answer.to_string().into_bytes(),
            self.fax_started(far, &agreed, limit),
        )))
    }

    /// The bridge relays the fax now: the next audio negotiation (back to voice) is news
    /// to it even if it equals the last.
    fn fax_started(
        &mut self,
        far: std::net::SocketAddr,
        agreed: &T38Params,
        far_max_datagram: Option<u32>,
    ) -> FaxParams {
        self.sent = None;
        FaxParams::of(far, agreed, far_max_datagram)
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

    fn negotiated(direction: Direction) -> NegotiatedMedia {
        NegotiatedMedia {
            remote_rtp: Some("192.0.2.10:4000".parse().unwrap()),
            remote_rtcp: None,
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: None,
            ptime: 20,
            direction,
            srtp: None,
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
