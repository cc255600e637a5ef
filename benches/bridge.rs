//! CPU cost of one call's media bridge per 20 ms frame, both directions: two bridge engines
//! wired to each other over UDP loopback, each on an unpaced in-memory audio port (the
//! whole per-frame path: line monitor, DTMF detector, G.711, RTP send, socket read, RTP
//! receive, jitter buffer, decode/PLC, playback, RTCP check).
//! Run: `cargo bench -p tipring --bench bridge`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Duration;
use tipring::bridge::{BridgeConfig, Engine, Stats};
use tipring_hal::audio::{AudioCounters, AudioError, AudioPort, FRAME_SAMPLES, Frame};
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::instant::Instant;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{Country, CountryProfile};

/// Capture is a 1 kHz tone, delivered at once (no device clock).
struct FastPort(Oscillator);

impl AudioPort for FastPort {
    fn start(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
    fn stop(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
    fn read_frame(&mut self, f: &mut Frame) -> Result<(), AudioError> {
        for s in f.iter_mut() {
            *s = to_i16(self.0.next_sample());
        }
        Ok(())
    }
    fn write_frame(&mut self, f: &Frame) -> Result<(), AudioError> {
        std::hint::black_box(f);
        Ok(())
    }
    fn counters(&self) -> AudioCounters {
        AudioCounters::default()
    }
}

fn engine(peer: std::net::SocketAddr) -> Engine {
    let (tx, rx) = sync_channel(32);
    std::mem::forget(rx); // reports are dropped when the queue is full, as in production
    Engine::new(
        BridgeConfig {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: Some(101),
            remote: Some(peer),
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
        },
        0,
        Arc::new(Stats::default()),
        tx,
    )
    .unwrap()
}

/// One frame of one end: capture through the engine, playback out, then every datagram
/// waiting on its socket (each stamped on reading).
fn step(e: &mut Engine, port: &mut FastPort, sock: &UdpSocket, epoch: std::time::Instant) {
    let now = || Instant::from_micros(epoch.elapsed().as_micros() as u64);
    let mut capture = [0; FRAME_SAMPLES];
    port.read_frame(&mut capture).unwrap();
    let playback = e.frame(now(), &capture, &mut |to, d| {
        let _ = sock.send_to(d, to);
    });
    port.write_frame(&playback).unwrap();
    let mut buf = [0u8; 1500];
    while e.wants_datagram() {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            break;
        };
        e.datagram(now(), from, &buf[..n], &mut |to, d| {
            let _ = sock.send_to(d, to);
        });
    }
}

fn bridge(c: &mut Criterion) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let (aa, ab) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    let mut ea = engine(ab);
    let mut eb = engine(aa);
    let amp = dbm0_amplitude(-10.0);
    let mut pa = FastPort(Oscillator::new(1000.0, amp));
    let mut pb = FastPort(Oscillator::new(1000.0, amp));
    let epoch = std::time::Instant::now();
    c.bench_function("bridge: one 20 ms frame, both ends of a call", |bch| {
        bch.iter(|| {
            step(&mut ea, &mut pa, &a, epoch);
            step(&mut eb, &mut pb, &b, epoch);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bridge
}
criterion_main!(benches);
