//! Runs the `tipring` binary: `tone` writes a busy tone that `dtmf-detect` finds no digit
//! in (and that the cadence detector recognises as busy), and `dtmf-detect` lists the
//! digits of generated DTMF recordings in s16, µ-law and A-law.

use std::path::PathBuf;
use std::process::Command;
use tipring_media::dtmf::{DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;
use tipring_media::tone::{
    Country, CountryProfile, ToneDetector, ToneDetectorConfig, ToneEvent, ToneKind,
};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tipring-cli-dtmf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn tipring(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(args)
        .output()
        .expect("run tipring");
    assert!(
        out.status.success(),
        "tipring {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn busy_tone_file_has_no_digits_and_is_busy() {
    let f = tmp("busy.raw");
    let path = f.to_str().unwrap();
    tipring(&[
        "tone",
        path,
        "--country",
        "DE",
        "--tone",
        "busy",
        "--secs",
        "5",
    ]);
    let bytes = std::fs::read(&f).unwrap();
    assert_eq!(bytes.len(), 5 * 8000 * 2);
    let pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut det = ToneDetector::new(
        &CountryProfile::builtin(Country::De),
        ToneDetectorConfig::default(),
    );
    let mut kinds = Vec::new();
    det.process(&pcm, |e| {
        if let ToneEvent::Detected { kind, .. } = e {
            kinds.push(kind)
        }
    });
    assert_eq!(kinds, vec![ToneKind::Busy]);
    let out = tipring(&["dtmf-detect", path]);
    assert_eq!(out, "", "digits found in busy tone");
}

#[test]
fn bad_arguments_are_refused() {
    let f = tmp("never.raw");
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["tone", f.to_str().unwrap(), "--country", "XX"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown country"));
}

#[test]
fn dtmf_file_digits_with_times() {
    let digits = "0123456789*#ABCD";
    let mut g = DtmfGenerator::new(DtmfParams {
        on_ms: 100,
        off_ms: 100,
        ..DtmfParams::default()
    });
    g.push_str(digits).unwrap();
    let mut pcm = vec![0i16; 8000 * 4];
    g.fill(&mut pcm);
    for (fmt, bytes) in [
        (
            "s16",
            pcm.iter()
                .flat_map(|s| s.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
        ("ulaw", {
            let mut c = vec![0u8; pcm.len()];
            Law::Ulaw.encode(&pcm, &mut c);
            c
        }),
        ("alaw", {
            let mut c = vec![0u8; pcm.len()];
            Law::Alaw.encode(&pcm, &mut c);
            c
        }),
    ] {
        let f = tmp(&format!("digits.{fmt}"));
        std::fs::write(&f, bytes).unwrap();
        let out = tipring(&["dtmf-detect", "--format", fmt, f.to_str().unwrap()]);
        let lines: Vec<&str> = out.lines().collect();
        let got: String = lines.iter().filter_map(|l| l.chars().next()).collect();
        assert_eq!(got, digits, "{fmt}: {out}");
        for (i, l) in lines.iter().enumerate() {
            // "<digit> start=<s>s duration=<s>s"
            let start: f64 = l
                .split("start=")
                .nth(1)
                .unwrap()
                .split('s')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let dur: f64 = l
                .split("duration=")
                .nth(1)
                .unwrap()
                .trim_end_matches('s')
                .parse()
                .unwrap();
            assert!((start - 0.2 * i as f64).abs() < 0.015, "{fmt} line {l}");
            assert!((dur - 0.1).abs() < 0.03, "{fmt} line {l}");
        }
    }
}
