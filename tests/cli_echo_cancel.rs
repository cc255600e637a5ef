//! Runs `tipring echo-cancel` on two recordings of a line: a far talker (coloured noise)
//! and its echo through a dispersive path; the output file is the capture with the echo
//! cancelled, and the ERLE printed is what the output shows. A tail outside the range and
//! an unreadable file are refused with a message naming them.

use std::path::PathBuf;
use std::process::{Command, Output};
use testkit::testbed::TempDir;
use tipring_rng::SplitMix64;

fn tipring(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(args)
        .output()
        .expect("run tipring")
}

fn write(path: &PathBuf, pcm: &[i16]) {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn power(pcm: &[i16]) -> f64 {
    pcm.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / pcm.len() as f64
}

/// Five seconds of a far talker and the line's echo of it (ERL about 8 dB, 12 ms delay).
fn recordings() -> (Vec<i16>, Vec<i16>) {
    let mut rng = SplitMix64::new(3);
    let mut state = 0.0;
    let far: Vec<i16> = (0..40_000)
        .map(|_| {
            state = 0.85 * state + (rng.next_f64() * 2.0 - 1.0);
            (state * 2000.0) as i16
        })
        .collect();
    let h: Vec<f64> = (0..140)
        .map(|i| match i {
            0..96 => 0.0,
            _ => 0.35 * (-((i - 96) as f64) / 12.0).exp() * if i % 3 == 0 { -1.0 } else { 1.0 },
        })
        .collect();
    let near = (0..far.len())
        .map(|n| {
            h.iter()
                .enumerate()
                .filter(|(k, _)| *k <= n)
                .map(|(k, c)| c * f64::from(far[n - k]))
                .sum::<f64>() as i16
        })
        .collect();
    (far, near)
}

#[test]
fn a_recorded_echo_is_cancelled_into_the_output_file() {
    let dir = TempDir::new("cli-echo").unwrap();
    let (far, near) = recordings();
    let (f, n, o) = (
        dir.0.join("far.raw"),
        dir.0.join("near.raw"),
        dir.0.join("out.raw"),
    );
    write(&f, &far);
    write(&n, &near);
    let out = tipring(&[
        "echo-cancel",
        "--far",
        f.to_str().unwrap(),
        "--near",
        n.to_str().unwrap(),
        "--out",
        o.to_str().unwrap(),
        "--no-nlp",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cancelled: Vec<i16> = std::fs::read(&o)
        .unwrap()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(cancelled.len(), near.len());
    // The last two seconds: the echo is gone by more than 30 dB.
    let tail = 24_000..;
    let erle = 10.0 * (power(&near[tail.clone()]) / power(&cancelled[tail]).max(1e-9)).log10();
    assert!(erle > 30.0, "{erle:.1} dB\n{stdout}");
    let reported: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ERLE reached (filter, far talk only): "))
        .and_then(|v| v.trim_end_matches(" dB").parse().ok())
        .unwrap_or_else(|| panic!("no ERLE line in:\n{stdout}"));
    assert!(reported > 30.0, "{stdout}");
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let dir = TempDir::new("cli-echo-bad").unwrap();
    let f = dir.0.join("far.raw");
    write(&f, &[0; 800]);
    let fs = f.to_str().unwrap();
    let out = tipring(&[
        "echo-cancel",
        "--far",
        fs,
        "--near",
        fs,
        "--out",
        fs,
        "--tail-ms",
        "500",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("500") && err.contains("16..=128"), "{err}");
    let missing = dir.0.join("missing.raw");
    let out = tipring(&[
        "echo-cancel",
        "--far",
        fs,
        "--near",
        missing.to_str().unwrap(),
        "--out",
        fs,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.raw"), "{err}");
}
