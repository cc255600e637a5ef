//! Answer supervision by voice on an FXO line (`answer_supervision = "speech"`), against a
//! real `tipring run` on a simulated card and `tipring call` as the SIP caller on
//! 127.0.83.x: the line is seized and dialled, the exchange's ringback plays for seconds
//! without the caller being answered, and the far party's voice (non-tonal sound played
//! by the simulated exchange) answers the call.

mod common;

use common::gateway::{Conf, run, serial, start, wait_exit_ok};
use common::process::Tipring;
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::TempDir;

/// Whether a `tipring call` ladder shows a 200 received.
fn answered(ladder: &str) -> bool {
    ladder
        .lines()
        .any(|l| l.starts_with("<-") && l.contains("SIP/2.0 200"))
}

#[test]
fn a_line_call_is_answered_when_the_far_party_talks_not_at_ringback() {
    let _serial = serial();
    let tmp = TempDir::new("fxo-answer-speech").unwrap();
    let gw = SocketAddr::from(([127, 0, 83, 1], 25083));
    let conf = Conf::new(gw)
        .ports(
            "[[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"hotline\"\n\
             hotline = \"sip:desk@127.0.83.3\"\nanswer_supervision = \"speech\"\n",
        )
        .trust("127.0.83.3");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 83);
    let mut c = Tipring::spawn(
        "fxo-answer-speech",
        &[
            "call",
            &format!("sip:201@{gw}"),
            "--listen",
            "127.0.83.3:0",
            "--hold-secs",
            "1",
        ],
    );
    // Dial tone, the digits, then five seconds of ringback.
    run(
        &g,
        "expect-seized 3 8s\nplay 3 tone:dial 3s\nwait 3500ms\nplay 3 tone:ringback 5s\n\
         wait 5000ms",
    );
    assert!(
        !answered(&c.stdout()),
        "answered before anyone talked:\n{}",
        c.stdout()
    );
    // The far party picks up and talks.
    run(&g, "play 3 tone:1100+1650 2s\nwait 2000ms");
    let (status, ladder) = c.wait(Duration::from_secs(20));
    assert!(
        status.success() && answered(&ladder),
        "not answered:\n{ladder}"
    );
    run(&g, "expect-released 3 5s");
    wait_exit_ok(&mut g);
}
