//! `tipring call` to `tipring answer` as real processes over TLS (certificates made here
//! with rcgen: a test CA and a server certificate for 127.0.0.1) and over TCP.

mod common;

use common::process::Tipring;
use std::time::Duration;

/// A CA and a certificate for 127.0.0.1 signed by it (`cert.pem`, `cert.key`), as PEM
/// files in a scratch directory removed at the end.
struct Pki {
    pki: common::pki::Pki,
    _dir: testkit::testbed::TempDir,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = testkit::testbed::TempDir::new(&format!("tipring-ua-tls-{name}")).unwrap();
        let ca = format!("tipring CLI test CA {name}");
        Pki {
            pki: common::pki::Pki::new(&dir.0, &ca, &[("cert", "127.0.0.1")]),
            _dir: dir,
        }
    }

    fn path(&self, f: &str) -> String {
        self.pki.path(f).to_string_lossy().into_owned()
    }
}

/// Messages of a ladder (`-> addr FIRST LINE` / `<- addr FIRST LINE`) in order, as
/// (arrow, first line).
fn ladder(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let (arrow, rest) = l.split_once(' ')?;
            if arrow != "->" && arrow != "<-" {
                return None;
            }
            let (_, first) = rest.split_once(' ')?;
            Some((arrow.to_owned(), first.to_owned()))
        })
        .collect()
}

/// Runs answer on `port` and call to it with `answer_args`/`call_args` added; asserts the
/// whole call on both ladders.
fn call_answer(name: &str, port: u16, transport: &str, answer_args: &[&str], call_args: &[&str]) {
    let listen = format!("127.0.0.1:{port}");
    let mut a = vec![
        "answer",
        "--listen",
        &listen,
        "--transport",
        transport,
        "--answer-after-ms",
        "100",
        "--calls",
        "1",
    ];
    a.extend_from_slice(answer_args);
    let mut answer = Tipring::spawn(&format!("{name}-answer"), &a);
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("sip:u@{listen}");
    let mut c = vec!["call", &uri, "--transport", transport, "--hold-secs", "1"];
    c.extend_from_slice(call_args);
    let mut call = Tipring::spawn(&format!("{name}-call"), &c);
    let (status, out) = call.wait(Duration::from_secs(20));
    assert!(status.success(), "call: {out}\n{}", call.stderr());
    let l = ladder(&out);
    let sent: Vec<&str> = l
        .iter()
        .filter(|(a, _)| a == "->")
        .map(|(_, m)| m.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(sent, ["INVITE", "ACK", "BYE"], "{out}");
    assert!(
        l.iter()
            .any(|(a, m)| a == "<-" && m.starts_with("SIP/2.0 200 OK")),
        "{out}"
    );
    assert!(out.contains("ended: LocalBye"), "{out}");
    let (status, aout) = answer.wait(Duration::from_secs(10));
    assert!(status.success(), "answer: {aout}\n{}", answer.stderr());
    let received: Vec<String> = ladder(&aout)
        .into_iter()
        .filter(|(a, _)| a == "<-")
        .map(|(_, m)| m.split(' ').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(received, ["INVITE", "ACK", "BYE"], "{aout}");
    // It really was this transport: answer listened on it and its Contact names it.
    let (label, param) = if transport == "tls" {
        ("(Tls)", ";transport=tls")
    } else {
        ("(Tcp)", ";transport=tcp")
    };
    assert!(answer.stderr().contains(label), "{}", answer.stderr());
    assert!(
        l.iter()
            .any(|(a, m)| a == "->" && m.starts_with("BYE ") && m.contains(param)),
        "{out}"
    );
}

#[test]
fn call_to_answer_over_tls() {
    let pki = Pki::new("call");
    let (cert, key, ca) = (
        pki.path("cert.pem"),
        pki.path("cert.key"),
        pki.path("ca.pem"),
    );
    call_answer(
        "tls",
        17741,
        "tls",
        &["--cert", &cert, "--key", &key, "--ca", &ca],
        &["--ca", &ca],
    );
}

#[test]
fn call_to_answer_over_tcp() {
    call_answer("tcp", 17742, "tcp", &[], &[]);
}

#[test]
fn tls_without_files_is_refused_with_a_reason() {
    let mut answer = Tipring::spawn(
        "tls-nofiles",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17743",
            "--transport",
            "tls",
        ],
    );
    let (status, _) = answer.wait(Duration::from_secs(10));
    assert!(!status.success());
    assert!(answer.stderr().contains("--cert"), "{}", answer.stderr());
}

#[test]
fn a_server_certificate_that_does_not_verify_fails_the_call_at_once() {
    let pki = Pki::new("server");
    let stranger = Pki::new("stranger");
    let (cert, key) = (pki.path("cert.pem"), pki.path("cert.key"));
    let _answer = Tipring::spawn(
        "tls-untrusted-answer",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17744",
            "--transport",
            "tls",
            "--cert",
            &cert,
            "--key",
            &key,
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let wrong_ca = stranger.path("ca.pem");
    let started = std::time::Instant::now();
    let mut call = Tipring::spawn(
        "tls-untrusted-call",
        &[
            "call",
            "sip:u@127.0.0.1:17744",
            "--transport",
            "tls",
            "--ca",
            &wrong_ca,
        ],
    );
    // Not after Timer B (32 s): the failed handshake ends the INVITE at once.
    let (status, out) = call.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(8), "{out}\n{}", call.stderr());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(out.contains("ended: Timeout"), "{out}");
}
