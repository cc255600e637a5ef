//! The canceller on synthetic lines: coloured noise (a speech-like spectrum) through a
//! dispersive echo path with a bulk delay. The G.168 path models against spandsp are in
//! `media/tests/echo_g168.rs` and `media/benches/echo.rs`.

use super::*;
use crate::tone::oscillator::{Oscillator, dbm0_amplitude};
use tipring_rng::SplitMix64;

/// Coloured noise: white noise through a one-pole low-pass (a speech-like tilt).
struct Talker {
    rng: SplitMix64,
    state: f32,
    level: f32,
}

impl Talker {
    fn new(seed: u64, level: f32) -> Talker {
        Talker {
            rng: SplitMix64::new(seed),
            state: 0.0,
            level,
        }
    }

    fn next(&mut self) -> f32 {
        let w = (self.rng.next_f64() as f32) * 2.0 - 1.0;
        self.state = 0.9 * self.state + w;
        self.state * self.level
    }

    fn block(&mut self) -> [f32; BLOCK] {
        core::array::from_fn(|_| self.next())
    }
}

/// An echo path: a decaying, sign-alternating response after `delay` samples, scaled to
/// `erl_db` of loss on white input.
fn path(delay: usize, len: usize, erl_db: f32, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let mut h = vec![0.0; delay + len];
    for (i, c) in h[delay..].iter_mut().enumerate() {
        let r = (rng.next_f64() as f32) * 2.0 - 1.0;
        *c = r * (-(i as f32) / (len as f32 / 4.0)).exp();
    }
    let energy: f32 = h.iter().map(|c| c * c).sum();
    let gain = (10f32.powf(-erl_db / 10.0) / energy).sqrt();
    h.iter_mut().for_each(|c| *c *= gain);
    h
}

/// A line: the far signal's history and its echo through `h`.
struct Line {
    h: Vec<f32>,
    history: Vec<f32>,
}

impl Line {
    fn new(h: Vec<f32>) -> Line {
        let history = vec![0.0; h.len()];
        Line { h, history }
    }

    fn echo(&mut self, x: &[f32; BLOCK]) -> [f32; BLOCK] {
        core::array::from_fn(|i| {
            self.history.rotate_right(1);
            self.history[0] = x[i];
            self.h.iter().zip(&self.history).map(|(a, b)| a * b).sum()
        })
    }
}

fn power(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32
}

fn db(a: f32, b: f32) -> f32 {
    10.0 * (a / b.max(1e-9)).log10()
}

fn no_nlp() -> EchoCanceller {
    EchoCanceller::new(EchoConfig {
        tail_ms: 64,
        nlp: false,
    })
    .unwrap()
}

/// Runs `blocks` blocks of far talk through the line; returns (echo, residual) power of
/// the last `measure` blocks.
fn talk(
    ec: &mut EchoCanceller,
    line: &mut Line,
    far: &mut Talker,
    near: Option<&mut Talker>,
    blocks: usize,
    measure: usize,
) -> (f32, f32) {
    let mut near = near;
    let (mut pe, mut pr) = (0.0, 0.0);
    for b in 0..blocks {
        let x = far.block();
        let echo = line.echo(&x);
        let mut d = echo;
        if let Some(n) = near.as_deref_mut() {
            for v in &mut d {
                *v += n.next();
            }
        }
        let out = ec.block(&x, &d);
        if b >= blocks - measure {
            pe += power(&echo);
            let residual: Vec<f32> = match near.as_deref_mut() {
                // With a near talker the residual is what remains beyond its speech;
                // that is measured by the caller from the ERLE afterwards.
                Some(_) => out.to_vec(),
                None => out.to_vec(),
            };
            pr += power(&residual);
        }
    }
    (pe, pr)
}

#[test]
fn speech_like_echo_is_cancelled_by_30_db_within_one_and_a_half_seconds() {
    let mut ec = no_nlp();
    // 20 ms of bulk delay and 24 ms of dispersion: well inside the 64 ms tail.
    let mut line = Line::new(path(160, 192, 6.0, 1));
    let mut far = Talker::new(2, 1500.0);
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, None, 150, 10);
    let erle = db(echo, residual);
    assert!(erle > 30.0, "ERLE after 1.5 s: {erle:.1} dB");
    // And it keeps improving.
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, None, 250, 50);
    let erle = db(echo, residual);
    assert!(erle > 40.0, "ERLE after 4 s: {erle:.1} dB");
    assert!(ec.stats().erle_db > 30.0, "{:?}", ec.stats());
}

#[test]
fn double_talk_neither_diverges_the_filter_nor_is_cancelled() {
    let mut ec = no_nlp();
    let mut line = Line::new(path(80, 160, 6.0, 3));
    let mut far = Talker::new(4, 1500.0);
    talk(&mut ec, &mut line, &mut far, None, 300, 1);
    // 2 s of double talk: a near talker as loud as the far one.
    let mut near = Talker::new(5, 1500.0);
    let mut near_power = 0.0;
    let mut out_power = 0.0;
    for _ in 0..200 {
        let x = far.block();
        let echo = line.echo(&x);
        let n = near.block();
        let d: [f32; BLOCK] = core::array::from_fn(|i| echo[i] + n[i]);
        let out = ec.block(&x, &d);
        near_power += power(&n);
        // What is left beyond the near speech is the echo not cancelled.
        let left: Vec<f32> = out.iter().zip(&n).map(|(o, n)| o - n).collect();
        out_power += power(&left);
    }
    let kept = db(near_power, out_power);
    assert!(
        kept > 20.0,
        "near speech disturbed: {kept:.1} dB {:?}",
        ec.stats()
    );
    assert!(ec.stats().double_talk > 100, "{:?}", ec.stats());
    // Right after the double talk the echo is still cancelled (no divergence).
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, None, 10, 10);
    assert!(db(echo, residual) > 25.0, "{:.1} dB", db(echo, residual));
}

#[test]
fn a_changed_echo_path_is_learnt_again() {
    let mut ec = no_nlp();
    let mut line = Line::new(path(80, 160, 6.0, 6));
    let mut far = Talker::new(7, 1500.0);
    talk(&mut ec, &mut line, &mut far, None, 300, 1);
    // The line is switched: another path, another delay.
    let mut line = Line::new(path(240, 200, 10.0, 8));
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, None, 150, 10);
    let erle = db(echo, residual);
    assert!(erle > 30.0, "ERLE 1.5 s after the change: {erle:.1} dB");
}

#[test]
fn tones_do_not_make_it_diverge() {
    let mut ec = no_nlp();
    let mut line = Line::new(path(80, 160, 6.0, 9));
    let mut far = Talker::new(10, 1500.0);
    talk(&mut ec, &mut line, &mut far, None, 300, 1);
    // 5 s of a DTMF pair, then speech again: the echo of the tone stays cancelled and
    // the speech that follows finds the path still learnt.
    let mut lo = Oscillator::new(697.0, dbm0_amplitude(-9.0));
    let mut hi = Oscillator::new(1209.0, dbm0_amplitude(-7.0));
    let mut worst: f32 = f32::MAX;
    for b in 0..500 {
        let x: [f32; BLOCK] = core::array::from_fn(|_| lo.next_sample() + hi.next_sample());
        let echo = line.echo(&x);
        let out = ec.block(&x, &echo);
        if b > 10 {
            worst = worst.min(db(power(&echo), power(&out)));
        }
    }
    assert!(worst > 20.0, "tone echo cancelled by only {worst:.1} dB");
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, None, 5, 5);
    assert!(db(echo, residual) > 25.0, "{:.1} dB", db(echo, residual));
}

#[test]
fn the_nlp_removes_the_residual_and_keeps_near_speech() {
    let mut ec = EchoCanceller::new(EchoConfig::default()).unwrap();
    let mut line = Line::new(path(80, 160, 6.0, 11));
    let mut far = Talker::new(12, 1500.0);
    let mut background = Talker::new(13, 3.0);
    let (echo, residual) = talk(&mut ec, &mut line, &mut far, Some(&mut background), 300, 50);
    // With the NLP the echo is gone down to the comfort noise at the background level.
    assert!(db(echo, residual) > 45.0, "{:.1} dB", db(echo, residual));
    assert!(ec.stats().suppressed > 100, "{:?}", ec.stats());
    // The near talker alone (far quiet) passes unchanged.
    let mut near = Talker::new(14, 1500.0);
    let mut quiet = Talker::new(15, 0.0);
    for _ in 0..100 {
        let x = quiet.block();
        let n = near.block();
        let echo = line.echo(&x);
        let d: [f32; BLOCK] = core::array::from_fn(|i| echo[i] + n[i]);
        let out = ec.block(&x, &d);
        let left: Vec<f32> = out.iter().zip(&n).map(|(o, n)| o - n).collect();
        assert!(db(power(&n), power(&left)) > 30.0);
    }
}

#[test]
fn a_g165_answer_tone_bypasses_it() {
    let mut ec = EchoCanceller::new(EchoConfig::default()).unwrap();
    let mut osc = Oscillator::new(2100.0, dbm0_amplitude(-12.0));
    let mut sign = 1.0;
    let mut passed = 0;
    for b in 0..200u32 {
        if b > 0 && b % 45 == 0 {
            sign = -sign;
        }
        let x: [f32; BLOCK] = core::array::from_fn(|_| sign * osc.next_sample());
        let d: [f32; BLOCK] = core::array::from_fn(|i| 0.3 * x[i] + 5.0);
        let out = ec.block(&x, &d);
        if out == d {
            passed += 1;
        }
    }
    assert_eq!(ec.disabled(), Disabled::Canceller);
    assert!(passed > 100, "{passed}");
    assert!(ec.stats().bypassed > 100);
}

#[test]
fn frames_of_samples_are_cancelled_in_place() {
    let mut ec = no_nlp();
    let mut line = Line::new(path(40, 100, 6.0, 16));
    let mut far = Talker::new(17, 1500.0);
    let mut last = (0.0, 0.0);
    for _ in 0..150 {
        let x: Vec<i16> = (0..2 * BLOCK).map(|_| far.next() as i16).collect();
        let mut echo = Vec::new();
        for b in x.chunks(BLOCK) {
            let xb: [f32; BLOCK] = core::array::from_fn(|i| f32::from(b[i]));
            echo.extend(line.echo(&xb));
        }
        let mut near: Vec<i16> = echo.iter().map(|v| v.round() as i16).collect();
        ec.process(&x, &mut near);
        let out: Vec<f32> = near.iter().map(|&v| f32::from(v)).collect();
        last = (power(&echo), power(&out));
    }
    assert!(db(last.0, last.1) > 30.0, "{:.1} dB", db(last.0, last.1));
    // A partial block at the end passes untouched.
    let mut near = [7i16; BLOCK + 3];
    ec.process(&[0; BLOCK + 3], &mut near);
    assert_eq!(&near[BLOCK..], &[7, 7, 7]);
}

#[test]
fn tails_outside_the_range_are_refused() {
    for tail_ms in [0, 8, 129, 1000] {
        let r = EchoCanceller::new(EchoConfig { tail_ms, nlp: true });
        assert_eq!(r.err(), Some(EchoError::Tail(tail_ms)));
    }
    let ec = EchoCanceller::new(EchoConfig {
        tail_ms: 128,
        nlp: true,
    })
    .unwrap();
    assert!(ec.filter.taps() >= 1024);
}
