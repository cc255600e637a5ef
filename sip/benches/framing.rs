//! Stream framing cost when a message arrives one byte at a time (a slow or hostile peer):
//! 16, 32 and 64 KB messages. With the framer resuming where it stopped the time grows with
//! the size (linear); a framer rescanning the buffer on each byte would grow with its
//! square (16 times from 16 to 64 KB), which the second group shows with a fresh framer
//! for each byte. Results: sip/BENCHMARKS.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tipring_sip::framing::{Frame, Framer};

/// A message of exactly `size` bytes: a 3/4 head of padding headers, then a body.
fn message(size: usize) -> Vec<u8> {
    let mut m = b"MESSAGE sip:a@b SIP/2.0\r\n".to_vec();
    while m.len() < size * 3 / 4 {
        m.extend_from_slice(b"X-Pad: 0123456789abcdef0123456789abcdef\r\n");
    }
    let body = size - m.len() - b"l: 00000\r\n\r\n".len();
    m.extend_from_slice(format!("l: {body:05}\r\n\r\n").as_bytes());
    m.resize(size, b'z');
    m
}

/// Feeds `msg` one byte at a time; the framed length.
fn trickle(msg: &[u8]) -> usize {
    let mut f = Framer::new(64 * 1024);
    let mut buf = Vec::with_capacity(msg.len());
    for &b in msg {
        buf.push(b);
        if let Some(Frame::Message { len }) = f.decode(&buf).expect("frames") {
            return len;
        }
    }
    0
}

/// The same with a fresh framer for each byte: the buffer rescanned from its start each
/// time, as a framer without memory does.
fn trickle_rescanning(msg: &[u8]) -> usize {
    let mut buf = Vec::with_capacity(msg.len());
    for &b in msg {
        buf.push(b);
        if let Some(Frame::Message { len }) = Framer::new(64 * 1024).decode(&buf).expect("frames") {
            return len;
        }
    }
    0
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("framing_byte_by_byte");
    g.measurement_time(Duration::from_secs(3));
    for kb in [16usize, 32, 64] {
        let msg = message(kb * 1024);
        assert_eq!(trickle(&msg), msg.len());
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{kb}KB")),
            &msg,
            |b, m| b.iter(|| trickle(black_box(m))),
        );
    }
    g.finish();
    let mut g = c.benchmark_group("framing_byte_by_byte_rescanning");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    for kb in [16usize, 64] {
        let msg = message(kb * 1024);
        assert_eq!(trickle_rescanning(&msg), msg.len());
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{kb}KB")),
            &msg,
            |b, m| b.iter(|| trickle_rescanning(black_box(m))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
