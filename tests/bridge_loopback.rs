//! Two media bridges over UDP loopback, each on an in-memory audio port paced by the wall
//! clock like a sound card (20 ms frames). Audio, RFC 4733 digits, loss and codec changes
//! are measured on what the far port plays. Latency is printed, never asserted.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::audio::{MemPort, Played, Source};
use tipring::bridge::{Bridge, BridgeConfig, Control, Report};
use tipring::call::{CallerInfo, ProgressTone};
use tipring::sim_dsp::MediaDsp;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_hal::sim::scenario::Dsp;
use tipring_media::callerid::FskStandard;
use tipring_media::dtmf::{DtmfDetector, DtmfDetectorConfig, DtmfEvent, DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{Country, CountryProfile, ToneGenerator};

const TONE_DBM0: f32 = -10.0;

fn tone(hz: f32) -> Source {
    let mut osc = Oscillator::new(hz, dbm0_amplitude(TONE_DBM0));
    Box::new(move |f: &mut Frame| {
        for s in f.iter_mut() {
            *s = to_i16(osc.next_sample());
        }
    })
}

fn silence() -> Source {
    Box::new(|f: &mut Frame| *f = [0; FRAME_SAMPLES])
}

struct Side {
    bridge: Bridge,
    played: Played,
    first_signal: Arc<Mutex<Option<Instant>>>,
}

fn config(law: Law, pt: u8, remote: Option<SocketAddr>) -> BridgeConfig {
    BridgeConfig {
        law,
        payload_type: pt,
        event_payload_type: Some(101),
        remote,
        send: true,
        receive: true,
        srtp: None,
        profile: CountryProfile::builtin(Country::Us),
        jitter: tipring_media::jitter::JitterConfig::default(),
        caller_id: FskStandard::Bell202,
        far_digits: true,
        echo: None,
        mute_far_dtmf: false,
        answer: None,
    }
}

fn side(socket: UdpSocket, cfg: BridgeConfig, source: Source) -> Side {
    let port = MemPort::new(source);
    let (played, first_signal) = (port.played.clone(), port.first_signal.clone());
    Side {
        bridge: Bridge::start(Box::new(port), socket, cfg).unwrap(),
        played,
        first_signal,
    }
}

fn bind() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

/// The last `frames` frames played.
fn tail(p: &Played, frames: usize) -> Vec<i16> {
    let v = p.lock().unwrap();
    v[v.len().saturating_sub(frames)..]
        .iter()
        .flat_map(|(_, f)| f.iter().copied())
        .collect()
}

/// Frequency from upward zero crossings, Hz.
fn frequency(x: &[i16]) -> f64 {
    let ups = x.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    ups as f64 * 8000.0 / x.len() as f64
}

/// Level relative to the sent tone, dB.
fn level_db(x: &[i16]) -> f64 {
    let rms = (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let sent = f64::from(dbm0_amplitude(TONE_DBM0)) / 2f64.sqrt();
    20.0 * (rms / sent).log10()
}

/// Latency from the first captured tone at one end to the first played tone at the other.
fn latency(from: &Side, to: &Side) -> Option<Duration> {
    let start = (*from.first_signal.lock().unwrap())?;
    let played = to.played.lock().unwrap();
    let at = played
        .iter()
        .find(|(_, f)| f.iter().any(|&s| s.unsigned_abs() > 1000))?
        .0;
    at.checked_duration_since(start)
}

fn assert_tone(x: &[i16], what: &str) {
    let (f, l) = (frequency(x), level_db(x));
    println!("{what}: {f:.1} Hz, {l:+.2} dB re sent");
    assert!((f - 1000.0).abs() < 10.0, "{what}: {f} Hz");
    assert!(l.abs() < 1.0, "{what}: {l} dB");
}

#[test]
fn a_1khz_tone_passes_each_way_with_rtcp_and_symmetric_rtp() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let a = side(sa, config(Law::Ulaw, 0, Some(ab)), tone(1000.0));
    // B's SDP address for A is stale (A is "behind a NAT"): B learns where A's packets
    // come from and answers there (symmetric RTP, RFC 4961).
    let stale = SocketAddr::from(([127, 0, 0, 1], 9));
    let b = side(sb, config(Law::Ulaw, 0, Some(stale)), tone(1000.0));
    std::thread::sleep(Duration::from_millis(4500));
    assert_tone(&tail(&b.played, 50), "A -> B");
    assert_tone(&tail(&a.played, 50), "B -> A");
    println!(
        "latency capture -> playback: A->B {:?}, B->A {:?}",
        latency(&a, &b),
        latency(&b, &a)
    );
    assert!(latency(&a, &b).is_some() && latency(&b, &a).is_some());
    let (sa_, sb_) = (a.bridge.stop(), b.bridge.stop());
    println!("A {sa_:?}\nB {sb_:?}");
    assert!(sa_.rtcp_sent >= 1 && sb_.rtcp_received >= 1, "RTCP A->B");
    assert!(sb_.rtcp_sent >= 1 && sa_.rtcp_received >= 1, "RTCP B->A");
    assert_eq!((sa_.lost, sb_.lost), (0, 0));
    let _ = aa;
}

/// Forwards between A and B, dropping every `nth` packet from A.
fn relay(nth: u64) -> (SocketAddr, SocketAddr, Arc<std::sync::atomic::AtomicBool>) {
    let (ra, ra_addr) = bind();
    let (rb, rb_addr) = bind();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    ra.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    rb.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    std::thread::spawn(move || {
        let (mut a, mut b) = (None, None);
        let mut n = 0u64;
        let mut buf = [0u8; 1500];
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((len, from)) = ra.recv_from(&mut buf) {
                a = Some(from);
                n += 1;
                if n % nth != 0
                    && let Some(b) = b
                {
                    let _ = rb.send_to(&buf[..len], b);
                }
            }
            if let Ok((len, from)) = rb.recv_from(&mut buf) {
                b = Some(from);
                if let Some(a) = a {
                    let _ = ra.send_to(&buf[..len], a);
                }
            }
        }
    });
    (ra_addr, rb_addr, stop)
}

#[test]
fn loss_is_concealed_and_the_audio_goes_on() {
    let (ra, rb, stop) = relay(7);
    let (sa, _) = bind();
    let (sb, _) = bind();
    let b = side(sb, config(Law::Alaw, 8, Some(rb)), silence());
    let a = side(sa, config(Law::Alaw, 8, Some(ra)), tone(1000.0));
    std::thread::sleep(Duration::from_millis(2500));
    let x = tail(&b.played, 50);
    let f = frequency(&x);
    println!("through 1/7 loss: {f:.1} Hz, {:+.2} dB", level_db(&x));
    assert!((f - 1000.0).abs() < 20.0, "{f} Hz");
    assert!(level_db(&x) > -6.0, "audio continues through loss");
    let sb_ = b.bridge.stop();
    a.bridge.stop();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    println!("B {sb_:?}");
    assert!(sb_.lost > 0, "lost counted");
    assert!(sb_.concealed > 0, "PLC used");
}

#[test]
fn inband_digits_cross_as_rfc4733_and_are_regenerated() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let mut g = DtmfGenerator::new(DtmfParams {
        on_ms: 120,
        off_ms: 200,
        ..DtmfParams::default()
    });
    let mut started = 0;
    let src: Source = Box::new(move |f: &mut Frame| {
        // Half a second of silence first, while the far end learns our address.
        started += 1;
        if started == 25 {
            g.push_str("59#").unwrap();
        }
        g.fill(f);
    });
    let a = side(sa, config(Law::Ulaw, 0, Some(ab)), src);
    let b = side(sb, config(Law::Ulaw, 0, Some(aa)), silence());
    std::thread::sleep(Duration::from_millis(2000));
    let at_a = digit_reports(&a.bridge);
    let at_b = digit_reports(&b.bridge);
    assert_eq!(
        at_a,
        vec![
            Report::InbandDigit('5'),
            Report::InbandDigit('9'),
            Report::InbandDigit('#')
        ]
    );
    assert_eq!(
        at_b,
        vec![
            Report::EventReceived(5),
            Report::EventReceived(9),
            Report::EventReceived(11)
        ]
    );
    // The line at B hears the digits again.
    let played = tail(&b.played, 100);
    let mut det = DtmfDetector::new(DtmfDetectorConfig::default());
    let mut heard = String::new();
    det.process(&played, |e| {
        if let DtmfEvent::Start { digit, .. } = e {
            heard.push(digit.as_char());
        }
    });
    assert_eq!(heard, "59#");
    let (sa_, sb_) = (a.bridge.stop(), b.bridge.stop());
    assert!(
        sa_.events_sent >= 3 * 3,
        "begin, updates and three ends per digit"
    );
    assert_eq!(sb_.events_received, 3);
}

/// The reports about digits (line observations left out).
fn digit_reports(b: &Bridge) -> Vec<Report> {
    std::iter::from_fn(|| b.try_report())
        .filter(|r| !matches!(r, Report::LineActivity | Report::LineTone(_)))
        .collect()
}

#[test]
fn flash_event_from_signalling_reaches_the_far_end() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let a = side(sa, config(Law::Ulaw, 0, Some(ab)), silence());
    let b = side(sb, config(Law::Ulaw, 0, Some(aa)), silence());
    std::thread::sleep(Duration::from_millis(200));
    assert!(a.bridge.send(Control::SendEvent {
        code: 16,
        duration_ms: 300
    }));
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(digit_reports(&b.bridge), vec![Report::EventReceived(16)]);
}

#[test]
fn codec_switches_from_pcma_to_pcmu() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let a = side(sa, config(Law::Alaw, 8, Some(ab)), tone(1000.0));
    let b = side(sb, config(Law::Alaw, 8, Some(aa)), silence());
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(b.bridge.stats().last_rx_payload_type, 8);
    assert_tone(&tail(&b.played, 25), "PCMA");
    assert!(a.bridge.send(Control::Codec {
        law: Law::Ulaw,
        payload_type: 0
    }));
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(b.bridge.stats().last_rx_payload_type, 0);
    assert_tone(&tail(&b.played, 25), "PCMU");
}

/// The far end holds the call (its sendonly: we are recvonly, RFC 3264 §6.1): A sends no
/// RTP and no events but still plays B's audio (music on hold); taken back, A sends again.
#[test]
fn a_far_hold_stops_our_rtp_and_still_plays_theirs() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let held = |send| Control::Remote {
        remote: Some(ab),
        law: Law::Ulaw,
        payload_type: 0,
        event_payload_type: Some(101),
        send,
        receive: true,
        srtp: None,
    };
    let a = side(sa, config(Law::Ulaw, 0, Some(ab)), tone(1000.0));
    let b = side(sb, config(Law::Ulaw, 0, Some(aa)), tone(1000.0));
    std::thread::sleep(Duration::from_millis(600));
    assert!(a.bridge.send(held(false)));
    std::thread::sleep(Duration::from_millis(200));
    let (sent, got) = (a.bridge.stats().rtp_sent, b.bridge.stats().rtp_received);
    assert!(a.bridge.send(Control::SendEvent {
        code: 16,
        duration_ms: 200
    }));
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(a.bridge.stats().rtp_sent, sent, "A sent while held");
    assert_eq!(
        b.bridge.stats().rtp_received,
        got,
        "B received while A held"
    );
    assert_eq!(a.bridge.stats().events_sent, 0);
    assert!(a.bridge.stats().rtcp_sent + a.bridge.stats().rtp_received > 0);
    assert_tone(&tail(&a.played, 25), "B -> A while held");
    assert!(a.bridge.send(held(true)));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(a.bridge.stats().rtp_sent > sent + 20);
    assert_tone(&tail(&b.played, 25), "A -> B after the hold");
}

/// One RTP packet as a third host would forge it (RFC 3550 §5.1 fixed header).
fn forged(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x0bad_f00d_u32.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// "RTP bleed": a third host sends well-formed RTP to a call's port, loud audio and
/// RFC 4733 digits in sequence, as if it were the far end behind a NAT. It receives
/// nothing, is not heard on the line, its digits are not reported, and the call's own
/// media keeps flowing.
#[test]
fn a_third_host_can_neither_take_over_nor_inject_into_a_call() {
    let (sa, aa) = bind();
    let (sb, ab) = bind();
    let a = side(sa, config(Law::Ulaw, 0, Some(ab)), tone(1000.0));
    let b = side(sb, config(Law::Ulaw, 0, Some(aa)), silence());
    std::thread::sleep(Duration::from_millis(300));
    let evil = UdpSocket::bind("127.0.0.1:0").unwrap();
    evil.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut loud = tone(1400.0);
    let mut frame = [0i16; FRAME_SAMPLES];
    let mut payload = [0u8; FRAME_SAMPLES];
    let before = b.bridge.stats().rtp_received;
    let mut came_back = 0;
    let mut buf = [0u8; 1500];
    for i in 0..60u16 {
        loud(&mut frame);
        Law::Ulaw.encode(&frame, &mut payload);
        let ts = u32::from(i) * 160;
        let _ = evil.send_to(&forged(0, i, ts, &payload), aa);
        // Digit 5, volume 10, growing duration (RFC 4733 §2.3).
        let dur = (i % 10 + 1) * 160;
        let event = [5, 10, (dur >> 8) as u8, dur as u8];
        let _ = evil.send_to(&forged(101, 1000 + i, ts, &event), aa);
        if evil.recv_from(&mut buf).is_ok() {
            came_back += 1;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(came_back, 0, "the call's RTP went to the third host");
    assert!(
        b.bridge.stats().rtp_received > before + 40,
        "the call's media stopped reaching B"
    );
    assert!(
        level_db(&tail(&a.played, 25)) < -40.0,
        "the third host's audio was played to the line"
    );
    assert_eq!(digit_reports(&a.bridge), vec![], "forged digits reported");
    assert!(a.bridge.stats().foreign >= 120, "{:?}", a.bridge.stats());
}

#[test]
fn progress_tone_replaces_the_far_audio() {
    let (sa, _) = bind();
    let a = side(sa, config(Law::Ulaw, 0, None), silence());
    assert!(a.bridge.send(Control::Tone(ProgressTone::Dial)));
    std::thread::sleep(Duration::from_millis(500));
    let x = tail(&a.played, 10);
    // US dial tone: 350 + 440 Hz; its energy is there, silence is gone.
    assert!(level_db(&x) > -10.0, "{}", level_db(&x));
    assert!(a.bridge.send(Control::Tone(ProgressTone::Silence)));
    std::thread::sleep(Duration::from_millis(300));
    assert!(tail(&a.played, 5).iter().all(|&s| s == 0));
}

#[test]
fn busy_tone_and_activity_on_the_line_are_reported() {
    let (sa, _) = bind();
    let profile = CountryProfile::builtin(Country::Us);
    let mut busy = ToneGenerator::new(&profile.busy);
    let src: Source = Box::new(move |f: &mut Frame| busy.fill(f));
    let a = side(sa, config(Law::Ulaw, 0, None), src);
    std::thread::sleep(Duration::from_millis(2600));
    let reports: Vec<Report> = std::iter::from_fn(|| a.bridge.try_report()).collect();
    assert!(
        reports.contains(&Report::LineTone(ProgressTone::Busy)),
        "{reports:?}"
    );
    assert!(
        !reports.contains(&Report::LineTone(ProgressTone::Reorder)),
        "{reports:?}"
    );
    assert!(reports.contains(&Report::LineActivity), "{reports:?}");
    // Silence shows no activity.
    let (sb, _) = bind();
    let b = side(sb, config(Law::Ulaw, 0, None), silence());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(b.bridge.try_report(), None);
}

#[test]
fn caller_id_is_sent_as_fsk_to_the_line() {
    let (sa, _) = bind();
    let a = side(sa, config(Law::Ulaw, 0, None), silence());
    assert!(a.bridge.send(Control::CallerId(CallerInfo {
        name: Some("ALICE".into()),
        number: Some("5551234".into()),
    })));
    std::thread::sleep(Duration::from_millis(1200));
    let audio: Vec<u8> = tail(&a.played, 60)
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let dsp = MediaDsp::new(CountryProfile::builtin(Country::Us));
    assert_eq!(dsp.decode_caller_id(&audio).as_deref(), Some("5551234"));
}

#[test]
fn caller_id_on_the_line_is_decoded_by_a_listening_bridge() {
    let (sa, _) = bind();
    let info = CallerInfo {
        name: Some("BOB".into()),
        number: Some("2025550100".into()),
    };
    let mut tx = tipring::call::caller_id::fsk_burst(&info, FskStandard::V23).unwrap();
    let src: Source = Box::new(move |f: &mut Frame| {
        let n = tx.fill(f);
        f[n..].fill(0);
    });
    let mut cfg = config(Law::Alaw, 8, None);
    cfg.caller_id = FskStandard::V23;
    let a = side(sa, cfg, src);
    std::thread::sleep(Duration::from_millis(1200));
    let ids: Vec<Report> = std::iter::from_fn(|| a.bridge.try_report())
        .filter(|r| matches!(r, Report::CallerId(_)))
        .collect();
    assert_eq!(ids, vec![Report::CallerId(info)]);
    assert_eq!(a.bridge.stop().rtp_sent, 0, "a listener sends nothing");
}
