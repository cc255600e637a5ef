//! Toll-fraud attacks on the FXO lines (outbound policy toward the PSTN, open
//! DISA), against `tipring run` on simulated cards at 127.0.13.x with the default policy
//! of an FXO port: a trusted SIP caller asks a line to dial star codes, premium and
//! international numbers; a caller on the line dials two-stage without the PIN and, with
//! it, a number outside the allow-list; a far end flashes mid-call. Asserted: what the
//! simulated card saw (seizure, flash, digits dialled into the line, the phone ringing)
//! and the SIP caller's final response, each beside a control that shows the same path
//! works for what the policy allows.

mod common;

use common::gateway::{Conf, commands, dtmf_heard, dump, fxs, run, serial, start, wait_exit_ok};
use common::process::Tipring;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use testkit::measure::Capture;
use testkit::testbed::TempDir;
use tipring_hal::model::Command;

/// A UDP port free on 127.0.13.1 and 127.0.13.2.
fn free_port() -> u16 {
    for _ in 0..50 {
        let a = UdpSocket::bind("127.0.13.1:0").expect("bind 127.0.13.1");
        let port = a.local_addr().expect("local address").port();
        if UdpSocket::bind(("127.0.13.2", port)).is_ok() {
            return port;
        }
    }
    panic!("no UDP port free on both 127.0.13.1 and 127.0.13.2");
}

/// Whether the phone on `g`'s FXS port 0 was ever rung.
fn rang(g: &testkit::testbed::Node) -> bool {
    commands(g, 0).iter().any(|c| matches!(c, Command::Ring(_)))
}

/// `tipring call` from 127.0.13.3 to `number` at `gw`; its exit status and ladder.
fn call(tag: &str, number: &str, gw: SocketAddr) -> (bool, String) {
    let uri = format!("sip:{number}@{gw}");
    let mut c = Tipring::spawn(
        tag,
        &[
            "call",
            &uri,
            "--listen",
            "127.0.13.3:0",
            "--from",
            "sip:mallory@127.0.13.3",
            "--hold-secs",
            "1",
        ],
    );
    let (status, out) = c.wait(Duration::from_secs(30));
    (status.success(), out)
}

/// Whether `out` (a `tipring call` ladder) shows a final response `code` received.
fn received(out: &str, code: &str) -> bool {
    out.lines()
        .any(|l| l.starts_with("<-") && l.contains(&format!("SIP/2.0 {code}")))
}

/// A trusted SIP caller asks the lines (default `dial_allow`) for a star code
/// (call forwarding, `*72`), a premium number, a `+` number, an international prefix and
/// a line's own number: each gets 403 and neither line is ever seized. 911 goes out on a
/// line.
#[test]
fn sip_caller_cannot_make_a_line_dial_star_codes_premium_or_international() {
    let _serial = serial();
    let tmp = TempDir::new("attack-pstn-sip").unwrap();
    let gw = SocketAddr::from(([127, 0, 13, 2], free_port()));
    let lines = "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\n\
                 hotline = \"sip:100@127.0.13.1:5060\"\n\
                 [[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"hotline\"\n\
                 hotline = \"sip:100@127.0.13.1:5060\"\n";
    let conf = Conf::new(gw).ports(lines).trust("127.0.13.0/24");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 131);
    // The last is line 2's own number: it would seize the line without dialling and hand
    // the caller its dial tone.
    let numbers = [
        "*7215550100",
        "19005550199",
        "+15550100",
        "011441234567",
        "300",
    ];
    for (i, number) in numbers.into_iter().enumerate() {
        let (ok, out) = call(&format!("attack-pstn-{i}"), number, gw);
        assert!(!ok, "{number} answered:\n{out}");
        assert!(received(&out, "403"), "{number}: no 403 in\n{out}");
    }
    for line in [2, 3] {
        assert!(
            commands(&g, line).is_empty(),
            "line {line}: {:?}",
            commands(&g, line)
        );
    }
    // Control: an allowed number is dialled into the first line.
    let line = Capture::default();
    g.card.add_sink(2, Box::new(line.clone()));
    let t0 = Instant::now();
    let mut c = Tipring::spawn(
        "attack-pstn-911",
        &[
            "call",
            &format!("sip:911@{gw}"),
            "--listen",
            "127.0.13.3:0",
            "--hold-secs",
            "1",
        ],
    );
    run(&g, "expect-seized 2 8s\nplay 2 tone:dial 3s\nwait 2000ms");
    let (status, out) = c.wait(Duration::from_secs(20));
    assert!(status.success(), "911 not answered:\n{out}");
    assert_eq!(dtmf_heard(&line, t0), "911");
    run(&g, "expect-released 2 5s");
    wait_exit_ok(&mut g);
}

/// Two gateways at 127.0.13.1 (phone 100) and 127.0.13.2 (a two-stage line, port 3, PIN
/// 590713, `dial_allow = "{ [1-8]xx }"`); the line's number plan also takes `9x.T`.
fn disa_bed(tmp: &TempDir) -> (testkit::testbed::Node, testkit::testbed::Node) {
    let port = free_port();
    let a1 = SocketAddr::from(([127, 0, 13, 1], port));
    let a2 = SocketAddr::from(([127, 0, 13, 2], port));
    let phone = Conf::new(a1)
        .account("peer", &format!("proxy = \"sip:{a2}\""))
        .ports(&fxs("100", "Desk"));
    let line = Conf::new(a2)
        .account("peer", &format!("proxy = \"sip:{a1}\""))
        .ports(
            "[[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"two-stage\"\n\
             dial_plan = \"ext\"\nrings_before_seize = 1\ndisa_pin = \"590713\"\n\
             dial_allow = \"{ [1-8]xx }\"\n",
        )
        .trust("127.0.13.0/24");
    let g1 = start("gw1", &tmp.0.join("gw1"), a1, &phone, 132);
    let g2 = start("gw2", &tmp.0.join("gw2"), a2, &line, 133);
    (g1, g2)
}

/// Open DISA closed: a caller on the line who does not know the PIN hears reorder after
/// each wrong one and the line is released after the third, with no SIP call; with the
/// PIN, a number outside the allow-list gets reorder and no SIP call either; with the PIN
/// and an allowed extension the phone rings.
#[test]
fn pstn_caller_needs_the_pin_and_an_allowed_number() {
    let _serial = serial();
    let tmp = TempDir::new("attack-pstn-disa").unwrap();
    let (mut g1, mut g2) = disa_bed(&tmp);
    let answered = "ring 3 500ms/1000ms\nexpect-seized 3 5s\nexpect-tone 3 350+440 3s";
    // Three guesses (the extension itself, a common PIN, the start of the real one).
    run(&g2, answered);
    for guess in ["100#", "1234#", "5907#"] {
        run(
            &g2,
            &format!("dial 3 {guess} inband\nexpect-tone 3 congestion 3s"),
        );
    }
    run(&g2, "expect-released 3 8s");
    assert!(!rang(&g1), "a call got through without the PIN");
    // The PIN, then a number the dial plan takes (9x.T) but the allow-list does not.
    run(&g2, "wait 1000ms");
    run(&g2, answered);
    run(
        &g2,
        "dial 3 590713# inband\nexpect-tone 3 350+440 3s\ndial 3 900 inband\n\
         expect-tone 3 congestion 5s\nexpect-released 3 8s",
    );
    assert!(!rang(&g1), "900 got through");
    // Control: the PIN and an extension.
    run(&g2, "wait 1000ms");
    run(&g2, answered);
    run(
        &g2,
        "dial 3 590713# inband\nexpect-tone 3 350+440 3s\ndial 3 100 inband",
    );
    run(&g1, "expect-ringing 0 8s");
    run(&g2, "far-hangup 3\nexpect-released 3 5s");
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}

/// Mid-call RFC 4733 events toward an FXO line with the default policy: a digit from the
/// far phone is dialled into the line (IVR navigation), its hook flash is not (a flash
/// and digits would dial a second number past the allow-list); dial tone coming back on
/// the line ends the call.
#[test]
fn far_flash_mid_call_never_reaches_the_line_by_default() {
    let _serial = serial();
    let tmp = TempDir::new("attack-pstn-flash").unwrap();
    let port = free_port();
    let a1 = SocketAddr::from(([127, 0, 13, 1], port));
    let a2 = SocketAddr::from(([127, 0, 13, 2], port));
    let phone = Conf::new(a1)
        .account("peer", &format!("proxy = \"sip:{a2}\""))
        .ports(&format!("{}flash = \"relay\"\n", fxs("100", "PBX")));
    let line = Conf::new(a2)
        .ports(&format!(
            "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\n\
             hotline = \"sip:100@{a1}\"\nanswer_supervision = \"polarity-reversal\"\n\
             dial_allow = \"9xxx\"\n"
        ))
        .trust("127.0.13.0/24");
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &phone, 134);
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &line, 135);
    let heard = Capture::default();
    g2.card.add_sink(2, Box::new(heard.clone()));
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 9555");
    run(
        &g2,
        "expect-seized 2 8s\nplay 2 tone:dial 3s\nwait 3000ms\nfar-answer 2\nwait 1000ms",
    );
    let answered = Instant::now();
    run(&g1, "flash 0\nwait 1500ms\ndial 0 5 inband\nwait 1500ms");
    let after = dtmf_heard(&heard, answered);
    // The far party hangs up and the exchange gives dial tone again (no loop-current
    // drop): the gateway ends the call rather than leave the line to the caller's digits.
    run(&g2, "play 2 tone:dial 3s\nexpect-released 2 5s");
    run(&g1, "expect-tone 0 480+620 8s\nonhook 0");
    if after != "5" {
        dump(&g2);
    }
    assert_eq!(
        after, "5",
        "the far digit after the answer, and nothing else"
    );
    assert_eq!(
        commands(&g2, 2),
        vec![Command::Seize, Command::Release],
        "no hook flash on the line, one release"
    );
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}
