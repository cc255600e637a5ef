//! DTMF detection cost per 20 ms (160-sample) frame: tipring's detector against spandsp's
//! `dtmf_rx` on the same audio in the same run. spandsp is reached through a bench-only
//! FFI declaration (this file links `-lspandsp`; the library crate never does). Needs
//! `libspandsp-dev`.
//!
//! Run: `cargo bench -p tipring-media --bench dtmf`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::os::raw::{c_char, c_int, c_void};
use tipring_media::dtmf::{DtmfDetector, DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

#[repr(C)]
struct DtmfRxState {
    _opaque: [u8; 0],
}

type DigitsRx = extern "C" fn(*mut c_void, *const c_char, c_int);

#[link(name = "spandsp")]
unsafe extern "C" {
    fn dtmf_rx_init(
        s: *mut DtmfRxState,
        cb: Option<DigitsRx>,
        user: *mut c_void,
    ) -> *mut DtmfRxState;
    fn dtmf_rx(s: *mut DtmfRxState, amp: *const i16, samples: c_int) -> c_int;
    fn dtmf_rx_free(s: *mut DtmfRxState) -> c_int;
}

extern "C" fn count_digits(user: *mut c_void, _d: *const c_char, len: c_int) {
    // SAFETY: `user` is the `&mut usize` passed to dtmf_rx_init below.
    unsafe { *(user as *mut usize) += len as usize };
}

/// 20 s of audio: DTMF digits, then music-like chords and noise, through µ-law.
fn audio() -> Vec<i16> {
    let mut g = DtmfGenerator::new(DtmfParams::default());
    g.push_str("0123456789*#ABCD0123456789*#ABCD").unwrap();
    let mut pcm = vec![0i16; 8000 * 6];
    g.fill(&mut pcm);
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..40 {
        let mut osc: Vec<Oscillator> = (0..4)
            .map(|_| Oscillator::new(200.0 + 1800.0 * rnd() as f32, dbm0_amplitude(-20.0)))
            .collect();
        for _ in 0..2400 {
            let n = (rnd() as f32 - 0.5) * 400.0;
            pcm.push(to_i16(
                osc.iter_mut().map(|o| o.next_sample()).sum::<f32>() + n,
            ));
        }
    }
    let mut c = vec![0u8; pcm.len()];
    Law::Ulaw.encode(&pcm, &mut c);
    Law::Ulaw.decode(&c, &mut pcm);
    pcm.truncate(pcm.len() / 160 * 160);
    pcm
}

fn bench(c: &mut Criterion) {
    let pcm = audio();
    let frames: Vec<&[i16]> = pcm.chunks_exact(160).collect();

    // Both detectors must see the same digits, or the comparison is meaningless.
    let mut ours = 0usize;
    let mut d = DtmfDetector::default();
    for f in &frames {
        d.process(f, |e| {
            if matches!(e, tipring_media::dtmf::DtmfEvent::Start { .. }) {
                ours += 1
            }
        });
    }
    let mut theirs = 0usize;
    // SAFETY: init allocates a state (NULL in); it is freed below and used in between only.
    let sp = unsafe {
        dtmf_rx_init(
            std::ptr::null_mut(),
            Some(count_digits),
            &mut theirs as *mut usize as *mut c_void,
        )
    };
    assert!(!sp.is_null());
    for f in &frames {
        // SAFETY: `f` is 160 valid samples; `sp` is live.
        unsafe { dtmf_rx(sp, f.as_ptr(), 160) };
    }
    println!("digits in the bench audio: tipring {ours}, spandsp {theirs}");

    let mut g = c.benchmark_group("dtmf_per_20ms_frame");
    let mut i = 0;
    let mut det = DtmfDetector::default();
    g.bench_function("tipring", |b| {
        b.iter(|| {
            det.process(black_box(frames[i]), |e| {
                black_box(e);
            });
            i = (i + 1) % frames.len();
        })
    });
    let mut j = 0;
    g.bench_function("spandsp", |b| {
        b.iter(|| {
            // SAFETY: as above.
            unsafe { dtmf_rx(sp, black_box(frames[j]).as_ptr(), 160) };
            j = (j + 1) % frames.len();
        })
    });
    g.finish();
    // SAFETY: `sp` came from dtmf_rx_init and is not used afterwards.
    unsafe { dtmf_rx_free(sp) };
}

criterion_group!(benches, bench);
criterion_main!(benches);
