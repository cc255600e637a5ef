//! Caller-ID round trips: our Bell 202 and V.23 transmitters into our receiver, SDMF and
//! MDMF, clean, through G.711 and with white noise; DTMF caller ID likewise. Success
//! counts are printed and must be complete.

mod noise;

use noise::Rng;
use tipring_media::callerid::dtmf_clip::{DtmfClip, DtmfClipFormat, DtmfClipReceiver};
use tipring_media::callerid::message::MAX_MESSAGE;
use tipring_media::callerid::{
    Absence, CallerIdRepr, DateTime, Field, Format, FskEvent, FskParams, FskReceiver, FskStandard,
    FskTransmitter, Message, Text,
};
use tipring_media::dtmf::DtmfParams;
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{dbm0_amplitude, to_i16};

fn messages() -> Vec<(Format, CallerIdRepr)> {
    let dt = Some(DateTime {
        month: 11,
        day: 24,
        hour: 9,
        minute: 30,
    });
    let num = |s: &[u8]| Some(Field::Present(Text::new(s).unwrap()));
    vec![
        (
            Format::Sdmf,
            CallerIdRepr {
                datetime: dt,
                number: num(b"2125551234"),
                name: None,
            },
        ),
        (
            Format::Sdmf,
            CallerIdRepr {
                datetime: dt,
                number: Some(Field::Absent(Absence::Private)),
                name: None,
            },
        ),
        (
            Format::Mdmf,
            CallerIdRepr {
                datetime: dt,
                number: num(b"+4930123456789"),
                name: Some(Field::Present(Text::new(b"Tip Ring GmbH").unwrap())),
            },
        ),
        (
            Format::Mdmf,
            CallerIdRepr {
                datetime: dt,
                number: Some(Field::Absent(Absence::Unavailable)),
                name: Some(Field::Absent(Absence::Private)),
            },
        ),
    ]
}

fn send(std: FskStandard, bytes: &[u8], lead: usize) -> Vec<i16> {
    let mut tx = FskTransmitter::new(FskParams::new(std), bytes).unwrap();
    let mut out = vec![0i16; lead];
    let mut buf = [0i16; 160];
    while !tx.is_done() {
        let n = tx.fill(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }
    out.extend(vec![0i16; 1600]);
    out
}

fn impair(pcm: &[i16], law: Option<Law>, snr_db: Option<f32>, rng: &mut Rng) -> Vec<i16> {
    let sig = dbm0_amplitude(-13.0) / 2f32.sqrt();
    let mut x: Vec<i16> = pcm
        .iter()
        .map(|&s| {
            let n = snr_db.map_or(0.0, |snr| rng.gauss() * sig / 10f32.powf(snr / 20.0));
            to_i16(f32::from(s) + n)
        })
        .collect();
    if let Some(law) = law {
        let mut c = vec![0u8; x.len()];
        law.encode(&x, &mut c);
        law.decode(&c, &mut x);
    }
    x
}

fn receive(std: FskStandard, pcm: &[i16]) -> Vec<Vec<u8>> {
    let mut rx = FskReceiver::new(std);
    let mut got = Vec::new();
    for f in pcm.chunks(160) {
        rx.process(f, |e| match e {
            FskEvent::Message(m) => got.push(m.as_bytes().to_vec()),
            FskEvent::ChecksumError => got.push(Vec::new()),
        });
    }
    got
}

#[test]
fn fsk_round_trip_bell202_and_v23_through_g711_and_noise() {
    let mut rng = Rng(2024);
    for std in [FskStandard::Bell202, FskStandard::V23] {
        for snr in [None, Some(30.0), Some(20.0), Some(15.0)] {
            for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
                let (mut ok, mut n) = (0, 0);
                for (fmt, repr) in messages() {
                    for _ in 0..5 {
                        let mut buf = [0u8; MAX_MESSAGE];
                        let len = repr.emit(fmt, &mut buf).unwrap();
                        let lead = (rng.next() % 400) as usize;
                        let audio = impair(&send(std, &buf[..len], lead), law, snr, &mut rng);
                        let got = receive(std, &audio);
                        n += 1;
                        if got.len() == 1 && got[0] == buf[..len] {
                            let m = Message::new_checked(&got[0]).unwrap();
                            assert_eq!(CallerIdRepr::parse(&m).unwrap(), (fmt, repr));
                            ok += 1;
                        } else {
                            println!("  lead {lead}: want {:02x?}\n  got {got:02x?}", &buf[..len]);
                        }
                    }
                }
                println!("{std:?} SNR {snr:?} dB {law:?}: {ok}/{n} messages decoded");
                assert_eq!(ok, n, "{std:?} {snr:?} {law:?}");
            }
        }
    }
}

#[test]
fn receiver_ignores_the_other_modem_and_noise() {
    let mut rng = Rng(77);
    let (fmt, repr) = messages()[2];
    let mut buf = [0u8; MAX_MESSAGE];
    let len = repr.emit(fmt, &mut buf).unwrap();
    // Noise alone: 60 s, no message.
    let noise = impair(&vec![0i16; 8000 * 60], None, Some(0.0), &mut rng);
    for std in [FskStandard::V23, FskStandard::Bell202] {
        let got = receive(std, &noise);
        println!("{std:?}: {} events in 60 s of noise", got.len());
        assert!(got.is_empty(), "{std:?}: {got:?}");
    }
    // A message with a wrong checksum is reported as a checksum error, not a message.
    let mut bad = buf;
    bad[len - 1] = bad[len - 1].wrapping_add(1);
    assert!(FskTransmitter::new(FskParams::new(FskStandard::V23), &bad[..len]).is_err());
    let mut tx = FskTransmitter::with_bytes(FskParams::new(FskStandard::V23), &bad[..len]).unwrap();
    let mut audio = vec![0i16; 8000 * 2];
    tx.fill(&mut audio);
    assert_eq!(receive(FskStandard::V23, &audio), vec![Vec::<u8>::new()]);
}

#[test]
fn dtmf_caller_id_round_trip_through_g711() {
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
    for law in [Law::Ulaw, Law::Alaw] {
        for (clip, fmt) in cases {
            let mut g = clip
                .generator(
                    fmt,
                    DtmfParams {
                        on_ms: 70,
                        off_ms: 70,
                        ..DtmfParams::default()
                    },
                )
                .unwrap();
            let mut pcm = vec![0i16; 8000 * 3];
            g.fill(&mut pcm);
            let mut c = vec![0u8; pcm.len()];
            law.encode(&pcm, &mut c);
            law.decode(&c, &mut pcm);
            let mut rx = DtmfClipReceiver::default();
            let mut got = Vec::new();
            for f in pcm.chunks(160) {
                rx.process(f, |r| got.push(r));
            }
            assert_eq!(got, vec![Ok((fmt, clip))], "{law:?}");
        }
    }
}
