//! Error flows of `tipring run` (simulated line card) against far ends that fail: nobody
//! listening (the INVITE times out), a far end answering 503 (sipp), and an INVITE toward
//! an FXO line from a peer that is not trusted (sipp). Asserted: the tone the calling
//! phone hears, what tshark decoded on the wire, sipp's verdict on its scenario, and the
//! line card's command log (the line never seized). CANCEL/487, 486 and 404 are in
//! `gateway_run.rs` (`cancel_busy_and_unknown_number`).

mod common;

use common::gateway::{Conf, commands, fxs, run, seized, sipp, start, wait_exit_ok};
use common::tshark::{self, ladder};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::TempDir;

/// An FXO line (port 2) whose ringing goes to a hotline; nobody is trusted but `trusted`.
fn fxo_port() -> &'static str {
    "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\nhotline = \"sip:100@127.0.0.1:5060\"\n"
}

/// A test's scratch directory, the gateway at 127.0.NET.1 and its far end at 127.0.NET.9
/// (both on port 25000 + NET), and a capture of that port started.
struct Bench {
    tmp: TempDir,
    gw: SocketAddr,
    far: SocketAddr,
    cap: tshark::Capture,
}

fn bench(tag: &str, net: u8) -> Bench {
    let port = 25000 + u16::from(net);
    Bench {
        tmp: TempDir::new(tag).expect("temp dir"),
        gw: SocketAddr::from(([127, 0, net, 1], port)),
        far: SocketAddr::from(([127, 0, net, 9], port)),
        cap: tshark::Capture::start(tag, &[port]),
    }
}

/// The far end is not there: no one listens at the proxy's address. The INVITE is
/// retransmitted and never answered; the caller hears reorder.
#[test]
fn unreachable_far_end_gives_reorder() {
    let _serial = common::gateway::serial();
    let Bench {
        tmp,
        gw,
        far: dead,
        cap,
    } = bench("hil-err-408", 71);
    let conf = Conf::new(gw)
        .account("far", &format!("proxy = \"sip:{dead}\""))
        .ports(&fxs("100", "Alice"))
        // Timer B = 64 T1 = 6.4 s (RFC 3261 §17.1.1.2).
        .timers("sip_t1_ms = 100\n");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 51);
    run(&g, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200");
    run(&g, "expect-tone 0 congestion 10s\nonhook 0");
    let wire = cap.stop();
    let invites = wire
        .iter()
        .filter(|p| p.method == "INVITE" && p.dst == dead.to_string())
        .count();
    assert!(invites >= 1, "the INVITE went out: {wire:#?}");
    assert!(
        wire.iter().all(|p| p.src != dead.to_string()),
        "nothing answered: {wire:#?}"
    );
    wait_exit_ok(&mut g);
}

/// The far end answers 503 Service Unavailable: the gateway ACKs it and the caller
/// hears reorder.
#[test]
fn far_end_503_gives_reorder() {
    let _serial = common::gateway::serial();
    let Bench { tmp, gw, far, cap } = bench("hil-err-503", 72);
    let mut uas = sipp(&tmp.0, "gw_uas_503.xml", far, &[]);
    // A hotline straight to the far end (no account: no proxy, no OPTIONS pings that
    // sipp's one-call scenario would take for the call).
    let conf = Conf::new(gw).ports(&format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\nhotline = \"sip:200@{far}\"\n"
    ));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 52);
    run(&g, "offhook 0");
    run(&g, "expect-tone 0 congestion 6s\nonhook 0");
    let (st, out) = uas.wait(Duration::from_secs(10));
    assert!(
        st.success(),
        "sipp saw INVITE, sent 503, got the ACK: {out}"
    );
    assert_eq!(
        ladder(&cap.stop(), gw, far),
        ["> INVITE", "< 503/INVITE", "> ACK"]
    );
    wait_exit_ok(&mut g);
}

/// The secure default: an INVITE for a PSTN number from a peer that is not trusted and
/// brings no credentials gets 403, and the FXO line is never seized.
#[test]
fn untrusted_invite_toward_the_fxo_line_gets_403_and_no_seizure() {
    let _serial = common::gateway::serial();
    let Bench {
        tmp,
        gw,
        far: stranger,
        cap,
    } = bench("hil-err-403", 73);
    let conf = Conf::new(gw).ports(fxo_port()).trust("127.0.73.200");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 53);
    let mut uac = sipp(&tmp.0, "gw_fxo_403.xml", stranger, &[&gw.to_string()]);
    let (st, out) = uac.wait(Duration::from_secs(15));
    assert!(st.success(), "sipp got its 403: {out}");
    let wire = ladder(&cap.stop(), stranger, gw);
    assert_eq!(wire.first().map(String::as_str), Some("> INVITE"));
    assert!(wire.contains(&"< 403/INVITE".to_owned()), "{wire:?}");
    // Give a (wrong) seizure time to show, then look at the card.
    run(&g, "wait 500ms");
    assert!(!seized(&g, 2), "the line was seized");
    assert_eq!(commands(&g, 2), [], "no command reached the FXO line");
    wait_exit_ok(&mut g);
}
