use super::*;
use crate::call::CallerInfo;
use crate::call::caller_id::fsk_burst;
use tipring_media::dtmf::{DtmfDetector, DtmfDetectorConfig, DtmfEvent};
use tipring_media::tone::Country;

fn dsp() -> MediaDsp {
    MediaDsp::new(CountryProfile::builtin(Country::Us))
}

fn frames(src: &mut dyn FrameSource, max: usize) -> Vec<Frame> {
    let mut v = Vec::new();
    let mut f = [0; FRAME_SAMPLES];
    while v.len() < max && src.fill(&mut f) {
        v.push(f);
    }
    v
}

#[test]
fn dtmf_source_is_detected_digit_for_digit_and_ends() {
    let mut src = dsp().dtmf("19*#").unwrap();
    let audio = frames(src.as_mut(), 1000);
    assert!(audio.len() < 1000, "the source ends");
    let mut det = DtmfDetector::new(DtmfDetectorConfig::default());
    let mut got = String::new();
    for f in &audio {
        det.process(f, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                got.push(digit.as_char());
            }
        });
    }
    assert_eq!(got, "19*#");
    assert!(dsp().dtmf("12x").is_none());
}

#[test]
fn timed_tone_lasts_its_duration_and_its_detector_fires() {
    let d = dsp();
    let tone = SimTone::Freqs(vec![1000]);
    let audio = frames(
        d.tone(&tone, Duration::from_millis(400)).unwrap().as_mut(),
        100,
    );
    assert_eq!(audio.len(), 20);
    let det = d.tone_detector(&tone).unwrap();
    for f in &audio {
        det.lock().unwrap().frame(f);
    }
    assert!(det.lock().unwrap().detected());
    // Another frequency is not taken for 1000 Hz.
    let other = d.tone_detector(&SimTone::Freqs(vec![1400])).unwrap();
    for f in &audio {
        other.lock().unwrap().frame(f);
    }
    assert!(!other.lock().unwrap().detected());
    // Nor is silence.
    let quiet = d.tone_detector(&tone).unwrap();
    for _ in 0..50 {
        quiet.lock().unwrap().frame(&[0; FRAME_SAMPLES]);
    }
    assert!(!quiet.lock().unwrap().detected());
}

#[test]
fn named_tone_detector_needs_the_cadence() {
    let d = dsp();
    let busy = SimTone::Named("busy".into());
    let audio = frames(
        d.tone(&busy, Duration::from_secs(3)).unwrap().as_mut(),
        1000,
    );
    let det = d.tone_detector(&busy).unwrap();
    let reorder = d.tone_detector(&SimTone::Named("reorder".into())).unwrap();
    for f in &audio {
        det.lock().unwrap().frame(f);
        reorder.lock().unwrap().frame(f);
    }
    assert!(det.lock().unwrap().detected());
    assert!(
        !reorder.lock().unwrap().detected(),
        "same frequencies, other cadence"
    );
    assert!(
        d.tone(&SimTone::Named("howler-x".into()), Duration::from_secs(1))
            .is_none()
    );
}

#[test]
fn caller_id_burst_decodes_to_the_number() {
    for std in [FskStandard::Bell202, FskStandard::V23] {
        let info = CallerInfo {
            name: Some("ALICE".into()),
            number: Some("5551234".into()),
        };
        let mut tx = fsk_burst(&info, std).unwrap();
        let mut audio = Vec::new();
        let mut buf = [0i16; FRAME_SAMPLES];
        while !tx.is_done() {
            let n = tx.fill(&mut buf);
            audio.extend(buf[..n].iter().flat_map(|s| s.to_le_bytes()));
        }
        assert_eq!(
            dsp().decode_caller_id(&audio).as_deref(),
            Some("5551234"),
            "{std:?}"
        );
        assert_eq!(dsp().decode_caller_id(&audio[..audio.len() / 2]), None);
    }
}
