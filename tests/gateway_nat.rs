//! A gateway behind a home router's NAT: network namespaces (LAN, router, WAN) with an
//! nftables masquerade whose UDP mappings are forgotten after 8 s of silence, Kamailio
//! outside as the provider's registrar. The gateway learns the address the registrar sees
//! it at (`nat = "learn"`, RFC 3581) and registers it; its OPTIONS keepalives hold the
//! mapping open past the router's timeout so calls from outside still reach the phone;
//! when the router's public address changes, the next keepalive shows it and the gateway
//! registers the new one. Needs root (namespaces, nftables), like CI.

mod common;

use common::gateway::{Conf, EXE, fxs, run, serial, wait_exit_ok};
use common::kamailio::{Kamailio, Role};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::netns::NatLab;
use testkit::process::Proc;
use testkit::testbed::{Node, TempDir};

/// How long the router keeps an idle UDP mapping.
const NAT_TIMEOUT_S: u32 = 8;

/// Waits up to `limit` for a gateway log line containing `text` after the first
/// `nth` such lines; when it came.
fn nth_line(g: &Node, text: &str, nth: usize, limit: Duration) -> Option<Instant> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        let hits: Vec<Instant> = g
            .lines()
            .into_iter()
            .filter(|l| l.text.contains(text))
            .map(|l| l.at)
            .collect();
        if let Some(at) = hits.get(nth) {
            return Some(*at);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A call from the WAN (`tipring call` in the provider's namespace, through Kamailio) to
/// the gateway's phone 200, answered and hung up; whether it went through.
fn call_from_outside(lab: &NatLab, g: &Node, dir: &Path, n: usize) -> bool {
    let kam = SocketAddr::new(lab.wan_ip().into(), 5060);
    let me = SocketAddr::new(lab.wan_ip().into(), 5072).to_string();
    let mut caller = Proc::spawn(
        dir,
        &format!("call{n}"),
        "ip",
        &[
            "netns",
            "exec",
            &lab.wan,
            EXE,
            "call",
            "--listen",
            &me,
            "--hold-secs",
            "1",
            &format!("sip:200@{kam}"),
        ],
    );
    run(g, "expect-ringing 0 8s\noffhook 0\nwait 2500ms\nonhook 0");
    let (st, out) = caller.wait(Duration::from_secs(20));
    if !st.success() {
        eprintln!("call {n}: {out}");
    }
    st.success()
}

/// The RTP packets received in the `nth` call record (1-based) of `records`, once written.
fn rtp_received(records: &Path, nth: usize) -> u64 {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(records).unwrap_or_default();
        if let Some(line) = text.lines().nth(nth - 1) {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
            return v["rtp"]["received"].as_u64().unwrap_or(0);
        }
        assert!(Instant::now() < end, "no record {nth}: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn behind_a_nat_the_gateway_registers_where_it_is_seen_keeps_the_mapping_and_follows_a_new_address()
{
    let _serial = serial();
    let tag = format!("tn{}", std::process::id() % 10_000);
    let lab = NatLab::new(&tag, 79, NAT_TIMEOUT_S)
        .unwrap_or_else(|e| panic!("a NAT in network namespaces (root, iproute2, nftables): {e}"));
    let tmp = TempDir::new("hil-nat").expect("temp dir");
    let kam_addr = SocketAddr::new(lab.wan_ip().into(), 5060);
    let kam = Kamailio::start_in(
        "nat",
        kam_addr,
        Role::Registrar {
            password: "secret123".into(),
            // A provider's proxy stays in the dialog: the router lets in only what comes
            // from where the gateway sent (endpoint-dependent filtering), so an ACK or BYE
            // sent straight to the gateway's public Contact by the far end would be dropped.
            record_route: true,
        },
        Some(&lab.wan),
    );
    // On the wildcard address, as boxes ship: the gateway names the address it sends from
    // (toward Kamailio: its LAN address), and keeps working when that address changes.
    let sip: SocketAddr = "0.0.0.0:5060".parse().unwrap();
    // A STUN server outside (Debian's coturn): the RTP ports learn their public address.
    let stun = SocketAddr::new(lab.wan_ip().into(), 3478);
    let _coturn = Proc::spawn(
        &tmp.0,
        "coturn",
        "ip",
        &[
            "netns",
            "exec",
            &lab.wan,
            "turnserver",
            "-n",
            "--stun-only",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "-z",
            "--listening-ip",
            &stun.ip().to_string(),
            "--listening-port",
            "3478",
            "--log-file",
            "stdout",
            "--simple-log",
        ],
    );
    let records = tmp.0.join("calls.jsonl");
    let conf = Conf::new(sip)
        .account(
            "provider",
            &format!(
                "registrar = \"sip:{kam_addr}\"\ndomain = \"{}\"\nusername = \"200\"\n\
                 password = \"secret123\"\nregister_expiry_s = 600\nnat = \"learn\"\n\
                 keepalive_s = 5\n",
                lab.wan_ip()
            ),
        )
        .ports(&format!(
            "{}[[ports]]\nindex = 1\nkind = \"fxs\"\nnumber = \"201\"\n\
             hotline = \"sip:300@{}:5062\"\n",
            fxs("200", "Home"),
            lab.wan_ip()
        ))
        .trust(&format!("{}/32", lab.wan_ip()))
        .table(&format!(
            "[records]\nfile = \"{}\"\njournal = false\n[media]\nstun_server = \"{stun}\"\n",
            records.display()
        ));
    let mut g = Node::prepare("gw", &tmp.0.join("gw"), sip).expect("testbed node");
    g.runner(&NatLab::exec_prefix(&lab.lan));
    g.start(Path::new(EXE), &conf.render(), 79)
        .expect("tipring run");
    assert!(g.wait_link(Duration::from_secs(10)), "card link");

    // The first REGISTER binds the LAN address; the 200 says where the registrar saw us
    // (the router's public address), and the gateway registers that instead.
    let public = SocketAddr::new(lab.public_ip().into(), 5060);
    let seen = format!("the registrar sees us at {public}");
    if nth_line(&g, &seen, 0, Duration::from_secs(10)).is_none()
        || nth_line(
            &g,
            "account provider: registered",
            1,
            Duration::from_secs(10),
        )
        .is_none()
    {
        panic!("{:#?}\n{}", g.lines(), kam.log());
    }

    // The RTP ports asked the STUN server where they are seen: the router's address.
    let stun_seen = format!("port 0: RTP reached at {}:", lab.public_ip());
    if nth_line(&g, &stun_seen, 0, Duration::from_secs(10)).is_none() {
        panic!("no STUN answer: {:#?}", g.lines());
    }

    // Twice the router's mapping lifetime: the keepalives hold it, the phone still rings.
    std::thread::sleep(Duration::from_secs(u64::from(NAT_TIMEOUT_S) * 2));
    assert!(
        call_from_outside(&lab, &g, &tmp.0, 1),
        "a call from outside after {} s idle: {:#?}\n{}",
        NAT_TIMEOUT_S * 2,
        g.lines(),
        kam.log()
    );
    // The caller's RTP came in through the NAT: our SDP named the public address.
    let received = rtp_received(&records, 1);
    assert!(received > 10, "{received} RTP packets from outside");

    // A call out from the second phone to a phone outside (`tipring answer`, sending a
    // tone), its media coming back in through the NAT.
    let me = SocketAddr::new(lab.wan_ip().into(), 5062).to_string();
    let mut callee = Proc::spawn(
        &tmp.0,
        "answer",
        "ip",
        &[
            "netns",
            "exec",
            &lab.wan,
            EXE,
            "answer",
            "--listen",
            &me,
            "--answer-after-ms",
            "200",
            "--tone",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    run(&g, "offhook 1\nexpect-tone 1 1000 5s\nonhook 1\nwait 500ms");
    let (st, out) = callee.wait(Duration::from_secs(15));
    assert!(st.success(), "the call out: {out}");
    let received = rtp_received(&records, 2);
    assert!(received > 10, "{received} RTP packets back from the callee");

    // The home gets a new public address: the next keepalive's answer shows it, the
    // gateway registers it, and calls from outside reach the phone again.
    let changed = Instant::now();
    lab.renumber_public(9).expect("new public address");
    let new_public = SocketAddr::new(lab.addr(2, 9).into(), 5060);
    let seen_new = format!("the registrar sees us at {}", new_public.ip());
    let Some(noticed) = nth_line(&g, &seen_new, 0, Duration::from_secs(30)) else {
        panic!("new address never seen: {:#?}", g.lines());
    };
    let Some(registered) = nth_line(
        &g,
        "account provider: registered",
        2,
        Duration::from_secs(10),
    ) else {
        panic!("not registered again: {:#?}", g.lines());
    };
    // The RTP ports ask the STUN server again at once (not at the next 25 s round).
    let stun_new = format!("port 0: RTP reached at {}:", new_public.ip());
    let Some(restunned) = nth_line(&g, &stun_new, 0, Duration::from_secs(10)) else {
        panic!("the ports' new address not learnt: {:#?}", g.lines());
    };
    println!(
        "STUN: the ports' new public address learnt {:.1} s after the change",
        (restunned - changed).as_secs_f64()
    );
    println!(
        "public address changed: seen by a keepalive after {:.1} s, registered after {:.1} s \
         (keepalive every 5 s)",
        (noticed - changed).as_secs_f64(),
        (registered - changed).as_secs_f64()
    );
    assert!(
        call_from_outside(&lab, &g, &tmp.0, 2),
        "a call from outside after the change: {:#?}\n{}",
        g.lines(),
        kam.log()
    );
    let received = rtp_received(&records, 3);
    assert!(received > 10, "{received} RTP packets from outside");
    println!("RTP packets from outside through the NAT: {received} in the third call");

    // The box gets a new LAN address (a new DHCP lease): it sees its addresses change
    // within 2 s, registers again from the new one, through a new NAT mapping, at once.
    let changed = Instant::now();
    lab.renumber(3).expect("new LAN address");
    let Some(moved) = nth_line(&g, "SIP address now 10.79.1.3", 0, Duration::from_secs(10)) else {
        panic!("the new address not noticed: {:#?}", g.lines());
    };
    let Some(registered) = nth_line(
        &g,
        "account provider: registered",
        4,
        Duration::from_secs(15),
    ) else {
        panic!(
            "not registered from the new address: {:#?}\n{}",
            g.lines(),
            kam.log()
        );
    };
    println!(
        "LAN address changed: noticed after {:.1} s, registered again after {:.1} s",
        (moved - changed).as_secs_f64(),
        (registered - changed).as_secs_f64()
    );
    assert!(
        call_from_outside(&lab, &g, &tmp.0, 3),
        "a call from outside after the new lease: {:#?}\n{}",
        g.lines(),
        kam.log()
    );
    let received = rtp_received(&records, 4);
    assert!(received > 10, "{received} RTP packets from outside");
    wait_exit_ok(&mut g);
}
