//! Three-way calling on a phone of `tipring run` (simulated card) with two real,
//! independent parties (sipp): the phone answers a caller, flashes (the caller is held:
//! re-INVITE a=sendonly), dials 300 (the consultation, at the account's outbound proxy)
//! and, once it answered, flashes again: the caller is taken back (a=sendrecv) and the
//! bridge mixes the three. Each far party's RTP socket is the test's and plays its own
//! tone (caller 1000 Hz, consulted party 1400 Hz) while the phone plays 1800 Hz: the
//! phone hears both far parties, each far party hears the phone and the other one, and
//! none hears itself. Hanging up ends both calls (BYE to each).

mod common;

use common::gateway::{Conf, fxs, run, sipp, start, wait_exit_ok};
use common::rtp_party::{party, tone_share};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;

const PARTIES: [u8; 4] = [127, 0, 84, 9];

#[test]
fn a_flash_in_the_consultation_mixes_the_three_and_no_one_hears_itself() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-3way").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 84, 1], 25096));
    let (a_sip, c_sip) = (
        SocketAddr::from((PARTIES, 25096)),
        SocketAddr::from((PARTIES, 25097)),
    );
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let consulted = party(PARTIES, 1400.0, done.clone());
    let conf = Conf::new(gw)
        .account(
            "sp",
            &format!("domain = \"example.test\"\noutbound_proxy = \"sip:{c_sip}\""),
        )
        .ports(&fxs("201", "Desk"))
        .trust("127.0.84.9");
    for d in ["a", "c"] {
        std::fs::create_dir_all(tmp.0.join(d)).expect("sipp's directory");
    }
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 96);
    let gw_arg = gw.to_string();
    let (rtp_a, rtp_c) = (caller.port.to_string(), consulted.port.to_string());
    let mut c = sipp(
        &tmp.0.join("c"),
        "gw_xfer_consult_answered.xml",
        c_sip,
        &["-set", "rtp", &rtp_c],
    );
    // The caller: answered, held, taken back, then the phone's BYE.
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_cw_caller.xml",
        a_sip,
        &[&gw_arg, "-set", "rtp", &rtp_a],
    );
    run(
        &g,
        "expect-ringing 0 5s\noffhook 0\nexpect-tone 0 1000 5s\nflash 0\n\
         expect-tone 0 350+440 3s\ndial 0 300\nexpect-tone 0 1400 5s\nflash 0\n\
         expect-tone 0 1000+1400 5s",
    );
    let from = Instant::now() + Duration::from_millis(500);
    run(&g, "play 0 tone:1800 3500ms\nwait 3s");
    let to = Instant::now();
    let shares = |p: &common::rtp_party::Party| {
        [1000.0, 1400.0, 1800.0].map(|hz| tone_share(p, from, to, hz))
    };
    let (heard_a, heard_c) = (shares(&caller), shares(&consulted));
    println!("share of 1000/1400/1800 Hz heard: caller {heard_a:?}, consulted {heard_c:?}");
    run(&g, "onhook 0");
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    let (sc, out_c) = c.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(sa.success(), "the caller: held, taken back, BYE: {out_a}");
    assert!(sc.success(), "the consulted party: answered, BYE: {out_c}");
    // Each far party hears the phone and the other, not itself.
    assert!(
        heard_a[1] > 0.15 && heard_a[2] > 0.15,
        "the caller hears the consulted party and the phone: {heard_a:?}"
    );
    assert!(heard_a[0] < 0.05, "the caller hears itself: {heard_a:?}");
    assert!(
        heard_c[0] > 0.15 && heard_c[2] > 0.15,
        "the consulted party hears the caller and the phone: {heard_c:?}"
    );
    assert!(
        heard_c[1] < 0.05,
        "the consulted party hears itself: {heard_c:?}"
    );
    caller.thread.join().expect("caller's media");
    consulted.thread.join().expect("consulted party's media");
    wait_exit_ok(&mut g);
}
