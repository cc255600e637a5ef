//! Per-channel cost of the media path, per 20 ms frame (160 samples at 8 kHz):
//! G.711 encode+decode, jitter buffer push+pop, the receive path (RTP parse -> receiver
//! statistics -> jitter buffer -> G.711 decode / PLC -> DTMF check) and the send path
//! (G.711 encode -> RTP build). Run: `cargo bench -p tipring-media --bench path`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::time::Duration;
use tipring_media::dtmf::DtmfDetector;
use tipring_media::g711::Law;
use tipring_media::instant::Instant;
use tipring_media::jitter::{JitterBuffer, JitterConfig, Playout};
use tipring_media::plc::Plc;
use tipring_media::rtp::{RtpPacket, RtpReceiver, RtpSender, SplitMix64};

const FRAME: usize = 160;
const FRAME_US: u64 = 20_000;

/// A speech-like test frame.
fn pcm(k: usize) -> [i16; FRAME] {
    let mut f = [0i16; FRAME];
    for (i, s) in f.iter_mut().enumerate() {
        let n = (k * FRAME + i) as f64;
        *s = (6000.0 * (n * 0.0785).sin() + 2000.0 * (n * 0.31).sin()) as i16;
    }
    f
}

/// One channel's send side: encode a frame and build its RTP packet.
struct SendPath {
    law: Law,
    sender: RtpSender,
    payload: [u8; FRAME],
    packet: [u8; 12 + FRAME],
}

impl SendPath {
    fn new(seed: u64) -> Self {
        SendPath {
            law: Law::Ulaw,
            sender: RtpSender::new(0, &mut SplitMix64::new(seed)),
            payload: [0; FRAME],
            packet: [0; 12 + FRAME],
        }
    }
    fn frame(&mut self, pcm: &[i16; FRAME]) -> usize {
        self.law.encode(pcm, &mut self.payload);
        self.sender
            .send_frame(&self.payload, FRAME as u32, &mut self.packet)
            .unwrap_or(0)
    }
}

/// One channel's receive side: parse, account, buffer, decode or conceal.
struct ReceivePath {
    law: Law,
    stats: RtpReceiver,
    jb: JitterBuffer,
    plc: Plc,
    dtmf: DtmfDetector,
    digits: u32,
    decoded: [i16; FRAME],
    out: [i16; FRAME],
}

impl ReceivePath {
    fn new() -> Self {
        ReceivePath {
            law: Law::Ulaw,
            stats: RtpReceiver::new(8000),
            jb: JitterBuffer::new(JitterConfig::default()),
            plc: Plc::new(),
            dtmf: DtmfDetector::default(),
            digits: 0,
            decoded: [0; FRAME],
            out: [0; FRAME],
        }
    }
    fn packet(&mut self, bytes: &[u8], arrival: Instant) {
        if let Ok(p) = RtpPacket::new_checked(bytes) {
            self.stats
                .on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), arrival);
            self.jb.push(&p, arrival);
        }
    }
    fn tick(&mut self, now: Instant) -> &[i16; FRAME] {
        match self.jb.pop(now) {
            Playout::Audio(a) => {
                self.law.decode(a, &mut self.decoded);
                self.plc.good_frame(&self.decoded, &mut self.out);
            }
            Playout::Conceal => self.plc.lost_frame(&mut self.out),
            Playout::Silence => self.out.fill(0),
        }
        // DTMF check: in-band digits on the line audio (counted so the work is not elided).
        let digits = &mut self.digits;
        self.dtmf.process(&self.out, |_| *digits += 1);
        &self.out
    }
}

fn bench(c: &mut Criterion) {
    let frames: Vec<[i16; FRAME]> = (0..50).map(pcm).collect();

    c.bench_function("g711 encode+decode / 20 ms frame", |b| {
        let mut enc = [0u8; FRAME];
        let mut dec = [0i16; FRAME];
        let mut k = 0;
        b.iter(|| {
            Law::Ulaw.encode(black_box(&frames[k % 50]), &mut enc);
            Law::Ulaw.decode(black_box(&enc), &mut dec);
            k += 1;
            black_box(&dec);
        })
    });

    c.bench_function("jitter buffer push+pop / 20 ms frame", |b| {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let payload = [0x55u8; FRAME];
        let mut k: u64 = 0;
        b.iter(|| {
            let t = Instant::from_micros(k * FRAME_US);
            jb.push_frame((k * 160) as u32, k as u16, k == 0, &payload, t);
            black_box(jb.pop(t));
            k += 1;
        })
    });

    c.bench_function("send path (encode -> RTP) / 20 ms frame", |b| {
        let mut tx = SendPath::new(1);
        let mut k = 0;
        b.iter(|| {
            black_box(tx.frame(&frames[k % 50]));
            k += 1;
        })
    });

    c.bench_function(
        "receive path (RTP -> jitter -> decode/PLC -> DTMF) / 20 ms frame",
        |b| {
            let mut tx = SendPath::new(2);
            let mut rx = ReceivePath::new();
            // Pre-built packets so only the receive side is measured; their sequence number and
            // timestamp are rewritten in place as the list is reused. Every 50th packet is lost.
            let mut packets: Vec<Vec<u8>> = (0..500)
                .map(|i| {
                    let n = tx.frame(&frames[i % 50]);
                    tx.packet[..n].to_vec()
                })
                .collect();
            let mut k: u64 = 0;
            b.iter(|| {
                let t = Instant::from_micros(k * FRAME_US);
                let p = &mut packets[(k % 500) as usize];
                p[2..4].copy_from_slice(&(k as u16).to_be_bytes());
                p[4..8].copy_from_slice(&((k * 160) as u32).to_be_bytes());
                if k % 50 != 25 {
                    rx.packet(p, t);
                }
                black_box(rx.tick(t));
                k += 1;
            })
        },
    );

    c.bench_function("whole path (send + receive) / 20 ms frame", |b| {
        let mut tx = SendPath::new(3);
        let mut rx = ReceivePath::new();
        let mut k: u64 = 0;
        b.iter(|| {
            let t = Instant::from_micros(k * FRAME_US);
            let n = tx.frame(&frames[(k % 50) as usize]);
            let pkt = tx.packet;
            rx.packet(&pkt[..n], t);
            black_box(rx.tick(t));
            k += 1;
        })
    });

    c.bench_function(
        "PLC good frame + lost frame (erasure start) / 2 frames",
        |b| {
            let mut plc = Plc::new();
            let mut out = [0i16; FRAME];
            let mut k = 0;
            b.iter(|| {
                // One good frame, then a lost one: every lost frame starts an erasure (pitch search).
                plc.good_frame(&frames[k % 50], &mut out);
                plc.lost_frame(&mut out);
                k += 1;
                black_box(&out);
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
