//! Figures for hal/BENCHMARKS.md: frames per second through the codec, and the latency of
//! an event from the simulated card to the gateway's driver over a real PTY (p50/p99).
//! Run: `cargo bench -p tipring-hal --bench link`

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::link::LinkConfig;
use tipring_hal::model::*;
use tipring_hal::sim::{SimCard, SimConfig};
use tipring_hal::wire::{Decoder, FrameRepr, MAX_WIRE_FRAME, Packet, encode_frame};

fn event_packet() -> Packet {
    Packet::Event {
        seq: 1234,
        event: TimedEvent {
            at_ms: 987_654,
            port: 3,
            event: Event::HookFlash { duration_ms: 250 },
        },
    }
}

fn ring_packet() -> Packet {
    Packet::Command {
        seq: 77,
        port: 1,
        command: Command::Ring(RingCadence {
            frequency_hz: 25,
            steps: (0..16)
                .map(|i| RingStep {
                    on_ms: 400 + i,
                    off_ms: 2000 + i,
                })
                .collect(),
        }),
    }
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    for (name, p) in [("event", event_packet()), ("ring16", ring_packet())] {
        let repr = FrameRepr::new(p);
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let n = encode_frame(&repr, &mut wire).unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("encode_{name}_{n}B"), |b| {
            let mut out = [0u8; MAX_WIRE_FRAME];
            b.iter(|| encode_frame(black_box(&repr), &mut out).unwrap())
        });
        g.bench_function(format!("decode_{name}_{n}B"), |b| {
            let mut d = Decoder::new();
            b.iter(|| {
                let mut got = None;
                d.feed(black_box(&wire[..n]), |r| got = Some(r));
                got
            })
        });
    }
    g.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Latency from the moment an event exists on the simulated card to the moment the
/// driver's event stream yields it. Printed as percentiles, not asserted.
fn pty_latency(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("tipring-bench-{}.tty", std::process::id()));
    let sim = SimCard::start(SimConfig {
        ports: vec![PortKind::Fxs],
        link_path: path,
        link: LinkConfig::default(),
        audio_dir: None,
    })
    .unwrap();
    let drv = Driver::start(SerialSettings::new(sim.link_path())).unwrap();
    loop {
        if let DriverEvent::LinkUp(_) = drv.events().recv_timeout(Duration::from_secs(5)).unwrap() {
            break;
        }
    }
    let mut id: u16 = 0;
    let mut one = || {
        id = id.wrapping_add(1);
        let ev = Event::Digit {
            digit: Digit::D1,
            duration_ms: id,
        };
        let t0 = Instant::now();
        sim.inject_event(0, ev);
        loop {
            match drv.events().recv_timeout(Duration::from_secs(5)) {
                Ok(DriverEvent::Event(e)) if e.event == ev => return t0.elapsed(),
                Ok(_) => {}
                Err(e) => panic!("event lost: {e}"),
            }
        }
    };
    let mut samples: Vec<Duration> = (0..2000).map(|_| one()).collect();
    samples.sort();
    println!(
        "pty event latency card->gateway over {} events: p50 {:?}  p99 {:?}  max {:?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    c.bench_function("pty_event_latency", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| one()).sum())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = codec, pty_latency
}
criterion_main!(benches);
