//! RFC 4733 events through RTP: the event sender's packets share the audio stream's SSRC
//! and sequence numbers (payload type 101), cross a network that loses and reorders some of
//! them, and the receiver demultiplexes by payload type and reports each digit once.

use tipring_media::rfc4733::{
    EventCode, TelephoneEventReceiver, TelephoneEventRepr, TelephoneEventSender,
};
use tipring_media::rtp::{RtpPacket, RtpSender, SplitMix64};

const PT_EVENT: u8 = 101;

#[test]
fn digits_survive_loss_of_begins_and_reordering() {
    let mut rng = SplitMix64::new(9);
    let mut rtp = RtpSender::new(0, &mut rng);
    let mut ev = TelephoneEventSender::new(400);
    let digits = "19#*0D";
    let mut wire: Vec<Vec<u8>> = Vec::new();
    let mut now = rtp.timestamp();
    let mut payload = [0u8; 4];
    let mut buf = [0u8; 64];
    for key in digits.chars() {
        ev.start(EventCode::from_key(key).unwrap(), 10, now);
        // 120 ms of tone, 80 ms of pause, polled every 20 ms.
        for step in 0..10 {
            if step == 6 {
                ev.stop(now);
            }
            while let Some(p) = ev.poll(now) {
                p.event.emit(&mut payload).unwrap();
                let n = rtp
                    .send_at(PT_EVENT, p.timestamp, p.marker, &payload, &mut buf)
                    .unwrap();
                wire.push(buf[..n].to_vec());
            }
            now = now.wrapping_add(160);
        }
    }
    // Network: drop every begin (marker) packet of the 2nd and 4th digit, swap neighbours.
    let mut begins = 0;
    wire.retain(|pkt| {
        let p = RtpPacket::new_checked(pkt).unwrap();
        if p.marker() {
            begins += 1;
            return begins != 2 && begins != 4;
        }
        true
    });
    for i in (3..wire.len() - 1).step_by(7) {
        wire.swap(i, i + 1);
    }

    let mut rx = TelephoneEventReceiver::new();
    let mut got = String::new();
    let mut ends = 0;
    for pkt in &wire {
        let p = RtpPacket::new_checked(pkt).unwrap();
        assert_eq!(p.payload_type(), PT_EVENT);
        let e = TelephoneEventRepr::parse_bytes(p.payload()).unwrap();
        let out = rx.on_packet(p.timestamp(), &e);
        if let Some(b) = out.began {
            got.push(b.event.key().unwrap());
        }
        if let Some(end) = out.ended {
            ends += 1;
            assert!(!end.inferred);
            assert_eq!(end.duration, 6 * 160);
        }
    }
    assert_eq!(got, digits);
    assert_eq!(ends, digits.len());
}
