//! Host names in the configuration: `tipring run` looks them up at start (A/AAAA, RFC 3263
//! §4.2) and sends to the address while the request keeps the name. A phone's hotline
//! written as `sip:200@localhost:PORT` reaches sipp answering on 127.0.0.1; a name that
//! does not resolve is reported in the log and the call fails with reorder, no crash.

mod common;

use common::gateway::{Conf, run, sipp, start, wait_exit_ok};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::TempDir;

fn hotline(target: &str) -> String {
    format!("[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\nhotline = \"{target}\"\n")
}

#[test]
fn a_hotline_written_with_a_host_name_reaches_the_far_end() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-names").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 75, 1], 25075));
    let far = SocketAddr::from(([127, 0, 0, 1], 25075));
    let mut uas = sipp(&tmp.0, "uas_call.xml", far, &[]);
    let conf = Conf::new(gw).ports(&hotline(&format!("sip:200@localhost:{}", far.port())));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 55);
    // Off-hook: the INVITE goes to localhost's address, sipp answers; on-hook: BYE.
    run(&g, "offhook 0\nwait 1500ms\nonhook 0\nwait 500ms");
    let (st, out) = uas.wait(Duration::from_secs(15));
    assert!(st.success(), "sipp got INVITE, ACK and BYE: {out}");
    wait_exit_ok(&mut g);
}

#[test]
fn a_name_that_does_not_resolve_is_logged_and_the_caller_hears_reorder() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-names-bad").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 75, 2], 25076));
    let conf = Conf::new(gw).ports(&hotline("sip:200@no-such-host.invalid"));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 56);
    run(&g, "offhook 0\nexpect-tone 0 congestion 5s\nonhook 0");
    let log: Vec<String> = g.lines().into_iter().map(|l| l.text).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("cannot resolve no-such-host.invalid")),
        "the log names the name: {log:#?}"
    );
    wait_exit_ok(&mut g);
}
