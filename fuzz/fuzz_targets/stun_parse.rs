//! A STUN Binding response (RFC 8489) arriving at an RTP port: any bytes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (id, msg) = data.split_at(12);
    let id: [u8; 12] = id.try_into().expect("twelve bytes");
    let _ = tipring_media::stun::parse_binding_response(msg, id);
});
