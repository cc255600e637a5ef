//! The offer/answer model (RFC 3264) for one G.711 audio stream: our offer, our answer to
//! a remote offer (intersected in our preference order), their answer to our offer, hold
//! directions and re-offers, and the re-offers that switch the call to T.38 fax (an
//! `m=image` stream in place of the audio, T.38 Annex D.2.1) and back. Sans-IO: bodies in,
//! bodies and [`NegotiatedMedia`] / [`T38Params`] out.

use super::SdpError;
use super::events::EventSet;
use super::sdes::{self, NegotiatedSrtp, Sdes};
use super::session::{
    AddrType, Attribute, Connection, Direction, Media, Origin, Rtpmap, SessionDescription,
};
use super::t38::{T38Error, T38ErrorCorrection, T38Params};
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// A G.711 codec (ITU-T G.711, RFC 3551 §4.5.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// Static payload type (RFC 3551 §6, table 4).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// Encoding name in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The G.711 codec a payload type of `m` stands for: its `a=rtpmap` if present, else
    /// the static assignment (RFC 3264 §5.1: rtpmap optional for static types).
    pub fn of_payload(m: &Media<'_>, pt: u8) -> Option<Codec> {
        match m.rtpmap(pt) {
            Some(r) => [Codec::Pcmu, Codec::Pcma].into_iter().find(|c| {
                r.encoding.eq_ignore_ascii_case(c.encoding_name())
                    && r.clock_rate == 8000
                    && r.channels.is_none_or(|n| n == 1)
            }),
            None => match pt {
                0 => Some(Codec::Pcmu),
                8 => Some(Codec::Pcma),
                _ => None,
            },
        }
    }
}

/// RFC 4733 telephone-event: payload type and the events carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Dynamic payload type (ours: 101; in an answer, the offerer's).
    pub payload_type: u8,
    /// Events, e.g. 0-16 (DTMF 0-9 * # A-D and flash).
    pub events: EventSet,
}

/// What we offer and accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Our RTP address (c= and o=).
    pub address: IpAddr,
    /// Our RTP port (m=).
    pub rtp_port: u16,
    /// Codecs in our preference order.
    pub codecs: Vec<Codec>,
    /// telephone-event to offer/accept, or `None`.
    pub telephone_event: Option<TelephoneEvent>,
    /// Our a=ptime in ms.
    pub ptime: u32,
    /// The direction we want: sendrecv, or sendonly to put the call on hold (RFC 3264 §8.4).
    pub direction: Direction,
    /// o= username.
    pub username: String,
    /// SRTP keyed by SDES (RFC 4568), or `None` for RTP only.
    pub srtp: Option<Sdes>,
}

impl MediaConfig {
    /// The defaults: PCMU, PCMA, telephone-event 101 with 0-16, ptime 20,
    /// sendrecv.
    pub fn new(address: IpAddr, rtp_port: u16) -> MediaConfig {
        MediaConfig {
            address,
            rtp_port,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(TelephoneEvent {
                payload_type: 101,
                events: EventSet::range(0, 16),
            }),
            ptime: 20,
            direction: Direction::SendRecv,
            username: "tipring".into(),
            srtp: None,
        }
    }
}

/// The outcome of a negotiation: what the media bridge needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// Where to send RTP; `None` when the peer gave `c=0.0.0.0` (old-style hold) or an
    /// FQDN.
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP: `a=rtcp` (RFC 3605) or RTP port + 1 (RFC 3550 §11).
    pub remote_rtcp: Option<SocketAddr>,
    /// The codec to send and expect.
    pub codec: Codec,
    /// Its payload type in this session.
    pub payload_type: u8,
    /// telephone-event payload type and the events both sides support.
    pub telephone_event: Option<TelephoneEvent>,
    /// Packetisation time to send with, in ms: the peer's a=ptime (10..=120), else ours,
    /// at most the peer's a=maxptime.
    pub ptime: u32,
    /// Our direction: whether we send and/or receive.
    pub direction: Direction,
    /// SRTP keys when the media is encrypted (RFC 4568).
    pub srtp: Option<NegotiatedSrtp>,
}

/// Why an offer or an answer cannot be used. [`status`](Self::status) and
/// [`warning`](Self::warning) give the SIP response (RFC 3261 §21.4.26, §20.43).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferAnswerError {
    /// The body does not parse.
    #[error("malformed SDP: {0}")]
    Malformed(#[from] SdpError),
    /// The audio stream has no usable c= line (RFC 8866 §5.7).
    #[error("no c= line for the audio stream")]
    NoConnection,
    /// No audio stream is offered.
    #[error("no audio stream offered")]
    NoAudio,
    /// Audio only over a transport other than RTP/AVP (or RTP/SAVP with SRTP on).
    #[error("audio transport is not RTP/AVP")]
    IncompatibleTransport,
    /// RTP/SAVP offered without an `a=crypto` we can use (RFC 4568 §7.1.2).
    #[error("no usable SRTP key (a=crypto)")]
    NoUsableKey,
    /// Media encryption is required and the offer or answer has no usable key.
    #[error("media encryption required")]
    EncryptionRequired,
    /// Audio only at an address family we do not use.
    #[error("audio address family is not ours")]
    IncompatibleAddress,
    /// No codec in common.
    #[error("no common codec")]
    NoCommonCodec,
    /// An answer that does not fit our offer (RFC 3264 §6: same m= lines, offered formats).
    #[error("answer does not match the offer: {0}")]
    AnswerMismatch(&'static str),
    /// An answer arrived with no offer outstanding.
    #[error("answer without an outstanding offer")]
    NoOfferPending,
    /// A T.38 stream with a bad attribute value (T.38 Annex D.2.3).
    #[error("T.38 stream: {0}")]
    T38(#[from] T38Error),
}

impl OfferAnswerError {
    /// The SIP status to answer a request carrying the bad offer: 400 for malformed
    /// SDP, 488 Not Acceptable Here otherwise.
    pub fn status(&self) -> u16 {
        match self {
            OfferAnswerError::Malformed(_) | OfferAnswerError::NoConnection => 400,
            _ => 488,
        }
    }

    /// The Warning code and text for a 488 (RFC 3261 §20.43).
    pub fn warning(&self) -> Option<(u16, &'static str)> {
        match self {
            OfferAnswerError::IncompatibleAddress => {
                Some((301, "Incompatible network address formats"))
            }
            OfferAnswerError::IncompatibleTransport | OfferAnswerError::EncryptionRequired => {
                Some((302, "Incompatible transport protocol"))
            }
            OfferAnswerError::NoAudio => Some((304, "Media type not available")),
            OfferAnswerError::NoCommonCodec
            | OfferAnswerError::T38(_)
            | OfferAnswerError::NoUsableKey => Some((305, "Incompatible media format")),
            _ => None,
        }
    }

    /// A Warning header value: `305 agent "Incompatible media format"`.
    pub fn warning_header(&self, agent: &str) -> Option<String> {
        self.warning()
            .map(|(code, text)| format!("{code} {agent} \"{text}\""))
    }
}

/// One side's offer/answer state for a session: o= identity and version, our outstanding
/// offer, the media in force.
#[derive(Debug, Clone)]
pub struct OfferAnswer {
    config: MediaConfig,
    session_id: u64,
    version: u64,
    last_sent: Option<String>,
    pending_offer: Option<SessionDescription<'static>>,
    negotiated: Option<NegotiatedMedia>,
}

impl OfferAnswer {
    /// A new session; `session_id` is our o= sess-id (RFC 8866 §5.2 suggests an NTP
    /// timestamp).
    pub fn new(config: MediaConfig, session_id: u64) -> OfferAnswer {
        OfferAnswer {
            config,
            session_id,
            version: session_id,
            last_sent: None,
            pending_offer: None,
            negotiated: None,
        }
    }

    /// Our configuration.
    pub fn config(&self) -> &MediaConfig {
        &self.config
    }

    /// Change our configuration (address, port, codecs, direction); the next SDP we
    /// produce carries the change with an incremented o= version.
    pub fn config_mut(&mut self) -> &mut MediaConfig {
        &mut self.config
    }

    /// Put on hold (`sendonly`) or resume (`sendrecv`) in the next offer (RFC 3264 §8.4).
    pub fn set_direction(&mut self, d: Direction) {
        self.config.direction = d;
    }

    /// The audio media negotiated last (a switch to T.38 leaves it as it was).
    pub fn negotiated(&self) -> Option<&NegotiatedMedia> {
        self.negotiated.as_ref()
    }

    /// Whether the call's media is, or must be, encrypted (SRTP): then it never moves to
    /// T.38, whose UDPTL is in clear.
    pub fn encrypted(&self) -> bool {
        self.config.srtp.as_ref().is_some_and(|s| s.mandatory)
            || self.negotiated.as_ref().is_some_and(|n| n.srtp.is_some())
    }

    /// Whether an offer of ours awaits its answer.
    pub fn offer_pending(&self) -> bool {
        self.pending_offer.is_some()
    }

    /// Our offer: every configured codec, telephone-event, ptime, direction.
    pub fn create_offer(&mut self) -> SessionDescription<'static> {
        let c = &self.config;
        let mut pts: Vec<u8> = c.codecs.iter().map(|k| k.static_payload_type()).collect();
        pts.extend(c.telephone_event.map(|t| t.payload_type));
        let mut m = Media::audio(c.rtp_port, &pts);
        for k in &c.codecs {
            m.attributes
                .push(rtpmap(k.static_payload_type(), k.encoding_name()));
        }
        if let Some(t) = c.telephone_event {
            push_telephone_event(&mut m, t);
        }
        m.attributes.push(Attribute::Ptime(c.ptime));
        m.attributes.push(Attribute::Direction(c.direction));
        if let Some(s) = &c.srtp {
            s.offer(&mut m);
        }
        self.offer(vec![m])
    }

    /// A re-offer switching the call to T.38 fax (T.38 Annex D.2.1, RFC 3362): its only
    /// stream is `m=image <our RTP port> udptl t38` with `ours`, in the position of the
    /// audio stream it replaces, at our address; the o= version increments (RFC 3264 §8).
    /// Its answer goes to [`process_t38_answer`](Self::process_t38_answer).
    pub fn create_t38_offer(&mut self, ours: &T38Params) -> SessionDescription<'static> {
        let m = ours.media(self.config.rtp_port);
        self.offer(vec![m])
    }

    /// Take the answer to our T.38 offer (RFC 3264 §7): the far end's UDPTL address and
    /// the parameters it answered (so its `max_datagram`/`max_buffer` are the far end's
    /// receive limits), or `None` if it refused T.38 (port 0, or no image stream in that
    /// position). The audio state is untouched either way. An answer with a
    /// higher T38FaxVersion than offered, or FEC we did not offer, does not fit the offer
    /// (T.38 Annex D.2.3).
    pub fn process_t38_answer(
        &mut self,
        answer: &SessionDescription<'_>,
    ) -> Result<Option<(SocketAddr, T38Params)>, OfferAnswerError> {
        let offer = self.take_offer_answered_by(answer)?;
        let (m, offered) = answer
            .media
            .iter()
            .zip(&offer.media)
            .find_map(|(m, om)| T38Params::from_media(om).ok().flatten().map(|p| (m, p)))
            .ok_or(OfferAnswerError::AnswerMismatch("no T.38 stream offered"))?;
        if m.port == 0 {
            return Ok(None);
        }
        let Some(params) = T38Params::from_media(m)? else {
            return Ok(None);
        };
        if params.version > offered.version {
            return Err(OfferAnswerError::AnswerMismatch(
                "T38FaxVersion above the offered one",
            ));
        }
        if params.error_correction == T38ErrorCorrection::Fec
            && offered.error_correction != T38ErrorCorrection::Fec
        {
            return Err(OfferAnswerError::AnswerMismatch("t38UDPFEC not offered"));
        }
        let far = self.remote_address(answer, m)?;
        Ok(Some((far, params)))
    }

    /// Answer an offer that switches the call to T.38 (T.38 Annex D.2.1, RFC 3264 §6): the
    /// first `m=image <port> udptl t38` stream with a nonzero port is accepted at our RTP
    /// port with the parameters [`T38Params::answer`] gives for `ours`, every other stream
    /// is refused with port 0 (same count and order). Returns the answer, the far end's
    /// UDPTL address and the parameters answered, the same the offerer gets from
    /// [`process_t38_answer`](Self::process_t38_answer) (so `max_datagram`/`max_buffer`
    /// are ours; the far end's receive limits are in its offer, read them with
    /// [`T38Params::from_media`]); `None` if the offer has no T.38 stream
    /// (answer it with [`answer_offer`](Self::answer_offer) then). The audio state is
    /// untouched, so a later audio offer (back to voice) is answered as usual.
    pub fn answer_t38_offer(
        &mut self,
        offer: &SessionDescription<'_>,
        ours: &T38Params,
    ) -> Result<Option<(SessionDescription<'static>, SocketAddr, T38Params)>, OfferAnswerError>
    {
        if self.encrypted() {
            // UDPTL has no encryption: fax stays in the (SRTP) audio rather than going
            // out in clear.
            return Ok(None);
        }
        let mut found = None;
        for (k, m) in offer.media.iter().enumerate() {
            if m.port == 0 {
                continue;
            }
            if let Some(theirs) = T38Params::from_media(m)? {
                found = Some((k, theirs));
                break;
            }
        }
        let Some((k, theirs)) = found else {
            return Ok(None);
        };
        let far = self.remote_address(offer, &offer.media[k])?;
        let params = ours.answer(&theirs);
        let media = offer
            .media
            .iter()
            .enumerate()
            .map(|(j, m)| {
                if j == k {
                    params.media(self.config.rtp_port)
                } else {
                    rejected(m)
                }
            })
            .collect();
        let sd = self.stamp(media);
        Ok(Some((sd, far, params)))
    }

    /// Send an offer: stamp it and keep it until its answer (RFC 3264 §5, §8).
    fn offer(&mut self, media: Vec<Media<'static>>) -> SessionDescription<'static> {
        let sd = self.stamp(media);
        self.pending_offer = Some(sd.clone());
        sd
    }

    /// The far end's address for a stream that cannot go without one (T.38): its `c=` must
    /// be an IP literal of our family, not `0.0.0.0`.
    fn remote_address(
        &self,
        remote: &SessionDescription<'_>,
        m: &Media<'_>,
    ) -> Result<SocketAddr, OfferAnswerError> {
        let conn = remote
            .media_connection(m)
            .ok_or(OfferAnswerError::NoConnection)?;
        if conn.addr_type != AddrType::of(self.config.address) {
            return Err(OfferAnswerError::IncompatibleAddress);
        }
        let ip = conn
            .ip_addr()
            .filter(|ip| !ip.is_unspecified())
            .ok_or(OfferAnswerError::IncompatibleAddress)?;
        Ok(SocketAddr::new(ip, m.port))
    }

    /// Forget an outstanding offer (the request carrying it failed).
    pub fn cancel_offer(&mut self) {
        self.pending_offer = None;
    }

    /// Answer a remote offer (RFC 3264 §6): the first acceptable audio stream is accepted
    /// with the common codecs in our preference order (the offerer's payload type numbers
    /// kept, §6.1); every other stream is rejected with port 0. Hold: an offer `sendonly`
    /// (or `c=0.0.0.0`) is answered `recvonly`, `inactive` with `inactive`.
    pub fn answer_offer(
        &mut self,
        offer: &SessionDescription<'_>,
    ) -> Result<(SessionDescription<'static>, NegotiatedMedia), OfferAnswerError> {
        let mut answer_media = Vec::with_capacity(offer.media.len());
        let mut chosen: Option<NegotiatedMedia> = None;
        let mut refusal = OfferAnswerError::NoAudio;
        for m in &offer.media {
            let attempt = if chosen.is_some() {
                Err(OfferAnswerError::NoAudio)
            } else {
                self.accept_stream(offer, m)
            };
            match attempt {
                Ok((am, neg)) => {
                    answer_media.push(am);
                    chosen = Some(neg);
                }
                Err(e) => {
                    if rank(&e) > rank(&refusal) {
                        refusal = e;
                    }
                    answer_media.push(rejected(m));
                }
            }
        }
        let neg = chosen.ok_or(refusal)?;
        let sd = self.stamp(answer_media);
        self.negotiated = Some(neg.clone());
        Ok((sd, neg))
    }

    /// Our outstanding offer, taken for `answer`, which must answer each of its streams
    /// (RFC 3264 §6: as many m= lines, in order).
    fn take_offer_answered_by(
        &mut self,
        answer: &SessionDescription<'_>,
    ) -> Result<SessionDescription<'static>, OfferAnswerError> {
        let offer = self
            .pending_offer
            .take()
            .ok_or(OfferAnswerError::NoOfferPending)?;
        if answer.media.len() != offer.media.len() {
            return Err(OfferAnswerError::AnswerMismatch(
                "number of m= lines differs",
            ));
        }
        Ok(offer)
    }

    /// Take the answer to our outstanding offer (RFC 3264 §7).
    pub fn process_answer(
        &mut self,
        answer: &SessionDescription<'_>,
    ) -> Result<NegotiatedMedia, OfferAnswerError> {
        let offer = self.take_offer_answered_by(answer)?;
        let (m, om) = answer
            .media
            .iter()
            .zip(&offer.media)
            .find(|(m, _)| m.media == "audio")
            .ok_or(OfferAnswerError::AnswerMismatch("no audio stream"))?;
        if m.port == 0 {
            return Err(OfferAnswerError::NoCommonCodec);
        }
        let (codec, payload_type) = m
            .payload_types()
            .find_map(|pt| {
                Codec::of_payload(m, pt)
                    .filter(|c| Codec::of_payload(om, pt) == Some(*c))
                    .map(|c| (c, pt))
            })
            .ok_or(OfferAnswerError::AnswerMismatch(
                "no offered codec in the answer",
            ))?;
        let telephone_event = self.config.telephone_event.and_then(|ours| {
            let pt = telephone_event_pt(m)?;
            let events = m.telephone_events(pt)?.intersection(&ours.events);
            (!events.is_empty()).then_some(TelephoneEvent {
                payload_type: pt,
                events,
            })
        });
        let mut neg = self.negotiate(answer, m, codec, payload_type, telephone_event)?;
        neg.srtp = sdes::answered(m, om, self.config.srtp.as_ref())?;
        self.negotiated = Some(neg.clone());
        Ok(neg)
    }

    /// Accept one offered stream or say why not.
    fn accept_stream(
        &self,
        offer: &SessionDescription<'_>,
        m: &Media<'_>,
    ) -> Result<(Media<'static>, NegotiatedMedia), OfferAnswerError> {
        if m.media != "audio" || m.port == 0 {
            return Err(OfferAnswerError::NoAudio);
        }
        let srtp = sdes::answer(m, self.config.srtp.as_ref())?;
        let conn = offer
            .media_connection(m)
            .ok_or(OfferAnswerError::NoConnection)?;
        if conn.addr_type != AddrType::of(self.config.address) {
            return Err(OfferAnswerError::IncompatibleAddress);
        }
        let common: Vec<(Codec, u8)> = self
            .config
            .codecs
            .iter()
            .filter_map(|c| {
                m.payload_types()
                    .find(|&pt| Codec::of_payload(m, pt) == Some(*c))
                    .map(|pt| (*c, pt))
            })
            .collect();
        let &(codec, payload_type) = common.first().ok_or(OfferAnswerError::NoCommonCodec)?;
        let telephone_event = self.config.telephone_event.and_then(|ours| {
            let pt = telephone_event_pt(m)?;
            let events = m.telephone_events(pt)?.intersection(&ours.events);
            (!events.is_empty()).then_some(TelephoneEvent {
                payload_type: pt,
                events,
            })
        });
        let mut neg = self.negotiate(offer, m, codec, payload_type, telephone_event)?;
        let mut pts: Vec<u8> = common.iter().map(|&(_, pt)| pt).collect();
        pts.extend(telephone_event.map(|t| t.payload_type));
        let mut am = Media::audio(self.config.rtp_port, &pts);
        for (c, pt) in &common {
            am.attributes.push(rtpmap(*pt, c.encoding_name()));
        }
        if let Some(t) = telephone_event {
            push_telephone_event(&mut am, t);
        }
        am.attributes.push(Attribute::Ptime(self.config.ptime));
        am.attributes.push(Attribute::Direction(neg.direction));
        if let Some((line, agreed)) = srtp {
            am.proto = Cow::Owned(m.proto.to_string());
            am.attributes.push(line);
            neg.srtp = Some(agreed);
        }
        Ok((am, neg))
    }

    /// The media in force given the remote description and its chosen stream.
    fn negotiate(
        &self,
        remote: &SessionDescription<'_>,
        m: &Media<'_>,
        codec: Codec,
        payload_type: u8,
        telephone_event: Option<TelephoneEvent>,
    ) -> Result<NegotiatedMedia, OfferAnswerError> {
        let conn = remote
            .media_connection(m)
            .ok_or(OfferAnswerError::NoConnection)?;
        let mut theirs = remote.media_direction(m);
        if conn.is_unspecified() {
            // RFC 3264 §8.4: c=0.0.0.0 asks us not to send.
            theirs = Direction::from_flags(theirs.sends(), false);
        }
        let direction = theirs.reversed().intersect(self.config.direction);
        let ip = conn.ip_addr().filter(|ip| !ip.is_unspecified());
        let remote_rtp = ip.map(|ip| SocketAddr::new(ip, m.port));
        let remote_rtcp = match m.rtcp() {
            Some((port, c)) => c
                .and_then(Connection::ip_addr)
                .or(ip)
                .map(|ip| SocketAddr::new(ip, port)),
            None => ip.map(|ip| SocketAddr::new(ip, m.port.wrapping_add(1))),
        };
        Ok(NegotiatedMedia {
            remote_rtp,
            remote_rtcp,
            codec,
            payload_type,
            telephone_event,
            ptime: send_ptime(m, self.config.ptime),
            direction,
            srtp: None,
        })
    }

    /// Wrap media in our session-level lines; the o= version increments whenever the
    /// description differs from the last one we sent (RFC 3264 §8).
    fn stamp(&mut self, media: Vec<Media<'static>>) -> SessionDescription<'static> {
        let conn = Connection::ip(self.config.address);
        let mut sd = SessionDescription {
            origin: Origin {
                username: Cow::Owned(self.config.username.clone()),
                session_id: Cow::Owned(self.session_id.to_string()),
                session_version: 0,
                connection: conn.clone(),
            },
            name: Cow::Borrowed("-"),
            connection: Some(conn),
            times: vec![(0, 0)],
            attributes: Vec::new(),
            other: Vec::new(),
            media,
        };
        let text = sd.to_string();
        if self.last_sent.as_deref() != Some(text.as_str()) {
            if self.last_sent.is_some() {
                self.version = self.version.wrapping_add(1);
            }
            self.last_sent = Some(text);
        }
        sd.origin.session_version = self.version;
        sd
    }
}

/// The packetisation time to send with (RFC 8866 §6.4, §6.5): the peer's a=ptime when it
/// is sane (10..=120 ms), else ours, capped by the peer's a=maxptime.
fn send_ptime(m: &Media<'_>, ours: u32) -> u32 {
    let sane = |p: &u32| (10..=120).contains(p);
    let p = m.ptime().filter(sane).unwrap_or(ours);
    match m.max_ptime().filter(sane) {
        Some(max) => p.min(max),
        None => p,
    }
}

/// Which refusal to report when every stream is refused: the most specific one.
fn rank(e: &OfferAnswerError) -> u8 {
    match e {
        OfferAnswerError::NoAudio => 0,
        OfferAnswerError::IncompatibleTransport
        | OfferAnswerError::EncryptionRequired
        | OfferAnswerError::NoUsableKey => 1,
        OfferAnswerError::IncompatibleAddress => 2,
        OfferAnswerError::NoCommonCodec => 3,
        _ => 4,
    }
}

fn rtpmap(pt: u8, name: &'static str) -> Attribute<'static> {
    Attribute::Rtpmap(Rtpmap {
        payload_type: pt,
        encoding: Cow::Borrowed(name),
        clock_rate: 8000,
        channels: None,
    })
}

fn push_telephone_event(m: &mut Media<'static>, t: TelephoneEvent) {
    m.attributes.push(rtpmap(t.payload_type, "telephone-event"));
    m.attributes.push(Attribute::Fmtp {
        payload_type: t.payload_type,
        params: Cow::Owned(t.events.to_string()),
    });
}

/// The payload type of `telephone-event/8000` in a media description (RFC 4733 §7.1.1).
fn telephone_event_pt(m: &Media<'_>) -> Option<u8> {
    m.payload_types().find(|&pt| {
        m.rtpmap(pt).is_some_and(|r| {
            r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == 8000
        })
    })
}

/// A rejected stream in an answer: same media and proto, port 0 (RFC 3264 §6).
fn rejected(m: &Media<'_>) -> Media<'static> {
    Media {
        media: Cow::Owned(m.media.to_string()),
        port: 0,
        port_count: None,
        proto: Cow::Owned(m.proto.to_string()),
        formats: m
            .formats
            .first()
            .map(|f| Cow::Owned(f.to_string()))
            .into_iter()
            .collect(),
        connection: None,
        attributes: Vec::new(),
        other: Vec::new(),
    }
}
