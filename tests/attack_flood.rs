//! Issue 14 attack: a flood of INVITEs with fresh Call-IDs from one loopback source
//! against `tipring run` (a simulated card, one phone), while a trusted peer (a second
//! `tipring run` whose phone calls ours) places a legitimate call. Asserted: at most one
//! response per flood request, the gateway's memory stays bounded, and the legitimate
//! call rings, is answered and carries audio both ways during the flood.
//!
//! Two runs: with the shipped `[limits]` (the flooding source is banned after its burst,
//! so almost nothing is answered), and with the per-source limit lifted so every flood
//! INVITE reaches the UA (each then gets exactly one response, a 404 without a 100, and
//! leaves no transaction or call behind).

mod common;

use common::gateway::{Conf, dump, fxs, run, serial, start, tone_passes, wait_exit_ok};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use testkit::flood::{self as generator, FloodReport, FloodSpec};
use testkit::testbed::{self, TempDir};

const GW: [u8; 4] = [127, 0, 14, 1];
const PEER: [u8; 4] = [127, 0, 14, 2];
const FLOODER: [u8; 4] = [127, 0, 14, 9];

/// A `/proc/PID/status` field in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Outcome {
    flood: FloodReport,
    hwm_before_kb: u64,
    hwm_after_kb: u64,
}

/// The gateway (with `limits` as its `[limits]` table), the peer, the flood of `rate`
/// INVITEs/s for `secs` seconds, and the peer's call to the gateway's phone meanwhile.
fn flood_during_a_call(tag: &str, limits: &str, rate: u32, secs: u64) -> Outcome {
    let _serial = serial();
    let tmp = TempDir::new(tag).unwrap();
    let port = testbed::free_sip_port().unwrap();
    let gw = SocketAddr::from((GW, port));
    let peer = SocketAddr::from((PEER, port));
    let conf = Conf::new(gw)
        .account("peer", &format!("proxy = \"sip:{peer}\""))
        .ports(&fxs("200", "Bob"))
        .trust(&IpAddr::from(PEER).to_string())
        // `[timers]` is the last table but one: a `[limits]` table can follow it.
        .timers(limits);
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 21);
    let peer_conf = Conf::new(peer)
        .account("gw", &format!("proxy = \"sip:{gw}\""))
        .ports(&fxs("100", "Alice"))
        .trust(&IpAddr::from(GW).to_string());
    let mut p = start("peer", &tmp.0.join("peer"), peer, &peer_conf, 22);
    let pid = g.pid().expect("gateway runs");
    let hwm_before_kb = status_kb(pid, "VmHWM:");

    let spec = FloodSpec {
        target: gw,
        sources: vec![IpAddr::from(FLOODER)],
        rate,
        duration: Duration::from_secs(secs),
        linger: Duration::from_secs(2),
        user: "nobody".into(),
    };
    let flood = std::thread::spawn(move || generator::run(&spec).expect("flood"));
    std::thread::sleep(Duration::from_millis(500));
    // The legitimate call, placed while the flood goes on.
    run(&p, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(
        &g,
        "expect-ringing 0 8s\nexpect-callerid 0 100 8s\noffhook 0\nwait 300ms",
    );
    tone_passes(&p, 0, &g, 0, 1000.0);
    tone_passes(&g, 0, &p, 0, 1400.0);
    run(&p, "onhook 0");
    run(&g, "expect-tone 0 480+620 8s\nonhook 0");
    let flood = flood.join().unwrap();
    let hwm_after_kb = status_kb(pid, "VmHWM:");
    if flood.per_request() > 1.0 {
        dump(&g);
    }
    wait_exit_ok(&mut g);
    wait_exit_ok(&mut p);
    Outcome {
        flood,
        hwm_before_kb,
        hwm_after_kb,
    }
}

fn check_common(o: &Outcome) {
    let f = &o.flood;
    eprintln!(
        "sent {} at {:.0}/s, responses {:?}, VmHWM {} -> {} kB",
        f.sent, f.achieved_rate, f.by_status, o.hwm_before_kb, o.hwm_after_kb
    );
    assert!(f.sent > 1000, "the flood was sent: {}", f.sent);
    assert!(f.per_request() <= 1.0, "{:?} for {}", f.by_status, f.sent);
    // No 100 Trying for INVITEs that will not ring.
    assert_eq!(f.by_status.get(&100), None, "{:?}", f.by_status);
    assert!(
        o.hwm_after_kb <= o.hwm_before_kb + 8 * 1024,
        "memory grew from {} to {} kB",
        o.hwm_before_kb,
        o.hwm_after_kb
    );
}

#[test]
fn a_flooding_source_is_banned_and_a_trusted_call_completes() {
    let o = flood_during_a_call("tipring-flood-ban", "", 2_000, 4);
    check_common(&o);
    // The source was ignored after its burst (60): nearly nothing was answered.
    assert!(o.flood.responses() <= 100, "{:?}", o.flood.by_status);
}

#[test]
fn every_flood_invite_reaching_the_ua_costs_one_response_and_no_state() {
    let lifted = "\n[limits]\nrate_per_s = 1000000\nburst = 1000000\n";
    let o = flood_during_a_call("tipring-flood-ua", lifted, 1_000, 4);
    check_common(&o);
    // Each one answered (404, unknown user), once.
    let answered = o.flood.by_status.get(&404).copied().unwrap_or(0);
    assert!(
        answered as f64 >= o.flood.sent as f64 * 0.95,
        "{:?} for {}",
        o.flood.by_status,
        o.flood.sent
    );
}
