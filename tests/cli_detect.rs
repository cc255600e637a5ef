//! Runs `tipring detect` on a recording made of known parts — DTMF digits, a US busy
//! tone, a fax calling tone, a modem answer tone with phase reversals — in s16 and µ-law,
//! and checks that each part is listed once, in order, at its time.

use std::process::Command;
use testkit::testbed::TempDir;
use tipring_media::dtmf::{DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{Country, CountryProfile, ToneGenerator, ToneKind};

fn silence(ms: usize) -> Vec<i16> {
    vec![0; ms * 8]
}

fn sine(hz: f32, ms: usize, reversal_ms: Option<usize>) -> Vec<i16> {
    let mut osc = Oscillator::new(hz, dbm0_amplitude(-12.0));
    (0..ms * 8)
        .map(|i| {
            let flip = reversal_ms.is_some_and(|r| (i / (r * 8)) % 2 == 1);
            to_i16(if flip { -1.0 } else { 1.0 } * osc.next_sample())
        })
        .collect()
}

/// The recording and what `detect` must list: (start s, what).
fn recording() -> (Vec<i16>, Vec<(f64, &'static str)>) {
    let mut pcm = silence(200);
    let mut dtmf = DtmfGenerator::new(DtmfParams::default());
    dtmf.push_str("47").unwrap();
    let mut d = vec![0i16; 8 * 400];
    dtmf.fill(&mut d);
    pcm.extend(d);
    let mut busy = vec![0i16; 8 * 3000];
    ToneGenerator::new(CountryProfile::builtin(Country::Us).tone(ToneKind::Busy)).fill(&mut busy);
    pcm.extend(busy);
    pcm.extend(silence(500));
    pcm.extend(sine(1100.0, 500, None));
    pcm.extend(silence(1000));
    pcm.extend(sine(2100.0, 2000, Some(450)));
    pcm.extend(silence(300));
    let expected = vec![
        (0.2, "DTMF 4"),
        (0.36, "DTMF 7"),
        (0.6, "busy"),
        (4.1, "CNG"),
        (5.6, "CED/ANS"),
    ];
    (pcm, expected)
}

#[test]
fn every_part_of_a_recording_is_listed_at_its_time() {
    let dir = TempDir::new("cli-detect").unwrap();
    let (pcm, expected) = recording();
    for law in [None, Some(Law::Ulaw)] {
        let path = dir.0.join("rec.raw");
        let (bytes, format) = match law {
            None => (pcm.iter().flat_map(|s| s.to_le_bytes()).collect(), "s16"),
            Some(l) => {
                let mut codes = vec![0u8; pcm.len()];
                l.encode(&pcm, &mut codes);
                (codes, "ulaw")
            }
        };
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
            .args(["detect", "--format", format, "--country", "US"])
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<(f64, String)> = stdout
            .lines()
            .filter(|l| !l.ends_with("phase reversal"))
            .map(|l| {
                let mut f = l.splitn(3, ' ');
                let start: f64 = f.next().unwrap().parse().unwrap();
                let _len = f.next().unwrap();
                (start, f.next().unwrap().to_string())
            })
            .collect();
        assert_eq!(lines.len(), expected.len(), "{format}:\n{stdout}");
        for ((start, what), (want_start, want)) in lines.iter().zip(&expected) {
            assert_eq!(what, want, "{format}:\n{stdout}");
            // Call-progress tones are timed from the recognition of their cadence.
            let slack = if *want == "busy" { 2.0 } else { 0.06 };
            assert!(
                (start - want_start).abs() <= slack,
                "{what} at {start} ({format}):\n{stdout}"
            );
        }
        let reversals = stdout
            .lines()
            .filter(|l| l.ends_with("phase reversal"))
            .count();
        assert_eq!(reversals, 4, "{format}:\n{stdout}");
    }
}

#[test]
fn an_unknown_country_is_refused() {
    let dir = TempDir::new("cli-detect-bad").unwrap();
    let path = dir.0.join("rec.raw");
    std::fs::write(&path, [0u8; 320]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["detect", "--country", "XX"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("XX"));
}
