//! Fuzz the message-summary parser (RFC 3842, the body of a NOTIFY from a voicemail
//! server): no input may panic; whatever parses emits a body that parses to the same
//! summary.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_sip::mwi::MessageSummary;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = MessageSummary::parse(data) else {
        return;
    };
    let out = s.emit();
    assert_eq!(
        MessageSummary::parse(out.as_bytes()),
        Ok(s),
        "an emitted summary does not re-parse the same:\n{out}"
    );
});
