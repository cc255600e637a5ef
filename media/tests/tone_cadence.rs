//! Call-progress tones of every built-in country through G.711 and noise: the cadence
//! detector recognises each (dial, ringback, busy, congestion, confirmation) and nothing
//! else, and is silent on silence, noise, DTMF and music-like chords.

mod common;
mod noise;

use noise::Rng;
use tipring_media::dtmf::{DtmfGenerator, DtmfParams};
use tipring_media::g711::Law;
use tipring_media::tone::oscillator::{Oscillator, dbm0_amplitude, to_i16};
use tipring_media::tone::{
    Country, CountryProfile, ToneDetector, ToneDetectorConfig, ToneEvent, ToneGenerator, ToneKind,
};

fn detect(profile: &CountryProfile, pcm: &[i16]) -> Vec<(ToneKind, u64)> {
    let mut d = ToneDetector::new(profile, ToneDetectorConfig::default());
    let mut out = Vec::new();
    for f in pcm.chunks(160) {
        d.process(f, |e| {
            if let ToneEvent::Detected { kind, at_ms } = e {
                out.push((kind, at_ms))
            }
        });
    }
    out
}

/// The tone with white noise `snr_db` below its power, through `law`.
fn tone_signal(
    profile: &CountryProfile,
    kind: ToneKind,
    secs: u32,
    snr_db: f32,
    law: Law,
    rng: &mut Rng,
) -> Vec<i16> {
    let spec = profile.tone(kind);
    let mut pcm = vec![0i16; secs as usize * 8000];
    ToneGenerator::new(spec).fill(&mut pcm);
    let power = spec.freqs().len() as f32 * dbm0_amplitude(spec.level_dbm0).powi(2) / 2.0;
    let noise = (power / 10f32.powf(snr_db / 10.0)).sqrt();
    let noisy: Vec<i16> = pcm
        .iter()
        .map(|&s| to_i16(f32::from(s) + rng.gauss() * noise))
        .collect();
    common::through(&noisy, law)
}

#[test]
fn every_country_tone_is_recognised_through_g711_and_noise() {
    let mut rng = Rng(11);
    let mut total = 0;
    for country in Country::ALL {
        let p = CountryProfile::builtin(country);
        for kind in [
            ToneKind::Busy,
            ToneKind::Congestion,
            ToneKind::Dial,
            ToneKind::Ringback,
            ToneKind::Confirmation,
        ] {
            for law in [Law::Ulaw, Law::Alaw] {
                for snr in [30.0, 15.0] {
                    let secs = if kind == ToneKind::Ringback { 14 } else { 6 };
                    let got = detect(&p, &tone_signal(&p, kind, secs, snr, law, &mut rng));
                    let first = got.iter().find(|(k, _)| *k == kind);
                    println!("{country:?} {kind:?} {law:?} SNR {snr} dB: {got:?}");
                    assert!(
                        first.is_some(),
                        "{country:?} {kind:?} {law:?} {snr}: {got:?}"
                    );
                    // Anything else reported must be indistinguishable by plan (e.g. AU
                    // busy and congestion are the same tone).
                    for (k, _) in &got {
                        assert_eq!(
                            p.tone(*k),
                            p.tone(kind),
                            "{country:?}: {kind:?} taken for {k:?}"
                        );
                    }
                    total += 1;
                }
            }
        }
    }
    println!("{total} tone recordings recognised");
}

#[test]
fn busy_is_recognised_within_two_periods() {
    let mut rng = Rng(5);
    for country in Country::ALL {
        let p = CountryProfile::builtin(country);
        let got = detect(
            &p,
            &tone_signal(&p, ToneKind::Busy, 6, 20.0, Law::Alaw, &mut rng),
        );
        let at = got
            .iter()
            .find(|(k, _)| *k == ToneKind::Busy)
            .map(|(_, t)| *t);
        let period = u64::from(p.busy.cadence.period_ms());
        println!("{country:?} busy (period {period} ms) recognised at {at:?} ms");
        let at = at.expect("busy recognised");
        assert!(at <= 3 * period, "{country:?}: {at} ms");
    }
}

#[test]
fn silence_noise_dtmf_and_chords_give_no_tone() {
    let mut rng = Rng(99);
    let mut x: Vec<i16> = vec![0; 8000 * 5];
    // White noise at -30 dBm0.
    let nrms = dbm0_amplitude(-30.0) / 2f32.sqrt();
    x.extend((0..8000 * 10).map(|_| to_i16(rng.gauss() * nrms)));
    // DTMF digits.
    let mut g = DtmfGenerator::new(DtmfParams::default());
    g.push_str("0123456789*#ABCD0123456789").unwrap();
    let mut d = vec![0i16; 8000 * 5];
    g.fill(&mut d);
    x.extend(d);
    // Chords of three random partials in 300..700 Hz, 300 ms each.
    for _ in 0..100 {
        let mut osc: Vec<Oscillator> = (0..3)
            .map(|_| Oscillator::new(300.0 + 400.0 * rng.unit() as f32, dbm0_amplitude(-15.0)))
            .collect();
        x.extend((0..2400).map(|_| to_i16(osc.iter_mut().map(|o| o.next_sample()).sum())));
    }
    let x = common::through(&x, Law::Ulaw);
    for country in Country::ALL {
        let got = detect(&CountryProfile::builtin(country), &x);
        println!(
            "{country:?}: {} false tones in {} s",
            got.len(),
            x.len() / 8000
        );
        assert!(got.is_empty(), "{country:?}: {got:?}");
    }
}

#[test]
fn tone_end_is_reported() {
    let p = CountryProfile::builtin(Country::De);
    let mut pcm = vec![0i16; 8000 * 5];
    ToneGenerator::new(&p.busy).fill(&mut pcm);
    pcm.extend(vec![0i16; 8000 * 2]);
    let mut d = ToneDetector::new(&p, ToneDetectorConfig::default());
    let mut ev = Vec::new();
    d.process(&pcm, |e| ev.push(e));
    assert!(matches!(
        ev.first(),
        Some(ToneEvent::Detected {
            kind: ToneKind::Busy,
            ..
        })
    ));
    assert!(
        ev.iter().any(
            |e| matches!(e, ToneEvent::Ended { kind: ToneKind::Busy, at_ms } if *at_ms > 5000)
        ),
        "{ev:?}"
    );
}
