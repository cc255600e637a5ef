//! An `a=crypto` value from a peer's SDP (RFC 4568 §9.1): any text, a typed error or a
//! usable key, never a panic; what is accepted writes back to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::sdp::Crypto;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Crypto::parse(text) {
        assert_eq!(Crypto::parse(&c.to_string()), Ok(c));
    }
});
