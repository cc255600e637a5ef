//! Attack: an RTP flood at one call's port. Two calls, each a pair of
//! media bridges over UDP loopback (127.0.15.x) on in-memory audio ports paced like a
//! sound card, carry a 1 kHz tone one way. A third address floods the port of call 2's
//! receiving bridge with RTP-shaped datagrams, tens of thousands a second, for three
//! seconds. Asserted: call 1's bridge sees nothing of the flood (no foreign source, no
//! datagram over its budget, no loss) and its far port plays the tone at the level sent,
//! with gaps (frames below half the tone's amplitude) printed and at most a few, and call 2's
//! bridge counted the flood (foreign sources and datagrams dropped over its per-frame
//! budget). The figures are printed.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use testkit::audio::{MemPort, Played};
use tipring::bridge::{Bridge, BridgeConfig};
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{Country, CountryProfile};

const TONE_DBM0: f32 = -10.0;
const FLOOD_PPS: u64 = 30_000;
const FLOOD_FOR: Duration = Duration::from_secs(3);

fn config(remote: SocketAddr) -> BridgeConfig {
    BridgeConfig {
        law: Law::Ulaw,
        payload_type: 0,
        event_payload_type: Some(101),
        remote: Some(remote),
        send: true,
        receive: true,
        srtp: None,
        profile: CountryProfile::builtin(Country::Us),
        // The suite runs on small shared machines: 60 ms of buffer absorbs their
        // scheduling delays (not the flood's work, which is bounded per frame).
        jitter: tipring_media::jitter::JitterConfig {
            min_delay_us: 60_000,
            ..tipring_media::jitter::JitterConfig::default()
        },
        caller_id: FskStandard::Bell202,
        far_digits: true,
        echo: None,
        mute_far_dtmf: false,
        answer: None,
    }
}

fn bridge(socket: UdpSocket, remote: SocketAddr, tone: bool) -> (Bridge, Played) {
    let mut osc = tone.then(|| Oscillator::new(1000.0, dbm0_amplitude(TONE_DBM0)));
    let port = MemPort::new(Box::new(move |frame: &mut Frame| match &mut osc {
        Some(o) => frame.iter_mut().for_each(|s| *s = to_i16(o.next_sample())),
        None => *frame = [0; FRAME_SAMPLES],
    }));
    let played = port.played.clone();
    (
        Bridge::start(Box::new(port), socket, config(remote)).unwrap(),
        played,
    )
}

/// One call: `a` sends the tone to `b`. Returns (a, b, what b plays).
fn call(ip_a: [u8; 4], ip_b: [u8; 4]) -> (Bridge, Bridge, Played, SocketAddr) {
    let sa = UdpSocket::bind(SocketAddr::from((ip_a, 0))).unwrap();
    let sb = UdpSocket::bind(SocketAddr::from((ip_b, 0))).unwrap();
    let (aa, ab) = (sa.local_addr().unwrap(), sb.local_addr().unwrap());
    let (a, _) = bridge(sa, ab, true);
    let (b, played) = bridge(sb, aa, false);
    (a, b, played, ab)
}

/// Frames played between `from` and `to`: how many, how many below half the tone's
/// amplitude (gaps), and the level of all of them relative to the tone sent, dB.
fn audio(p: &Played, from: Instant, to: Instant) -> (usize, usize, f64) {
    let sent_rms = f64::from(dbm0_amplitude(TONE_DBM0)) / 2f64.sqrt();
    let v = p.lock().unwrap();
    let frames: Vec<&Frame> = v
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, f)| f)
        .collect();
    let rms =
        |x: &[i16]| (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let gaps = frames
        .iter()
        .filter(|f| rms(&f[..]) < sent_rms / 2.0)
        .count();
    let all: Vec<i16> = frames.iter().flat_map(|f| f.iter().copied()).collect();
    let level = 20.0 * (rms(&all) / sent_rms).log10();
    (frames.len(), gaps, level)
}

/// Sends RTP-shaped datagrams from `from` to `to` at `pps` until `stop`; the count sent.
fn flood(from: [u8; 4], to: SocketAddr, pps: u64, stop: Arc<AtomicBool>) -> Arc<AtomicU64> {
    let sent = Arc::new(AtomicU64::new(0));
    let count = sent.clone();
    std::thread::spawn(move || {
        let s = UdpSocket::bind(SocketAddr::from((from, 0))).unwrap();
        let mut pkt = [0u8; 172];
        pkt[0] = 0x80;
        let start = Instant::now();
        let mut n: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            // Paced in bursts of 100 to `pps`.
            let due = Duration::from_micros(n * 1_000_000 / pps);
            let elapsed = start.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
            for _ in 0..100 {
                pkt[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                pkt[8..12].copy_from_slice(&(n as u32).to_be_bytes());
                if s.send_to(&pkt, to).is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }
    });
    sent
}

#[test]
fn a_flood_at_one_calls_port_leaves_the_other_call_unharmed_and_is_counted() {
    let (a1, b1, played1, _) = call([127, 0, 15, 11], [127, 0, 15, 12]);
    let (a2, b2, played2, target) = call([127, 0, 15, 13], [127, 0, 15, 14]);
    // Settle: jitter buffers filled, sources latched.
    std::thread::sleep(Duration::from_millis(800));
    let before1 = b1.stats();
    let before2 = b2.stats();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let sent = flood([127, 0, 15, 30], target, FLOOD_PPS, stop.clone());
    std::thread::sleep(FLOOD_FOR);
    stop.store(true, Ordering::Relaxed);
    let t1 = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let (after1, after2) = (b1.stats(), b2.stats());
    let sent = sent.load(Ordering::Relaxed);
    let (frames1, gaps1, level1) = audio(&played1, t0, t1);
    let (frames2, gaps2, level2) = audio(&played2, t0, t1);
    let concealed1 = after1.concealed - before1.concealed;
    let foreign2 = after2.foreign - before2.foreign;
    let dropped2 = after2.rx_dropped - before2.rx_dropped;
    let overloaded2 = after2.rx_overloaded - before2.rx_overloaded;
    let secs = (t1 - t0).as_secs_f64();
    println!("RTP flood at call 2's port from 127.0.15.30 for {secs:.1} s:");
    println!(
        "  sent {sent} datagrams ({:.0}/s); call 2 counted {foreign2} foreign, {dropped2} \
         dropped over budget, {overloaded2} frames over budget; {} never read (kernel queue)",
        sent as f64 / secs,
        sent.saturating_sub(foreign2 + dropped2)
    );
    println!(
        "  call 1 (not flooded): {frames1} frames, {gaps1} gaps, {concealed1} concealed, \
         level {level1:+.2} dB re sent"
    );
    println!("  call 2 (flooded): {frames2} frames, {gaps2} gaps, level {level2:+.2} dB re sent");
    assert!(
        sent as f64 / secs > 10_000.0,
        "the flood reached {sent} datagrams"
    );
    assert!(
        frames1 as f64 >= secs * 50.0 * 0.9,
        "call 1 played {frames1} frames"
    );
    // The flood never reached call 1's port: nothing foreign, nothing over its budget,
    // nothing lost. (Its audio gaps are printed: on a quiet machine 0; on a starved one the
    // test process's own threads miss frames whatever the flood does.)
    assert_eq!(
        (
            after1.foreign - before1.foreign,
            after1.rx_dropped - before1.rx_dropped,
            after1.rx_overloaded - before1.rx_overloaded,
            after1.lost - before1.lost,
        ),
        (0, 0, 0, 0),
        "call 1's port saw the flood: {after1:?}"
    );
    assert!(
        gaps1 * 10 <= frames1,
        "call 1: {gaps1} gaps of {frames1} frames (call 2: {gaps2})"
    );
    assert!(level1.abs() < 1.0, "call 1 level {level1} dB");
    assert!(foreign2 + dropped2 > 0, "the flood was not counted");
    assert!(overloaded2 > 0, "the receive budget was never spent");
    for b in [a1, b1, a2, b2] {
        b.stop();
    }
}
