//! Q.24: no digit from dial tone, ringback, busy, congestion or call waiting of any
//! built-in country, clean and through G.711 with noise.

use tipring_media::dtmf::{DtmfDetector, DtmfEvent};
use tipring_media::g711::Law;
use tipring_media::tone::{Country, CountryProfile, ToneGenerator, ToneKind};

#[test]
fn no_digit_from_call_progress_tones() {
    let mut seconds = 0;
    for country in Country::ALL {
        let p = CountryProfile::builtin(country);
        for kind in ToneKind::ALL {
            for law in [None, Some(Law::Ulaw), Some(Law::Alaw)] {
                let mut pcm = vec![0i16; 8000 * 12];
                ToneGenerator::new(p.tone(kind)).fill(&mut pcm);
                if let Some(law) = law {
                    let mut c = vec![0u8; pcm.len()];
                    law.encode(&pcm, &mut c);
                    law.decode(&c, &mut pcm);
                }
                let mut det = DtmfDetector::default();
                let mut digits = String::new();
                det.process(&pcm, |e| {
                    if let DtmfEvent::Start { digit, .. } = e {
                        digits.push(digit.as_char());
                    }
                });
                seconds += 12;
                assert!(digits.is_empty(), "{country:?} {kind:?} {law:?}: {digits}");
            }
        }
    }
    println!("0 digits in {seconds} s of call-progress tones");
}
