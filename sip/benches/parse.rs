//! Parse throughput of four typical gateway messages, tipring against rsip on the same
//! bytes in the same run. "parse" is parsing alone: both parse the start line (with the
//! Request-URI) and split the header lines and the body; tipring also checks Content-Length
//! and Max-Forwards, and reads the topmost Via, From, To, Call-ID and CSeq only when asked,
//! as rsip types any header only when asked. "parse+typed" also reads the top Via branch,
//! From/To tags, Call-ID and CSeq number: the like-for-like comparison.
//! Results: sip/BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rsip::message::HasHeaders;
use std::hint::black_box;
use std::time::Duration;
use tipring_sip::Message;

const MESSAGES: [(&str, &[u8]); 4] = [
    (
        "invite_sdp",
        include_bytes!("../tests/data/samples/invite_sdp.sip"),
    ),
    (
        "180_record_route",
        include_bytes!("../tests/data/samples/ringing_rr.sip"),
    ),
    (
        "register_auth",
        include_bytes!("../tests/data/samples/register_auth.sip"),
    ),
    ("bye", include_bytes!("../tests/data/samples/bye.sip")),
];

fn tipring_typed(bytes: &[u8]) -> usize {
    let m = Message::parse(bytes).expect("tipring parses");
    let branch = m.top_via().and_then(|v| v.branch()).map_or(0, str::len);
    let tags = m.from().and_then(|f| f.tag()).map_or(0, str::len)
        + m.to().and_then(|t| t.tag()).map_or(0, str::len);
    branch + tags + m.call_id().map_or(0, str::len) + m.cseq().map_or(0, |c| c.seq as usize)
}

fn rsip_typed(bytes: &[u8]) -> usize {
    use rsip::prelude::*;
    let m = rsip::SipMessage::try_from(bytes).expect("rsip parses");
    let via = m.via_header().expect("via").typed().expect("typed via");
    let branch = via.branch().map_or(0, |b| b.to_string().len());
    let from = m.from_header().expect("from").typed().expect("typed from");
    let to = m.to_header().expect("to").typed().expect("typed to");
    let tags = from.tag().map_or(0, |t| t.value().len()) + to.tag().map_or(0, |t| t.value().len());
    let call_id = m.call_id_header().expect("call-id").value().len();
    let cseq = m
        .cseq_header()
        .expect("cseq")
        .typed()
        .expect("typed cseq")
        .seq as usize;
    branch + tags + call_id + cseq
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in MESSAGES {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("tipring/parse", |b| {
            b.iter(|| {
                Message::parse(black_box(bytes))
                    .expect("tipring parses")
                    .headers()
                    .len()
            })
        });
        g.bench_function("rsip/parse", |b| {
            b.iter(|| {
                rsip::SipMessage::try_from(black_box(bytes))
                    .expect("rsip parses")
                    .headers()
                    .iter()
                    .count()
            })
        });
        g.bench_function("tipring/parse+typed", |b| {
            b.iter(|| tipring_typed(black_box(bytes)))
        });
        g.bench_function("rsip/parse+typed", |b| {
            b.iter(|| rsip_typed(black_box(bytes)))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
