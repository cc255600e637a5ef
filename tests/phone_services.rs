//! The services of an FXS port against a real, independent SIP caller (sipp) and a real
//! `tipring run` with a simulated card: call forwarding answers 302 with the configured
//! target and never rings the phone; a phone rejecting anonymous calls answers a caller
//! who withholds its identity with 433 and never rings, while a caller who shows itself
//! rings it. Feature codes dialled on the simulated phone switch the same services (the
//! phone hears the confirmation tone) and withhold the caller ID of one call.

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
    let (ok, out) = sipp_call(&tmp, scenario, caller, gw);
    // Time for a (wrong) ring to reach the card.
    run(&g, "wait 500ms");
    (ok, out, g, tmp)
}

/// sipp's `scenario` as a caller from `caller` to the gateway at `gw`, one call: whether
/// it succeeded, and its output.
fn sipp_call(tmp: &TempDir, scenario: &str, caller: SocketAddr, gw: SocketAddr) -> (bool, String) {
    let mut uac = sipp(&tmp.0, scenario, caller, &[&gw.to_string()]);
    let (st, out) = uac.wait(Duration::from_secs(20));
    (st.success(), out)
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

/// The phone dials `*77` (anonymous call rejection on), then `*72` and `300` (forward
/// always): it hears the confirmation tone after each; a hidden caller then gets 433, and
/// the next caller a 302 to the number as the account's domain routes it; the phone never
/// rings.
#[test]
fn feature_codes_dialled_on_the_phone_switch_its_services() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("svc-codes").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 81, 1], 25083));
    let caller = SocketAddr::from(([127, 0, 81, 9], 25083));
    let conf = Conf::new(gw)
        .account("sp", "domain = \"forward.test\"")
        .ports(&fxs("201", "Desk"))
        .trust("127.0.81.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 83);
    run(
        &g,
        "offhook 0\nexpect-tone 0 350+440 3s\ndial 0 *77\nexpect-tone 0 confirmation 3s\n\
         onhook 0\nwait 300ms",
    );
    let (ok, out) = sipp_call(&tmp, "gw_uac_anonymous.xml", caller, gw);
    assert!(ok, "sipp got its 433 after *77: {out}");
    run(
        &g,
        "offhook 0\nexpect-tone 0 350+440 3s\ndial 0 *72\nexpect-tone 0 confirmation 3s\n\
         dial 0 300\nexpect-tone 0 confirmation 3s\nonhook 0\nwait 300ms",
    );
    let (ok, out) = sipp_call(&tmp, "gw_uac_forwarded_code.xml", caller, gw);
    assert!(ok, "sipp got a 302 to sip:300@forward.test: {out}");
    run(&g, "wait 500ms");
    assert!(
        !commands(&g, 0)
            .iter()
            .any(|c| matches!(c, tipring_hal::model::Command::Ring(_))),
        "the phone never rang"
    );
    wait_exit_ok(&mut g);
}

/// `*67` before a call: the warm line's call that follows goes out anonymous with
/// `Privacy: id` (checked by sipp as the far end), although the port shows its number.
#[test]
fn a_feature_code_withholds_the_caller_id_of_one_call() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("svc-cid-once").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 81, 1], 25085));
    let far = SocketAddr::from(([127, 0, 81, 9], 25085));
    let port = format!(
        "{}warm_line = \"sip:svc@{far}\"\nwarm_line_delay_ms = 1500\n",
        fxs("201", "Desk")
    );
    let conf = Conf::new(gw).ports(&port).trust("127.0.81.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 85);
    let mut uas = sipp(&tmp.0, "gw_uas_anonymous.xml", far, &[]);
    run(
        &g,
        "offhook 0\nexpect-tone 0 350+440 3s\ndial 0 *67\nexpect-tone 0 confirmation 3s\n\
         expect-tone 0 congestion 8s\nonhook 0",
    );
    let (st, out) = uas.wait(Duration::from_secs(20));
    assert!(
        st.success(),
        "sipp saw an anonymous INVITE with Privacy: id: {out}"
    );
    wait_exit_ok(&mut g);
}

/// Message waiting against a voicemail server (sipp, the account's `mwi_server`): the
/// gateway subscribes; the NOTIFY saying a message waits lights the phone's lamp, tells it
/// by on-hook FSK (decoded by the simulator) and gives stutter dial tone when the handset
/// is lifted; the NOTIFY saying none waits puts the lamp out and tells the phone so; at
/// shutdown the subscription is removed (sipp checks each step).
#[test]
fn message_waiting_lights_the_lamp_tells_the_phone_and_stutters_the_dial_tone() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("svc-mwi").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 81, 1], 25087));
    let vm = SocketAddr::from(([127, 0, 81, 9], 25087));
    let mut server = sipp(&tmp.0, "gw_mwi_server.xml", vm, &[]);
    let conf = Conf::new(gw)
        .account(
            "vm",
            &format!("username = \"201\"\nmwi_server = \"sip:vm@{vm}\""),
        )
        .ports(&fxs("201", "Desk"));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 87);
    run(
        &g,
        "expect-lamp 0 on 5s\nexpect-vmwi 0 on 5s\noffhook 0\nexpect-tone 0 confirmation 3s\n\
         onhook 0",
    );
    run(&g, "expect-lamp 0 off 12s\nexpect-vmwi 0 off 5s");
    wait_exit_ok(&mut g);
    let (st, out) = server.wait(Duration::from_secs(30));
    assert!(
        st.success(),
        "the voicemail server saw the whole exchange: {out}"
    );
}
