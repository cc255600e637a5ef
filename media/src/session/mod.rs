//! The media of one call without I/O: G.711 RTP both ways, RTCP, RFC 4733 events, the
//! jitter buffer and loss concealment, and what the line hears besides the far audio
//! (call-progress tones, regenerated far digits, DTMF dialling, caller-ID FSK).
//!
//! The owner feeds it datagrams as they arrive ([`MediaSession::handle_datagram`], each
//! stamped with its own arrival instant) and the line's captured audio one 20 ms frame at
//! a time ([`MediaSession::handle_frame`], paced by the audio device), and after each
//! input drains datagrams to send ([`MediaSession::poll_transmit`]), the frame to play
//! ([`MediaSession::poll_playout`]) and events ([`MediaSession::poll_event`]) until
//! they are empty. Timers ([`MediaSession::poll_timeout`]: the RTCP interval, the end of
//! a far event whose end packets were lost) fall due through
//! [`MediaSession::handle_timeout`]. No socket, thread, clock or random source is read
//! here: time is the caller's [`Instant`], randomness comes in [`Identity`].
//!
//! RTP and RTCP share one port (RFC 5761) and RTP is symmetric (RFC 4961) through a
//! [`SourceLatch`]. A flood costs bounded work per frame: [`RX_BUDGET`] datagrams are
//! handled per frame, then [`DISCARD_BUDGET`] more are taken of which only the call's
//! own are parsed, and [`MediaSession::wants_datagram`] tells the owner to stop reading
//! until the next frame (the rest waits in, and overflows from, the kernel's buffer).

mod latch;
mod outbox;
mod regen;
mod rtcp;
mod stats;
#[cfg(test)]
mod tests;

pub use latch::{LEARN_PACKETS, SourceLatch};
pub use outbox::MTU;
pub use stats::SessionStats;

use crate::callerid::{FskTransmitter, OffHookCallerId};
use crate::dtmf::{Digit, DtmfDetector, DtmfDetectorConfig, DtmfEvent, DtmfGenerator, DtmfParams};
use crate::echo::{EchoCanceller, EchoConfig, EchoStats};
use crate::g711::Law;
use crate::instant::Instant;
use crate::jitter::{JitterBuffer, JitterConfig, Playout};
use crate::modem::{ModemEvent, ModemTone, ModemToneDetector};
use crate::plc::Plc;
use crate::rfc4733::{
    EventCode, PAYLOAD_LEN, TelephoneEventReceiver, TelephoneEventRepr, TelephoneEventSender,
};
use crate::rtp::{RtpPacket, RtpReceiver, RtpSender, SplitMix64};
use crate::srtp::{Srtp, SrtpError, SrtpParams};
use crate::tone::{ToneGenerator, ToneSpec};
use core::net::SocketAddr;
use outbox::Outbox;
use regen::Regen;
use std::collections::VecDeque;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// One 20 ms frame of 16-bit linear samples.
pub type Frame = [i16; FRAME_SAMPLES];
/// Datagrams handled per 20 ms frame: one audio packet is due, RFC 4733 events and RTCP
/// come on top, and a burst after a network stall of up to a second fits.
pub const RX_BUDGET: u64 = 64;
/// Datagrams taken per frame once [`RX_BUDGET`] is spent (a flood): the call's own are
/// still handled, the others counted and thrown away unparsed.
pub const DISCARD_BUDGET: u64 = 448;
/// RFC 4733 §2.5.1.2: an update every 50 ms (400 timestamp units at 8 kHz).
const EVENT_INTERVAL: u32 = 400;
/// Volume of events we send, dB below 0 dBm0 (RFC 4733 §2.3.4).
const EVENT_VOLUME: u8 = 10;
/// A far event with no packet for this long is over (its end packets were all lost,
/// RFC 4733 §2.5.2), in timestamp units (250 ms).
const EVENT_TIMEOUT_TS: u32 = 2000;
/// Samples per frame as an RTP timestamp increment.
const FRAME_TS: u32 = FRAME_SAMPLES as u32;
/// Events kept for the owner; beyond this the oldest wait and new ones are dropped.
const EVENT_QUEUE: usize = 32;

/// The G.711 law of a static RTP payload type (RFC 3551 table 4): 0 PCMU, 8 PCMA.
pub fn law_of_payload_type(pt: u8) -> Option<Law> {
    match pt {
        0 => Some(Law::Ulaw),
        8 => Some(Law::Alaw),
        _ => None,
    }
}

/// The static RTP payload type of a G.711 law (RFC 3551 table 4).
pub fn payload_type_of_law(law: Law) -> u8 {
    match law {
        Law::Ulaw => 0,
        Law::Alaw => 8,
    }
}

/// Where and how to send, from the SDP (RFC 3264).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    /// The far end's address from its SDP; `None`: no call's media (the line only hears
    /// what is played locally), nothing sent, nothing learnt.
    pub addr: Option<SocketAddr>,
    /// Codec we send (and expect until the far end's packets say otherwise).
    pub law: Law,
    /// Its RTP payload type in this session.
    pub payload_type: u8,
    /// Payload type of telephone-event (RFC 4733), if negotiated.
    pub event_payload_type: Option<u8>,
    /// Our SDP direction lets us send (sendrecv, sendonly). `false` (RFC 3264 §6.1,
    /// §8.4): no RTP or events go out; received audio still plays and RTCP still flows.
    pub send: bool,
    /// The far end sends (its SDP is sendrecv or sendonly): only then may the latch learn
    /// a source other than `addr` ([`SourceLatch`]).
    pub receive: bool,
}

/// Configuration of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// The far end and codec at start.
    pub remote: Remote,
    /// The far audio's jitter buffer (one frame per packet).
    pub jitter: JitterConfig,
    /// Regenerate the far end's RFC 4733 digits as tones to the line (FXS). `false`
    /// (FXO): they are only reported ([`SessionEvent::EventReceived`]).
    pub far_digits: bool,
    /// Cancel the line's echo of what is played in what is captured (G.168), before
    /// the captured audio is examined for digits and sent. `None`: no canceller.
    pub echo: Option<EchoConfig>,
    /// Keep DTMF tones in the far end's audio off the line (an FXO line: digits reach a
    /// PSTN line or a PBX only as RFC 4733 events, through the port's dialling policy).
    /// The far audio is then delayed by one frame so a digit is silenced from its start.
    pub mute_far_dtmf: bool,
}

/// What must not be predictable, drawn by the owner from a CSPRNG (RFC 3550 §5.1: the
/// SSRC, first sequence number and timestamp; RFC 7022 §4.2: the CNAME; RFC 3550
/// §6.3.1: the RTCP interval's randomisation), and the wall clock's NTP time (RFC 3550
/// §4) at [`Instant`] zero for sender reports.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// Seeds the RTP sender's SSRC, sequence number and timestamp.
    pub rtp_seed: u64,
    /// Seeds the RTCP interval's randomisation (apart from the RTP sender's, whose first
    /// outputs the wire shows).
    pub rtcp_seed: u64,
    /// 128 random bits of the RTCP CNAME.
    pub cname: [u8; 16],
    /// NTP timestamp (64-bit, RFC 3550 §4) of [`Instant`] zero.
    pub ntp_at_zero: u64,
}

/// What a session tells its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// A DTMF digit began in the captured audio (also sent as an RFC 4733 event while a
    /// far end is connected and we send).
    InbandDigit(Digit),
    /// An RFC 4733 event began at the far end (its code: 0-15 DTMF, 16 flash).
    EventReceived(u8),
    /// A fax or modem signal was heard (on the line or from the far end): the call
    /// carries voice-band data from now on (see [`MediaSession::data`]).
    VoiceBandData(ModemTone),
    /// A fax or modem signal began on the line (reported all through the call, also in
    /// voice-band data mode).
    LineModemTone(ModemTone),
}

/// The media state of one call.
pub struct MediaSession {
    remote: Remote,
    /// The codec of the far audio (the last audio packet's payload type).
    rx_law: Law,
    latch: SourceLatch,
    stats: SessionStats,
    rtp: RtpSender,
    /// The next audio packet starts a talkspurt (RFC 3551 §4.1: marker bit).
    talkspurt: bool,
    rx: RtpReceiver,
    jitter: JitterBuffer,
    plc: Plc,
    detector: DtmfDetector,
    events_out: TelephoneEventSender,
    /// Media time at which a commanded event ends.
    event_end: Option<u32>,
    events_in: TelephoneEventReceiver,
    /// The far event's media clock: the timestamp it has been heard up to, and when.
    event_heard: Option<(u32, Instant)>,
    /// The far digit regenerated to the line.
    regen: Option<Regen>,
    far_digits: bool,
    tone: Option<ToneGenerator>,
    /// The tone plays over the far audio (only its bursts replace it).
    tone_over: bool,
    dialler: DtmfGenerator,
    caller_id: Option<FskTransmitter>,
    /// Caller ID on call waiting under way (it takes the line after the tone's burst).
    cwid: Option<OffHookCallerId>,
    rtcp: rtcp::Reporter,
    /// The far end has sent RTP (it counts as a sender, RFC 3550 §6.3).
    far_sent: bool,
    /// Datagrams taken since the last frame, and those of them thrown away.
    rx_taken: u64,
    outbox: Outbox,
    events: VecDeque<SessionEvent>,
    playback: Option<Frame>,
    /// The line's echo canceller, and the frame last played (the echo's source).
    echo: Option<Box<EchoCanceller>>,
    played: Frame,
    /// Fax and modem signals on the line and from the far end, watched until one is
    /// heard; then the signal that put the call in voice-band data mode.
    modem_line: ModemToneDetector,
    modem_far: ModemToneDetector,
    data: Option<ModemTone>,
    /// With [`SessionConfig::mute_far_dtmf`]: the detector on the far audio, and the far
    /// frame held back one frame.
    far_dtmf: Option<(Box<DtmfDetector>, Frame)>,
    pcm: Frame,
    payload: [u8; FRAME_SAMPLES],
    /// SRTP (RFC 3711) when the SDP negotiated keys: every datagram out is protected,
    /// every datagram in must authenticate.
    srtp: Option<Box<Srtp>>,
}

impl MediaSession {
    /// A session with the identifiers and seeds of `id`.
    pub fn new(cfg: SessionConfig, id: Identity) -> MediaSession {
        let r = cfg.remote;
        MediaSession {
            remote: r,
            rx_law: r.law,
            latch: SourceLatch::new(r.addr, r.receive),
            stats: SessionStats::default(),
            rtp: RtpSender::new(r.payload_type, &mut SplitMix64::new(id.rtp_seed)),
            talkspurt: true,
            rx: RtpReceiver::new(8000),
            jitter: JitterBuffer::new(cfg.jitter),
            plc: Plc::new(),
            detector: DtmfDetector::new(DtmfDetectorConfig::default()),
            events_out: TelephoneEventSender::new(EVENT_INTERVAL),
            event_end: None,
            events_in: TelephoneEventReceiver::new(),
            event_heard: None,
            regen: None,
            far_digits: cfg.far_digits,
            tone: None,
            tone_over: false,
            dialler: DtmfGenerator::new(DtmfParams::default()),
            caller_id: None,
            cwid: None,
            rtcp: rtcp::Reporter::new(&id),
            far_sent: false,
            rx_taken: 0,
            outbox: Outbox::new(),
            events: VecDeque::with_capacity(EVENT_QUEUE),
            playback: None,
            // A tail outside the canceller's range was refused with the configuration.
            echo: cfg
                .echo
                .and_then(|c| EchoCanceller::new(c).ok())
                .map(Box::new),
            played: [0; FRAME_SAMPLES],
            modem_line: ModemToneDetector::new(),
            modem_far: ModemToneDetector::new(),
            data: None,
            far_dtmf: cfg.mute_far_dtmf.then(|| {
                (
                    Box::new(DtmfDetector::new(DtmfDetectorConfig::default())),
                    [0; FRAME_SAMPLES],
                )
            }),
            pcm: [0; FRAME_SAMPLES],
            payload: [0; FRAME_SAMPLES],
            srtp: None,
        }
    }

    /// The counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The fax or modem signal that put the call in voice-band data mode, if one did.
    ///
    /// Voice-band data mode (in the spirit of ITU-T V.152) holds for the rest of the
    /// session: the echo canceller's non-linear processor is off (the canceller itself is
    /// bypassed by its tone disabler on an answer tone with phase reversals), the jitter
    /// buffer's delay is fixed, a lost frame is played as silence rather than concealed,
    /// and the captured audio is no longer searched for DTMF (a modem's signal must reach
    /// the far end as it is, never as RFC 4733 events). The codec stays what it is: the
    /// gateway only negotiates G.711.
    pub fn data(&self) -> Option<ModemTone> {
        self.data
    }

    /// Enters voice-band data mode for `tone`.
    fn voice_band_data(&mut self, tone: ModemTone) {
        if self.data.is_some() {
            return;
        }
        self.data = Some(tone);
        if let Some(ec) = &mut self.echo {
            ec.set_nlp(false);
        }
        self.jitter.fix_delay();
        self.event(SessionEvent::VoiceBandData(tone));
    }

    /// What the echo canceller has done, when there is one.
    pub fn echo(&self) -> Option<EchoStats> {
        self.echo.as_ref().map(|e| e.stats())
    }

    /// The jitter buffer's configuration in force (bounds raised to fit, see
    /// [`JitterBuffer::new`]).
    pub fn jitter_config(&self) -> &JitterConfig {
        self.jitter.config()
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.rtp.ssrc()
    }

    /// The sequence number and timestamp of our next packet.
    pub fn next_sequence(&self) -> (u16, u32) {
        (self.rtp.sequence_number(), self.rtp.timestamp())
    }

    /// Our RTCP CNAME.
    pub fn cname(&self) -> &[u8] {
        self.rtcp.cname()
    }

    /// Where media goes now: the latched source, else the SDP's address.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latch.destination()
    }

    /// Plays `spec` to the line instead of the far audio (`None` ends it).
    pub fn set_tone(&mut self, spec: Option<&ToneSpec>) {
        self.tone = spec.map(ToneGenerator::new);
        self.tone_over = false;
    }

    /// Plays `spec` over the far audio: its bursts replace the call, which is heard
    /// between them (the call-waiting tone).
    pub fn set_tone_over(&mut self, spec: &ToneSpec) {
        self.tone = Some(ToneGenerator::new(spec));
        self.tone_over = true;
    }

    /// Sends an RFC 4733 event (0-15 DTMF, 16 flash) lasting `duration_ms`, if
    /// telephone-event was negotiated.
    pub fn send_event(&mut self, code: u8, duration_ms: u16) {
        if self.remote.event_payload_type.is_some() {
            let now = self.rtp.timestamp();
            self.events_out.start(EventCode(code), EVENT_VOLUME, now);
            self.event_end = Some(now.wrapping_add(u32::from(duration_ms) * 8));
        }
    }

    /// Dials DTMF `digits` into the line, mixed over the far audio (FXO); digits beyond
    /// the dialler's queue are dropped.
    pub fn dial(&mut self, digits: &str) {
        let _ = self.dialler.push_str(digits);
    }

    /// Runs caller ID on call waiting over the call: the CAS after the call-waiting
    /// tone's burst, the phone's acknowledgement (kept from the far party), the FSK.
    pub fn play_cwid(&mut self, sequence: OffHookCallerId) {
        self.cwid = Some(sequence);
    }

    /// Plays an FSK burst (caller ID) to the line instead of anything else.
    pub fn play_fsk(&mut self, burst: FskTransmitter) {
        self.caller_id = Some(burst);
    }

    /// Switches the codec we send (a re-INVITE changed the SDP answer).
    pub fn set_codec(&mut self, law: Law, payload_type: u8) {
        self.remote.law = law;
        self.remote.payload_type = payload_type;
    }

    /// A new SDP (the answer arrived, a re-INVITE moved or held the far end, or the
    /// call's media ended: `addr: None`): the source is learnt again, and no event of
    /// the line's past goes to the new far end.
    pub fn set_remote(&mut self, r: Remote) {
        self.latch.retarget(r.addr, r.receive);
        self.remote = r;
        self.rx_law = r.law;
        self.talkspurt = true;
        self.events_out = TelephoneEventSender::new(EVENT_INTERVAL);
        self.event_end = None;
    }

    /// The call's SRTP keys from a new SDP, or `None` for RTP in clear. Our sending state
    /// (its rollover counter) is kept while our key and the suite stay ([`Srtp::rekey`]).
    pub fn set_srtp(&mut self, p: Option<&SrtpParams>) -> Result<(), SrtpError> {
        self.srtp = match p {
            None => None,
            Some(p) => match self.srtp.take() {
                Some(mut s) => {
                    if !s.rekey(p) {
                        *s = Srtp::new(p)?;
                    }
                    Some(s)
                }
                None => Some(Box::new(Srtp::new(p)?)),
            },
        };
        Ok(())
    }

    /// Whether what goes out is SRTP.
    pub fn encrypted(&self) -> bool {
        self.srtp.is_some()
    }

    /// Whether the owner should read another datagram before the next frame: `false`
    /// once [`RX_BUDGET`] + [`DISCARD_BUDGET`] have been taken since the last frame.
    pub fn wants_datagram(&self) -> bool {
        self.rx_taken < RX_BUDGET + DISCARD_BUDGET
    }

    /// One datagram that arrived at `now` from `from`: RTCP, an RFC 4733 event, or audio
    /// for the jitter buffer. Past [`RX_BUDGET`] in one frame only the call's source is
    /// parsed; the others are counted in `rx_dropped`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, d: &[u8]) {
        self.rx_taken += 1;
        if self.rx_taken > RX_BUDGET {
            if self.rx_taken == RX_BUDGET + 1 {
                self.stats.rx_overloaded += 1;
            }
            if Some(from) != self.latch.destination() {
                self.stats.rx_dropped += 1;
                return;
            }
        }
        match self.srtp.as_mut() {
            None => self.take_datagram(now, from, d),
            Some(srtp) => {
                let mut clear = [0u8; MTU];
                match srtp.unprotect(d, &mut clear) {
                    Ok(n) => self.take_datagram(now, from, &clear[..n]),
                    Err(_) => self.stats.srtp_refused += 1,
                }
            }
        }
    }

    /// A datagram in clear (SRTP checked and removed).
    fn take_datagram(&mut self, now: Instant, from: SocketAddr, d: &[u8]) {
        if crate::srtp::is_rtcp(d) {
            if !self.latch.accept_rtcp(from) {
                self.stats.foreign += 1;
            } else if self.rtcp.on_compound(now, d) {
                self.stats.rtcp_received += 1;
            } else {
                self.stats.malformed += 1;
            }
            return;
        }
        let Ok(p) = RtpPacket::new_checked(d) else {
            self.stats.malformed += 1;
            return;
        };
        if !self.latch.accept(from, p.ssrc(), p.sequence_number()) {
            self.stats.foreign += 1;
            return;
        }
        self.far_sent = true;
        self.stats.rtp_received += 1;
        self.rx
            .on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), now);
        self.stats.lost = self.rx.cumulative_lost().max(0) as u64;
        self.stats.jitter = u64::from(self.rx.jitter());
        let pt = p.payload_type();
        if Some(pt) == self.remote.event_payload_type {
            match TelephoneEventRepr::parse_bytes(p.payload()) {
                Ok(repr) => self.far_event(now, p.timestamp(), &repr),
                Err(_) => self.stats.malformed += 1,
            }
        } else if let Some(law) = law_of_payload_type(pt) {
            self.rx_law = law;
            self.stats.last_rx_payload_type = u64::from(pt);
            self.jitter.push(&p, now);
        }
    }

    /// An RFC 4733 packet of the far end: a new event is reported (and regenerated to
    /// the line when configured); an end stops the regeneration.
    fn far_event(&mut self, now: Instant, timestamp: u32, repr: &TelephoneEventRepr) {
        let out = self.events_in.on_packet(timestamp, repr);
        if out.ended.is_some() {
            self.regen = None;
        }
        // The far event's clock, for its end timeout while it lasts.
        let heard = timestamp.wrapping_add(u32::from(repr.duration));
        self.event_heard = self.events_in.active().map(|_| (heard, now));
        if let Some(b) = out.began {
            self.stats.events_received += 1;
            self.event(SessionEvent::EventReceived(b.event.0));
            // An event whose first packet to arrive is its end (the others were lost)
            // is played for the length that packet gives; an open one until its end.
            let known = match self.events_in.active() {
                Some(_) => None,
                None => Some(u32::from(repr.duration)),
            };
            self.regen = b
                .event
                .key()
                .filter(|_| self.far_digits)
                .and_then(|k| Digit::from_char(k).ok())
                .map(|d| Regen::new(d, known));
        }
    }

    /// One captured frame at `now`: its digits are detected (and sent as RFC 4733 with
    /// the audio muted, §2.5.1.1), it goes out as one G.711 packet, and one frame is
    /// made for playback. Timers due at `now` are handled too.
    pub fn handle_frame(&mut self, now: Instant, capture: &Frame) {
        self.rx_taken = 0;
        self.stats.frames_captured += 1;
        self.transmit(capture);
        self.play(now);
        self.handle_timeout(now);
    }

    /// Timers due at `now`: a far event whose last packet is older than 250 ms ends
    /// (RFC 4733 §2.5.2), and an RTCP report goes out at its interval.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some((heard, at)) = self.event_heard {
            let elapsed = (now.as_micros().saturating_sub(at.as_micros()) * 8 / 1000) as u32;
            if self
                .events_in
                .on_timeout(heard.wrapping_add(elapsed), EVENT_TIMEOUT_TS)
                .is_some()
            {
                self.regen = None;
                self.event_heard = None;
            }
        }
        let we_sent = self.rtp.packet_count() > 0;
        let senders = u32::from(we_sent) + u32::from(self.far_sent);
        if !self.rtcp.due(now, senders, we_sent) {
            return;
        }
        let Some(to) = self
            .latch
            .destination()
            .filter(|_| self.remote.addr.is_some())
        else {
            return;
        };
        if let Some(buf) = self.outbox.slot() {
            if let Some(n) = self.rtcp.emit(now, &self.rtp, &mut self.rx, buf) {
                if self.commit(to, n) {
                    self.stats.rtcp_sent += 1;
                }
            }
        } else {
            self.stats.tx_dropped += 1;
        }
        self.rtcp.schedule(now, senders, we_sent);
    }

    /// When [`MediaSession::handle_timeout`] is next due (frames handle it too).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let event = self.event_heard.map(|(_, at)| at + 250_000);
        match (event, self.rtcp.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next datagram to send and where to.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, &[u8])> {
        self.outbox.pop()
    }

    /// The frame to play, once per [`MediaSession::handle_frame`].
    pub fn poll_playout(&mut self) -> Option<Frame> {
        self.playback.take()
    }

    /// The next event for the owner.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Queues the `n` octets just written to the outbox's free slot for `to`, protected
    /// first when the call is SRTP; `false` when it could not be.
    fn commit(&mut self, to: SocketAddr, n: usize) -> bool {
        let mut n = n;
        if let Some(srtp) = self.srtp.as_mut() {
            let Some(buf) = self.outbox.slot() else {
                return false;
            };
            match srtp.protect(buf, n) {
                Ok(m) => n = m,
                Err(_) => {
                    self.stats.tx_dropped += 1;
                    return false;
                }
            }
        }
        self.outbox.commit(to, n);
        true
    }

    fn event(&mut self, e: SessionEvent) {
        if self.events.len() < EVENT_QUEUE {
            self.events.push_back(e);
        }
    }

    /// Capture → echo cancellation → DTMF detection (digits go as RFC 4733 and are
    /// muted) → G.711 → RTP.
    fn transmit(&mut self, capture: &Frame) {
        let mut cleaned = *capture;
        if let Some(ec) = &mut self.echo {
            ec.process(&self.played, &mut cleaned);
        }
        let capture = &cleaned;
        let ts = self.rtp.timestamp();
        let mut began = None;
        let mut ended = false;
        // The line's fax and modem signals are watched for the whole call: after the
        // first has put the session in data mode, the later ones (the answering fax's
        // V.21 flags) are what a T.38 switch waits for.
        let mut heard = None;
        self.modem_line.process(capture, |e| {
            if let ModemEvent::Start { tone, .. } = e {
                heard = Some(tone);
            }
        });
        if let Some(tone) = heard {
            self.event(SessionEvent::LineModemTone(tone));
            self.voice_band_data(tone);
        }
        if self.data.is_none() {
            self.detector.process(capture, |e| match e {
                DtmfEvent::Start { digit, .. } => began = Some(digit),
                DtmfEvent::End { .. } => ended = true,
            });
        }
        // The phone's acknowledgement of caller ID on call waiting is for us only.
        let cwid_mutes = self.cwid.as_ref().is_some_and(OffHookCallerId::mutes_line);
        if let (Some(d), Some(s)) = (began, self.cwid.as_mut())
            && s.digit(d.as_char())
        {
            began = None;
        }
        if ended && self.event_end.is_none() {
            self.events_out.stop(ts);
        }
        // The latch has no destination without an SDP address.
        let to = self.latch.destination();
        if let Some(d) = began {
            self.event(SessionEvent::InbandDigit(d));
            // A digit heard while no far end is connected (dialling into the dial plan)
            // is not for any call: it goes to the owner only.
            if self.remote.event_payload_type.is_some()
                && to.is_some()
                && self.remote.send
                && let Some(code) = EventCode::from_key(d.as_char())
            {
                self.event_end = None;
                self.events_out.start(code, EVENT_VOLUME, ts);
            }
        }
        if let Some(end) = self.event_end
            && (ts.wrapping_sub(end) as i32) >= 0
        {
            self.events_out.stop(ts);
            self.event_end = None;
        }
        let Some(to) = to.filter(|_| self.remote.send) else {
            self.rtp.skip_silence(FRAME_TS);
            return;
        };
        if let Some(ept) = self.remote.event_payload_type
            && self.events_out.is_busy()
        {
            // RFC 4733 §2.5.1.1: the digit goes as events; its audio is not sent.
            while let Some(p) = self.events_out.poll(ts) {
                let mut body = [0u8; PAYLOAD_LEN];
                if p.event.emit(&mut body).is_err() {
                    break;
                }
                let Some(buf) = self.outbox.slot() else {
                    self.stats.tx_dropped += 1;
                    continue;
                };
                if let Ok(n) = self.rtp.send_at(ept, p.timestamp, p.marker, &body, buf) {
                    if self.commit(to, n) {
                        self.stats.events_sent += 1;
                    }
                }
            }
            self.rtp.skip_silence(FRAME_TS);
            self.talkspurt = true;
            return;
        }
        let muted = self.detector.current().is_some() || cwid_mutes;
        let silence = [0; FRAME_SAMPLES];
        self.remote
            .law
            .encode(if muted { &silence } else { capture }, &mut self.payload);
        let marker = core::mem::take(&mut self.talkspurt);
        match self.outbox.slot() {
            Some(buf) => {
                if let Ok(n) =
                    self.rtp
                        .send_at(self.remote.payload_type, ts, marker, &self.payload, buf)
                {
                    if self.commit(to, n) {
                        self.stats.rtp_sent += 1;
                    }
                }
            }
            None => self.stats.tx_dropped += 1,
        }
        self.rtp.skip_silence(FRAME_TS);
    }

    /// Jitter buffer → G.711 decode or PLC → caller ID, regenerated digits or tones
    /// instead, DTMF dialling mixed over → the frame to play.
    fn play(&mut self, now: Instant) {
        let mut out = [0; FRAME_SAMPLES];
        // Without a far end (not connected yet, or the call's media ended) there is
        // nothing to play out or conceal; the line hears only what is played locally.
        if self.remote.addr.is_some() {
            match self.jitter.pop(now) {
                Playout::Audio(payload) => {
                    self.rx_law.decode(payload, &mut self.pcm);
                    self.plc.good_frame(&self.pcm, &mut out);
                    if self.data.is_none() {
                        let mut heard = None;
                        self.modem_far.process(&self.pcm, |e| {
                            if let ModemEvent::Start { tone, .. } = e {
                                heard = Some(tone);
                            }
                        });
                        if let Some(tone) = heard {
                            self.voice_band_data(tone);
                        }
                    }
                }
                // Data is not concealed: a repeated waveform would be taken for signal.
                Playout::Conceal if self.data.is_some() => {}
                Playout::Conceal => self.plc.lost_frame(&mut out),
                Playout::Silence => {}
            }
        }
        if let Some((detector, held)) = &mut self.far_dtmf {
            detector.process(&out, |_| {});
            let digit = detector.block_digit().is_some() || detector.current().is_some();
            let now = core::mem::replace(held, out);
            out = now;
            if digit {
                out = [0; FRAME_SAMPLES];
                *held = [0; FRAME_SAMPLES];
                self.stats.far_dtmf_muted += 1;
            }
        }
        let js = self.jitter.stats();
        self.stats.late = js.late;
        self.stats.concealed = js.concealed;
        if let Some(tx) = &mut self.caller_id {
            let n = tx.fill(&mut out);
            out[n..].fill(0);
            if tx.is_done() {
                self.caller_id = None;
            }
        } else if let Some(r) = &mut self.regen {
            if !r.fill(&mut out) {
                self.regen = None;
            }
        } else if let Some(t) = &mut self.tone {
            if self.tone_over {
                t.fill_over(&mut out);
            } else {
                t.fill(&mut out);
            }
        }
        if let Some(s) = &mut self.cwid {
            s.fill(&mut out);
            if s.is_done() {
                self.cwid = None;
            }
        }
        if !self.dialler.is_idle() {
            self.dialler.fill(&mut self.pcm);
            for (o, d) in out.iter_mut().zip(self.pcm.iter()) {
                *o = o.saturating_add(*d);
            }
        }
        self.stats.frames_played += 1;
        self.played = out;
        self.playback = Some(out);
    }
}
