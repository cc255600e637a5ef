//! ITU-T Q.24 receiver sweeps for the DTMF detector. Each test counts detections over a
//! sweep and prints the figures (run with `--nocapture` to see them).

mod common;
mod noise;

use noise::Rng;
use std::path::Path;
use std::process::Command;
use tipring_media::dtmf::{Digit, DtmfDetector, DtmfEvent};
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

#[derive(Clone, Copy)]
struct Burst {
    lo_hz: f32,
    hi_hz: f32,
    lo_dbm0: f32,
    hi_dbm0: f32,
    on_ms: u32,
}

impl Burst {
    fn digit(d: Digit) -> Self {
        let (lo_hz, hi_hz) = d.frequencies();
        Burst {
            lo_hz,
            hi_hz,
            lo_dbm0: -10.0,
            hi_dbm0: -10.0,
            on_ms: 60,
        }
    }
}

/// Silence of `lead` samples, the bursts separated by `gap_ms`, then 100 ms silence.
fn render(bursts: &[Burst], gap_ms: u32, lead: usize, rng: &mut Rng) -> Vec<f32> {
    let mut out = vec![0f32; lead];
    for b in bursts {
        let mut lo = Oscillator::with_phase(b.lo_hz, dbm0_amplitude(b.lo_dbm0), rng.unit());
        let mut hi = Oscillator::with_phase(b.hi_hz, dbm0_amplitude(b.hi_dbm0), rng.unit());
        for _ in 0..b.on_ms * 8 {
            out.push(lo.next_sample() + hi.next_sample());
        }
        out.extend(std::iter::repeat_n(0.0, gap_ms as usize * 8));
    }
    out.extend(std::iter::repeat_n(0.0, 800));
    out
}

fn quantise(x: &[f32], law: Option<Law>) -> Vec<i16> {
    let pcm: Vec<i16> = x.iter().map(|&v| to_i16(v)).collect();
    match law {
        None => pcm,
        Some(law) => {
            let mut codes = vec![0u8; pcm.len()];
            law.encode(&pcm, &mut codes);
            let mut back = vec![0i16; pcm.len()];
            law.decode(&codes, &mut back);
            back
        }
    }
}

fn detect(pcm: &[i16]) -> String {
    let mut det = DtmfDetector::default();
    let mut s = String::new();
    for f in pcm.chunks(160) {
        det.process(f, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                s.push(digit.as_char())
            }
        });
    }
    s
}

const LAWS: [Option<Law>; 3] = [None, Some(Law::Ulaw), Some(Law::Alaw)];

/// Runs each digit's burst (after `tweak`) through every law; returns
/// (detected correctly, detected wrongly, trials).
fn sweep(tweak: impl Fn(Burst) -> Burst, reps: usize) -> (usize, usize, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut wrong, mut n) = (0, 0, 0);
    for law in LAWS {
        for d in Digit::ALL {
            for _ in 0..reps {
                let b = tweak(Burst::digit(d));
                let lead = (rng.next() % 160) as usize;
                let got = detect(&quantise(&render(&[b], 100, lead, &mut rng), law));
                n += 1;
                if got == d.as_char().to_string() {
                    ok += 1;
                } else if !got.is_empty() {
                    wrong += 1;
                }
            }
        }
    }
    (ok, wrong, n)
}

#[test]
fn detects_within_1_5_percent_frequency_deviation() {
    for (dl, dh) in [
        (0.985, 0.985),
        (1.015, 1.015),
        (0.985, 1.015),
        (1.015, 0.985),
        (1.0, 1.0),
    ] {
        let (ok, wrong, n) = sweep(
            |mut b| {
                b.lo_hz *= dl;
                b.hi_hz *= dh;
                b
            },
            3,
        );
        println!("deviation low x{dl} high x{dh}: {ok}/{n} detected, {wrong} wrong");
        assert_eq!((ok, wrong), (n, 0));
    }
}

#[test]
fn rejects_beyond_3_5_percent_frequency_deviation() {
    for (dl, dh) in [
        (0.965, 1.0),
        (1.035, 1.0),
        (1.0, 0.965),
        (1.0, 1.035),
        (0.965, 0.965),
        (1.035, 1.035),
        (0.95, 1.0),
        (1.0, 1.06),
    ] {
        let mut false_hits = 0;
        let mut n = 0;
        for law in LAWS {
            let mut rng = Rng(7);
            for d in Digit::ALL {
                for _ in 0..3 {
                    let mut b = Burst::digit(d);
                    b.lo_hz *= dl;
                    b.hi_hz *= dh;
                    b.on_ms = 200;
                    let got = detect(&quantise(&render(&[b], 100, 37, &mut rng), law));
                    n += 1;
                    false_hits += got.len();
                }
            }
        }
        println!("deviation low x{dl} high x{dh}: {false_hits} detections in {n} bursts");
        assert_eq!(false_hits, 0);
    }
}

#[test]
fn accepts_twist_8_db_low_louder_and_4_db_high_louder() {
    for twist in [-4.0f32, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0] {
        // Positive: low group louder. The weaker tone stays at -20 dBm0.
        let (ok, wrong, n) = sweep(
            |mut b| {
                b.lo_dbm0 = -20.0 + twist.max(0.0);
                b.hi_dbm0 = -20.0 + (-twist).max(0.0);
                b
            },
            2,
        );
        println!("twist {twist:+} dB (low minus high): {ok}/{n} detected, {wrong} wrong");
        assert_eq!((ok, wrong), (n, 0));
    }
    // Excessive twist is refused: the limits exist.
    for twist in [-14.0f32, 16.0] {
        let (ok, _, n) = sweep(
            |mut b| {
                b.lo_dbm0 = -20.0 + twist.max(0.0);
                b.hi_dbm0 = -20.0 + (-twist).max(0.0);
                b
            },
            1,
        );
        println!("twist {twist:+} dB: {ok}/{n} detected (must be 0)");
        assert_eq!(ok, 0);
    }
}

#[test]
fn dynamic_range_at_least_35_db() {
    // Per-tone level from -3 dBm0 down to -38 dBm0: 35 dB.
    let mut lvl = -3.0f32;
    while lvl >= -38.0 {
        let (ok, wrong, n) = sweep(
            |mut b| {
                b.lo_dbm0 = lvl;
                b.hi_dbm0 = lvl;
                b
            },
            2,
        );
        println!("level {lvl} dBm0 per tone: {ok}/{n} detected, {wrong} wrong");
        assert_eq!((ok, wrong), (n, 0));
        lvl -= 5.0;
    }
    // Far below sensitivity nothing is reported.
    let (ok, wrong, _) = sweep(
        |mut b| {
            b.lo_dbm0 = -50.0;
            b.hi_dbm0 = -50.0;
            b
        },
        1,
    );
    assert_eq!(ok + wrong, 0);
}

#[test]
fn minimum_40_ms_tone_and_40_ms_pause() {
    let mut rng = Rng(42);
    let mut total = 0;
    let mut ok = 0;
    for law in LAWS {
        for offset in (0..160).step_by(9) {
            // Eight digits, 40 ms on / 40 ms off, including repeated digits.
            let digits = "11223344";
            let bursts: Vec<Burst> = digits
                .chars()
                .map(|c| {
                    let mut b = Burst::digit(Digit::from_char(c).unwrap());
                    b.on_ms = 40;
                    b
                })
                .collect();
            let got = detect(&quantise(&render(&bursts, 40, offset, &mut rng), law));
            total += 1;
            if got == digits {
                ok += 1;
            } else {
                println!("offset {offset} {law:?}: got {got:?}");
            }
        }
    }
    println!("40 ms on / 40 ms off, 8 digits incl. repeats: {ok}/{total} sequences exact");
    assert_eq!(ok, total);
    // Tones of 15 ms are too short to register.
    let mut hits = 0;
    let mut n = 0;
    for offset in (0..160).step_by(9) {
        let b: Vec<Burst> = "5555"
            .chars()
            .map(|c| {
                let mut b = Burst::digit(Digit::from_char(c).unwrap());
                b.on_ms = 15;
                b
            })
            .collect();
        n += b.len();
        hits += detect(&quantise(&render(&b, 60, offset, &mut rng), None)).len();
    }
    println!("15 ms tones: {hits} detections in {n} (must be 0)");
    assert_eq!(hits, 0);
}

#[test]
fn long_noisy_tone_gives_one_digit() {
    // 2 s tones at -10 dBm0 per tone with white noise 20 dB below the signal power.
    let mut rng = Rng(3);
    let signal_power = 2.0 * dbm0_amplitude(-10.0).powi(2) / 2.0;
    let noise_rms = (signal_power / 100.0).sqrt();
    for law in LAWS {
        for d in Digit::ALL {
            let mut b = Burst::digit(d);
            b.on_ms = 2000;
            let mut x = render(&[b], 100, 0, &mut rng);
            for v in x.iter_mut() {
                *v += rng.gauss() * noise_rms;
            }
            let got = detect(&quantise(&x, law));
            assert_eq!(got, d.as_char().to_string(), "{law:?}");
        }
    }
}

#[test]
fn music_like_multitone_talk_off() {
    // Chords of 2..4 notes on the equal-tempered scale (110..1760 Hz fundamentals), each
    // note with 2..6 harmonics falling 3..9 dB per harmonic, random levels, 250 ms per chord.
    let mut rng = Rng(0xC0FFEE);
    let chords = 4000;
    let mut x = Vec::with_capacity(chords * 2000);
    for _ in 0..chords {
        let notes = 2 + (rng.next() % 3) as usize;
        let mut osc: Vec<Oscillator> = Vec::new();
        for _ in 0..notes {
            let semitone = (rng.next() % 49) as f32;
            let f0 = 110.0 * 2f32.powf(semitone / 12.0);
            let lvl = -25.0 + 15.0 * rng.unit() as f32;
            let fall = 3.0 + 6.0 * rng.unit() as f32;
            let harmonics = 2 + (rng.next() % 5) as usize;
            for h in 1..=harmonics {
                let f = f0 * h as f32;
                if f < 3400.0 {
                    let l = lvl - fall * (h - 1) as f32;
                    osc.push(Oscillator::with_phase(f, dbm0_amplitude(l), rng.unit()));
                }
            }
        }
        for _ in 0..2000 {
            x.push(osc.iter_mut().map(|o| o.next_sample()).sum());
        }
    }
    let hours = x.len() as f64 / 8000.0 / 3600.0;
    let pcm = quantise(&x, Some(Law::Ulaw));
    let hits = detect(&pcm).len();
    // spandsp's dtmf_rx on the same audio, in the same run.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("q24-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("chords.raw");
    common::write_raw(&raw, &pcm);
    let out = Command::new(common::spandsp_harness(&dir))
        .arg("dtmf-rx")
        .arg(&raw)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let theirs = String::from_utf8_lossy(&out.stdout).trim().chars().count();
    println!(
        "music-like multitone: {hits} false digits in {:.1} min ({:.1} per hour); \
         spandsp dtmf_rx: {theirs}",
        hours * 60.0,
        hits as f64 / hours
    );
    // Notes lying on a row and a column frequency are told from a digit by their
    // harmonics (spandsp's dtmf_rx also finds none in this material).
    assert_eq!(hits, 0, "{hits} false digits");
}
