//! Reliable provisionals (RFC 3262) and session timers (RFC 4028) through a real Kamailio
//! that record-routes and enforces session timers with its `sst` module (Min-SE 100 s):
//! gateway 1's phone calls out of gateway 2's FXO line. Kamailio refuses the first INVITE
//! (Session-Expires 90 s) with 422, the gateway asks again with 100 s; gateway 2's early
//! media (183 with the line's progress) is sent reliably and PRACKed through Kamailio;
//! the session is refreshed by UPDATE through Kamailio at half the interval (50 s) and the
//! call stays up past it, the audio still crossing; the BYE goes through Kamailio too.

mod common;

use common::gateway::{Conf, run, start, tone_passes, wait_exit_ok};
use common::kamailio::{Kamailio, Role};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;

#[test]
fn prack_and_session_refresh_cross_a_kamailio_enforcing_session_timers() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-kam-timers").expect("temp dir");
    let port = 25097;
    let a1 = SocketAddr::from(([127, 0, 97, 1], port));
    let a2 = SocketAddr::from(([127, 0, 97, 2], port));
    let ap = SocketAddr::from(([127, 0, 97, 10], port));
    let k = Kamailio::start(
        "kam-timers",
        ap,
        Role::SessionTimerProxy {
            next_hop: a2,
            min_se: 100,
        },
    );
    let c1 = Conf::new(a1)
        .account("office", &format!("proxy = \"sip:{ap};lr\""))
        .timers("session_expires_s = 90\nmin_se_s = 90")
        .ports(&common::gateway::fxs("100", "Alice"));
    let c2 = Conf::new(a2)
        .ports(
            "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\n\
             hotline = \"sip:100@127.0.97.1\"\ndialing = \"dtmf\"\n\
             answer_supervision = \"polarity-reversal\"\ndial_allow = \"9xxx\"\n",
        )
        .trust(&ap.ip().to_string());
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &c1, 97);
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &c2, 98);
    let t0 = Instant::now();
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 9555");
    run(&g2, "expect-seized 2 8s\nplay 2 tone:dial 3s\nwait 4000ms");
    let shown = |k: &Kamailio| format!("{:#?}", k.lines());
    assert!(
        k.wait_line("422 for Session-Expires 90", Duration::from_secs(2)),
        "{}",
        shown(&k)
    );
    assert!(
        k.wait_line("session timer 100", Duration::from_secs(2)),
        "the INVITE again with Session-Expires 100: {}",
        shown(&k)
    );
    assert!(
        k.wait_line("in-dialog PRACK routed", Duration::from_secs(5)),
        "the reliable 183 PRACKed through Kamailio: {}",
        shown(&k)
    );
    run(&g2, "far-answer 2\nwait 500ms");
    tone_passes(&g1, 0, &g2, 2, 1000.0);
    // The refresher (the caller, RFC 4028 §7.4 `refresher=uac`) refreshes at 50 s.
    assert!(
        k.wait_line("in-dialog UPDATE routed", Duration::from_secs(60)),
        "an UPDATE refreshed the session through Kamailio: {}",
        shown(&k)
    );
    let refreshed = t0.elapsed();
    // Had the refresh failed, the gateway would have ended the call (§10): the audio
    // still crosses.
    tone_passes(&g2, 2, &g1, 0, 1400.0);
    run(&g1, "onhook 0");
    assert!(
        k.wait_line("in-dialog BYE routed", Duration::from_secs(5)),
        "{}",
        shown(&k)
    );
    run(&g2, "expect-released 2 8s");
    eprintln!(
        "session refreshed {:.1} s after the call started",
        refreshed.as_secs_f64()
    );
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}
