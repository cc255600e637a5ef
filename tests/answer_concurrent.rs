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

#[test]
fn tone_runs_in_each_of_two_concurrent_calls() {
    let _answer = Tipring::spawn(
        "tone-answer",
        &[
            "answer",
            "--listen",
            "127.0.17.7:17861",
            "--answer-after-ms",
            "0",
            "--tone",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let sip = std::net::UdpSocket::bind("127.0.17.8:0").unwrap();
    let me = sip.local_addr().unwrap();
    // Two calls, each offering its own RTP port; both are up at once (no ACK, no BYE).
    let rtp: Vec<std::net::UdpSocket> = (0..2)
        .map(|_| {
            let s = std::net::UdpSocket::bind("127.0.17.8:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    for (i, r) in rtp.iter().enumerate() {
        let port = r.local_addr().unwrap().port();
        let body = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.17.8\r\ns=-\r\nc=IN IP4 127.0.17.8\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        );
        let invite = format!(
            "INVITE sip:u@127.0.17.7:17861 SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKtone{i}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:t@{me}>;tag=t{i}\r\nTo: <sip:u@127.0.17.7:17861>\r\n\
             Call-ID: tone{i}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:t@{me}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        sip.send_to(invite.as_bytes(), "127.0.17.7:17861").unwrap();
    }
    let mut ssrcs = Vec::new();
    for r in &rtp {
        let mut pcm = Vec::new();
        let mut buf = [0u8; 1500];
        let mut ssrc = None;
        while pcm.len() < 8000 {
            let n = r.recv(&mut buf).expect("RTP from tipring answer");
            let p = tipring_media::rtp::RtpPacket::new_checked(&buf[..n]).expect("RTP");
            assert_eq!(p.payload_type(), 0);
            assert!(ssrc.is_none_or(|s| s == p.ssrc()), "one stream per call");
            ssrc = Some(p.ssrc());
            let mut frame = vec![0i16; p.payload().len()];
            tipring_media::g711::Law::Ulaw.decode(p.payload(), &mut frame);
            pcm.extend(frame);
        }
        // 1 kHz: 2000 sign changes a second.
        let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count() as f64;
        let hz = crossings / 2.0 / (pcm.len() as f64 / 8000.0);
        assert!((hz - 1000.0).abs() < 20.0, "{hz} Hz");
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 5000, "a -10 dBm0 tone, peak {peak}");
        ssrcs.push(ssrc);
    }
    assert_ne!(ssrcs[0], ssrcs[1], "each call its own RTP stream");
}
