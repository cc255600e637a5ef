//! Fuzz the serial frame decoder: arbitrary bytes must never panic, and every frame it
//! accepts must re-encode to a frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_hal::wire::{
    Decoder, Frame, FrameRepr, MAX_FRAME, MAX_WIRE_FRAME, PROTOCOL_VERSION, cobs, crc, encode_frame,
};

fuzz_target!(|data: &[u8]| {
    // Stream path: COBS, delimiter handling, overrun recovery.
    let mut d = Decoder::new();
    let mut accepted = Vec::new();
    d.feed(data, |r| {
        if let Ok(f) = r {
            accepted.push(f);
        }
    });
    for f in accepted {
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let n = encode_frame(&f, &mut wire).expect("an accepted frame re-encodes");
        let mut again = None;
        Decoder::new().feed(&wire[..n], |r| again = Some(r));
        assert_eq!(again, Some(Ok(f)));
    }
    // Body path: wrap the input in a valid version byte and CRC so the postcard parser
    // sees arbitrary bodies (random bytes almost never pass the CRC by themselves).
    if data.len() + 3 <= MAX_FRAME {
        let mut raw = [0u8; MAX_FRAME];
        raw[0] = PROTOCOL_VERSION;
        raw[1..=data.len()].copy_from_slice(data);
        let crc = crc::crc16(&raw[..=data.len()]);
        raw[data.len() + 1..data.len() + 3].copy_from_slice(&crc.to_be_bytes());
        let n = data.len() + 3;
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let m = cobs::encode(&raw[..n], &mut wire).expect("fits");
        wire[m] = 0;
        let mut got = None;
        Decoder::new().feed(&wire[..=m], |r| got = Some(r));
        if let Some(Ok(f)) = got {
            let mut out = [0u8; MAX_FRAME];
            let k = f.emit(&mut out).expect("re-emits");
            // postcard is canonical for our types except varint padding; re-parse must agree.
            let again = FrameRepr::parse(&Frame::new_checked(&out[..k]).expect("valid"));
            assert_eq!(again, Ok(f));
        }
    }
    // View path: the checked view and the parser on raw (un-stuffed) bytes.
    if let Ok(f) = Frame::new_checked(data) {
        let _ = (f.version(), f.body(), f.crc());
        let _ = FrameRepr::parse(&f);
    }
});
