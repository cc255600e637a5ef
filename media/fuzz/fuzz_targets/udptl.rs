//! UDPTL decoder: a parse never panics, a parsed datagram re-emits to one that parses the
//! same, and any datagram stream drives the receiver safely, delivering in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_media::udptl::{UdptlPacket, UdptlReceiver};

fuzz_target!(|data: &[u8]| {
    // Round trip of the whole input as one datagram.
    if let Ok(p) = UdptlPacket::parse(data) {
        let mut buf = vec![0u8; p.buffer_len()];
        let n = p.emit(&mut buf).expect("a parsed datagram re-emits");
        assert!(n <= data.len(), "re-emitted longer than parsed");
        assert_eq!(UdptlPacket::parse(&buf[..n]), Ok(p));
    }
    // The input as a stream: [len u8][datagram...] records.
    let mut rx = UdptlReceiver::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        let before = rx.stats();
        let expected = rx.next_seq();
        let mut delivered: Vec<u16> = Vec::new();
        let _ = rx.on_datagram(datagram, |seq, ifp| {
            assert!(!ifp.is_empty());
            delivered.push(seq);
        });
        let after = rx.stats();
        // One datagram delivers a run of consecutive numbers, and the receiver then
        // expects the one after the last.
        assert!(delivered.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        if let Some(&last) = delivered.last() {
            assert_eq!(rx.next_seq(), Some(last.wrapping_add(1)));
            // Without a resync the run starts where the receiver was, past what was lost.
            if let Some(next) = expected
                && after.resyncs == before.resyncs
            {
                let lost = (after.lost - before.lost) as u16;
                assert_eq!(delivered[0], next.wrapping_add(lost));
            }
        } else {
            assert_eq!(rx.next_seq(), expected);
        }
        assert_eq!(after.delivered - before.delivered, delivered.len() as u64);
    }
});
