//! Two sessions on one virtual clock over an in-memory link with seeded loss, jitter and
//! reordering: no socket, no thread, no clock.

use super::*;
use crate::rtcp::{RtcpCompound, SenderReportRepr, dlsr_from_micros, ntp_middle};
use crate::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

const A: &str = "192.0.2.1:4000";
const B: &str = "192.0.2.2:5000";
const EPT: u8 = 101;

fn at(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn identity(seed: u64) -> Identity {
    Identity {
        rtp_seed: seed,
        rtcp_seed: seed ^ 0x5555,
        cname: [seed as u8; 16],
        ntp_at_zero: 0xE000_0000_0000_0000,
    }
}

fn remote(addr: Option<SocketAddr>) -> Remote {
    Remote {
        addr,
        law: Law::Ulaw,
        payload_type: 0,
        event_payload_type: Some(EPT),
        send: true,
        receive: true,
    }
}

fn session(peer: Option<&str>, far_digits: bool, seed: u64) -> MediaSession {
    MediaSession::new(
        SessionConfig {
            remote: remote(peer.map(at)),
            jitter: JitterConfig::default(),
            far_digits,
            echo: None,
            mute_far_dtmf: false,
        },
        identity(seed),
    )
}

fn energy(f: &Frame) -> f64 {
    f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64
}

/// A datagram on its way: arrival instant, towards B, bytes.
type InFlight = (Instant, bool, Vec<u8>);

/// Two sessions A and B joined by a lossy, jittery link, run frame by frame.
struct Call {
    a: MediaSession,
    b: MediaSession,
    now: Instant,
    flight: Vec<InFlight>,
    rng: SplitMix64,
    loss: f64,
    latency_us: u64,
    jitter_us: u64,
    /// Every datagram B received, with its arrival instant.
    at_b: Vec<(Instant, Vec<u8>)>,
    /// Every datagram A received, with its arrival instant.
    at_a: Vec<(Instant, Vec<u8>)>,
    played_a: Vec<Frame>,
    played_b: Vec<Frame>,
    events_a: Vec<SessionEvent>,
    events_b: Vec<SessionEvent>,
}

impl Call {
    fn new(loss: f64, jitter_us: u64, seed: u64) -> Call {
        Call {
            a: session(Some(B), true, seed),
            b: session(Some(A), true, seed + 1),
            now: Instant::from_millis(1000),
            flight: Vec::new(),
            rng: SplitMix64::new(seed),
            loss,
            latency_us: 30_000,
            jitter_us,
            at_b: Vec::new(),
            at_a: Vec::new(),
            played_a: Vec::new(),
            played_b: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
        }
    }

    fn send_from(&mut self, from_a: bool) {
        loop {
            let s = if from_a { &mut self.a } else { &mut self.b };
            let Some((to, d)) = s.poll_transmit() else {
                break;
            };
            assert_eq!(to, at(if from_a { B } else { A }));
            let d = d.to_vec();
            if self.rng.next_f64() < self.loss {
                continue;
            }
            let delay = self.latency_us + (self.rng.next_f64() * self.jitter_us as f64) as u64;
            self.flight.push((self.now + delay, from_a, d));
        }
    }

    /// Runs `frames` 20 ms frames; A captures `capture(i)`, B silence. Datagrams are
    /// delivered at their own arrival instants between frames.
    fn run(&mut self, frames: usize, mut capture: impl FnMut(usize) -> Frame) {
        for i in 0..frames {
            let frame_at = self.now + 20_000;
            loop {
                self.flight.sort_by_key(|f| f.0);
                match self.flight.first() {
                    Some(f) if f.0 <= frame_at => {
                        let (t, to_b, d) = self.flight.remove(0);
                        self.now = t;
                        if to_b {
                            self.b.handle_datagram(t, at(A), &d);
                            self.at_b.push((t, d));
                        } else {
                            self.a.handle_datagram(t, at(B), &d);
                            self.at_a.push((t, d));
                        }
                    }
                    _ => break,
                }
            }
            self.now = frame_at;
            self.a.handle_frame(self.now, &capture(i));
            self.b.handle_frame(self.now, &[0; FRAME_SAMPLES]);
            self.send_from(true);
            self.send_from(false);
            self.played_a.push(self.a.poll_playout().unwrap());
            self.played_b.push(self.b.poll_playout().unwrap());
            while let Some(e) = self.a.poll_event() {
                self.events_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.events_b.push(e);
            }
        }
    }
}

fn tone_1k() -> impl FnMut(usize) -> Frame {
    let mut o = Oscillator::new(1000.0, dbm0_amplitude(-10.0));
    move |_| core::array::from_fn(|_| to_i16(o.next_sample()))
}

#[test]
fn audio_flows_on_a_clean_link() {
    let mut c = Call::new(0.0, 0, 1);
    c.run(100, tone_1k());
    let s = c.b.stats();
    assert_eq!(c.a.stats().rtp_sent, 100);
    assert!(s.rtp_received >= 95, "{s:?}");
    assert_eq!((s.lost, s.foreign, s.malformed), (0, 0, 0));
    assert_eq!(s.last_rx_payload_type, 0);
    // After the jitter buffer's start, every frame B plays carries the tone.
    let quiet = c.played_b[10..].iter().filter(|f| energy(f) < 1e5).count();
    assert_eq!(quiet, 0);
}

#[test]
fn loss_is_counted_and_concealed() {
    let mut c = Call::new(0.10, 0, 7);
    c.run(500, tone_1k());
    let s = c.b.stats();
    // Seeded: about 10 % of 500 packets.
    assert!((25..=80).contains(&s.lost), "{s:?}");
    assert!(s.concealed >= s.lost / 2, "{s:?}");
    // Concealment keeps the line from dropping to silence on a lost packet.
    let quiet = c.played_b[20..].iter().filter(|f| energy(f) < 1e4).count();
    assert!(quiet < 10, "{quiet} silent frames");
}

#[test]
fn jitter_is_measured_per_datagram_and_reordering_absorbed() {
    // 60 ms of jitter: packets overtake each other. Every one is stamped on its own
    // arrival, so the measured jitter follows the link, not the 20 ms frame grid.
    let mut c = Call::new(0.0, 60_000, 3);
    c.run(500, tone_1k());
    let s = c.b.stats();
    let reordered = c
        .at_b
        .windows(2)
        .filter_map(|w| {
            let (x, y) = (
                RtpPacket::new_checked(&w[0].1).ok()?,
                RtpPacket::new_checked(&w[1].1).ok()?,
            );
            Some(y.sequence_number().wrapping_sub(x.sequence_number()) > 0x8000)
        })
        .filter(|&r| r)
        .count();
    assert!(reordered > 10, "the link reorders: {reordered}");
    // RFC 3550 A.8 jitter of a uniform 0-60 ms delay: about 20 ms = 160 units; not a
    // multiple of the frame.
    assert!((60..=320).contains(&s.jitter), "{s:?}");
    assert_ne!(s.jitter % 160, 0);
    assert_eq!(s.lost, 0, "reordered, not lost: {s:?}");
    assert!(s.late < 20, "{s:?}");
    let quiet = c.played_b[50..].iter().filter(|f| energy(f) < 1e4).count();
    assert!(quiet < 20, "{quiet} silent frames");
}

#[test]
fn an_inband_digit_goes_as_rfc4733_and_is_regenerated_at_the_far_end() {
    let mut c = Call::new(0.0, 10_000, 5);
    let mut dialler = DtmfGenerator::new(DtmfParams {
        on_ms: 200,
        ..DtmfParams::default()
    });
    dialler.push_str("5").unwrap();
    c.run(60, |i| {
        let mut f = [0; FRAME_SAMPLES];
        if i >= 5 {
            dialler.fill(&mut f);
        }
        f
    });
    assert_eq!(
        c.events_a,
        [SessionEvent::InbandDigit(Digit::from_char('5').unwrap())]
    );
    assert_eq!(c.events_b, [SessionEvent::EventReceived(5)]);
    assert!(c.a.stats().events_sent >= 4, "{:?}", c.a.stats());
    assert_eq!(c.b.stats().events_received, 1);
    // B's line hears the digit regenerated for about its length, and then nothing.
    let loud = c.played_b.iter().filter(|f| energy(f) > 1e5).count();
    assert!((6..=16).contains(&loud), "{loud} frames of tone");
    assert!(energy(c.played_b.last().unwrap()) < 1.0);
}

#[test]
fn far_digits_are_regenerated_only_when_configured() {
    for far_digits in [true, false] {
        let mut s = session(Some(A), far_digits, 9);
        // RTP (RFC 3550 §5.1), PT 101, marker; event 5, volume 10, duration 160.
        let mut pkt = vec![0x80, 0x80 | EPT, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        pkt.extend_from_slice(&[5, 10, 0, 160]);
        s.handle_datagram(Instant::from_millis(1), at(A), &pkt);
        assert_eq!(s.poll_event(), Some(SessionEvent::EventReceived(5)));
        assert_eq!(s.regen.is_some(), far_digits, "far_digits = {far_digits}");
    }
}

#[test]
fn a_far_event_whose_end_is_lost_ends_after_250_ms() {
    let mut s = session(Some(A), true, 11);
    let t0 = Instant::from_millis(1000);
    // Three updates of digit 1 (50 ms apart), then nothing: the end packets are lost.
    for k in 0..3u16 {
        let d = 400 * (k + 1);
        let mut pkt = vec![0x80, EPT, 0, k as u8, 0, 0, 0x10, 0, 0, 0, 0, 7];
        pkt.extend_from_slice(&[1, 10]);
        pkt.extend_from_slice(&d.to_be_bytes());
        s.handle_datagram(t0 + 50_000 * u64::from(k), at(A), &pkt);
    }
    let last = t0 + 100_000;
    assert_eq!(s.poll_timeout(), Some(last + 250_000));
    let mut loud = Vec::new();
    for n in 1..30 {
        s.handle_frame(last + 20_000 * n, &[0; FRAME_SAMPLES]);
        loud.push(energy(&s.poll_playout().unwrap()) > 1e5);
    }
    // Heard until 250 ms after the last packet (frame 12 of 20 ms), silent after.
    assert!(loud[..12].iter().all(|&l| l), "{loud:?}");
    assert!(loud[13..].iter().all(|&l| !l), "{loud:?}");
    assert_eq!(s.events_in.active(), None);
}

#[test]
fn a_far_event_known_only_by_its_end_is_played_for_its_length() {
    let mut s = session(Some(A), true, 12);
    let t0 = Instant::from_millis(1000);
    // Only an end packet of digit 1 arrives (E bit set), duration 800 = 100 ms: the
    // start and the updates were lost.
    let mut pkt = vec![0x80, EPT, 0, 9, 0, 0, 0x10, 0, 0, 0, 0, 7];
    pkt.extend_from_slice(&[1, 0x80 | 10]);
    pkt.extend_from_slice(&800u16.to_be_bytes());
    s.handle_datagram(t0, at(A), &pkt);
    assert_eq!(s.poll_event(), Some(SessionEvent::EventReceived(1)));
    assert_eq!(s.events_in.active(), None);
    let mut loud = Vec::new();
    for n in 1..30 {
        s.handle_frame(t0 + 20_000 * n, &[0; FRAME_SAMPLES]);
        loud.push(energy(&s.poll_playout().unwrap()) > 1e5);
    }
    // 100 ms of the digit (five frames), then nothing.
    assert!(loud[..5].iter().all(|&l| l), "{loud:?}");
    assert!(loud[5..].iter().all(|&l| !l), "{loud:?}");
}

#[test]
fn rtcp_reports_carry_lsr_and_dlsr_of_the_far_sr() {
    let mut c = Call::new(0.0, 5_000, 13);
    c.run(1000, tone_1k());
    assert!(c.a.stats().rtcp_sent >= 2 && c.b.stats().rtcp_received >= 2);
    // Each report block of B's compounds (as A received them) names A's last SR that B
    // had received, and the delay since B received it.
    let sr_of = |d: &[u8]| {
        RtcpCompound::new_checked(d).ok()?.packets().find_map(|p| {
            SenderReportRepr::parse(&p)
                .ok()
                .map(|sr| (sr.sender_info, sr.reports.iter().next()))
        })
    };
    let mut checked = 0;
    for (_, d) in &c.at_a {
        let Some((info, Some(block))) = sr_of(d) else {
            continue;
        };
        if block.last_sr == 0 {
            continue;
        }
        let (arrived, _) = c
            .at_b
            .iter()
            .filter_map(|(t, d)| Some((*t, sr_of(d)?.0)))
            .find(|(_, i)| ntp_middle(i.ntp_timestamp) == block.last_sr)
            .expect("LSR names an SR of A");
        // B's SR's own NTP time says when it was sent.
        let sent_us = ((info.ntp_timestamp - 0xE000_0000_0000_0000) >> 32) * 1_000_000
            + (((info.ntp_timestamp & 0xFFFF_FFFF) * 1_000_000) >> 32);
        let want = dlsr_from_micros(sent_us - arrived.as_micros());
        assert!(
            want.abs_diff(block.delay_since_last_sr) <= 1,
            "{want} vs {block:?}"
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

#[test]
fn a_flood_costs_a_bounded_number_of_datagrams_per_frame() {
    let peer = at("192.0.2.51:4000");
    let stranger = at("192.0.2.52:4000");
    let mut s = session(Some("192.0.2.51:4000"), true, 17);
    let mut pkt = [0u8; 172];
    pkt[0] = 0x80;
    let t = Instant::from_millis(1);
    // 120 packets of another source, the call's own behind the first hundred.
    for i in 0..120 {
        s.handle_datagram(t, stranger, &pkt);
        if i == 99 {
            s.handle_datagram(t, peer, &pkt);
        }
    }
    let st = *s.stats();
    assert_eq!(st.foreign, RX_BUDGET, "{st:?}");
    assert_eq!(st.foreign + st.rx_dropped, 120, "{st:?}");
    assert_eq!(st.rtp_received, 1, "the call's packet passed: {st:?}");
    assert_eq!(st.rx_overloaded, 1);
    // Past both budgets the owner is told to stop reading until the next frame.
    while s.wants_datagram() {
        s.handle_datagram(t, stranger, &pkt);
    }
    assert_eq!(
        s.stats().foreign + s.stats().rx_dropped + 1,
        RX_BUDGET + DISCARD_BUDGET
    );
    s.handle_frame(Instant::from_millis(20), &[0; FRAME_SAMPLES]);
    assert!(s.wants_datagram());
    // A quiet frame: everything handled, nothing dropped.
    let dropped = s.stats().rx_dropped;
    for _ in 0..10 {
        s.handle_datagram(Instant::from_millis(21), stranger, &pkt);
    }
    assert_eq!(s.stats().rx_dropped, dropped);
    assert_eq!(s.stats().foreign, RX_BUDGET + 10);
    assert_eq!(s.stats().rx_overloaded, 1);
}

#[test]
fn nothing_is_sent_or_played_without_a_far_end() {
    let mut s = session(None, true, 19);
    let mut o = tone_1k();
    for n in 0..300 {
        s.handle_frame(Instant::from_millis(20 * n), &o(0));
        assert_eq!(energy(&s.poll_playout().unwrap()), 0.0);
        assert!(s.poll_transmit().is_none());
    }
    assert_eq!(s.stats().rtp_sent, 0);
    // A stranger's packets are not learnt (no SDP address).
    for seq in 0..10u16 {
        let mut pkt = [0u8; 172];
        pkt[0] = 0x80;
        pkt[2..4].copy_from_slice(&seq.to_be_bytes());
        s.handle_datagram(Instant::from_millis(7000), at(B), &pkt);
    }
    assert_eq!(s.stats().foreign, 10);
    assert_eq!(s.destination(), None);
}

#[test]
fn a_hold_stops_our_rtp_but_not_rtcp_and_resumes_with_a_marker() {
    let mut c = Call::new(0.0, 0, 23);
    c.run(50, tone_1k());
    let sent = c.a.stats().rtp_sent;
    c.a.set_remote(Remote {
        send: false,
        ..remote(Some(at(B)))
    });
    c.run(300, tone_1k());
    assert_eq!(c.a.stats().rtp_sent, sent);
    let rtcp = c.a.stats().rtcp_sent;
    assert!(rtcp >= 1);
    c.a.set_remote(remote(Some(at(B))));
    let before = c.at_b.len();
    c.run(10, tone_1k());
    let first = c.at_b[before..]
        .iter()
        .find_map(|(_, d)| {
            RtpPacket::new_checked(d)
                .ok()
                .filter(|p| p.payload_type() == 0)
        })
        .expect("audio again");
    assert!(first.marker());
}

#[test]
fn identifiers_come_from_the_identity() {
    let (a, b) = (session(None, true, 1), session(None, true, 2));
    assert_ne!(a.ssrc(), b.ssrc());
    assert_ne!(a.next_sequence(), b.next_sequence());
    assert_ne!(a.cname(), b.cname());
    assert_eq!(a.cname().len(), "tipring-".len() + 32);
    assert_eq!(&a.cname()[..8], b"tipring-");
    let again = session(None, true, 1);
    assert_eq!(
        (a.ssrc(), a.next_sequence()),
        (again.ssrc(), again.next_sequence())
    );
}

#[test]
fn the_codec_mapping_is_rfc3551s() {
    for law in [Law::Ulaw, Law::Alaw] {
        assert_eq!(law_of_payload_type(payload_type_of_law(law)), Some(law));
    }
    assert_eq!(law_of_payload_type(18), None);
}

#[test]
fn a_minute_at_five_percent_loss_and_50_ms_jitter_keeps_audio_and_reports_flowing() {
    let mut c = Call::new(0.05, 50_000, 31);
    c.run(3000, tone_1k());
    let (a, b) = (*c.a.stats(), *c.b.stats());
    assert_eq!(a.rtp_sent, 3000);
    // Seeded: about 150 lost, each counted and concealed.
    assert!((100..=200).contains(&b.lost), "{b:?}");
    assert!(b.concealed >= b.lost, "{b:?}");
    assert!(a.rtcp_sent >= 6 && b.rtcp_received >= 5, "{a:?} {b:?}");
    assert_eq!(
        (a.tx_dropped, b.tx_dropped, b.foreign, b.malformed),
        (0, 0, 0, 0)
    );
    let quiet = c.played_b[50..].iter().filter(|f| energy(f) < 1e4).count();
    assert!(quiet < 60, "{quiet} silent frames of 2950");
}

/// The far end's noise arrives as RTP; the line echoes what it is played (half of it, one
/// frame late). Returns the power of the echo and of what went back out in the last second.
fn line_echo(echo: Option<crate::echo::EchoConfig>) -> (f64, f64) {
    let mut s = MediaSession::new(
        SessionConfig {
            remote: remote(Some(at(A))),
            jitter: JitterConfig::default(),
            far_digits: false,
            echo,
            mute_far_dtmf: false,
        },
        identity(21),
    );
    let mut rng = SplitMix64::new(22);
    let mut state = 0.0f64;
    let mut last_played = [0i16; FRAME_SAMPLES];
    let (mut echo_power, mut sent_power) = (0.0, 0.0);
    for k in 0..250u16 {
        let now = Instant::from_millis(u64::from(k) * 20);
        let pcm: [i16; FRAME_SAMPLES] = core::array::from_fn(|_| {
            state = 0.9 * state + (rng.next_f64() * 2.0 - 1.0);
            (state * 1500.0) as i16
        });
        let mut pkt = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        pkt[2..4].copy_from_slice(&k.to_be_bytes());
        pkt[4..8].copy_from_slice(&(u32::from(k) * 160).to_be_bytes());
        let mut payload = [0u8; FRAME_SAMPLES];
        Law::Ulaw.encode(&pcm, &mut payload);
        pkt.extend_from_slice(&payload);
        s.handle_datagram(now, at(A), &pkt);
        let capture: Frame = core::array::from_fn(|i| last_played[i] / 2);
        s.handle_frame(now, &capture);
        last_played = s.poll_playout().unwrap();
        while let Some((_, d)) = s.poll_transmit() {
            if d.len() == 12 + FRAME_SAMPLES && k >= 200 {
                let mut out = [0i16; FRAME_SAMPLES];
                Law::Ulaw.decode(&d[12..], &mut out);
                sent_power += energy(&out);
                echo_power += energy(&capture);
            }
        }
    }
    (echo_power, sent_power)
}

#[test]
fn the_lines_echo_is_cancelled_before_it_is_sent() {
    let (echo, sent) = line_echo(None);
    assert!(sent > echo / 2.0, "without a canceller the echo goes out");
    let cfg = crate::echo::EchoConfig {
        tail_ms: 64,
        nlp: false,
    };
    let (echo, sent) = line_echo(Some(cfg));
    let erle = 10.0 * (echo / sent.max(1.0)).log10();
    assert!(erle > 25.0, "echo cancelled by only {erle:.1} dB");
}

fn data_session() -> MediaSession {
    MediaSession::new(
        SessionConfig {
            remote: remote(Some(at(A))),
            jitter: JitterConfig::default(),
            far_digits: true,
            echo: Some(crate::echo::EchoConfig::default()),
            mute_far_dtmf: false,
        },
        identity(31),
    )
}

/// RTP packet `k` of µ-law `pcm` from A.
fn audio_packet(k: u16, pcm: &Frame) -> Vec<u8> {
    let mut pkt = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    pkt[2..4].copy_from_slice(&k.to_be_bytes());
    pkt[4..8].copy_from_slice(&(u32::from(k) * 160).to_be_bytes());
    let mut payload = [0u8; FRAME_SAMPLES];
    Law::Ulaw.encode(pcm, &mut payload);
    pkt.extend_from_slice(&payload);
    pkt
}

fn sine_frames(hz: f32, frames: usize) -> Vec<Frame> {
    let mut osc = Oscillator::new(hz, dbm0_amplitude(-12.0));
    (0..frames)
        .map(|_| core::array::from_fn(|_| to_i16(osc.next_sample())))
        .collect()
}

#[test]
fn a_far_answer_tone_puts_the_call_in_voice_band_data_mode() {
    let mut s = data_session();
    let mut events = Vec::new();
    for (k, f) in sine_frames(2100.0, 50).iter().enumerate() {
        let now = Instant::from_millis(k as u64 * 20);
        s.handle_datagram(now, at(A), &audio_packet(k as u16, f));
        s.handle_frame(now, &[0; FRAME_SAMPLES]);
        let _ = s.poll_playout();
        while let Some(e) = s.poll_event() {
            events.push((k, e));
        }
    }
    assert_eq!(s.data(), Some(ModemTone::Ans));
    let (k, e) = events[0];
    assert_eq!(e, SessionEvent::VoiceBandData(ModemTone::Ans));
    // Held 400 ms after playout began (the jitter buffer's delay on top).
    assert!((20..=30).contains(&k), "after {k} frames");
    assert!(s.jitter.is_fixed());
    assert!(!s.echo.as_ref().unwrap().config().nlp);
}

#[test]
fn in_data_mode_the_line_is_not_searched_for_digits_and_losses_are_silent() {
    let mut s = data_session();
    let cng = sine_frames(1100.0, 30);
    let mut dialler = DtmfGenerator::new(DtmfParams::default());
    dialler.push_str("5").unwrap();
    let mut events = Vec::new();
    let mut played = Vec::new();
    let far = sine_frames(1000.0, 80);
    for k in 0..80usize {
        let now = Instant::from_millis(k as u64 * 20);
        // The far end's audio, with packet 60 lost.
        if k != 60 {
            s.handle_datagram(now, at(A), &audio_packet(k as u16, &far[k]));
        }
        let mut capture = [0; FRAME_SAMPLES];
        if k < cng.len() {
            capture = cng[k];
        } else if k > 40 {
            dialler.fill(&mut capture);
        }
        s.handle_frame(now, &capture);
        played.push(s.poll_playout().unwrap());
        while let Some(e) = s.poll_event() {
            events.push(e);
        }
    }
    assert_eq!(
        events,
        [
            SessionEvent::LineModemTone(ModemTone::Cng),
            SessionEvent::VoiceBandData(ModemTone::Cng)
        ]
    );
    assert_eq!(s.stats().events_sent, 0);
    // The lost frame plays as silence (after the buffer's delay), not a concealment.
    let silent = played[40..].iter().filter(|f| energy(f) < 1.0).count();
    assert_eq!(silent, 1, "{silent} silent frames");
}

/// Far audio with DTMF '5' (from frame 10 for 100 ms; after 500 ms of a fax answer tone
/// when `fax_first`) through a session muting far DTMF or not; returns the digits a DTMF
/// receiver finds in what the line is played, and the frames played.
fn far_digits_on_the_line(
    mute: bool,
    fax_first: bool,
) -> (Vec<Digit>, Vec<Frame>, Option<ModemTone>) {
    let mut s = MediaSession::new(
        SessionConfig {
            remote: remote(Some(at(A))),
            jitter: JitterConfig::default(),
            far_digits: false,
            echo: None,
            mute_far_dtmf: mute,
        },
        identity(41),
    );
    let mut dialler = DtmfGenerator::new(DtmfParams {
        on_ms: 100,
        ..DtmfParams::default()
    });
    dialler.push_str("5").unwrap();
    let mut osc = Oscillator::new(440.0, dbm0_amplitude(-20.0));
    let mut ans = Oscillator::new(2100.0, dbm0_amplitude(-12.0));
    let lead = if fax_first { 25 } else { 0 };
    let mut receiver = DtmfDetector::new(DtmfDetectorConfig::default());
    let mut heard = Vec::new();
    let mut played = Vec::new();
    for k in 0..60 + lead {
        let now = Instant::from_millis(u64::from(k) * 20);
        let mut f: Frame = core::array::from_fn(|_| to_i16(osc.next_sample()));
        if k < lead {
            f = core::array::from_fn(|_| to_i16(ans.next_sample()));
        } else if k >= lead + 10 {
            let mut d = [0i16; FRAME_SAMPLES];
            dialler.fill(&mut d);
            for (a, b) in f.iter_mut().zip(d) {
                *a = a.saturating_add(b);
            }
        }
        s.handle_datagram(now, at(A), &audio_packet(k, &f));
        s.handle_frame(now, &[0; FRAME_SAMPLES]);
        let out = s.poll_playout().unwrap();
        receiver.process(&out, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                heard.push(digit);
            }
        });
        played.push(out);
    }
    (heard, played, s.data())
}

#[test]
fn dtmf_in_the_far_audio_is_kept_off_an_fxo_line() {
    let (heard, _, _) = far_digits_on_the_line(false, false);
    assert_eq!(heard, [Digit::from_char('5').unwrap()]);
    // A fax answer tone first (the call goes into voice-band data mode) does not lift it.
    let (heard, _, data) = far_digits_on_the_line(true, true);
    assert_eq!(data, Some(ModemTone::Ans));
    assert!(heard.is_empty(), "{heard:?}");
    let (heard, played, _) = far_digits_on_the_line(true, false);
    assert!(heard.is_empty(), "{heard:?}");
    // No frame carries the digit's tones, not even its first milliseconds; the rest of
    // the audio (the 440 Hz) still plays.
    for f in &played {
        let dtmf = crate::goertzel::energy(770.0, f) + crate::goertzel::energy(1336.0, f);
        assert!(
            dtmf < crate::goertzel::energy(440.0, f) / 100.0 + 1e7,
            "{dtmf}"
        );
    }
    let audible = played.iter().filter(|f| energy(f) > 1e4).count();
    assert!(audible > 40, "{audible} frames of far audio");
}

/// After the far end's CNG has put the session in data mode, the line's fax answering
/// (its V.21 flags) is still reported: it is what a T.38 switch waits for.
#[test]
fn line_fax_signals_are_reported_in_data_mode_too() {
    let mut s = data_session();
    let cng = sine_frames(1100.0, 40);
    let flags = crate::modem::tests::v21(crate::modem::tests::flags(60), -13.0);
    let mut events = Vec::new();
    for k in 0..120usize {
        let now = Instant::from_millis(k as u64 * 20);
        if k < cng.len() {
            s.handle_datagram(now, at(A), &audio_packet(k as u16, &cng[k]));
        }
        let mut capture = [0; FRAME_SAMPLES];
        let from = (k.saturating_sub(60)) * FRAME_SAMPLES;
        if k >= 60 && from + FRAME_SAMPLES <= flags.len() {
            capture.copy_from_slice(&flags[from..from + FRAME_SAMPLES]);
        }
        s.handle_frame(now, &capture);
        let _ = s.poll_playout();
        while let Some(e) = s.poll_event() {
            events.push(e);
        }
    }
    assert_eq!(
        events,
        [
            SessionEvent::VoiceBandData(ModemTone::Cng),
            SessionEvent::LineModemTone(ModemTone::V21Preamble)
        ]
    );
}

mod srtp;

mod cwid;
