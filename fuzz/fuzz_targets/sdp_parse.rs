//! Fuzz the SDP parser and offer/answer: no input may panic; whatever parses must emit a
//! body that parses again and emits the same bytes (the builder's output is canonical);
//! answering it as an offer, or taking it as an answer to ours, must not panic either.
//! T.38 too: every media's T.38 parameters, when they parse, emit and re-read unchanged;
//! answering a T.38 re-offer, or taking a T.38 answer, must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::sdp::{MediaConfig, OfferAnswer, SessionDescription, T38Params};

fuzz_target!(|data: &[u8]| {
    let Ok(sd) = SessionDescription::parse(data) else {
        return;
    };
    for m in &sd.media {
        let _ = (
            sd.media_direction(m),
            sd.media_connection(m),
            m.rtcp(),
            m.ptime(),
        );
        for pt in m.payload_types() {
            let _ = (m.rtpmap(pt), m.telephone_events(pt));
        }
        if let Ok(Some(p)) = T38Params::from_media(m) {
            let emitted = p.media(m.port);
            assert_eq!(
                T38Params::from_media(&emitted),
                Ok(Some(p)),
                "T.38 parameters do not survive emission"
            );
        }
    }
    let out = sd.to_string();
    let again = match SessionDescription::parse(out.as_bytes()) {
        Ok(a) => a,
        Err(e) => panic!("emitted SDP does not re-parse: {e}\n{out}"),
    };
    assert_eq!(again.to_string(), out, "emission is not canonical");

    let cfg = MediaConfig::new("192.0.2.1".parse().unwrap(), 4000);
    let mut oa = OfferAnswer::new(cfg.clone(), 1);
    if let Ok((answer, _)) = oa.answer_offer(&sd) {
        let text = answer.to_string();
        assert_eq!(
            answer.media.len(),
            sd.media.len(),
            "answer m= count differs"
        );
        assert!(
            SessionDescription::parse(text.as_bytes()).is_ok(),
            "our answer does not parse:\n{text}"
        );
    }
    if let Ok(Some((answer, _, _))) = oa.answer_t38_offer(&sd, &T38Params::default()) {
        assert_eq!(
            answer.media.len(),
            sd.media.len(),
            "T.38 answer m= count differs"
        );
    }
    let mut offerer = OfferAnswer::new(cfg, 2);
    offerer.create_offer();
    let _ = offerer.process_answer(&sd);
    offerer.create_t38_offer(&T38Params::default());
    let _ = offerer.process_t38_answer(&sd);
});
