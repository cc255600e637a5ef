//! Transactions per second through the transaction layer alone: in memory, virtual clock,
//! no sockets. Each iteration is one whole transaction as the gateway sees it: the request
//! parsed, matched and started, the TU's response built and sent, the outputs drained, and
//! the clock advanced 10 ms so timers run and finished transactions leave the table
//! (about 3200 live at once, Timer L/J/K = 32 s / 32 s / 5 s). Results: sip/BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tipring_sip::transaction::{Output, Peer, Receipt, TimerConfig, TransactionLayer, Transport};
use tipring_sip::{Message, MessageBuilder};

const POOL: usize = 8192;
const STEP: Duration = Duration::from_millis(10);

fn peer() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "127.0.0.1:5070".parse().unwrap(),
    }
}

fn request(method: &str, i: usize) -> Vec<u8> {
    format!(
        "{method} sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK{i:08x};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@192.0.2.9>;tag=a{i}\r\nTo: <sip:100@192.0.2.1>\r\n\
         Call-ID: {i}@192.0.2.9\r\nCSeq: 1 {method}\r\nContact: <sip:alice@192.0.2.9>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn drain(l: &mut TransactionLayer) -> usize {
    let mut n = 0;
    while let Some((_, o)) = l.poll_output() {
        if let Output::Transmit(t) = o {
            n += t.bytes.len();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("transaction");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));

    // INVITE server: INVITE in, 180 and 200 built and sent, Timer L ends it.
    let invites: Vec<Vec<u8>> = (0..POOL).map(|i| request("INVITE", i)).collect();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let mut now = Instant::now();
    let mut i = 0;
    g.bench_function("server_invite_180_200", |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let m = Message::parse(&invites[i]).unwrap();
            let Receipt::NewRequest(id) = layer.receive(now, &m, peer()) else {
                panic!("new INVITE expected");
            };
            let ringing = MessageBuilder::response_to(&m, 180, "Ringing", Some("t1")).finish();
            layer.respond(now, id, 180, ringing).unwrap();
            let ok = MessageBuilder::response_to(&m, 200, "OK", Some("t1")).finish();
            layer.respond(now, id, 200, ok).unwrap();
            now += STEP;
            layer.handle_timeout(now);
            black_box(drain(&mut layer))
        })
    });

    // Non-INVITE client: OPTIONS out, 200 in, Timer K ends it.
    let options: Vec<Vec<u8>> = (0..POOL).map(|i| request("OPTIONS", i)).collect();
    let oks: Vec<Vec<u8>> = options
        .iter()
        .map(|r| {
            MessageBuilder::response_to(&Message::parse(r).unwrap(), 200, "OK", Some("t")).finish()
        })
        .collect();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let mut now = Instant::now();
    let mut i = 0;
    g.bench_function("client_options_200", |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let id = layer.send_request(now, options[i].clone(), peer()).unwrap();
            let m = Message::parse(&oks[i]).unwrap();
            assert_eq!(layer.receive(now, &m, peer()), Receipt::Deliver(id));
            now += STEP;
            layer.handle_timeout(now);
            black_box(drain(&mut layer))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
