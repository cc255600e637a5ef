//! Per-call signalling costs outside the message parser: parsing a G.711 SDP offer,
//! answering it (RFC 3264), and the digest work of one challenge/verify round (RFC 7616).
//! Figures are printed by criterion; nothing is asserted.

use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tipring_sip::digest::{
    Algorithm, Authenticator, ChallengeKind, DigestServer, Secret, ServerConfig,
};
use tipring_sip::sdp::{MediaConfig, OfferAnswer, SessionDescription};

const OFFER: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\ns=-\r\n\
c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49170 RTP/AVP 8 0 18 101\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:18 G729/8000\r\n\
a=fmtp:18 annexb=no\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n\
a=ptime:20\r\na=sendrecv\r\n";

fn sdp(c: &mut Criterion) {
    c.bench_function("sdp/parse_offer", |b| {
        b.iter(|| SessionDescription::parse(black_box(OFFER)).expect("parses"))
    });
    let cfg = MediaConfig::new("192.0.2.1".parse().expect("ip"), 4000);
    c.bench_function("sdp/parse_answer_emit", |b| {
        b.iter(|| {
            let offer = SessionDescription::parse(black_box(OFFER)).expect("parses");
            let mut oa = OfferAnswer::new(cfg.clone(), 1);
            let (answer, media) = oa.answer_offer(&offer).expect("answer");
            (answer.to_string(), media)
        })
    });
}

fn digest(c: &mut Criterion) {
    let t0 = Instant::now();
    let db = HashMap::from([("bob".to_string(), Secret::Password("zanzibar".into()))]);
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        let mut cfg = ServerConfig::new("biloxi.com");
        cfg.algorithms = vec![alg];
        let mut server = DigestServer::new(cfg, [7; 32], t0);
        c.bench_function(
            &format!("digest/challenge_answer_verify/{}", alg.as_str()),
            |b| {
                b.iter(|| {
                    let values: Vec<String> = server
                        .challenges(t0, false)
                        .iter()
                        .map(|c| c.to_string())
                        .collect();
                    let mut a = Authenticator::new("bob", "zanzibar", 1);
                    a.on_challenges(values.iter().map(|v| (ChallengeKind::Www, v.as_str())))
                        .expect("challenge");
                    let hs = a.authorization("REGISTER", "sip:biloxi.com", b"");
                    server.verify(t0, "REGISTER", b"", &hs[0].1, &db)
                })
            },
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = sdp, digest
}
criterion_main!(benches);
