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
            "127.0.0.1:17711",
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
        &["call", "sip:u@127.0.0.1:17711", "--hold-secs", "2"],
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

#[test]
fn sigterm_hangs_up_the_call_and_stops_answer() {
    let mut answer = Tipring::spawn(
        "term-answer",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17721",
            "--answer-after-ms",
            "100",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut call = Tipring::spawn(
        "term-call",
        &["call", "sip:u@127.0.0.1:17721", "--hold-secs", "60"],
    );
    wait_for(&call, "<- 127.0.0.1:17721 SIP/2.0 200");
    call.terminate();
    let (status, out) = call.wait(Duration::from_secs(10));
    assert!(status.success(), "call: {out}\n{}", call.stderr());
    assert!(has(&out, "->", "BYE "), "{out}");
    assert!(out.contains("ended: LocalBye"), "{out}");
    // answer, with no call left, exits cleanly on SIGTERM.
    answer.terminate();
    let (status, _) = answer.wait(Duration::from_secs(10));
    assert!(status.success(), "answer: {}", answer.stderr());
}

#[test]
fn sigterm_makes_answer_end_its_calls_with_bye() {
    let mut answer = Tipring::spawn(
        "term-answer2",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17722",
            "--answer-after-ms",
            "100",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut call = Tipring::spawn(
        "term-call2",
        &["call", "sip:u@127.0.0.1:17722", "--hold-secs", "60"],
    );
    wait_for(&call, "<- 127.0.0.1:17722 SIP/2.0 200");
    std::thread::sleep(Duration::from_millis(200));
    answer.terminate();
    let (status, out) = answer.wait(Duration::from_secs(10));
    assert!(status.success(), "answer: {out}\n{}", answer.stderr());
    assert!(has(&out, "->", "BYE "), "{out}");
    let (status, out) = call.wait(Duration::from_secs(10));
    assert!(status.success(), "call: {out}");
    assert!(out.contains("ended: RemoteBye"), "{out}");
}

#[test]
fn sigterm_makes_register_unregister() {
    // `tipring answer` refuses REGISTER (405), which is all this needs: the unregister is
    // sent and answered, and register exits cleanly.
    let _answer = Tipring::spawn("term-registrar", &["answer", "--listen", "127.0.0.1:17723"]);
    std::thread::sleep(Duration::from_millis(300));
    let mut reg = Tipring::spawn(
        "term-register",
        &["register", "sip:127.0.0.1:17723", "--user", "u"],
    );
    wait_for(&reg, "register: failed with 405");
    reg.terminate();
    let (status, out) = reg.wait(Duration::from_secs(10));
    assert!(status.success(), "register: {out}\n{}", reg.stderr());
    let registers = out
        .lines()
        .filter(|l| l.starts_with("-> 127.0.0.1:17723 REGISTER "))
        .count();
    assert_eq!(registers, 2, "the REGISTER, then the unregister: {out}");
    assert!(out.contains("register: unregistered"), "{out}");
}

/// Waits up to 10 s for `t`'s stdout to contain `text`.
fn wait_for(t: &Tipring, text: &str) {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !t.stdout().contains(text) {
        assert!(
            std::time::Instant::now() < end,
            "no {text:?} in: {}\n{}",
            t.stdout(),
            t.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn answer_refuses_bad_sdp_with_a_warning() {
    let _answer = Tipring::spawn("bad-sdp", &["answer", "--listen", "127.0.0.1:17731"]);
    std::thread::sleep(Duration::from_millis(300));
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let me = sock.local_addr().unwrap();
    let send = |body: &str, id: &str| {
        let invite = format!(
            "INVITE sip:u@127.0.0.1:17731 SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{id}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:t@{me}>;tag=t{id}\r\nTo: <sip:u@127.0.0.1:17731>\r\n\
             Call-ID: {id}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:t@{me}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        sock.send_to(invite.as_bytes(), "127.0.0.1:17731").unwrap();
        let mut buf = [0u8; 4096];
        loop {
            let (n, _) = sock.recv_from(&mut buf).expect("a final response");
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("SIP/2.0 1") {
                return text;
            }
        }
    };
    // Not SDP at all: 400 with a 399 Warning naming the error.
    let r = send("hello\r\n", "bad1");
    assert!(r.starts_with("SIP/2.0 400"), "{r}");
    let w = r
        .lines()
        .find(|l| l.starts_with("Warning: 399 127.0.0.1:17731 \""))
        .unwrap_or_else(|| panic!("no 399 Warning in {r}"));
    assert!(w.len() > "Warning: 399 127.0.0.1:17731 \"\"".len(), "{w}");
    // Well-formed SDP with only a codec we lack: 488 with 305.
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
    let r = send(sdp, "bad2");
    assert!(r.starts_with("SIP/2.0 488"), "{r}");
    assert!(
        r.contains("Warning: 305 127.0.0.1:17731 \"Incompatible media format\""),
        "{r}"
    );
}
