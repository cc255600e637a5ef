//! The services of an FXS port against a real, independent SIP caller (sipp) and a real
//! `tipring run` with a simulated card: call forwarding answers 302 with the configured
//! target and never rings the phone; a phone rejecting anonymous calls answers a caller
//! who withholds its identity with 433 and never rings, while a caller who shows itself
//! rings it.

mod common;

use common::gateway::{Conf, commands, fxs, run, sipp, start, wait_exit_ok};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};

/// The gateway at 127.0.81.1 with phone 201 configured with `opts`, sipp at 127.0.81.9
/// (trusted, so its calls may ring a phone) running `scenario`; whether sipp succeeded,
/// its output, the gateway and its scratch directory.
fn call_with(tag: &str, opts: &str, scenario: &str) -> (bool, String, Node, TempDir) {
    let tmp = TempDir::new(tag).expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 81, 1], 25081));
    let caller = SocketAddr::from(([127, 0, 81, 9], 25081));
    let conf = Conf::new(gw)
        .ports(&format!("{}{opts}\n", fxs("201", "Desk")))
        .trust("127.0.81.9");
    let g = start("gw", &tmp.0.join("gw"), gw, &conf, 81);
    let mut uac = sipp(&tmp.0, scenario, caller, &[&gw.to_string()]);
    let (st, out) = uac.wait(Duration::from_secs(20));
    // Time for a (wrong) ring to reach the card.
    run(&g, "wait 500ms");
    (st.success(), out, g, tmp)
}

#[test]
fn forwarding_answers_302_with_the_target_and_never_rings() {
    let _serial = common::gateway::serial();
    let (ok, out, mut g, _tmp) = call_with(
        "svc-fwd",
        "forward_always = \"sip:vm@192.0.2.50\"",
        "gw_uac_forwarded.xml",
    );
    assert!(ok, "sipp got a 302 to sip:vm@192.0.2.50: {out}");
    assert_eq!(commands(&g, 0), [], "the phone never rang");
    wait_exit_ok(&mut g);
}

#[test]
fn a_hidden_caller_gets_433_where_anonymity_is_rejected() {
    let _serial = common::gateway::serial();
    let (ok, out, mut g, _tmp) =
        call_with("svc-acr", "reject_anonymous = true", "gw_uac_anonymous.xml");
    assert!(ok, "sipp got its 433: {out}");
    assert_eq!(commands(&g, 0), [], "the phone never rang");
    wait_exit_ok(&mut g);
}
