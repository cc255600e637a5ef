//! Hostile inputs found while writing and fuzzing the parser: each must be answered with an
//! error or a message, never a panic, and anything that parses must re-parse after
//! serialisation. New fuzz crashes are added here as regression cases.

use tipring_sip::framing::Framer;
use tipring_sip::{ErrorKind, Message};

const HEAD: &str = "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n";

fn with_header(h: &str) -> Vec<u8> {
    format!("{HEAD}{h}\r\n\r\n").into_bytes()
}

fn survives(bytes: &[u8]) {
    if let Ok(m) = Message::parse(bytes) {
        let _ = m.validate();
        let _ = m.check_request_headers();
        let _ = (
            m.contacts().count(),
            m.routes().count(),
            m.authorization(),
            m.content_type(),
        );
        let out = m.to_bytes();
        Message::parse(&out)
            .unwrap_or_else(|e| panic!("re-parse failed: {e}: {}", String::from_utf8_lossy(&out)));
    }
    let _ = Framer::new(1024).decode(bytes);
}

#[test]
fn multibyte_text_where_ascii_is_expected() {
    for h in [
        "Date: ééééééééééééééééééééééééé",
        "Date: Fri, 01 Jan 2010 16:00:00 GMé",
        "From: \"é\" <sip:é@x>",
        "Via: SIP/2.0/UDP é",
        "Contact: <sip:a@b>;q=é",
        "User-Agent: (é\\é)",
        "Retry-After: 1 (é",
        "Authorization: Digest a=\"é\\",
    ] {
        survives(&with_header(h));
    }
}

#[test]
fn deep_and_unbalanced_nesting() {
    survives(&with_header(&format!("Server: {}", "(".repeat(10_000))));
    survives(&with_header(&format!(
        "Server: {}x{}",
        "(".repeat(40),
        ")".repeat(40)
    )));
    survives(&with_header(&format!("Contact: {}", "<".repeat(1000))));
    survives(&with_header(&format!("X-Q: {}", "\"".repeat(1001))));
}

#[test]
fn numbers_at_and_past_their_limits() {
    for h in [
        "Content-Length: 4294967295",
        "Content-Length: 4294967296",
        "Max-Forwards: 256",
        "Expires: 99999999999999999999999",
        "Via: SIP/2.0/UDP h:65536;branch=x",
        "Via: SIP/2.0/UDP h:;branch=x",
        "Via: SIP/2.0/UDP [::1]:99999999999999999999",
    ] {
        survives(&with_header(h));
    }
    let e = Message::parse(&with_header("Content-Length: 4294967295")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BodyTruncated { .. }));
}

#[test]
fn broken_structure() {
    for raw in [
        &b"\r\n\r\n\r\n"[..],
        b"SIP/2.0 200 OK\r\n\r\n",
        b"SIP/2.0 200\xff\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\n folded-first-line\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\n:\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia:\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: ,\r\n\r\n",
        b"INVITE sip:[::1 SIP/2.0\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\n\n",
        b"INVITE \xc3\xa9 SIP/2.0\r\n\r\n",
        b"\0\0\0\r\n\r\n",
    ] {
        survives(raw);
    }
}
