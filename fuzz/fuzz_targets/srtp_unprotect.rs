//! An SRTP or SRTCP datagram arriving at an encrypted call's RTP port (RFC 3711): any
//! bytes, refused or taken, never a panic; a forged one keeps no state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_media::srtp::{MASTER_LEN, MasterKey, Srtp, SrtpParams, Suite};

fuzz_target!(|data: &[u8]| {
    let suite = match data.first() {
        Some(b) if b & 1 == 1 => Suite::AesCm128HmacSha1_32,
        _ => Suite::AesCm128HmacSha1_80,
    };
    let p = SrtpParams {
        suite,
        ours: MasterKey::new([1; MASTER_LEN]),
        theirs: MasterKey::new([2; MASTER_LEN]),
    };
    let mut s = Srtp::new(&p).expect("keys of the right length");
    let mut out = [0u8; 1500];
    let _ = s.unprotect(data.get(1..).unwrap_or_default(), &mut out);
});
