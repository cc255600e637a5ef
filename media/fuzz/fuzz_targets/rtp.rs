//! RTP decoder: a checked view never panics, a parsed packet re-emits to the same fields,
//! and any packet stream drives the receiver statistics and the jitter buffer safely.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_media::instant::Instant;
use tipring_media::jitter::{JitterBuffer, JitterConfig};
use tipring_media::rtp::{RtpPacket, RtpReceiver, RtpRepr};

fuzz_target!(|data: &[u8]| {
    // Round trip of the whole input as one packet.
    if let Ok(p) = RtpPacket::new_checked(data) {
        let repr = RtpRepr::parse(&p);
        let mut buf = vec![0u8; repr.buffer_len()];
        let n = repr.emit(&mut buf).expect("a parsed packet re-emits");
        let again = RtpRepr::parse_bytes(&buf[..n]).expect("an emitted packet parses");
        assert_eq!(again, repr);
    }
    // The input as a stream: [len u8][arrival delta u8][packet...] records.
    let mut rx = RtpReceiver::new(8000);
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut now = 0u64;
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(rest[0]).min(rest.len() - 2);
        now += u64::from(rest[1]) * 500;
        let pkt = &rest[2..2 + len];
        rest = &rest[2 + len..];
        let at = Instant::from_micros(now);
        if let Ok(p) = RtpPacket::new_checked(pkt) {
            rx.on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), at);
            jb.push(&p, at);
        }
        let _ = jb.pop(at);
        let _ = rx.report();
    }
});
