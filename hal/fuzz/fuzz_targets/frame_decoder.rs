//! Fuzz the serial frame decoder: arbitrary bytes must never panic, and every frame it
//! accepts must re-encode to a frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_hal::wire::{Decoder, Frame, FrameRepr, MAX_WIRE_FRAME, encode_frame};

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
    // View path: the checked view and the parser on raw (un-stuffed) bytes.
    if let Ok(f) = Frame::new_checked(data) {
        let _ = (f.version(), f.body(), f.crc());
        let _ = FrameRepr::parse(&f);
    }
});
