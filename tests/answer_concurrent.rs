//! `tipring answer` as a concurrent diagnostic UAS, a real process on loopback: sipp's
//! built-in UAC at 10 calls/s with a 500 ms hold (calls overlap) completes every call, an
//! INVITE beyond `--max-calls` gets the `--over-cap` status, and `--hold-ms` ends a call
//! with our BYE. Each test uses its own addresses in 127.0.17.0/24; children are killed on
//! drop.

mod common;
#[path = "sipp/harness.rs"]
mod harness;

use common::process::Tipring;
use harness::Sipp;
use std::time::Duration;

/// The figure after `label` in answer's exit line (`answer: 30 calls ended, ...`).
fn tally(err: &str, label: &str) -> u64 {
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("answer: ") && l.contains(" calls ended"))
        .unwrap_or_else(|| panic!("no tally in {err}"));
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let at = words
        .windows(label.split(' ').count())
        .position(|w| w.join(" ") == label)
        .unwrap_or_else(|| panic!("no {label:?} in {line}"));
    if label == "at most" {
        words[at + 2].parse().expect("a count")
    } else {
        words[at - 1].parse().expect("a count")
    }
}

#[test]
fn sipp_uac_at_10_cps_with_500_ms_hold_completes_every_call() {
    // Each call is answered 500 ms after its INVITE and held 500 ms by sipp: about ten are
    // up at once.
    let mut answer = Tipring::spawn(
        "conc-answer",
        &["answer", "--listen", "127.0.17.1:17801", "--calls", "30"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut sipp = Sipp::spawn(
        "conc-uac",
        &[
            "-sn",
            "uac",
            "127.0.17.1:17801",
            "-i",
            "127.0.17.2",
            "-p",
            "17802",
            "-mp",
            "17810",
            "-r",
            "10",
            "-d",
            "500",
            "-m",
            "30",
        ],
    );
    sipp.expect_success_blocking(Duration::from_secs(60));
    let (status, _) = answer.wait(Duration::from_secs(20));
    let err = answer.stderr();
    assert!(status.success(), "answer: {err}");
    assert_eq!(tally(&err, "calls ended"), 30, "{err}");
    assert_eq!(tally(&err, "answered"), 30, "{err}");
    assert!(tally(&err, "at most") >= 3, "calls overlapped: {err}");
}

#[test]
fn invites_beyond_max_calls_get_the_over_cap_status() {
    // Calls are answered after 2 s and held 1 s: with two allowed at once, most of the ten
    // INVITEs sent within a second find the cap reached.
    let mut answer = Tipring::spawn(
        "cap-answer",
        &[
            "answer",
            "--listen",
            "127.0.17.3:17821",
            "--answer-after-ms",
            "2000",
            "--max-calls",
            "2",
            "--over-cap",
            "503",
            "--calls",
            "10",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut sipp = Sipp::spawn(
        "cap-uac",
        &[
            "-sn",
            "uac",
            "127.0.17.3:17821",
            "-i",
            "127.0.17.4",
            "-p",
            "17822",
            "-mp",
            "17830",
            "-r",
            "10",
            "-d",
            "1000",
            "-m",
            "10",
        ],
    );
    let _ = sipp.wait_blocking(Duration::from_secs(60));
    let (status, out) = answer.wait(Duration::from_secs(20));
    let err = answer.stderr();
    assert!(status.success(), "answer: {err}");
    let refused = out
        .lines()
        .filter(|l| l.starts_with("-> 127.0.17.4:17822 SIP/2.0 503 "))
        .count() as u64;
    assert!(refused >= 5, "503s sent: {out}");
    assert_eq!(tally(&err, "refused over --max-calls"), refused, "{err}");
    assert_eq!(tally(&err, "answered"), 10 - refused, "{err}");
    assert_eq!(tally(&err, "at most"), 2, "{err}");
}

#[test]
fn hold_ms_hangs_up_with_bye() {
    let mut answer = Tipring::spawn(
        "holdms-answer",
        &[
            "answer",
            "--listen",
            "127.0.17.5:17841",
            "--answer-after-ms",
            "100",
            "--hold-ms",
            "300",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut call = Tipring::spawn(
        "holdms-call",
        &["call", "sip:u@127.0.17.5:17841", "--hold-secs", "60"],
    );
    let (status, out) = call.wait(Duration::from_secs(20));
    assert!(status.success(), "call: {out}\n{}", call.stderr());
    assert!(out.contains("ended: RemoteBye"), "{out}");
    let (status, out) = answer.wait(Duration::from_secs(10));
    assert!(status.success(), "answer: {}", answer.stderr());
    assert!(
        out.lines()
            .any(|l| l.starts_with("-> ") && l.contains(" BYE sip:")),
        "{out}"
    );
}
