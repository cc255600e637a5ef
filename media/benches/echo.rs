//! CPU of the line echo canceller per 20 ms frame (160 samples) for one channel, at the
//! default 64 ms tail and the longest 128 ms, NLP on, on a converged canceller fed a
//! speech-like far signal and its echo through a dispersive path.
//! Run: `cargo bench -p tipring-media --bench echo`. (spandsp's `echo_can` is compared
//! for cancellation in `tests/echo_g168.rs`; its CPU is not compared here because
//! Debian's build prints a debug line per sample.)

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::time::Duration;
use tipring_media::echo::{EchoCanceller, EchoConfig};
use tipring_media::rtp::SplitMix64;

const FRAME: usize = 160;

/// Far frames and their echo: coloured noise through a decaying path after 10 ms.
fn signals(frames: usize) -> (Vec<[i16; FRAME]>, Vec<[i16; FRAME]>) {
    let mut rng = SplitMix64::new(1);
    let mut state = 0.0f32;
    let far: Vec<f32> = (0..frames * FRAME)
        .map(|_| {
            state = 0.9 * state + (rng.next_f64() as f32 * 2.0 - 1.0);
            state * 1500.0
        })
        .collect();
    let h: Vec<f32> = (0..200)
        .map(|i| {
            if i < 80 {
                0.0
            } else {
                0.3 * (-((i - 80) as f32) / 30.0).exp() * if i % 2 == 0 { 1.0 } else { -0.6 }
            }
        })
        .collect();
    let echo: Vec<f32> = (0..far.len())
        .map(|n| {
            h.iter()
                .enumerate()
                .filter(|(k, _)| *k <= n)
                .map(|(k, c)| c * far[n - k])
                .sum()
        })
        .collect();
    let frame = |v: &[f32]| -> Vec<[i16; FRAME]> {
        v.chunks(FRAME)
            .map(|c| core::array::from_fn(|i| c[i] as i16))
            .collect()
    };
    (frame(&far), frame(&echo))
}

fn bench(c: &mut Criterion) {
    let (far, echo) = signals(500);
    let mut g = c.benchmark_group("echo canceller per 20 ms frame");
    for tail_ms in [64, 128] {
        let mut ec = EchoCanceller::new(EchoConfig { tail_ms, nlp: true }).unwrap();
        for (f, e) in far.iter().zip(&echo) {
            let mut near = *e;
            ec.process(f, &mut near);
        }
        let mut k = 0;
        g.bench_function(format!("tail {tail_ms} ms"), |b| {
            b.iter(|| {
                let mut near = echo[k % echo.len()];
                ec.process(black_box(&far[k % far.len()]), &mut near);
                k += 1;
                black_box(near)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
