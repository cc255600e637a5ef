//! Fuzz the stream framer: bytes arrive in chunks of a fuzzer-chosen size; the framer must
//! never panic, never claim more bytes than it was given, and never pass a message over the
//! configured maximum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::Message;
use tipring_sip::framing::{Frame, Framer};

const MAX: usize = 2048;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut framer = Framer::new(MAX);
    let mut buf = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match framer.decode(&buf) {
                Ok(Some(Frame::Keepalive { len })) => {
                    assert!(len > 0 && len <= buf.len());
                    buf.drain(..len);
                }
                Ok(Some(Frame::Message { len })) => {
                    assert!(len > 0 && len <= buf.len() && len <= MAX);
                    let _ = Message::parse(&buf[..len]);
                    buf.drain(..len);
                }
                Ok(None) => break,
                // A framing error ends the connection.
                Err(_) => return,
            }
        }
    }
});
