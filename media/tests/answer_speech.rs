//! Answer detection by speech (`tone::AnswerDetector`) on what an FXO line hears after
//! dialling: ringback of several countries, then the far party's voice (espeak-ng,
//! resampled by sox), through G.711. No answer during ringback or busy; the answer within
//! a second of the voice starting. CI installs espeak-ng and sox.

mod common;

use std::path::Path;
use tipring_media::g711::Law;
use tipring_media::tone::{
    AnswerConfig, AnswerDetector, Country, CountryProfile, ToneGenerator, ToneKind,
};

const FRAME: usize = 160;

/// The first frame index the detector answers at, playing silence to the line.
fn answer_at(profile: &CountryProfile, pcm: &[i16]) -> Option<usize> {
    let mut d = AnswerDetector::new(profile, AnswerConfig::default());
    let silent = [0i16; FRAME];
    pcm.chunks_exact(FRAME).position(|f| d.frame(f, &silent))
}

#[test]
fn the_far_voice_after_ringback_is_the_answer_and_no_tone_is() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("answer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let voice = common::espeak(
        &dir,
        "hello",
        &["-v", "en", "-s", "160"],
        "Hello? Hello, this is Anna speaking.",
        -6,
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Where the voice starts: its first frame above -35 dBm0 (espeak leads with silence).
    let onset = voice
        .chunks_exact(FRAME)
        .position(|f| {
            let p = f.iter().map(|&v| f32::from(v).powi(2)).sum::<f32>() / FRAME as f32;
            p > 30.0 * 30.0
        })
        .expect("espeak produced audible speech");
    for country in [Country::Us, Country::Uk, Country::De, Country::Fr] {
        let p = CountryProfile::builtin(country);
        for law in [Law::Ulaw, Law::Alaw] {
            let mut pcm = vec![0i16; 8000 * 10];
            ToneGenerator::new(p.tone(ToneKind::Ringback)).fill(&mut pcm);
            let ring_frames = pcm.len() / FRAME;
            pcm.extend_from_slice(&voice);
            let pcm = common::through(&pcm, law);
            let at = answer_at(&p, &pcm).expect("the voice is an answer");
            assert!(
                at > ring_frames,
                "{country:?} {law:?}: ringback taken for an answer"
            );
            let delay_ms = (at - ring_frames - onset) * 20;
            println!("{country:?} {law:?}: answered {delay_ms} ms after the voice began");
            assert!(delay_ms <= 1000, "{country:?} {law:?}: {delay_ms} ms");

            let mut busy = vec![0i16; 8000 * 10];
            ToneGenerator::new(p.tone(ToneKind::Busy)).fill(&mut busy);
            assert_eq!(
                answer_at(&p, &common::through(&busy, law)),
                None,
                "{country:?} busy"
            );
        }
    }
}
