//! Fuzz the SIP message parser: no input may panic, and whatever parses must serialise
//! to bytes that parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else { return };
    // The headers read on first use: a message that validates has each one it carries.
    let lazy = (
        m.top_via().map(|v| (v.branch(), v.received(), v.rport())),
        m.from().and_then(|f| f.tag()),
        m.to().map(|t| t.tag()),
        m.call_id(),
        m.cseq().map(|c| c.seq),
    );
    if m.validate().is_ok() {
        for (name, present) in [
            ("Via", lazy.0.is_some()),
            ("From", m.from().is_some()),
            ("To", lazy.2.is_some()),
            ("Call-ID", lazy.3.is_some()),
            ("CSeq", lazy.4.is_some()),
        ] {
            assert_eq!(m.header(name).is_some(), present, "{name}");
        }
    }
    // Exercise every accessor and the full validation.
    let _ = m.validate();
    let _ = m.check_request_headers();
    let _ = m.via().count();
    let _ = m.contacts().count();
    let _ = m.routes().count() + m.record_routes().count();
    let _ = (
        m.content_type(),
        m.expires(),
        m.authorization(),
        m.require().count(),
    );
    for h in m.headers() {
        if let Ok(t) = h.typed() {
            let _ = t.to_string();
        }
    }
    let out = m.to_bytes();
    if let Err(e) = Message::parse(&out) {
        panic!(
            "serialised message does not re-parse: {e}\n{}",
            String::from_utf8_lossy(&out)
        );
    }
});
