//! CPU of the fax/modem signal detector per 20 ms frame (160 samples) for one direction
//! of one channel, on speech-like audio (the common case: no signal, every stage runs).
//! A media session runs two (line and far end) until a call turns out to carry data.
//! Run: `cargo bench -p tipring-media --bench modem`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::time::Duration;
use tipring_media::modem::ModemToneDetector;
use tipring_media::rtp::SplitMix64;

fn bench(c: &mut Criterion) {
    let mut rng = SplitMix64::new(5);
    let mut state = 0.0f64;
    let frames: Vec<[i16; 160]> = (0..250)
        .map(|_| {
            core::array::from_fn(|_| {
                state = 0.9 * state + (rng.next_f64() * 2.0 - 1.0);
                (state * 1500.0) as i16
            })
        })
        .collect();
    let mut d = ModemToneDetector::new();
    let mut k = 0;
    c.bench_function("modem tone detector per 20 ms frame", |b| {
        b.iter(|| {
            d.process(black_box(&frames[k % frames.len()]), |e| {
                black_box(e);
            });
            k += 1;
        })
    });
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
