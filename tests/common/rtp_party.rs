//! A far party's media for whole-process tests: a UDP socket of the test named as the RTP
//! address in a sipp scenario's SDP, playing a tone of its own and noting when the
//! gateway's audio reaches it.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_media::g711::Law;

/// Decoded audio frames by arrival.
pub type Frames = Arc<Mutex<Vec<(Instant, [i16; 160])>>>;

/// A far party's media: plays `hz` to whoever sends it RTP (the gateway's socket, learnt
/// from its first packet) and notes when the gateway's audio packets arrive.
pub struct Party {
    pub port: u16,
    pub heard: Arc<Mutex<Vec<Instant>>>,
    /// The gateway's audio, decoded, by arrival (the last 20 s).
    pub audio: Frames,
    pub thread: std::thread::JoinHandle<()>,
}

pub fn party(ip: [u8; 4], hz: f32, done: Arc<AtomicBool>) -> Party {
    let sock = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("RTP socket");
    sock.set_read_timeout(Some(Duration::from_millis(5)))
        .expect("read timeout");
    let port = sock.local_addr().expect("address").port();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let noted = heard.clone();
    let audio = Arc::new(Mutex::new(Vec::new()));
    let decoded = audio.clone();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        let mut gateway = None;
        let (mut seq, mut ts, mut phase) = (0u16, 0u32, 0f32);
        let mut next = Instant::now();
        while !done.load(Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf)
                && n >= 12
                && buf[1] & 0x7f == 0
            {
                gateway = Some(from);
                noted.lock().expect("lock").push(Instant::now());
                if n == 12 + 160 {
                    let mut pcm = [0i16; 160];
                    Law::Ulaw.decode(&buf[12..n], &mut pcm);
                    let mut a = decoded.lock().expect("lock");
                    if a.len() >= 1000 {
                        a.remove(0);
                    }
                    a.push((Instant::now(), pcm));
                }
            }
            let Some(to) = gateway else { continue };
            if Instant::now() < next {
                continue;
            }
            next += Duration::from_millis(20);
            let mut pkt = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
            pkt[2..4].copy_from_slice(&seq.to_be_bytes());
            pkt[4..8].copy_from_slice(&ts.to_be_bytes());
            let mut pcm = [0i16; 160];
            for s in pcm.iter_mut() {
                *s = (phase.sin() * 8000.0) as i16;
                phase += 2.0 * std::f32::consts::PI * hz / 8000.0;
            }
            let mut payload = [0u8; 160];
            Law::Ulaw.encode(&pcm, &mut payload);
            pkt.extend_from_slice(&payload);
            phase %= 2.0 * std::f32::consts::PI;
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
            let _ = sock.send_to(&pkt, to);
        }
    });
    Party {
        port,
        heard,
        audio,
        thread,
    }
}

/// How many of the gateway's audio packets reached `p` between `from` and `to`.
pub fn heard_between(p: &Party, from: Instant, to: Instant) -> usize {
    p.heard
        .lock()
        .expect("lock")
        .iter()
        .filter(|&&t| t >= from && t < to)
        .count()
}

/// The share of the power of the gateway's audio reaching `p` between `from` and `to`
/// that is at `hz` (0 without audio).
pub fn tone_share(p: &Party, from: Instant, to: Instant, hz: f32) -> f32 {
    let audio = p.audio.lock().expect("lock");
    let (mut at, mut total) = (0f32, 0f32);
    for (_, f) in audio.iter().filter(|(t, _)| *t >= from && *t < to) {
        // A sine's sum of squares over the frame is 2 e / N of its Goertzel energy e.
        at += 2.0 * tipring_media::goertzel::energy(hz, f) / f.len() as f32;
        total += f.iter().map(|&v| f32::from(v).powi(2)).sum::<f32>();
    }
    if total > 0.0 { at / total } else { 0.0 }
}
