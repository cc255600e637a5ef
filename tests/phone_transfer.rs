//! Call transfer on a phone of `tipring run` (simulated card) with real, independent SIP
//! parties (sipp), RFC 5589's flows:
//!
//! - blind: the phone, in a call, flashes (the caller is held: re-INVITE a=sendonly),
//!   hears dial tone, dials 300 (the consultation rings at the account's outbound proxy)
//!   and hangs up: the consultation is cancelled and the held caller gets a REFER to
//!   `sip:300@...`; its NOTIFYs report the transfer done and the gateway ends the call;
//! - attended: the same, with the consultation answered (the phone hears its tone)
//!   before the phone hangs up: the REFER's Refer-To carries `Replaces` naming the
//!   gateway's dialog with the consulted party, whose call the gateway then ends;
//! - the far end transfers the phone: a trusted caller's REFER makes the gateway call
//!   the target (its Request-URI checked), report 100 and then 200 by NOTIFY, end the
//!   referrer's call and move the phone's audio to the target (the phone hears the
//!   target's tone instead of the caller's).

mod common;

use common::gateway::{Conf, fxs, run, sipp, start, wait_exit_ok};
use common::rtp_party::party;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use testkit::testbed::{Node, TempDir};

const PARTIES: [u8; 4] = [127, 0, 83, 9];

fn at(port: u16) -> SocketAddr {
    SocketAddr::from((PARTIES, port))
}

/// The gateway at 127.0.83.1:`port` with phone 201, its calls out through the outbound
/// proxy at `proxy` (the consulted party) when given; the parties' address is trusted.
fn gateway(tmp: &TempDir, port: u16, proxy: Option<SocketAddr>, seed: u64) -> (Node, String) {
    let gw = SocketAddr::from(([127, 0, 83, 1], port));
    let mut conf = Conf::new(gw).ports(&fxs("201", "Desk")).trust("127.0.83.9");
    if let Some(p) = proxy {
        conf = conf.account(
            "sp",
            &format!("domain = \"example.test\"\noutbound_proxy = \"sip:{p}\""),
        );
    }
    for d in ["a", "c"] {
        std::fs::create_dir_all(tmp.0.join(d)).expect("sipp's directory");
    }
    (
        start("gw", &tmp.0.join("gw"), gw, &conf, seed),
        gw.to_string(),
    )
}

/// The phone answers the caller, flashes, hears dial tone and dials 300.
const CONSULT: &str = "expect-ringing 0 5s\noffhook 0\nexpect-tone 0 1000 5s\nflash 0\n\
                       expect-tone 0 350+440 3s\ndial 0 300";

#[test]
fn the_phone_transfers_blind_by_hanging_up_while_the_consultation_rings() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-xfer-blind").expect("temp dir");
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let (mut g, gw) = gateway(&tmp, 25086, Some(at(25092)), 86);
    let rtp = caller.port.to_string();
    let mut c = sipp(
        &tmp.0.join("c"),
        "gw_xfer_consult_cancelled.xml",
        at(25092),
        &[],
    );
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_xfer_blind_held.xml",
        at(25086),
        &[&gw, "-set", "rtp", &rtp],
    );
    run(&g, CONSULT);
    run(&g, "expect-tone 0 440+480 5s\nonhook 0");
    let (sc, out_c) = c.wait(Duration::from_secs(20));
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(
        sc.success(),
        "the consultation rang and was cancelled: {out_c}"
    );
    assert!(
        sa.success(),
        "the caller was held, sent to sip:300@... by REFER, and let go: {out_a}"
    );
    run(&g, "wait 1s");
    let log: Vec<String> = g.lines().iter().map(|l| l.text.clone()).collect();
    assert!(
        log.iter().any(|l| l.contains("transferred (200)")),
        "{log:#?}"
    );
    caller.thread.join().expect("caller's media");
    wait_exit_ok(&mut g);
}

#[test]
fn the_phone_transfers_attended_after_talking_to_the_consulted_party() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-xfer-attended").expect("temp dir");
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let consulted = party(PARTIES, 1400.0, done.clone());
    let (mut g, gw) = gateway(&tmp, 25087, Some(at(25094)), 87);
    let (rtp_a, rtp_c) = (caller.port.to_string(), consulted.port.to_string());
    let mut c = sipp(
        &tmp.0.join("c"),
        "gw_xfer_consult_answered.xml",
        at(25094),
        &["-set", "rtp", &rtp_c],
    );
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_xfer_attended_held.xml",
        at(25087),
        &[&gw, "-set", "rtp", &rtp_a],
    );
    run(&g, CONSULT);
    run(&g, "expect-tone 0 1400 5s\nwait 500ms\nonhook 0");
    let (sc, out_c) = c.wait(Duration::from_secs(20));
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(sa.success(), "REFER with Replaces to the caller: {out_a}");
    assert!(
        sc.success(),
        "the consulted party's call ended by BYE: {out_c}"
    );
    caller.thread.join().expect("caller's media");
    consulted.thread.join().expect("consulted party's media");
    wait_exit_ok(&mut g);
}

#[test]
fn a_trusted_far_end_transfers_the_phone_to_a_third_party() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-xfer-transferee").expect("temp dir");
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let target = party(PARTIES, 1400.0, done.clone());
    let (mut g, gw) = gateway(&tmp, 25088, None, 88);
    let (rtp_a, rtp_c) = (caller.port.to_string(), target.port.to_string());
    let to = format!("sip:400@{}", at(25095));
    let mut c = sipp(
        &tmp.0.join("c"),
        "gw_xfer_target.xml",
        at(25095),
        &["-set", "rtp", &rtp_c],
    );
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_xfer_referrer.xml",
        at(25088),
        &[&gw, "-set", "rtp", &rtp_a, "-set", "target", &to],
    );
    run(
        &g,
        "expect-ringing 0 5s\noffhook 0\nexpect-tone 0 1000 5s\nexpect-tone 0 1400 8s",
    );
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    assert!(
        sa.success(),
        "REFER accepted, NOTIFY 100 then 200, the call ended: {out_a}"
    );
    run(&g, "wait 500ms\nonhook 0");
    let (sc, out_c) = c.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(
        sc.success(),
        "the target was called and hung up on: {out_c}"
    );
    caller.thread.join().expect("caller's media");
    target.thread.join().expect("target's media");
    wait_exit_ok(&mut g);
}
