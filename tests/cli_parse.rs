//! `tipring parse` as a real process: a good message prints JSON and exits 0, a malformed
//! one names the fault on stderr and exits 1.

use std::io::Write;
use std::process::{Command, Stdio};

fn tipring() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tipring"))
}

fn sample(name: &str) -> String {
    format!("{}/sip/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn good_message_prints_json() {
    let out = tipring()
        .args(["parse", &sample("samples/invite_sdp.sip")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["start_line"]["method"], "INVITE");
    assert_eq!(v["start_line"]["uri"]["user"], "+15551234567");
    let headers = v["headers"].as_array().unwrap();
    assert_eq!(headers[0]["name"], "Via");
    assert_eq!(headers[0]["typed"][0]["branch"], "z9hG4bK776asdhds");
    assert_eq!(headers[0]["typed"][0]["rport"], true);
    let cseq = headers.iter().find(|h| h["name"] == "CSeq").unwrap();
    assert_eq!(cseq["typed"]["seq"], 314159);
    let body_len = std::fs::read(sample("samples/invite_sdp.sip"))
        .unwrap()
        .len()
        - std::fs::read_to_string(sample("samples/invite_sdp.sip"))
            .unwrap()
            .find("\r\n\r\n")
            .unwrap()
        - 4;
    assert_eq!(v["body_length"], body_len);
}

#[test]
fn bare_lf_from_stdin() {
    let text = std::fs::read_to_string(sample("samples/bye.sip"))
        .unwrap()
        .replace("\r\n", "\n");
    let mut child = tipring()
        .args(["parse", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["start_line"]["method"], "BYE");
}

#[test]
fn malformed_message_names_fault_and_exits_1() {
    let out = tipring()
        .args(["parse", &sample("rfc4475/badinv01.dat")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in Via at byte"), "{err}");
    assert!(err.contains("400 Bad Request"), "{err}");

    let out = tipring()
        .args(["parse", &sample("rfc4475/badvers.dat")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("505"));
}
