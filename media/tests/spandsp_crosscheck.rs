//! Independent cross-check against spandsp (Debian `libspandsp-dev`): spandsp decodes our
//! DTMF and our Bell 202 / V.23 caller ID (its ADSI receiver), and we decode spandsp's
//! DTMF and caller ID. spandsp is only used by this test, through a small C harness
//! (tests/spandsp/harness.c) compiled here with `cc` and `pkg-config spandsp`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tipring_media::callerid::dtmf_clip::{DtmfClip, DtmfClipFormat, DtmfClipReceiver};
use tipring_media::callerid::message::MAX_MESSAGE;
use tipring_media::callerid::{
    Absence, CallerIdRepr, DateTime, Field, Format, FskEvent, FskParams, FskReceiver, FskStandard,
    FskTransmitter, Text,
};
use tipring_media::dtmf::{DtmfDetector, DtmfEvent, DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;

fn harness() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| common::spandsp_harness(Path::new(env!("CARGO_TARGET_TMPDIR"))))
}

fn run(args: &[&str]) -> String {
    let out = Command::new(harness()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "harness {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("spandsp-{}-{name}", std::process::id()))
}

fn write(path: &Path, pcm: &[i16]) {
    let b: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, b).unwrap();
}

fn read(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn g711(pcm: &mut [i16], law: Law) {
    let mut c = vec![0u8; pcm.len()];
    law.encode(pcm, &mut c);
    law.decode(&c, pcm);
}

fn our_dtmf(pcm: &[i16]) -> String {
    let mut d = DtmfDetector::default();
    let mut s = String::new();
    for f in pcm.chunks(160) {
        d.process(f, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                s.push(digit.as_char())
            }
        });
    }
    s
}

const DIGITS: &str = "0123456789*#ABCD";

#[test]
fn spandsp_decodes_our_dtmf() {
    let mut n = 0;
    for (low, high, on, off) in [
        (-9.0, -7.0, 80, 80),
        (-20.0, -20.0, 50, 50),
        (-4.0, -8.0, 60, 60),
        (-25.0, -22.0, 100, 60),
    ] {
        for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
            let mut g = DtmfGenerator::new(DtmfParams {
                low_dbm0: low,
                high_dbm0: high,
                on_ms: on,
                off_ms: off,
            });
            g.push_str(DIGITS).unwrap();
            let mut pcm = vec![0i16; 8000 * 5];
            g.fill(&mut pcm);
            if let Some(law) = law {
                g711(&mut pcm, law);
            }
            let f = tmp("our-dtmf.raw");
            write(&f, &pcm);
            let got = run(&["dtmf-rx", f.to_str().unwrap()]);
            println!(
                "ours {low}/{high} dBm0 {on}/{off} ms {law:?} -> spandsp {:?}",
                got.trim()
            );
            assert_eq!(got.trim(), DIGITS);
            n += DIGITS.len();
        }
    }
    println!("spandsp decoded all {n} of our digits");
}

#[test]
fn we_decode_spandsp_dtmf() {
    let f = tmp("sp-dtmf.raw");
    run(&["dtmf-tx", DIGITS, f.to_str().unwrap()]);
    let pcm = read(&f);
    assert!(pcm.len() > 8000);
    assert_eq!(our_dtmf(&pcm), DIGITS);
    for law in [Law::Ulaw, Law::Alaw] {
        let mut p = pcm.clone();
        g711(&mut p, law);
        assert_eq!(our_dtmf(&p), DIGITS, "{law:?}");
    }
}

fn messages() -> Vec<(Format, CallerIdRepr)> {
    let dt = Some(DateTime {
        month: 3,
        day: 14,
        hour: 15,
        minute: 9,
    });
    vec![
        (
            Format::Sdmf,
            CallerIdRepr {
                datetime: dt,
                number: Some(Field::Present(Text::new(b"6175551212").unwrap())),
                name: None,
            },
        ),
        (
            Format::Mdmf,
            CallerIdRepr {
                datetime: dt,
                number: Some(Field::Present(Text::new(b"0049301234567").unwrap())),
                name: Some(Field::Present(Text::new(b"SPANDSP CHECK").unwrap())),
            },
        ),
        (
            Format::Mdmf,
            CallerIdRepr {
                datetime: dt,
                number: Some(Field::Absent(Absence::Private)),
                name: Some(Field::Absent(Absence::Unavailable)),
            },
        ),
    ]
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn spandsp_std(std: FskStandard) -> &'static str {
    match std {
        FskStandard::Bell202 => "class",
        FskStandard::V23 => "clip",
    }
}

#[test]
fn spandsp_decodes_our_caller_id_fsk() {
    for std in [FskStandard::Bell202, FskStandard::V23] {
        for (fmt, repr) in messages() {
            let mut buf = [0u8; MAX_MESSAGE];
            let len = repr.emit(fmt, &mut buf).unwrap();
            let mut tx = FskTransmitter::new(FskParams::new(std), &buf[..len]).unwrap();
            let mut pcm = vec![0i16; 8000 * 2];
            let n = tx.fill(&mut pcm[800..]);
            assert!(tx.is_done() && n > 0);
            for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
                let mut p = pcm.clone();
                if let Some(law) = law {
                    g711(&mut p, law);
                }
                let f = tmp("our-fsk.raw");
                write(&f, &p);
                let got = run(&["adsi-rx", spandsp_std(std), f.to_str().unwrap()]);
                // spandsp hands over the message without its checksum, after checking it.
                println!("ours {std:?} {fmt:?} {law:?} -> spandsp {}", got.trim());
                assert_eq!(got.trim(), hex(&buf[..len - 1]), "{std:?} {fmt:?} {law:?}");
            }
        }
    }
}

#[test]
fn we_decode_spandsp_caller_id_fsk() {
    for std in [FskStandard::Bell202, FskStandard::V23] {
        for (fmt, repr) in messages() {
            let mut buf = [0u8; MAX_MESSAGE];
            let len = repr.emit(fmt, &mut buf).unwrap();
            let f = tmp("sp-fsk.raw");
            run(&[
                "adsi-tx",
                spandsp_std(std),
                &hex(&buf[..len - 1]),
                f.to_str().unwrap(),
            ]);
            for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
                let mut pcm = read(&f);
                if let Some(law) = law {
                    g711(&mut pcm, law);
                }
                let mut rx = FskReceiver::new(std);
                let mut got = Vec::new();
                rx.process(&pcm, |e| match e {
                    FskEvent::Message(m) => got.push(m.as_bytes().to_vec()),
                    FskEvent::ChecksumError => got.push(Vec::new()),
                });
                assert_eq!(got, vec![buf[..len].to_vec()], "{std:?} {fmt:?} {law:?}");
            }
        }
    }
}

#[test]
fn dtmf_caller_id_both_ways() {
    let cases = [
        (
            DtmfClip::Number(Text::new(b"0301234567").unwrap()),
            DtmfClipFormat::CTerminated,
        ),
        (
            DtmfClip::Number(Text::new(b"5551234").unwrap()),
            DtmfClipFormat::HashTerminated,
        ),
        (
            DtmfClip::Absent(Absence::Private),
            DtmfClipFormat::CTerminated,
        ),
        (
            DtmfClip::Absent(Absence::Unavailable),
            DtmfClipFormat::HashTerminated,
        ),
    ];
    for (clip, fmt) in cases {
        let mut s = [0u8; 40];
        let n = clip.emit(fmt, &mut s).unwrap();
        // Ours -> spandsp.
        let mut g = clip.generator(fmt, DtmfParams::default()).unwrap();
        let mut pcm = vec![0i16; 8000 * 4];
        g.fill(&mut pcm[800..]);
        let f = tmp("our-clip.raw");
        write(&f, &pcm);
        let got = run(&["adsi-rx", "clip-dtmf", f.to_str().unwrap()]);
        assert_eq!(got.trim(), hex(&s[..n]), "spandsp on our {clip:?}");
        // spandsp -> ours.
        let f = tmp("sp-clip.raw");
        run(&["adsi-tx", "clip-dtmf", &hex(&s[..n]), f.to_str().unwrap()]);
        let mut rx = DtmfClipReceiver::default();
        let mut got = Vec::new();
        rx.process(&read(&f), |r| got.push(r));
        assert_eq!(got, vec![Ok((fmt, clip))], "ours on spandsp's {clip:?}");
    }
}
