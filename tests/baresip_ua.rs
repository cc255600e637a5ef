//! The UA core against baresip (Debian `baresip`): headless, auto-answer, no sound card
//! (its aubridge module stands in for the audio device). baresip calls `tipring answer`,
//! and `tipring call` calls baresip; RTP from tipring must reach baresip (its own log says
//! so). Each test has its own loopback ports; children are killed on drop.

mod common;

use common::baresip::Baresip;
use common::process::Proc;
use std::time::Duration;

#[test]
fn baresip_calls_tipring_answer() {
    let dir = std::env::temp_dir().join(format!("tipring-answer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut ans = Proc::spawn(
        &dir,
        "answer",
        env!("CARGO_BIN_EXE_tipring"),
        &[
            "answer",
            "--listen",
            "127.0.0.1:17612",
            "--answer-after-ms",
            "200",
            "--calls",
            "1",
            "--tone",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut bs = Baresip::start(
        "calls-us",
        "127.0.0.1:17611".parse().expect("addr"),
        "bob",
        &["-e", "/dial sip:x@127.0.0.1:17612", "-t", "3"],
    );
    let (st, out) = ans.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    let (_, bout) = bs.wait(Duration::from_secs(10));
    assert!(
        out.contains("<- 127.0.0.1:17611 INVITE sip:x@127.0.0.1:17612"),
        "{out}"
    );
    assert!(out.contains("-> 127.0.0.1:17611 SIP/2.0 200 OK"), "{out}");
    assert!(out.contains("<- 127.0.0.1:17611 ACK "), "{out}");
    assert!(out.contains("<- 127.0.0.1:17611 BYE "), "{out}");
    assert!(bout.contains("Call established"), "{bout}");
    assert!(
        bout.contains("incoming rtp for 'audio' established"),
        "our RTP reached baresip: {bout}"
    );
}

#[test]
fn tipring_call_reaches_baresip() {
    let bs = Baresip::start(
        "called",
        "127.0.0.1:17613".parse().expect("addr"),
        "bob",
        &["-t", "8"],
    );
    std::thread::sleep(Duration::from_millis(1000));
    let mut call = Proc::spawn(
        &bs.dir,
        "call",
        env!("CARGO_BIN_EXE_tipring"),
        &["call", "sip:bob@127.0.0.1:17613", "--hold-secs", "2"],
    );
    let (st, out) = call.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    assert!(out.contains("<- 127.0.0.1:17613 SIP/2.0 200"), "{out}");
    assert!(out.contains("-> 127.0.0.1:17613 BYE "), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let bout = bs.output();
    assert!(
        bout.contains("Call established: sip:tipring@127.0.0.1"),
        "{bout}"
    );
    assert!(
        bout.contains("incoming rtp for 'audio' established"),
        "our RTP reached baresip: {bout}"
    );
    drop(bs);
}
