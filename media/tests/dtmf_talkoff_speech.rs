//! DTMF talk-off on synthetic speech: several minutes of varied text spoken by
//! `espeak-ng` (several voices, pitches and speeds), resampled to 8 kHz by `sox`,
//! normalised hot (-1 dBFS peaks), run through the detector linear and through µ-law and
//! A-law. Reports false detections per hour of speech. Skips (loudly) when espeak-ng or
//! sox is missing; CI installs both (`apt-get install -y espeak-ng sox`).

mod common;

use std::path::Path;
use tipring_media::dtmf::{DtmfDetector, DtmfEvent};
use tipring_media::g711::Law;

const TEXT: &str = "\
The quick brown fox jumps over the lazy dog while seven ships sail past the harbour. \
Please leave a message after the tone, and we will call you back as soon as possible. \
One, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve. \
She sells sea shells by the sea shore; the shells she sells are surely sea shells. \
Good morning, this is the automated attendant. For sales, press one. For support, press two. \
Whistling, singing and humming produce strong harmonics that can fool a tone receiver. \
Oh yes, oh no, eee, ooo, aaah, mmmm, hmmm, weeee, wooo, yoooo, heeey, hiiii. \
Twenty nine thousand four hundred and seventy six people attended the concert last night. \
The weather tomorrow will be sunny in the morning, with clouds and rain in the afternoon. \
Remember to bring your passport, your tickets and a sandwich for the long journey home. \
Ninety nine bottles of lemonade were standing on the wall in the heat of the summer. \
Can you hear me now? Hello? Hello! Is anybody there? I can hear you very well, thank you.";

const VOICES: &[(&str, u32, u32)] = &[
    // (voice, words per minute, pitch 0..99)
    ("en", 160, 50),
    ("en-us+f3", 175, 70),
    ("en+m3", 140, 30),
    ("en-us+f4", 190, 90),
    ("de", 150, 60),
    ("fr+f2", 165, 80),
    ("it+m1", 155, 40),
    ("es+f1", 170, 99),
    ("en+m7", 130, 10),
    ("nl+f5", 180, 75),
];

fn synthesise(dir: &Path) -> Vec<i16> {
    let mut pcm = Vec::new();
    for (i, (voice, wpm, pitch)) in VOICES.iter().enumerate() {
        let (wpm, pitch) = (wpm.to_string(), pitch.to_string());
        let args = ["-v", voice, "-s", &wpm, "-p", &pitch];
        pcm.extend(common::espeak(dir, &format!("v{i}"), &args, TEXT, -1));
    }
    pcm
}

fn false_digits(pcm: &[i16]) -> Vec<(char, f64)> {
    let mut d = DtmfDetector::default();
    let mut out = Vec::new();
    for f in pcm.chunks(160) {
        d.process(f, |e| {
            if let DtmfEvent::Start { digit, at } = e {
                out.push((digit.as_char(), at as f64 / 8000.0))
            }
        });
    }
    out
}

#[test]
fn talk_off_on_espeak_speech() {
    if !common::have("espeak-ng") || !common::have("sox") {
        eprintln!(
            "\n\n*** SKIPPED dtmf talk-off on speech: espeak-ng and/or sox not installed. ***\n\
             *** Install with: apt-get install -y --no-install-recommends espeak-ng sox ***\n\n"
        );
        return;
    }
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("talkoff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcm = synthesise(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let minutes = pcm.len() as f64 / 8000.0 / 60.0;
    assert!(minutes > 5.0, "only {minutes:.1} min of speech synthesised");
    // The material is real, loud speech: most 20 ms frames are well above -40 dBm0.
    let loud = pcm
        .chunks(160)
        .filter(|f| {
            f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 160.0 > 230.0f64.powi(2) / 2.0
        })
        .count();
    let frames = pcm.len() / 160;
    println!("{loud} of {frames} frames above -40 dBm0");
    assert!(
        loud * 2 > frames,
        "speech too quiet: {loud}/{frames} frames"
    );
    let mut total = 0;
    for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
        let mut p = pcm.clone();
        if let Some(law) = law {
            let mut c = vec![0u8; p.len()];
            law.encode(&p, &mut c);
            law.decode(&c, &mut p);
        }
        let hits = false_digits(&p);
        println!(
            "speech {law:?}: {} false digits in {minutes:.1} min = {:.1} per hour {hits:?}",
            hits.len(),
            hits.len() as f64 * 60.0 / minutes
        );
        total += hits.len();
    }
    let per_hour = total as f64 * 60.0 / (3.0 * minutes);
    println!("talk-off: {per_hour:.1} false digits per hour of speech (all three paths)");
    assert!(per_hour <= 12.0, "{per_hour:.1} false digits per hour");
}
