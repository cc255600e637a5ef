//! The fax/modem signal detector on spandsp's generators (Debian libspandsp-dev:
//! `modem_connect_tones_tx` for CNG, ANS, /ANS, ANSam, /ANSam, `fsk_tx` V.21 channel 2 for
//! HDLC flags), linear and through µ-law and A-law, and on four minutes of espeak-ng speech
//! in ten voices (no false signal). Needs libspandsp-dev, espeak-ng, sox (CI installs them).

mod common;

use std::path::Path;
use std::process::Command;
use tipring_media::g711::Law;
use tipring_media::modem::{ModemEvent, ModemTone, ModemToneDetector};

fn detect(pcm: &[i16]) -> Vec<ModemEvent> {
    let mut d = ModemToneDetector::new();
    let mut out = Vec::new();
    for f in pcm.chunks(160) {
        d.process(f, |e| out.push(e));
    }
    out
}

fn through(pcm: &[i16], law: Option<Law>) -> Vec<i16> {
    let Some(law) = law else {
        return pcm.to_vec();
    };
    let mut codes = vec![0u8; pcm.len()];
    law.encode(pcm, &mut codes);
    let mut out = vec![0i16; pcm.len()];
    law.decode(&codes, &mut out);
    out
}

fn spandsp(harness: &Path, dir: &Path, kind: &str, ms: u32) -> Vec<i16> {
    let out = dir.join(format!("{kind}.raw"));
    let st = Command::new(harness)
        .args(["modem-tx", kind, &ms.to_string()])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    common::read_raw(&out)
}

fn starts(ev: &[ModemEvent]) -> Vec<(ModemTone, f64)> {
    ev.iter()
        .filter_map(|e| match e {
            ModemEvent::Start { tone, at } => Some((*tone, *at as f64 / 8000.0)),
            _ => None,
        })
        .collect()
}

fn reversals(ev: &[ModemEvent]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, ModemEvent::PhaseReversal { .. }))
        .count()
}

#[test]
fn spandsp_connect_tones_and_v21_flags_are_recognised() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("modem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let harness = common::spandsp_harness(&dir);
    // (spandsp's signal, 4 s of it, what must be found first, reversals at least)
    let cases = [
        ("cng", ModemTone::Cng, 0),
        ("ans", ModemTone::Ans, 0),
        ("ans-pr", ModemTone::Ans, 6),
        ("ansam", ModemTone::AnsAm, 0),
        ("ansam-pr", ModemTone::AnsAm, 6),
        ("v21-flags", ModemTone::V21Preamble, 0),
    ];
    for (kind, tone, min_reversals) in cases {
        let pcm = spandsp(&harness, &dir, kind, 4000);
        for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
            let ev = detect(&through(&pcm, law));
            let s = starts(&ev);
            println!("{kind} via {law:?}: {s:?}, {} reversals", reversals(&ev));
            assert_eq!(s.first().map(|s| s.0), Some(tone), "{kind} {law:?}: {ev:?}");
            assert!(s.iter().all(|(t, _)| *t == tone), "{kind} {law:?}: {ev:?}");
            let r = reversals(&ev);
            if min_reversals == 0 {
                assert_eq!(r, 0, "{kind} {law:?}: {ev:?}");
            } else {
                assert!(r >= min_reversals, "{kind} {law:?}: {ev:?}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const TEXT: &str = "\
Hello, you have reached the fax and modem test line. Please hold while we connect you. \
Whistling, singing and humming produce strong harmonics that can fool a tone receiver: \
eee, ooo, aaah, mmmm, hmmm, weeee, wooo, heeey, hiiii, and a long beeeeeep. \
The quick brown fox jumps over the lazy dog while seven ships sail past the harbour.";

#[test]
fn speech_gives_no_fax_or_modem_signal() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("modem-speech-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let voices = [
        ("en", "160", "50"),
        ("en-us+f3", "175", "70"),
        ("en+m3", "140", "30"),
        ("en-us+f4", "190", "90"),
        ("de", "150", "60"),
        ("fr+f2", "165", "80"),
        ("it+m1", "155", "40"),
        ("es+f1", "170", "99"),
        ("en+m7", "130", "10"),
        ("nl+f5", "180", "75"),
    ];
    let mut pcm = Vec::new();
    for (i, (v, wpm, pitch)) in voices.iter().enumerate() {
        let args = ["-v", v, "-s", wpm, "-p", pitch];
        pcm.extend(common::espeak(&dir, &format!("s{i}"), &args, TEXT, -1));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let minutes = pcm.len() as f64 / 8000.0 / 60.0;
    println!("{minutes:.1} min of speech");
    for law in [None, Some(Law::Ulaw)] {
        let ev = detect(&through(&pcm, law));
        assert!(ev.is_empty(), "{law:?}: {ev:?}");
    }
}
