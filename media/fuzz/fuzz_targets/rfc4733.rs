//! RFC 4733 decoder: the payload view never panics, parsed events re-emit identically, and
//! any sequence of (timestamp, payload) records drives the event receiver safely.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_media::rfc4733::{TelephoneEventReceiver, TelephoneEventRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = TelephoneEventRepr::parse_bytes(data) {
        let mut out = [0u8; 4];
        r.emit(&mut out).expect("a parsed event re-emits");
        assert_eq!(TelephoneEventRepr::parse_bytes(&out), Ok(r));
    }
    let mut rx = TelephoneEventReceiver::new();
    for rec in data.chunks_exact(8) {
        let ts = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
        if let Ok(r) = TelephoneEventRepr::parse_bytes(&rec[4..]) {
            let out = rx.on_packet(ts, &r);
            if let (Some(e), Some(b)) = (out.ended, out.began) {
                // An end reported with a begin is either the same one-packet event or the
                // inferred end of the previous one.
                assert!(e.timestamp == b.timestamp || e.inferred);
            }
        }
        let _ = rx.on_timeout(ts, 800);
    }
});
