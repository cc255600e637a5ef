//! A far party's media for whole-process tests: a UDP socket of the test named as the RTP
//! address in a sipp scenario's SDP, playing a tone of its own and noting when the
//! gateway's audio reaches it.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_media::g711::Law;

/// A far party's media: plays `hz` to whoever sends it RTP (the gateway's socket, learnt
/// from its first packet) and notes when the gateway's audio packets arrive.
pub struct Party {
    pub port: u16,
    pub heard: Arc<Mutex<Vec<Instant>>>,
    pub thread: std::thread::JoinHandle<()>,
}

pub fn party(ip: [u8; 4], hz: f32, done: Arc<AtomicBool>) -> Party {
    let sock = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("RTP socket");
    sock.set_read_timeout(Some(Duration::from_millis(5)))
        .expect("read timeout");
    let port = sock.local_addr().expect("address").port();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let noted = heard.clone();
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
