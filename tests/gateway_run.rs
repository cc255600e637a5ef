//! Whole-process tests of `tipring run`: two gateways (real child processes) on
//! 127.0.0.1 and 127.0.0.2, each with a simulated line card on a pseudo-terminal hosted
//! by the test. Everything asserted is what the simulated phones and lines observe
//! (ringing, caller ID, tones, seizure, digits dialled into the line, the card's command
//! log) and the processes' exit status — never tipring's own log text.

mod common;

use common::gateway::{
    Conf, EXE, commands, dtmf_heard, dump, fxs, ringing, run, serial, sip_answers, start,
    tone_passes, wait_exit_ok,
};
use common::tshark::{self, ladder};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::measure::Capture;
use testkit::testbed::{self, Node, TempDir};
use tipring_hal::model::Command;

/// Gateway 2's FXO line: DTMF dialling, answered on the exchange's polarity reversal.
fn fxo(gw1: SocketAddr) -> String {
    format!(
        "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\nhotline = \"sip:100@{gw1}\"\ndialing = \"dtmf\"\nanswer_supervision = \"polarity-reversal\"\n\
         dial_allow = \"9xxx\"\nallow_flash = true\n"
    )
}

struct Bed {
    g1: Node,
    g2: Node,
    _tmp: TempDir,
}

/// Two gateways with these `[[ports]]`, up and linked to their cards.
fn bed(tag: &str, ports1: &str, ports2: &dyn Fn(SocketAddr) -> String) -> Bed {
    let tmp = TempDir::new(tag).unwrap();
    let port = testbed::free_sip_port().unwrap();
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let mut g1 = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    let mut g2 = Node::prepare("gw2", &tmp.0.join("gw2"), a2).unwrap();
    g1.start(Path::new(EXE), &testbed::config(a1, a2, ports1), 11)
        .unwrap();
    g2.start(Path::new(EXE), &testbed::config(a2, a1, &ports2(a1)), 12)
        .unwrap();
    assert!(g1.wait_link(Duration::from_secs(10)), "gw1 card link");
    assert!(g2.wait_link(Duration::from_secs(10)), "gw2 card link");
    assert!(sip_answers(a1, Duration::from_secs(10)), "gw1 SIP side");
    assert!(sip_answers(a2, Duration::from_secs(10)), "gw2 SIP side");
    Bed { g1, g2, _tmp: tmp }
}

#[test]
fn phone_calls_phone_through_two_tipring_run_gateways() {
    let _serial = serial();
    let mut b = bed("tipring-run-demo", &fxs("100", "Alice"), &|_| {
        fxs("200", "Bob")
    });
    // The card's cable is pulled and put back before the call: the driver reconnects.
    run(&b.g1, "cable-pull 300ms\nwait 1500ms");
    assert_eq!(b.g1.card.lock().faults.cable_pulls, 1);
    if !b.g1.wait_link(Duration::from_secs(5)) {
        dump(&b.g1);
        panic!("link not back after the pull");
    }
    let cap = tshark::Capture::start("run-demo", &[b.g1.sip.port()]);
    run(&b.g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&b.g2, "expect-ringing 0 8s");
    run(&b.g1, "expect-tone 0 440+480 8s");
    run(&b.g2, "expect-callerid 0 100 8s\noffhook 0\nwait 300ms");
    tone_passes(&b.g1, 0, &b.g2, 0, 1000.0);
    tone_passes(&b.g2, 0, &b.g1, 0, 1400.0);
    run(&b.g1, "onhook 0");
    // The far phone hears reorder after the BYE, then hangs up too.
    run(&b.g2, "expect-tone 0 480+620 8s\nonhook 0\nwait 300ms");
    // Seed §5.1 on the wire, as tshark's SIP dissector decoded it.
    assert_eq!(
        tshark::without_trying(ladder(&cap.stop(), b.g1.sip, b.g2.sip)),
        tshark::SEED_5_1,
        "gw1 {} <-> gw2 {}",
        b.g1.sip,
        b.g2.sip
    );
    let c2 = commands(&b.g2, 0);
    assert!(matches!(c2.first(), Some(Command::Ring(_))), "{c2:?}");
    assert!(c2.contains(&Command::OnHookTransmission { enable: true }));
    assert!(c2.contains(&Command::StopRing));
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}

/// Seed §5.1: the PBX on gateway 1's FXS port seizes and dials; gateway 2 seizes its FXO
/// line, dials the number into it, and the far PBX answers.
fn fxs_to_fxo_call(b: &Bed) -> (Capture, Instant) {
    let line = Capture::default();
    b.g2.card.add_sink(2, Box::new(line.clone()));
    let t0 = Instant::now();
    run(&b.g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 9555");
    // The exchange gives dial tone once seized; the gateway dials after hearing it.
    run(
        &b.g2,
        "expect-seized 2 8s\nplay 2 tone:dial 3s\nwait 4000ms",
    );
    let heard = dtmf_heard(&line, t0);
    if heard != "9555" {
        dump(&b.g2);
    }
    assert_eq!(heard, "9555", "digits dialled into the line");
    run(&b.g2, "far-answer 2\nwait 500ms");
    tone_passes(&b.g1, 0, &b.g2, 2, 1000.0);
    tone_passes(&b.g2, 2, &b.g1, 0, 1400.0);
    (line, t0)
}

#[test]
fn fxs_to_fxo_call_cleared_from_either_side() {
    let _serial = serial();
    // Gateway 2 takes A-law only, so the call runs on the answer's codec rather than
    // gateway 1's first choice (µ-law); the tones must pass all the same.
    let alaw_only = |gw1| format!("{}\n[media]\ncodecs = [\"pcma\"]\n", fxo(gw1));
    // A PBX trunk on the FXS port: its flashes are its own (relayed as RFC 4733).
    let trunk = format!("{}flash = \"relay\"\n", fxs("100", "PBX"));
    let mut b = bed("tipring-run-fxo", &trunk, &alaw_only);
    let cap = tshark::Capture::start("run-fxo", &[b.g1.sip.port()]);
    // Cleared by the calling PBX: the line on gateway 2 is released.
    fxs_to_fxo_call(&b);
    // The PBX flashes its trunk (recall, to transfer): gateway 1 sends RFC 4733 event 16,
    // gateway 2 flashes the line for its configured 500 ms; the call stays up.
    run(&b.g1, "flash 0\nwait 1500ms");
    tone_passes(&b.g1, 0, &b.g2, 2, 1000.0);
    run(&b.g1, "onhook 0");
    run(&b.g2, "expect-released 2 5s");
    // Seed §5.1 on the wire; an FXO line gives no alerting, so gateway 2 sends 183 with
    // the line's audio (early media) where a PBX trunk would give 180.
    assert_eq!(
        tshark::without_trying(ladder(&cap.stop(), b.g1.sip, b.g2.sip)),
        [
            "> INVITE",
            "< 183/INVITE",
            "< 200/INVITE",
            "> ACK",
            "> BYE",
            "< 200/BYE"
        ],
    );
    assert_eq!(
        commands(&b.g2, 2),
        vec![
            Command::Seize,
            Command::HookFlash { duration_ms: 500 },
            Command::Release
        ],
        "one seizure, the far flash, one release"
    );
    // Cleared by the far PBX (loop current drops): the caller hears reorder.
    std::thread::sleep(Duration::from_millis(1200));
    fxs_to_fxo_call(&b);
    run(&b.g2, "far-hangup 2\nexpect-released 2 5s");
    run(&b.g1, "expect-tone 0 480+620 8s\nonhook 0");
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}

#[test]
fn sigterm_ends_the_call_releases_the_line_and_exits_zero() {
    let _serial = serial();
    let mut b = bed("tipring-run-term", &fxs("100", "PBX"), &fxo);
    fxs_to_fxo_call(&b);
    wait_exit_ok(&mut b.g2);
    // Gateway 2 put its line down and said BYE: gateway 1's phone hears reorder.
    run(&b.g2, "expect-released 2 1s");
    run(&b.g1, "expect-tone 0 480+620 8s\nonhook 0");
    wait_exit_ok(&mut b.g1);
}

/// Under systemd (Type=notify, WatchdogSec): READY=1 once the card is up, WATCHDOG=1 from
/// the main loop every half interval, STOPPING=1 and exit 0 on SIGTERM.
#[test]
fn notifies_systemd_ready_watchdog_and_stopping() {
    let _serial = serial();
    use std::os::unix::net::UnixDatagram;
    let tmp = TempDir::new("tipring-run-notify").unwrap();
    let port = testbed::free_sip_port().unwrap();
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let sock_path = tmp.0.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut g = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    g.env("NOTIFY_SOCKET", sock_path.to_str().unwrap());
    g.env("WATCHDOG_USEC", "400000");
    g.start(
        Path::new(EXE),
        &testbed::config(a1, a2, &fxs("100", "A")),
        5,
    )
    .unwrap();
    let mut got: Vec<String> = Vec::new();
    let mut buf = [0u8; 512];
    let end = Instant::now() + Duration::from_secs(10);
    let mut ready_at = None;
    while Instant::now() < end {
        if let Ok(n) = sock.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            if m.starts_with("READY=1") && ready_at.is_none() {
                ready_at = Some(got.len());
            }
            got.push(m);
        }
        let watchdogs = ready_at.map_or(0, |r| {
            got[r..]
                .iter()
                .filter(|m| m.as_str() == "WATCHDOG=1")
                .count()
        });
        if watchdogs >= 4 {
            break;
        }
    }
    assert!(ready_at.is_some(), "no READY=1 in {got:?}");
    assert!(
        got.iter().filter(|m| m.as_str() == "WATCHDOG=1").count() >= 4,
        "watchdog pings every 200 ms: {got:?}"
    );
    wait_exit_ok(&mut g);
    let mut stopping = false;
    while let Ok(n) = sock.recv(&mut buf) {
        stopping |= &buf[..n] == b"STOPPING=1";
    }
    assert!(stopping, "STOPPING=1 at shutdown");
}

/// The failure paths of a phone-to-phone call: CANCEL before the answer stops the far
/// ringing; a busy far phone (486) gives busy tone; a number nobody answers to (404)
/// gives reorder.
#[test]
fn cancel_busy_and_unknown_number() {
    let _serial = serial();
    let mut b = bed("tipring-run-fail", &fxs("100", "Alice"), &|_| {
        fxs("200", "Bob")
    });
    let cap = tshark::Capture::start("run-fail", &[b.g1.sip.port()]);
    // CANCEL: the caller gives up while the far phone rings.
    run(&b.g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&b.g2, "expect-ringing 0 8s");
    // On-hook is told from a hook flash only after the longest flash (900 ms).
    run(&b.g1, "onhook 0\nwait 1600ms");
    if ringing(&b.g2, 0) {
        dump(&b.g1);
        dump(&b.g2);
        panic!("the far phone is still ringing after the CANCEL");
    }
    assert_eq!(commands(&b.g2, 0).last(), Some(&Command::StopRing));
    // On-hook is told from a flash only after the longest flash.
    std::thread::sleep(Duration::from_millis(1000));
    // Busy: the far phone is off-hook already.
    run(&b.g2, "offhook 0");
    run(&b.g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&b.g1, "expect-tone 0 busy 6s\nonhook 0");
    run(&b.g2, "onhook 0\nwait 1000ms");
    assert_eq!(
        commands(&b.g2, 0)
            .iter()
            .filter(|c| matches!(c, Command::Ring(_)))
            .count(),
        1,
        "the busy phone was not rung"
    );
    // Unknown number: reorder.
    run(&b.g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 555");
    run(&b.g1, "expect-tone 0 congestion 6s\nonhook 0");
    // On the wire: CANCEL answered 200 and the INVITE 487 (ACKed), then 486, then 404.
    let wire: Vec<String> = ladder(&cap.stop(), b.g1.sip, b.g2.sip)
        .into_iter()
        .filter(|l| l.contains("CANCEL") || (l.contains("/INVITE") && !l.contains(" 1")))
        .collect();
    assert_eq!(
        wire,
        [
            "> CANCEL",
            "< 200/CANCEL",
            "< 487/INVITE",
            "< 486/INVITE",
            "< 404/INVITE"
        ]
    );
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}

/// Hunting: gateway 2's two phones are reached at its account's user name (300). Phone 0
/// is still off-hook hearing reorder after its last caller hung up; a call for 300 rings
/// phone 1 instead of being refused by phone 0 (486).
#[test]
fn a_call_for_the_account_hunts_past_a_phone_left_off_hook() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-run-hunt").unwrap();
    let port = testbed::free_sip_port().unwrap();
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let c1 = Conf::new(a1)
        .account("peer", &format!("proxy = \"sip:{a2}\""))
        .ports(&fxs("100", "Alice"))
        .trust("127.0.0.0/8");
    let c2 = Conf::new(a2)
        .account("peer", &format!("proxy = \"sip:{a1}\"\nusername = \"300\""))
        .ports(&fxs("200", "Bob"))
        .ports("[[ports]]\nindex = 1\nkind = \"fxs\"\nnumber = \"201\"\ndial_plan = \"ext\"\n")
        .trust("127.0.0.0/8");
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &c1, 21);
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &c2, 22);
    // A call to phone 0's own number, answered, then cleared by the caller.
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&g2, "expect-ringing 0 8s\noffhook 0\nwait 500ms");
    run(&g1, "onhook 0\nwait 1600ms");
    // Phone 0 stays off-hook, hearing reorder.
    run(&g2, "expect-tone 0 480+620 8s");
    // A call for the account: phone 1 rings, phone 0 is left alone.
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 300");
    run(&g2, "expect-ringing 1 8s");
    assert!(!ringing(&g2, 0));
    run(&g2, "offhook 1\nwait 500ms");
    tone_passes(&g1, 0, &g2, 1, 1000.0);
    run(&g1, "onhook 0\nwait 1600ms");
    run(&g2, "onhook 0\nonhook 1\nwait 1000ms");
    assert_eq!(
        commands(&g2, 0)
            .iter()
            .filter(|c| matches!(c, Command::Ring(_)))
            .count(),
        1,
        "the off-hook phone was rung only for its own call"
    );
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}

/// An FXO line rings in: after two rings gateway 2 seizes it and calls its hotline, the
/// phone on gateway 1; audio passes both ways; the phone hangs up and the line is released.
#[test]
fn fxo_line_ringing_in_calls_the_hotline() {
    let _serial = serial();
    let mut b = bed("tipring-run-hotline", &fxs("100", "Desk"), &fxo);
    run(&b.g2, "ring 2 500ms/1000ms\nexpect-seized 2 6s");
    run(&b.g1, "expect-ringing 0 8s\noffhook 0\nwait 500ms");
    tone_passes(&b.g2, 2, &b.g1, 0, 1000.0);
    tone_passes(&b.g1, 0, &b.g2, 2, 1400.0);
    run(&b.g1, "onhook 0");
    run(&b.g2, "expect-released 2 5s");
    let c2 = commands(&b.g2, 2);
    assert_eq!(c2, vec![Command::Seize, Command::Release], "{c2:?}");
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}

/// A gateway whose SIP address is taken cannot serve: it exits with failure (so systemd's
/// Restart=on-failure applies) instead of running without signalling.
#[test]
fn exits_with_failure_when_its_sip_address_is_taken() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-run-taken").unwrap();
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let a1 = taken.local_addr().unwrap();
    let a2 = SocketAddr::from(([127, 0, 0, 2], a1.port()));
    let mut g = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    g.start(
        Path::new(EXE),
        &testbed::config(a1, a2, &fxs("100", "A")),
        3,
    )
    .unwrap();
    let status = g.wait_exit(Duration::from_secs(8));
    assert!(
        status.is_some_and(|s| !s.success()),
        "exit status {status:?}"
    );
}

/// Two-stage dialling on an FXO line: it rings in, gateway 2 seizes it and plays dial
/// tone, the caller dials 100 in-band, gateway 1's phone rings and answers; the caller on
/// the line hangs up (loop current drops) and the phone hears reorder.
#[test]
fn fxo_two_stage_dialling_reaches_a_phone() {
    let _serial = serial();
    let two_stage = |_| {
        "[[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"two-stage\"\ndial_plan = \"ext\"\nrings_before_seize = 1\n\
         disa_pin_required = false\n".to_string()
    };
    let mut b = bed("tipring-run-2stage", &fxs("100", "Desk"), &two_stage);
    run(
        &b.g2,
        "ring 3 500ms/1000ms\nexpect-seized 3 5s\nexpect-tone 3 350+440 3s",
    );
    run(&b.g2, "dial 3 100 inband");
    run(&b.g1, "expect-ringing 0 8s\noffhook 0\nwait 500ms");
    tone_passes(&b.g2, 3, &b.g1, 0, 1000.0);
    run(&b.g2, "far-hangup 3\nexpect-released 3 5s");
    run(&b.g1, "expect-tone 0 480+620 8s\nonhook 0");
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}

/// Secure default: an INVITE toward an FXO line (the PSTN) from a peer that is not
/// trusted is refused (403), the line is never seized, and the caller hears reorder.
#[test]
fn untrusted_invite_never_seizes_the_fxo_line() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-run-403").unwrap();
    let port = testbed::free_sip_port().unwrap();
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    // Gateway 2 trusts another address only.
    let cfg2 = testbed::config(a2, a1, &fxo(a1)).replace(
        "trusted_peers = [\"127.0.0.0/8\"]",
        "trusted_peers = [\"127.0.0.9\"]",
    );
    assert!(cfg2.contains("127.0.0.9"), "the template changed");
    let mut g1 = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    let mut g2 = Node::prepare("gw2", &tmp.0.join("gw2"), a2).unwrap();
    g1.start(
        Path::new(EXE),
        &testbed::config(a1, a2, &fxs("100", "A")),
        14,
    )
    .unwrap();
    g2.start(Path::new(EXE), &cfg2, 15).unwrap();
    assert!(g1.wait_link(Duration::from_secs(10)) && g2.wait_link(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 9555");
    // Refused at once (no 32 s transaction timeout): the reorder comes within seconds.
    run(&g1, "expect-tone 0 congestion 8s\nonhook 0");
    assert!(commands(&g2, 2).is_empty(), "{:?}", commands(&g2, 2));
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}

/// A fax machine on a simulated line: what it sends is the line's audio towards the
/// gateway, what the gateway plays is what it hears.
struct FaxLine(std::sync::Arc<std::sync::Mutex<testkit::fax::Terminal>>);

impl tipring_hal::sim::FrameSource for FaxLine {
    fn fill(&mut self, out: &mut tipring_hal::audio::Frame) -> bool {
        *out = self.0.lock().unwrap().transmit();
        true
    }
}

impl tipring_hal::sim::FrameSink for FaxLine {
    fn frame(&mut self, f: &tipring_hal::audio::Frame) {
        self.0.lock().unwrap().receive(f);
    }
}

/// ITU-T T.38 through two `tipring run` processes on real sockets: a fax machine on
/// gateway 1's FXS port calls out of gateway 2's FXO line, where the exchange connects an
/// answering fax machine (spandsp's fax terminals, in the test). Gateway 2 hears the
/// answering machine's V.21 flags, re-INVITEs to `image/t38`; both relay the fax; the two
/// pages arrive pixel-exact, and tshark reads the UDPTL on the wire as T.38.
#[test]
fn a_fax_from_an_fxs_port_leaves_an_fxo_line_as_t38() {
    use std::sync::{Arc, Mutex};
    use testkit::fax::{Document, Terminal};
    let _serial = serial();
    // The RTP (and so UDPTL) ports in a known range, for the capture.
    let media = "\n[media]\nrtp_port_min = 31000\nrtp_port_max = 31020\n";
    let ports1 = format!("{}{media}", fxs("100", "Fax"));
    let mut b = bed("tipring-run-t38", &ports1, &|gw1| {
        format!("{}{media}", fxo(gw1))
    });
    let even: Vec<u16> = (31000..=31020).step_by(2).collect();
    let sip = b.g1.sip.port();
    let cap = tshark::Capture::start("run-t38", &[&even[..], &[sip]].concat());
    let doc = Document::new(&b._tmp.0.join("fax"), 2);
    fxs_to_fxo_call(&b);
    let sender = Arc::new(Mutex::new(Terminal::new(
        true,
        Some(&doc.sent),
        None,
        false,
    )));
    let receiver = Arc::new(Mutex::new(Terminal::new(
        false,
        None,
        Some(&doc.received),
        false,
    )));
    b.g1.card.play(0, Box::new(FaxLine(sender.clone())));
    b.g1.card.add_sink(0, Box::new(FaxLine(sender.clone())));
    b.g2.card.play(2, Box::new(FaxLine(receiver.clone())));
    b.g2.card.add_sink(2, Box::new(FaxLine(receiver.clone())));
    let t0 = Instant::now();
    let done = || {
        (
            sender.lock().unwrap().done(),
            receiver.lock().unwrap().done(),
        )
    };
    while t0.elapsed() < Duration::from_secs(150) && !matches!(done(), (Some(_), Some(_))) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let seconds = t0.elapsed().as_secs_f64();
    let codes = done();
    run(&b.g1, "onhook 0");
    run(&b.g2, "expect-released 2 5s");
    let t38 = cap.stop_t38(sip, &even);
    let compare = doc.compare();
    println!(
        "fax through two tipring run: {seconds:.1} s, T.30 codes {codes:?}, {compare}, {} T.38 datagrams",
        t38.len()
    );
    if codes != (Some(0), Some(0)) {
        dump(&b.g1);
        dump(&b.g2);
    }
    assert_eq!(codes, (Some(0), Some(0)), "T.30 completion codes");
    assert_eq!(compare, "pages 2 2 rows_differing 0");
    // On the wire, read by tshark's T.38 dissector: V.21 control (indicator 3), V.17
    // 14400 page data (data type 8, field type 6), three redundant IFPs per datagram.
    let fields: Vec<Vec<&str>> = t38.iter().map(|l| l.split('\t').collect()).collect();
    let col = |k: usize, v: &str| {
        fields
            .iter()
            .filter(|f| f[k].split(',').any(|x| x == v))
            .count()
    };
    assert!(fields.len() > 300, "{} T.38 datagrams", fields.len());
    assert!(
        col(1, "3") > 0 && col(2, "8") > 0 && col(3, "6") > 0,
        "{t38:?}"
    );
    assert!(col(4, "3") > fields.len() / 2);
    wait_exit_ok(&mut b.g1);
    wait_exit_ok(&mut b.g2);
}
