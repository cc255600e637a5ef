//! The detector on synthetic signals; `media/tests/modem_tones.rs` checks it on
//! spandsp's generators and on speech.

use super::*;
use crate::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};

fn events(pcm: &[i16]) -> Vec<ModemEvent> {
    let mut d = ModemToneDetector::new();
    let mut out = Vec::new();
    for f in pcm.chunks(160) {
        d.process(f, |e| out.push(e));
    }
    out
}

/// `ms` of `hz` at `dbm0`, its phase reversed every `reversal_ms` and its amplitude
/// modulated at 15 Hz by `am` (0: none).
fn tone(hz: f32, dbm0: f32, ms: u32, reversal_ms: Option<u32>, am: f32) -> Vec<i16> {
    let mut osc = Oscillator::new(hz, dbm0_amplitude(dbm0));
    let n = ms as usize * 8;
    (0..n)
        .map(|i| {
            let sign = match reversal_ms {
                Some(r) if (i / (r as usize * 8)) % 2 == 1 => -1.0,
                _ => 1.0,
            };
            let env = 1.0 + am * (core::f32::consts::TAU * 15.0 * i as f32 / 8000.0).sin();
            to_i16(sign * env * osc.next_sample())
        })
        .collect()
}

fn silence(ms: u32) -> Vec<i16> {
    vec![0; ms as usize * 8]
}

/// V.21 channel 2, phase-continuous FSK of `bits` at 300 bit/s.
pub(crate) fn v21(bits: impl Iterator<Item = bool>, dbm0: f32) -> Vec<i16> {
    let a = dbm0_amplitude(dbm0);
    let mut phase = 0f32;
    let mut out = Vec::new();
    let mut t = 0f32;
    for bit in bits {
        let hz = if bit { 1650.0 } else { 1850.0 };
        t += 8000.0 / 300.0;
        while (out.len() as f32) < t {
            phase += core::f32::consts::TAU * hz / 8000.0;
            out.push(to_i16(a * phase.sin()));
        }
    }
    out
}

pub(crate) fn flags(n: usize) -> impl Iterator<Item = bool> {
    (0..n * 8).map(|i| (0x7E >> (i % 8)) & 1 == 1)
}

fn starts(ev: &[ModemEvent]) -> Vec<ModemTone> {
    ev.iter()
        .filter_map(|e| match e {
            ModemEvent::Start { tone, .. } => Some(*tone),
            _ => None,
        })
        .collect()
}

#[test]
fn cng_bursts_are_reported_with_start_and_length() {
    let mut pcm = silence(200);
    pcm.extend(tone(1100.0, -12.0, 500, None, 0.0));
    pcm.extend(silence(3000));
    pcm.extend(tone(1100.0, -12.0, 500, None, 0.0));
    pcm.extend(silence(500));
    let ev = events(&pcm);
    assert_eq!(starts(&ev), [ModemTone::Cng, ModemTone::Cng]);
    let ModemEvent::End {
        start, duration, ..
    } = ev[1]
    else {
        panic!("{ev:?}")
    };
    assert!(start.abs_diff(1600) <= 80, "{ev:?}");
    assert!(duration.abs_diff(4000) <= 80, "{ev:?}");
}

#[test]
fn the_answer_tones_are_told_apart() {
    let ans = events(&tone(2100.0, -12.0, 3000, None, 0.0));
    assert_eq!(starts(&ans), [ModemTone::Ans]);
    assert!(
        !ans.iter()
            .any(|e| matches!(e, ModemEvent::PhaseReversal { .. }))
    );
    let ans_pr = events(&tone(2100.0, -12.0, 3000, Some(450), 0.0));
    assert_eq!(starts(&ans_pr), [ModemTone::Ans]);
    let reversals: Vec<u64> = ans_pr
        .iter()
        .filter_map(|e| match e {
            ModemEvent::PhaseReversal { at } => Some(*at),
            _ => None,
        })
        .collect();
    assert_eq!(reversals.len(), 6, "{ans_pr:?}");
    for (k, at) in reversals.iter().enumerate() {
        assert!(at.abs_diff((k as u64 + 1) * 3600) <= 160, "{reversals:?}");
    }
    let ansam = events(&tone(2100.0, -12.0, 3000, None, 0.2));
    assert_eq!(starts(&ansam), [ModemTone::AnsAm]);
}

#[test]
fn v21_flags_are_found_and_their_end_seen() {
    let mut pcm = silence(100);
    pcm.extend(v21(flags(40), -12.0));
    // Then a frame's data: no flag pattern for 30 bits, then silence.
    pcm.extend(v21((0..30).map(|i| i % 3 == 0), -12.0));
    pcm.extend(silence(200));
    let ev = events(&pcm);
    assert_eq!(starts(&ev), [ModemTone::V21Preamble], "{ev:?}");
    let ModemEvent::Start { at, .. } = ev[0] else {
        panic!()
    };
    assert!(at.abs_diff(800) <= 60, "{ev:?}");
    assert!(matches!(
        ev.last(),
        Some(ModemEvent::End {
            tone: ModemTone::V21Preamble,
            ..
        })
    ));
}

#[test]
fn speech_like_signals_and_other_tones_are_not_data() {
    // Dial tone (350 + 440 Hz), a 1000 Hz test tone, 2100 Hz shorter than the hold,
    // and the V.21 frequencies as steady tones (no flags).
    let mut pcm = tone(350.0, -13.0, 2000, None, 0.0);
    pcm.extend(tone(1000.0, -10.0, 2000, None, 0.0));
    pcm.extend(tone(2100.0, -10.0, 300, None, 0.0));
    pcm.extend(silence(100));
    pcm.extend(v21(core::iter::repeat_n(true, 300), -10.0));
    pcm.extend(v21((0..300).map(|i| i % 2 == 0), -10.0));
    let ev = events(&pcm);
    assert!(ev.is_empty(), "{ev:?}");
    // Weak tones below the sensitivity.
    assert!(events(&tone(2100.0, -50.0, 2000, None, 0.0)).is_empty());
}
