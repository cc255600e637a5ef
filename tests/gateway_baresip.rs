//! A phone on `tipring run` (simulated line card) and baresip (Debian `baresip`, headless,
//! auto-answer, aubridge feeding what it receives back into what it sends): baresip calls
//! the phone, which rings and answers; the phone dials baresip, which answers. Audio is
//! measured at the phone: a tone it sends comes back through baresip's echo, so it crossed
//! the gateway and baresip both ways. baresip's own log says the call was established,
//! RTP arrived, and the call was closed.

mod common;

use common::baresip::Baresip;
use common::gateway::{
    BARESIP_ESTABLISHED, Conf, fxs, run, start, talk_through_baresip_and_hang_up, wait_exit_ok,
};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};

const RTP_IN: &str = "incoming rtp for 'audio' established";

/// The call up: audio both ways through baresip, the hangup, and our RTP reached baresip.
fn talk_and_hang_up(g: &Node, bs: &Baresip) {
    talk_through_baresip_and_hang_up(g, bs);
    assert!(bs.output().contains(RTP_IN), "{}", bs.output());
}

#[test]
fn baresip_calls_a_phone_on_tipring_run() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-bs-in").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 61, 1], 25061));
    let bs_addr = SocketAddr::from(([127, 0, 61, 5], 25161));
    // baresip calls the phone directly, without a proxy: trusted to ring it.
    let conf = Conf::new(gw)
        .ports(&fxs("200", "Bob"))
        .trust(&bs_addr.ip().to_string());
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 41);
    let bs = Baresip::start(
        "hil-in",
        bs_addr,
        "555",
        &["-e", &format!("/dial sip:200@{gw}"), "-t", "20"],
    );
    run(&g, "expect-ringing 0 8s");
    run(&g, "expect-callerid 0 555 8s\noffhook 0");
    talk_and_hang_up(&g, &bs);
    wait_exit_ok(&mut g);
}

#[test]
fn a_phone_on_tipring_run_calls_baresip() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-bs-out").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 62, 1], 25062));
    let bs_addr = SocketAddr::from(([127, 0, 62, 5], 25162));
    let bs = Baresip::start("hil-out", bs_addr, "300", &["-t", "30"]);
    assert!(
        bs.wait_for("baresip is ready", Duration::from_secs(5)),
        "{}",
        bs.output()
    );
    let conf = Conf::new(gw)
        .account("soft", &format!("proxy = \"sip:{bs_addr}\""))
        .ports(&fxs("100", "Alice"));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 42);
    run(&g, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 300");
    talk_and_hang_up(&g, &bs);
    let out = bs.output();
    assert!(
        out.contains(&format!("{BARESIP_ESTABLISHED}: sip:100@")),
        "the call came from the phone's number: {out}"
    );
    wait_exit_ok(&mut g);
}
