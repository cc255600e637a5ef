//! Figures 1-3 at one gateway, with the bench as its far SIP and RTP peer: post-dial
//! delay (last digit the card reports → INVITE received by the peer), INVITE → 180 (the
//! peer's send and receive times), and audio latency phone frame → RTP packet and RTP
//! packet → phone frame.

use crate::Plan;
use crate::phones::{LoudSink, Marker, latencies, loud};
use crate::rig::{Rig, config, free_port, fxs_ports, scratch};
use crate::sip::{Call, Peer};
use crate::stats::Table;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_hal::model::{Digit, Event, PortKind};
use tipring_hal::sim::SimPort;
use tipring_media::g711::{ulaw_decode, ulaw_encode};
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

/// Card-reported DTMF digits are spaced as the simulator's `dial` step spaces them.
const DIGIT_GAP: Duration = Duration::from_millis(160);
/// The gateway knows a phone is on-hook once the break outlasts a hook flash (900 ms).
const ON_HOOK_SETTLE: Duration = Duration::from_millis(1300);

fn hook(rig: &Rig, port: u8, off: bool) {
    rig.card.with_port(port, |p, now, _| {
        if let SimPort::Fxs(ph) = p {
            if off {
                ph.off_hook(now)
            } else {
                ph.on_hook(now)
            }
        }
    });
}

pub fn run(plan: &Plan, table: &mut Table) -> Result<(), String> {
    let tmp = scratch("tipring-bench-one")?;
    let peer = Peer::bind()?;
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let conf = config(sip, Some(peer.addr), &fxs_ports(2, 101));
    let mut rig = Rig::start("gw", &tmp.0.join("gw"), sip, &[PortKind::Fxs; 2], &conf)?;
    let r = figures(plan, &rig, peer, table);
    if r.is_err() {
        eprint!("{}", rig.tail(30));
    }
    rig.stop();
    r
}

fn figures(plan: &Plan, rig: &Rig, mut peer: Peer, table: &mut Table) -> Result<(), String> {
    let mut last_on_hook = [Instant::now(); 2];
    let mut seen = std::collections::HashSet::new();
    for (digits, n, what, note) in [
        (
            "200",
            plan.pdd,
            "1. post-dial delay, exact match (`200` on `[1-8]xx`)",
            "last DTMF digit injected at the sim card → INVITE received by the far peer: card serial link, digit map, SIP side, UDP; no timer",
        ),
        (
            "9123#",
            plan.pdd_slow,
            "1. post-dial delay, `#` sends now (`9123#` on `9x. T`)",
            "as above; `#` ends the digits, the interdigit timer is not waited",
        ),
        (
            "9123",
            plan.pdd_slow,
            "1. post-dial delay, interdigit timer (`9123` on `9x. T`, short timer 1000 ms)",
            "as above plus the configured 1000 ms short interdigit timer",
        ),
    ] {
        let mut v = Vec::new();
        for i in 0..n {
            let port = (i % 2) as u8;
            let since = last_on_hook[usize::from(port)].elapsed();
            std::thread::sleep(ON_HOOK_SETTLE.saturating_sub(since));
            v.push(dial_once(rig, &peer, port, digits, &mut seen)?);
            last_on_hook[usize::from(port)] = Instant::now();
        }
        table.latency(what, &v, note);
    }
    std::thread::sleep(ON_HOOK_SETTLE);
    let mut v = Vec::new();
    let dummy = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let dummy_addr = dummy.local_addr().map_err(|e| e.to_string())?;
    for _ in 0..plan.invite_180 {
        v.push(invite_to_180(rig, &mut peer, dummy_addr)?);
        std::thread::sleep(Duration::from_millis(150));
    }
    table.latency(
        "2. INVITE → 180 at the answering gateway",
        &v,
        "INVITE sent by the peer → 180 received by it (UDP on loopback both ways): parse, route to the FXS port, SDP answer, ring command to the card; each call then CANCELled",
    );
    audio(plan, rig, &mut peer, table)
}

/// One call dialled on `port`; ms from the last digit to the INVITE at the peer.
fn dial_once(
    rig: &Rig,
    peer: &Peer,
    port: u8,
    digits: &str,
    seen: &mut std::collections::HashSet<String>,
) -> Result<f64, String> {
    hook(rig, port, true);
    std::thread::sleep(Duration::from_millis(300));
    let mut last = Instant::now();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 {
            std::thread::sleep(DIGIT_GAP);
        }
        let digit = Digit::from_char(c).ok_or_else(|| format!("digit {c}"))?;
        last = Instant::now();
        rig.card.inject_event(
            port,
            Event::Digit {
                digit,
                duration_ms: 80,
            },
        );
    }
    let inv = peer
        .wait(Duration::from_secs(4), |m| {
            m.method() == Some("INVITE") && m.call_id().is_some_and(|c| !seen.contains(c))
        })
        .ok_or_else(|| format!("no INVITE after dialling {digits} on port {port}"))?;
    seen.insert(inv.call_id().unwrap_or_default().to_string());
    let ms = (inv.at - last).as_secs_f64() * 1000.0;
    peer.respond(&inv, rig.sip, 486, "Busy Here", Some("busy"), None);
    std::thread::sleep(Duration::from_millis(100));
    hook(rig, port, false);
    Ok(ms)
}

fn final_of(peer: &Peer, c: &Call) -> Result<crate::sip::Msg, String> {
    peer.wait_call(&c.call_id, Duration::from_secs(4), |m| {
        m.status().is_some_and(|s| s >= 200) && m.cseq_method() == Some("INVITE")
    })
    .ok_or_else(|| "no final response to the INVITE".to_string())
}

/// One INVITE to port 0's number; ms to its 180. The call is then cancelled.
fn invite_to_180(rig: &Rig, peer: &mut Peer, rtp: SocketAddr) -> Result<f64, String> {
    let mut c = peer.invite(rig.sip, "101", rtp);
    let r = peer
        .wait_call(&c.call_id, Duration::from_secs(4), |m| {
            m.status() == Some(180)
        })
        .ok_or("no 180 to the INVITE")?;
    let ms = (r.at - c.sent).as_secs_f64() * 1000.0;
    peer.learn(&mut c, &r);
    peer.cancel(&c);
    let f = final_of(peer, &c)?;
    peer.learn(&mut c, &f);
    peer.ack(&c, false);
    Ok(ms)
}

/// An RTP packet (RFC 3550 §5.1) of PCMU.
fn rtp_packet(seq: u16, ts: u32, payload: &[u8; 160]) -> [u8; 172] {
    let mut p = [0u8; 172];
    p[0] = 0x80;
    p[1] = 0;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&ts.to_be_bytes());
    p[8..12].copy_from_slice(&0x7e57_0001u32.to_be_bytes());
    p[12..].copy_from_slice(payload);
    p
}

/// Figure 3: a call from the peer answered by phone 0; markers each way.
fn audio(plan: &Plan, rig: &Rig, peer: &mut Peer, table: &mut Table) -> Result<(), String> {
    let rtp = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    rtp.set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    let mut c = peer.invite(rig.sip, "101", rtp.local_addr().map_err(|e| e.to_string())?);
    peer.wait_call(&c.call_id, Duration::from_secs(4), |m| {
        m.status() == Some(180)
    })
    .ok_or("audio call: no 180")?;
    hook(rig, 0, true);
    let ok = final_of(peer, &c)?;
    peer.learn(&mut c, &ok);
    if ok.status() != Some(200) {
        return Err(format!("audio call answered {:?}", ok.status()));
    }
    let gw_rtp = ok.sdp_audio().ok_or("no RTP address in the 200's SDP")?;
    peer.ack(&c, true);
    std::thread::sleep(Duration::from_millis(300));

    // Phone → RTP: markers played into phone 0, loud packets received by the peer.
    let (marker, sent_by_phone) = Marker::new(10);
    rig.card.play(0, Box::new(marker));
    // RTP → phone: the peer sends 20 ms packets, every 10th loud; phone 0 notes loud frames.
    let (sink, heard_by_phone) = LoudSink::new();
    rig.card.add_sink(0, Box::new(sink));
    let stop = Arc::new(AtomicBool::new(false));
    let sent_by_peer: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let tx = rtp.try_clone().map_err(|e| e.to_string())?;
    let sender = {
        let (stop, sent) = (stop.clone(), sent_by_peer.clone());
        std::thread::spawn(move || {
            let mut osc = Oscillator::new(1000.0, dbm0_amplitude(-10.0));
            let silence = [0xFFu8; 160];
            let mut next = Instant::now();
            let mut n: u32 = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut payload = silence;
                let marker = n % 10 == 0;
                if marker {
                    for b in payload.iter_mut() {
                        *b = ulaw_encode(to_i16(osc.next_sample()));
                    }
                }
                let p = rtp_packet(n as u16, n.wrapping_mul(160), &payload);
                if marker && let Ok(mut s) = sent.lock() {
                    s.push(Instant::now());
                }
                let _ = tx.send_to(&p, gw_rtp);
                next += Duration::from_millis(20);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    let mut got_by_peer = Vec::new();
    let end = Instant::now() + Duration::from_millis(200 * plan.markers as u64 + 300);
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((n, _)) = rtp.recv_from(&mut buf) {
            let at = Instant::now();
            if n > 12 && buf[1] & 0x7f == 0 {
                let pcm: Vec<i16> = buf[12..n].iter().map(|&b| ulaw_decode(b)).collect();
                if loud(&pcm) {
                    got_by_peer.push(at);
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    let w = Duration::from_millis(150);
    let lock = |s: &Arc<Mutex<Vec<Instant>>>| s.lock().map(|v| v.clone()).unwrap_or_default();
    table.latency(
        "3. audio, phone frame → RTP packet (one gateway)",
        &latencies(&lock(&sent_by_phone), &got_by_peer, w),
        "loud frame handed to the sim card's audio socket → PCMU packet carrying it received by the peer: the gateway's audio read, bridge, G.711 encode, UDP",
    );
    table.latency(
        "3. audio, RTP packet → phone frame (one gateway)",
        &latencies(&lock(&sent_by_peer), &lock(&heard_by_phone), w),
        "packet sent by the peer → frame carrying it taken by the sim card, which reads its audio socket on its own 20 ms clock: jitter buffer (20 ms minimum), decode, playout pacing, up to 20 ms of the card's polling",
    );
    peer.bye(&mut c);
    let _ = peer.wait_call(&c.call_id, Duration::from_secs(3), |m| {
        m.cseq_method() == Some("BYE") && m.status().is_some()
    });
    hook(rig, 0, false);
    Ok(())
}
