//! Caller ID on call waiting inside a call: the phone's acknowledgement (DTMF `D`) after
//! the CAS is neither sent to the far party (no RFC 4733 event, its audio muted) nor
//! reported as a dialled digit; the message is played after it.

use super::*;
use crate::callerid::{FskParams, FskStandard, FskTransmitter, OffHookCallerId};

fn sequence() -> OffHookCallerId {
    let params = FskParams {
        seizure_bits: 0,
        mark_bits: crate::callerid::offhook::MARK_BITS,
        ..FskParams::new(FskStandard::Bell202)
    };
    // An MDMF message with the number 5551 (type 0x80, length, parameter 2).
    let mut msg = vec![0x80, 6, 2, 4, b'5', b'5', b'5', b'1'];
    msg.push(crate::callerid::message::checksum(&msg));
    OffHookCallerId::new(100, FskTransmitter::new(params, &msg).unwrap())
}

#[test]
fn the_phones_acknowledgement_stays_on_the_box_and_the_message_follows() {
    let mut c = Call::new(0.0, 10_000, 7);
    c.a.play_cwid(sequence());
    let mut ack = DtmfGenerator::new(DtmfParams {
        on_ms: 60,
        ..DtmfParams::default()
    });
    ack.push_str("D").unwrap();
    // The CAS ends 180 ms in (frame 9); the phone answers at once.
    c.run(80, |i| {
        let mut f = [0; FRAME_SAMPLES];
        if i >= 9 {
            ack.fill(&mut f);
        }
        f
    });
    assert_eq!(c.events_a, [], "no digit for the owner");
    assert_eq!(c.b.stats().events_received, 0, "no RFC 4733 to the far end");
    let heard_d = c.played_b.iter().filter(|f| energy(f) > 1e5).count();
    assert_eq!(heard_d, 0, "the far end heard the acknowledgement");
    // A's line heard the CAS, then silence, then the FSK.
    let loud = c.played_a.iter().filter(|f| energy(f) > 1e5).count();
    assert!(loud >= 10, "{loud} frames of CAS and FSK");
}

#[test]
fn without_the_sequence_a_d_is_an_ordinary_digit() {
    let mut c = Call::new(0.0, 10_000, 7);
    let mut d = DtmfGenerator::new(DtmfParams::default());
    d.push_str("D").unwrap();
    c.run(40, |i| {
        let mut f = [0; FRAME_SAMPLES];
        if i >= 9 {
            d.fill(&mut f);
        }
        f
    });
    assert_eq!(
        c.events_a,
        [SessionEvent::InbandDigit(Digit::from_char('D').unwrap())]
    );
    assert_eq!(c.b.stats().events_received, 1);
}
