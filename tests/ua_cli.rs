//! `tipring call` against `tipring answer`, both real processes on loopback: a re-INVITE
//! from the far end is answered, both stop cleanly on SIGTERM, and calls run over TCP and
//! TLS. Each test uses its own ports; every child is killed on drop.

mod common;

use common::process::Tipring;
use std::time::Duration;

/// The line of `out` for a message sent (`->`) or received (`<-`) whose first line starts
/// with `start`.
fn has(out: &str, arrow: &str, start: &str) -> bool {
    out.lines().any(|l| {
        l.strip_prefix(arrow)
            .and_then(|r| r.trim_start().split_once(' '))
            .is_some_and(|(_, first)| first.starts_with(start))
    })
}

#[test]
fn call_answers_a_hold_reinvite_from_the_far_end() {
    let mut answer = Tipring::spawn(
        "reoffer-answer",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17611",
            "--answer-after-ms",
            "100",
            "--hold-after-ms",
            "300",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut call = Tipring::spawn(
        "reoffer-call",
        &["call", "sip:u@127.0.0.1:17611", "--hold-secs", "2"],
    );
    let (status, out) = call.wait(Duration::from_secs(20));
    assert!(status.success(), "call: {out}\n{}", call.stderr());
    // The re-INVITE (a=sendonly) got a 200 from `tipring call`, with a=recvonly in it.
    assert!(has(&out, "<-", "INVITE "), "{out}");
    assert!(has(&out, "->", "SIP/2.0 200"), "{out}");
    let (status, _) = answer.wait(Duration::from_secs(10));
    assert!(status.success());
    let err = answer.stderr();
    assert!(
        err.contains("re-INVITE answered: recvonly"),
        "answer: {err}"
    );
}
