//! Call waiting on a phone of `tipring run` (simulated card) with two real, independent
//! callers (sipp): the first call is answered; the second gets 180 and the phone hears
//! the call-waiting tone over the first call, then its caller ID (CAS, the phone's `D`,
//! FSK: a "type II" phone); a flash holds the first (re-INVITE with
//! a=sendonly, checked by sipp) and answers the second; a flash swaps back (the second
//! held, the first taken back with a=sendrecv); hanging up ends the first (BYE) and rings
//! the phone again for the held one, which lifting the handset takes back.
//!
//! Each caller's RTP address in its SDP is a socket of this test playing its own tone
//! (the first 1000 Hz, the second 1400 Hz): the phone hears the right party after each
//! flash, and the gateway's RTP reaches only the party the phone talks to.

mod common;

use common::gateway::{Conf, fxs, run, sipp, start, wait_exit_ok};
use common::rtp_party::{heard_between, party};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;

#[test]
fn a_flash_answers_the_waiting_call_holds_the_first_and_swaps_back() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-cw").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 82, 1], 25082));
    let first_sip = SocketAddr::from(([127, 0, 82, 9], 25082));
    let second_sip = SocketAddr::from(([127, 0, 82, 9], 25083));
    let done = Arc::new(AtomicBool::new(false));
    let first = party([127, 0, 82, 9], 1000.0, done.clone());
    let second = party([127, 0, 82, 9], 1400.0, done.clone());
    let conf = Conf::new(gw).ports(&fxs("201", "Desk")).trust("127.0.82.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 82);
    let gw_arg = gw.to_string();
    for d in ["a", "b"] {
        std::fs::create_dir_all(tmp.0.join(d)).expect("sipp's directory");
    }
    let (p1, p2) = (first.port.to_string(), second.port.to_string());
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_cw_caller.xml",
        first_sip,
        &[&gw_arg, "-set", "rtp", &p1],
    );
    run(&g, "expect-ringing 0 5s\noffhook 0\nexpect-tone 0 1000 5s");
    // The call-waiting tone's first burst, and the caller ID on call waiting after it
    // (the phone acknowledges the CAS), are listened for before the second caller calls.
    let mut b = std::thread::scope(|s| {
        let tone = s.spawn(|| run(&g, "expect-tone 0 440 5s"));
        let id = s.spawn(|| run(&g, "expect-cwid 0 5551 5s"));
        std::thread::sleep(Duration::from_millis(300));
        let b = sipp(
            &tmp.0.join("b"),
            "gw_cw_caller.xml",
            second_sip,
            &[&gw_arg, "-set", "rtp", &p2],
        );
        tone.join().expect("the call-waiting tone");
        id.join().expect("the caller ID on call waiting");
        b
    });
    let flash1 = Instant::now();
    run(&g, "flash 0\nexpect-tone 0 1400 5s\nwait 2s");
    let flash2 = Instant::now();
    run(&g, "flash 0\nexpect-tone 0 1000 5s\nwait 2s");
    let hangup = Instant::now();
    run(
        &g,
        "onhook 0\nexpect-ringing 0 5s\noffhook 0\nexpect-tone 0 1400 5s",
    );
    let resumed = Instant::now();
    run(&g, "wait 1s\nonhook 0");
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    let (sb, out_b) = b.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(
        sa.success(),
        "the first caller: held, taken back, BYE: {out_a}"
    );
    assert!(
        sb.success(),
        "the second caller: 180, answered, held, taken back, BYE: {out_b}"
    );
    // The gateway's RTP follows the phone: after each flash, none to the party left
    // (allowing 1 s for the flash itself, the hook open for half a second, and the swap).
    let settle = Duration::from_secs(1);
    let counts = [
        heard_between(&first, flash1 + settle, flash2),
        heard_between(&second, flash1 + settle, flash2),
        heard_between(&first, flash2 + settle, hangup),
        heard_between(&second, flash2 + settle, hangup),
        heard_between(&second, resumed, resumed + Duration::from_millis(800)),
    ];
    println!(
        "gateway RTP packets (first, second) after flash 1, after flash 2; second after the recall: {counts:?}"
    );
    assert_eq!(counts[0], 0, "the held first caller got the phone's audio");
    assert!(
        counts[1] >= 25,
        "the second caller got {} packets",
        counts[1]
    );
    assert!(
        counts[2] >= 25,
        "the first caller taken back got {} packets",
        counts[2]
    );
    assert_eq!(counts[3], 0, "the held second caller got the phone's audio");
    assert!(
        counts[4] >= 20,
        "the recalled caller got {} packets",
        counts[4]
    );
    first.thread.join().expect("first party");
    second.thread.join().expect("second party");
    wait_exit_ok(&mut g);
}

/// One call waits at a time: while it waits, a third caller is busy (486) and never
/// heard of by the phone; the waiting caller giving up (CANCEL) stops the tone, and the
/// phone's call goes on undisturbed.
#[test]
fn a_third_caller_is_busy_and_a_waiting_caller_may_give_up() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-cw-busy").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 82, 1], 25084));
    let me = |port| SocketAddr::from(([127, 0, 82, 9], port));
    let conf = Conf::new(gw).ports(&fxs("201", "Desk")).trust("127.0.82.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 84);
    let gw_arg = gw.to_string();
    for d in ["a", "w", "c"] {
        std::fs::create_dir_all(tmp.0.join(d)).expect("sipp's directory");
    }
    let mut a = sipp(&tmp.0.join("a"), "gw_cw_first.xml", me(25084), &[&gw_arg]);
    run(&g, "expect-ringing 0 5s\noffhook 0");
    let mut w = std::thread::scope(|s| {
        let listening = s.spawn(|| run(&g, "expect-tone 0 440 5s"));
        std::thread::sleep(Duration::from_millis(300));
        let w = sipp(&tmp.0.join("w"), "gw_cw_cancel.xml", me(25085), &[&gw_arg]);
        listening.join().expect("the call-waiting tone");
        w
    });
    let mut c = sipp(&tmp.0.join("c"), "gw_cw_busy.xml", me(25086), &[&gw_arg]);
    let (sc, out_c) = c.wait(Duration::from_secs(10));
    assert!(sc.success(), "the third caller got 486: {out_c}");
    let (sw, out_w) = w.wait(Duration::from_secs(10));
    assert!(
        sw.success(),
        "the waiting caller cancelled and got 487: {out_w}"
    );
    // The first call is still up until the phone hangs up.
    run(&g, "wait 1s\nonhook 0");
    let (sa, out_a) = a.wait(Duration::from_secs(10));
    assert!(
        sa.success(),
        "the first call ended by the phone's BYE: {out_a}"
    );
    wait_exit_ok(&mut g);
}
