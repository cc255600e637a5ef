//! A transfer's `Refer-To` value and a NOTIFY's `message/sipfrag` from a call's peer
//! (RFC 3515, RFC 3891): any text, `None` or a `sip:`/`sips:` URI with at most a
//! well-formed `Replaces`, never a panic; what is taken writes back to the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::ua::refer::{ReferTo, Replaces, sipfrag_status};

fuzz_target!(|data: &[u8]| {
    let _ = sipfrag_status(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Replaces::parse(text);
    let Some(r) = ReferTo::parse(text) else {
        return;
    };
    assert!(r.uri.to_ascii_lowercase().starts_with("sip"));
    assert!(!r.uri.contains('?') && !r.uri.contains('>'));
    if let Some(rep) = &r.replaces {
        assert_eq!(Replaces::parse(&rep.to_string()).as_ref(), Some(rep));
        let again = ReferTo::parse(&format!("<{}?{}>", r.uri, rep.as_uri_header()));
        assert_eq!(again.and_then(|a| a.replaces).as_ref(), Some(rep));
    }
});
