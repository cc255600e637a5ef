//! The per-frame work of a bridge, free of threads: one call of [`Engine::step`] moves one
//! 20 ms frame each way. No allocation here: every buffer is a field.

use super::latch::SourceLatch;
use super::line::{LineMonitor, LineObservation};
use super::random;
use super::stats::Stats;
use super::{BridgeConfig, Control, Report};
use crate::call::ProgressTone;
use crate::call::caller_id::fsk_burst;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use tipring_hal::audio::{AudioError, AudioPort, FRAME_SAMPLES, Frame};
use tipring_media::callerid::{FskStandard, FskTransmitter};
use tipring_media::dtmf::{
    Digit, DtmfDetector, DtmfDetectorConfig, DtmfEvent, DtmfGenerator, DtmfParams,
};
use tipring_media::g711::Law;
use tipring_media::instant::Instant;
use tipring_media::jitter::{JitterBuffer, Playout};
use tipring_media::plc::Plc;
use tipring_media::rfc4733::{
    EventCode, PAYLOAD_LEN, TelephoneEventReceiver, TelephoneEventRepr, TelephoneEventSender,
};
use tipring_media::rtcp::{
    ReceiverReportRepr, ReportBlock, ReportBlocks, ReportInterval, ReportIntervalConfig,
    RtcpCompound, SdesChunk, SdesChunks, SdesRepr, SenderInfo, SenderReportRepr, packet_type,
};
use tipring_media::rtp::{RtpPacket, RtpReceiver, RtpSender, SplitMix64};
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{CountryProfile, ToneGenerator};

/// Largest datagram handled.
const MTU: usize = 1500;
/// RFC 4733 §2.5.1.2: an update every 50 ms (400 timestamp units at 8 kHz).
const EVENT_INTERVAL: u32 = 400;
/// Volume of events we send, dB below 0 dBm0 (RFC 4733 §2.3.4).
const EVENT_VOLUME: u8 = 10;
/// A far event with no packet for this long is over (its end packets were all lost).
const EVENT_TIMEOUT_US: u64 = 250_000;
/// Seconds between 1900 (NTP era 0) and 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Datagrams handled per 20 ms frame: one audio packet is due, RFC 4733 events and RTCP
/// come on top, and a burst after a network stall of up to a second fits.
pub const RX_BUDGET: u64 = 64;
/// Datagrams read per frame once [`RX_BUDGET`] is spent (a flood): the call's own are
/// still handled, the others counted and thrown away unparsed.
pub const DISCARD_BUDGET: u64 = 448;
/// Samples per frame as an RTP timestamp increment.
const FRAME_TS: u32 = FRAME_SAMPLES as u32;

/// The codec of a static payload type (RFC 3551 table 4).
fn law_of(pt: u8) -> Option<Law> {
    match pt {
        0 => Some(Law::Ulaw),
        8 => Some(Law::Alaw),
        _ => None,
    }
}

/// The media state of one call.
pub struct Engine {
    profile: CountryProfile,
    law: Law,
    payload_type: u8,
    event_payload_type: Option<u8>,
    socket: UdpSocket,
    remote: Option<SocketAddr>,
    /// The source RTP is taken from (symmetric RTP without hijacking).
    latch: SourceLatch,
    /// Our SDP direction lets us send (see [`BridgeConfig::send`]).
    send: bool,
    stats: Arc<Stats>,
    reports: SyncSender<Report>,
    rtp: RtpSender,
    talkspurt: bool,
    rx: RtpReceiver,
    rx_law: Law,
    jitter: JitterBuffer,
    plc: Plc,
    detector: DtmfDetector,
    events_out: TelephoneEventSender,
    /// Media time at which a commanded event ends.
    event_end: Option<u32>,
    events_in: TelephoneEventReceiver,
    /// The far event regenerated to the line, and when its last packet came.
    regen: Option<(Oscillator, Oscillator, Instant)>,
    /// Far digits are regenerated ([`BridgeConfig::far_digits`]).
    far_digits: bool,
    tone: Option<ToneGenerator>,
    dialler: DtmfGenerator,
    caller_id: Option<FskTransmitter>,
    fsk: FskStandard,
    line: LineMonitor,
    /// RTCP CNAME (RFC 7022: per-session random), made once at start.
    cname: Vec<u8>,
    interval: ReportInterval,
    /// The RTCP interval's randomisation, seeded from the OS apart from the RTP sender's
    /// (whose first outputs the wire shows).
    rng: SplitMix64,
    next_rtcp: Option<Instant>,
    /// LSR (middle 32 bits of the last SR's NTP time) and when it arrived.
    last_sr: Option<(u32, Instant)>,
    far_sent: bool,
    capture: Frame,
    playback: Frame,
    pcm: Frame,
    payload: [u8; FRAME_SAMPLES],
    packet: [u8; MTU],
    datagram: [u8; MTU],
}

impl Engine {
    /// The engine of one call; SSRC, first sequence number and timestamp, CNAME and the
    /// RTCP interval's randomisation come from the OS CSPRNG ([`super::random`]), whose
    /// failure is the only error.
    pub fn new(
        cfg: BridgeConfig,
        socket: UdpSocket,
        stats: Arc<Stats>,
        reports: SyncSender<Report>,
    ) -> std::io::Result<Engine> {
        let mut sender_rng = SplitMix64::new(random::u64()?);
        let rng = SplitMix64::new(random::u64()?);
        Stats::set(&stats.last_rx_payload_type, 256);
        let cname: String = random::bytes::<16>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let cname = format!("tipring-{cname}").into_bytes();
        Ok(Engine {
            profile: cfg.profile,
            law: cfg.law,
            payload_type: cfg.payload_type,
            event_payload_type: cfg.event_payload_type,
            socket,
            remote: cfg.remote,
            latch: SourceLatch::new(cfg.remote, cfg.receive),
            send: cfg.send,
            stats,
            reports,
            rtp: RtpSender::new(cfg.payload_type, &mut sender_rng),
            talkspurt: true,
            rx: RtpReceiver::new(8000),
            rx_law: cfg.law,
            jitter: JitterBuffer::new(cfg.jitter),
            plc: Plc::new(),
            detector: DtmfDetector::new(DtmfDetectorConfig::default()),
            events_out: TelephoneEventSender::new(EVENT_INTERVAL),
            event_end: None,
            events_in: TelephoneEventReceiver::new(),
            regen: None,
            far_digits: cfg.far_digits,
            tone: None,
            dialler: DtmfGenerator::new(DtmfParams::default()),
            caller_id: None,
            fsk: cfg.caller_id,
            line: LineMonitor::new(&cfg.profile, cfg.caller_id),
            cname,
            interval: ReportInterval::new(ReportIntervalConfig::default(), 52),
            rng,
            next_rtcp: None,
            last_sr: None,
            far_sent: false,
            capture: [0; FRAME_SAMPLES],
            playback: [0; FRAME_SAMPLES],
            pcm: [0; FRAME_SAMPLES],
            payload: [0; FRAME_SAMPLES],
            packet: [0; MTU],
            datagram: [0; MTU],
        })
    }

    /// Reports to signalling; a full queue drops the report rather than wait.
    pub fn report(&self, r: Report) {
        let _ = self.reports.try_send(r);
    }

    /// Carries out one command.
    pub fn control(&mut self, c: Control) {
        match c {
            Control::Tone(t) => {
                let p = &self.profile;
                self.tone = match t {
                    ProgressTone::Silence => None,
                    ProgressTone::Dial => Some(ToneGenerator::new(&p.dial)),
                    ProgressTone::Ringback => Some(ToneGenerator::new(&p.ringback)),
                    ProgressTone::Busy => Some(ToneGenerator::new(&p.busy)),
                    ProgressTone::Reorder => Some(ToneGenerator::new(&p.congestion)),
                    ProgressTone::CallWaiting => Some(ToneGenerator::new(&p.call_waiting)),
                };
            }
            Control::SendEvent { code, duration_ms } => {
                if self.event_payload_type.is_some() {
                    let now = self.rtp.timestamp();
                    self.events_out.start(EventCode(code), EVENT_VOLUME, now);
                    self.event_end = Some(now.wrapping_add(u32::from(duration_ms) * 8));
                }
            }
            Control::DialDtmf(digits) => {
                let _ = self.dialler.push_str(&digits);
            }
            Control::CallerId(info) => {
                self.caller_id = fsk_burst(&info, self.fsk).ok();
            }
            Control::Codec { law, payload_type } => {
                self.law = law;
                self.payload_type = payload_type;
            }
            Control::Remote {
                remote,
                law,
                payload_type,
                event_payload_type,
                send,
                receive,
            } => {
                self.remote = remote;
                self.latch.retarget(remote, receive);
                self.send = send;
                self.law = law;
                self.rx_law = law;
                self.payload_type = payload_type;
                self.event_payload_type = event_payload_type;
                // RFC 3551 §4.1: the first packet of a talkspurt carries the marker.
                self.talkspurt = true;
                // No event of the line's past goes to a new far end.
                self.events_out = TelephoneEventSender::new(EVENT_INTERVAL);
                self.event_end = None;
            }
            Control::Stop => {}
        }
    }

    /// Moves one frame each way. `false` when the audio port failed for good.
    pub fn step(&mut self, port: &mut dyn AudioPort, epoch: std::time::Instant) -> bool {
        match port.read_frame(&mut self.capture) {
            Ok(()) => {}
            // No audio this period (the simulator idles): nothing to pace on, try again.
            Err(AudioError::Timeout(_)) => return true,
            Err(_) => return false,
        }
        let now = Instant::from_micros(epoch.elapsed().as_micros() as u64);
        Stats::add(&self.stats.frames_captured, 1);
        self.transmit();
        self.receive(now);
        self.play(now);
        if port.write_frame(&self.playback).is_err() {
            return false;
        }
        Stats::add(&self.stats.frames_played, 1);
        self.rtcp(now);
        let c = port.counters();
        Stats::set(&self.stats.xruns, c.capture_xruns + c.playback_xruns);
        true
    }

    /// Capture → DTMF detection (digits go as RFC 4733 and are muted) → G.711 → RTP.
    fn transmit(&mut self) {
        let ts = self.rtp.timestamp();
        let reports = &self.reports;
        self.line.frame(&self.capture, |o| {
            let _ = reports.try_send(match o {
                LineObservation::Tone(t) => Report::LineTone(t),
                LineObservation::Activity => Report::LineActivity,
                LineObservation::CallerId(c) => Report::CallerId(c),
            });
        });
        let mut began = None;
        let mut ended = false;
        self.detector.process(&self.capture, |e| match e {
            DtmfEvent::Start { digit, .. } => began = Some(digit),
            DtmfEvent::End { .. } => ended = true,
        });
        if ended && self.event_end.is_none() {
            self.events_out.stop(ts);
        }
        if let Some(d) = began {
            self.report(Report::InbandDigit(d.as_char()));
            // A digit heard while no far end is connected (dialling into the dial plan)
            // is not for any call: it goes to signalling only.
            if self.event_payload_type.is_some()
                && self.remote.is_some()
                && self.send
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
        let Some(remote) = self.remote.filter(|_| self.send) else {
            self.rtp.skip_silence(FRAME_TS);
            return;
        };
        if let Some(ept) = self.event_payload_type
            && self.events_out.is_busy()
        {
            // RFC 4733 §2.5.1.1: the digit goes as events; its audio is not sent.
            while let Some(p) = self.events_out.poll(ts) {
                let mut body = [0u8; PAYLOAD_LEN];
                if p.event.emit(&mut body).is_err() {
                    break;
                }
                if let Ok(n) = self
                    .rtp
                    .send_at(ept, p.timestamp, p.marker, &body, &mut self.packet)
                {
                    let _ = self.socket.send_to(&self.packet[..n], remote);
                    Stats::add(&self.stats.events_sent, 1);
                }
            }
            self.rtp.skip_silence(FRAME_TS);
            self.talkspurt = true;
            return;
        }
        if self.detector.current().is_some() {
            self.capture = [0; FRAME_SAMPLES];
        }
        self.law.encode(&self.capture, &mut self.payload);
        let marker = std::mem::take(&mut self.talkspurt);
        if let Ok(n) = self.rtp.send_at(
            self.payload_type,
            ts,
            marker,
            &self.payload,
            &mut self.packet,
        ) {
            let _ = self.socket.send_to(&self.packet[..n], remote);
            Stats::add(&self.stats.rtp_sent, 1);
        }
        self.rtp.skip_silence(FRAME_TS);
    }

    /// Drains the socket: RTCP, RFC 4733 events, audio into the jitter buffer. At most
    /// [`RX_BUDGET`] datagrams are handled per frame; then up to [`DISCARD_BUDGET`] more
    /// are read, those from the call's source handled and the others thrown away
    /// unparsed (counted in `rx_dropped`); the rest waits in the kernel's socket buffer,
    /// which drops on overflow. So a flood to this port costs a bounded amount of work
    /// per frame, never holds the frame (or other calls' bridges) up, and the call's own
    /// packets still pass while the flood is below what a frame reads.
    fn receive(&mut self, now: Instant) {
        let (mut read, mut dropped) = (0, 0);
        while read < RX_BUDGET + DISCARD_BUDGET {
            let Ok((n, from)) = self.socket.recv_from(&mut self.datagram) else {
                break;
            };
            read += 1;
            if read > RX_BUDGET && Some(from) != self.latch.destination() {
                dropped += 1;
                continue;
            }
            let d = &self.datagram[..n];
            // RFC 5761 §4: packet types 192-223 in the second octet are RTCP.
            if n >= 2 && (192..=223).contains(&d[1]) {
                if !self.latch.accept_rtcp(from) {
                    Stats::add(&self.stats.foreign, 1);
                    continue;
                }
                match RtcpCompound::new_checked(d) {
                    Ok(c) => {
                        Stats::add(&self.stats.rtcp_received, 1);
                        self.interval.on_rtcp_packet(n);
                        for p in c.packets() {
                            if let Ok(sr) = SenderReportRepr::parse(&p) {
                                let lsr = (sr.sender_info.ntp_timestamp >> 16) as u32;
                                self.last_sr = Some((lsr, now));
                            }
                        }
                    }
                    Err(_) => Stats::add(&self.stats.malformed, 1),
                }
                continue;
            }
            let Ok(p) = RtpPacket::new_checked(d) else {
                Stats::add(&self.stats.malformed, 1);
                continue;
            };
            if !self.latch.accept(from, p.ssrc(), p.sequence_number()) {
                Stats::add(&self.stats.foreign, 1);
                continue;
            }
            // Symmetric RTP (RFC 4961): answer where the far end sends from, once latched.
            self.remote = self.latch.destination();
            self.far_sent = true;
            Stats::add(&self.stats.rtp_received, 1);
            self.rx
                .on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), now);
            let pt = p.payload_type();
            if Some(pt) == self.event_payload_type {
                let Ok(repr) = TelephoneEventRepr::parse_bytes(p.payload()) else {
                    Stats::add(&self.stats.malformed, 1);
                    continue;
                };
                let out = self.events_in.on_packet(p.timestamp(), &repr);
                if out.ended.is_some() {
                    self.regen = None;
                }
                if let Some(b) = out.began {
                    Stats::add(&self.stats.events_received, 1);
                    self.report(Report::EventReceived(b.event.0));
                    self.regen = b
                        .event
                        .key()
                        .filter(|_| self.far_digits)
                        .and_then(|k| Digit::from_char(k).ok())
                        .map(|d| {
                            let (lo, hi) = d.frequencies();
                            let (a, b) = (dbm0_amplitude(-9.0), dbm0_amplitude(-7.0));
                            (Oscillator::new(lo, a), Oscillator::new(hi, b), now)
                        });
                } else if let Some(r) = &mut self.regen
                    && self.events_in.active().is_some()
                {
                    r.2 = now;
                }
            } else if let Some(law) = law_of(pt) {
                self.rx_law = law;
                Stats::set(&self.stats.last_rx_payload_type, u64::from(pt));
                self.jitter.push(&p, now);
            }
        }
        if read > RX_BUDGET {
            Stats::add(&self.stats.rx_dropped, dropped);
            Stats::add(&self.stats.rx_overloaded, 1);
        }
        Stats::set(&self.stats.lost, self.rx.cumulative_lost().max(0) as u64);
        Stats::set(&self.stats.jitter, u64::from(self.rx.jitter()));
    }

    /// Jitter buffer → G.711 decode or PLC → tones and regenerated digits → playback.
    fn play(&mut self, now: Instant) {
        if self.remote.is_none() {
            // No far end (not connected yet, or the call's media ended): nothing to play
            // out or conceal; the line hears only what is played locally.
            self.playback = [0; FRAME_SAMPLES];
        } else {
            match self.jitter.pop(now) {
                Playout::Audio(payload) => {
                    self.rx_law.decode(payload, &mut self.pcm);
                    self.plc.good_frame(&self.pcm, &mut self.playback);
                }
                Playout::Conceal => self.plc.lost_frame(&mut self.playback),
                Playout::Silence => self.playback = [0; FRAME_SAMPLES],
            }
        }
        let js = self.jitter.stats();
        Stats::set(&self.stats.late, js.late);
        Stats::set(&self.stats.concealed, js.concealed);
        if self
            .regen
            .as_ref()
            .is_some_and(|r| now.as_micros().saturating_sub(r.2.as_micros()) > EVENT_TIMEOUT_US)
        {
            self.regen = None;
        }
        if let Some(tx) = &mut self.caller_id {
            let n = tx.fill(&mut self.playback);
            self.playback[n..].fill(0);
            if tx.is_done() {
                self.caller_id = None;
            }
        } else if let Some((lo, hi, _)) = &mut self.regen {
            for s in self.playback.iter_mut() {
                *s = to_i16(lo.next_sample() + hi.next_sample());
            }
        } else if let Some(t) = &mut self.tone {
            t.fill(&mut self.playback);
        }
        if !self.dialler.is_idle() {
            self.dialler.fill(&mut self.pcm);
            for (o, d) in self.playback.iter_mut().zip(self.pcm.iter()) {
                *o = o.saturating_add(*d);
            }
        }
    }

    /// RTCP SR (or RR before we send) at the RFC 3550 §6.2 interval, with one report
    /// block on the far source once it has sent.
    fn rtcp(&mut self, now: Instant) {
        let we_sent = self.rtp.packet_count() > 0;
        let senders = u32::from(we_sent) + u32::from(self.far_sent);
        let due = *self.next_rtcp.get_or_insert_with(|| {
            let us = self
                .interval
                .next_interval_us(2, senders, we_sent, &mut self.rng);
            Instant::from_micros(now.as_micros() + us)
        });
        if now < due {
            return;
        }
        let Some(remote) = self.remote else {
            return;
        };
        let mut block = [ReportBlock::default()];
        let blocks: &[ReportBlock] = match self.rx.report() {
            Some(r) => {
                let (lsr, dlsr) = match self.last_sr {
                    // DLSR in 1/65536 s (§6.4.1).
                    Some((lsr, at)) => (
                        lsr,
                        ((now.as_micros() - at.as_micros()) * 65536 / 1_000_000) as u32,
                    ),
                    None => (0, 0),
                };
                block[0] = ReportBlock::from_reception(&r, lsr, dlsr);
                &block
            }
            None => &[],
        };
        let n = if we_sent {
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let secs = wall.as_secs() + NTP_UNIX_OFFSET;
            let frac = (u64::from(wall.subsec_nanos()) << 32) / 1_000_000_000;
            SenderReportRepr {
                ssrc: self.rtp.ssrc(),
                sender_info: SenderInfo {
                    ntp_timestamp: (secs << 32) | frac,
                    rtp_timestamp: self.rtp.timestamp(),
                    packet_count: self.rtp.packet_count(),
                    octet_count: self.rtp.octet_count(),
                },
                reports: ReportBlocks::Blocks(blocks),
            }
            .emit(&mut self.packet)
        } else {
            ReceiverReportRepr {
                ssrc: self.rtp.ssrc(),
                reports: ReportBlocks::Blocks(blocks),
            }
            .emit(&mut self.packet)
        };
        // RFC 3550 §6.1: every compound carries an SDES CNAME.
        let chunk = [SdesChunk {
            ssrc: self.rtp.ssrc(),
            cname: Some(&self.cname),
        }];
        let n = n.and_then(|n| {
            SdesRepr {
                chunks: SdesChunks::Chunks(&chunk),
            }
            .emit(&mut self.packet[n..])
            .map(|m| n + m)
        });
        if let Ok(n) = n {
            debug_assert!(matches!(self.packet[1], packet_type::SR | packet_type::RR));
            let _ = self.socket.send_to(&self.packet[..n], remote);
            Stats::add(&self.stats.rtcp_sent, 1);
            self.interval.on_rtcp_packet(n);
            self.interval.on_report_sent();
        }
        let us = self
            .interval
            .next_interval_us(2, senders, we_sent, &mut self.rng);
        self.next_rtcp = Some(Instant::from_micros(now.as_micros() + us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tipring_media::jitter::JitterConfig;
    use tipring_media::tone::Country;

    fn config(jitter: JitterConfig) -> BridgeConfig {
        BridgeConfig {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: None,
            remote: None,
            send: true,
            receive: true,
            profile: CountryProfile::builtin(Country::Us),
            jitter,
            caller_id: FskStandard::Bell202,
            far_digits: true,
        }
    }

    fn engine(jitter: JitterConfig) -> Engine {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        Engine::new(config(jitter), socket, Arc::new(Stats::default()), tx).unwrap()
    }

    #[test]
    fn the_jitter_buffer_runs_with_the_configured_bounds() {
        let jitter = JitterConfig {
            min_delay_us: 60_000,
            max_delay_us: 400_000,
            ..JitterConfig::default()
        };
        let e = engine(jitter);
        let used = e.jitter.config();
        assert_eq!((used.min_delay_us, used.max_delay_us), (60_000, 400_000));
        // Room for the deepest delay: 400 ms of 20 ms frames.
        assert!(used.capacity >= 20);
    }

    #[test]
    fn two_bridges_of_one_configuration_share_no_identifier() {
        // Same configuration, same port, one after the other: nothing to tell them apart
        // but the OS random source.
        let (a, b) = (
            engine(JitterConfig::default()),
            engine(JitterConfig::default()),
        );
        assert_ne!(a.rtp.ssrc(), b.rtp.ssrc());
        assert_ne!(
            (a.rtp.sequence_number(), a.rtp.timestamp()),
            (b.rtp.sequence_number(), b.rtp.timestamp())
        );
        assert_ne!(a.cname, b.cname);
        // 128 random bits after the prefix.
        assert_eq!(a.cname.len(), "tipring-".len() + 32);
        let (mut ra, mut rb) = (a.rng.clone(), b.rng.clone());
        assert_ne!(ra.next_u64(), rb.next_u64());
    }

    #[test]
    fn a_flood_costs_a_bounded_number_of_reads_per_frame() {
        let socket = UdpSocket::bind("127.0.15.50:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let me = socket.local_addr().unwrap();
        let peer = UdpSocket::bind("127.0.15.51:0").unwrap();
        let stranger = UdpSocket::bind("127.0.15.52:0").unwrap();
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        let stats = Arc::new(Stats::default());
        let cfg = BridgeConfig {
            remote: Some(peer.local_addr().unwrap()),
            ..config(JitterConfig::default())
        };
        let mut e = Engine::new(cfg, socket, stats.clone(), tx).unwrap();
        // An RTP packet of another source, sent 120 times (the kernel queues them all),
        // with one of the call's own behind the first hundred.
        let mut pkt = [0u8; 172];
        pkt[0] = 0x80;
        for i in 0..120 {
            stranger.send_to(&pkt, me).unwrap();
            if i == 99 {
                peer.send_to(&pkt, me).unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        e.receive(Instant::from_micros(0));
        let s = stats.snapshot();
        assert_eq!(s.foreign, RX_BUDGET, "{s:?}");
        assert_eq!(s.foreign + s.rx_dropped, 120, "{s:?}");
        assert_eq!(s.rtp_received, 1, "the call's packet passed: {s:?}");
        assert_eq!(s.rx_overloaded, 1);
        // A quiet port: everything is handled, nothing dropped.
        for _ in 0..10 {
            stranger.send_to(&pkt, me).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        e.receive(Instant::from_micros(20_000));
        let s = stats.snapshot();
        assert_eq!((s.foreign, s.rx_dropped), (RX_BUDGET + 10, 120 - RX_BUDGET));
        assert_eq!(s.rx_overloaded, 1);
    }

    /// An RFC 4733 digit from the far end is regenerated to the line only when the
    /// bridge's `far_digits` says so (FXS); otherwise it is only reported (FXO: the port's
    /// machine decides).
    #[test]
    fn far_digits_are_regenerated_only_when_configured() {
        for far_digits in [true, false] {
            let socket = UdpSocket::bind("127.0.13.1:0").unwrap();
            let far = UdpSocket::bind("127.0.13.1:0").unwrap();
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            let cfg = BridgeConfig {
                event_payload_type: Some(101),
                remote: Some(far.local_addr().unwrap()),
                far_digits,
                ..config(JitterConfig::default())
            };
            let to = socket.local_addr().unwrap();
            socket.set_nonblocking(true).unwrap();
            let mut e = Engine::new(cfg, socket, Arc::new(Stats::default()), tx).unwrap();
            // RTP (RFC 3550 §5.1), PT 101, marker; event 5, volume 10, duration 160.
            let mut pkt = vec![0x80, 0x80 | 101, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
            pkt.extend_from_slice(&[5, 10, 0, 160]);
            far.send_to(&pkt, to).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
            e.receive(Instant::from_micros(1_000));
            assert_eq!(rx.try_recv(), Ok(Report::EventReceived(5)));
            assert_eq!(e.regen.is_some(), far_digits, "far_digits = {far_digits}");
        }
    }
}
