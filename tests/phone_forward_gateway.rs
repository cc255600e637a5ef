//! Call forwarding placed by the gateway itself (`forward_mode = "gateway"`) on `tipring
//! run` (simulated card) with two real, independent SIP parties (sipp): a caller of phone
//! 201 and the forwarding target. The phone never rings; the target's INVITE comes from
//! the gateway (its checks: the caller's number in From, `Diversion` naming 201 with reason
//! `unconditional`, Max-Forwards 69); its ringing and answer reach the caller; each
//! party's RTP socket is the test's and plays its own tone (caller 1000 Hz, target
//! 1400 Hz): each hears the other through the gateway's relay. A stranger sending RTP at
//! the relay's caller-leg socket is not heard by the target. The caller's hang-up ends the
//! target's call, and the call's record says it was forwarded, to whom, and what RTP the
//! caller leg carried. With baresip as the target (an independent SIP/RTP stack echoing what
//! it receives), the caller hears its own tone come back through the relay, baresip and
//! the relay again.

mod common;

use common::baresip::Baresip;
use common::gateway::{BARESIP_ESTABLISHED, Conf, commands, fxs, sipp, start, wait_exit_ok};
use common::kamailio::{Kamailio, Role};
use common::rtp_party::{Party, party, tone_share};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::testbed::{Node, TempDir};
use tipring_media::g711::Law;

const PARTIES: [u8; 4] = [127, 0, 87, 9];
const STRANGER: [u8; 4] = [127, 0, 87, 7];

/// The relay's caller-leg RTP address, from the gateway's start-up log.
fn relay_caller_leg(g: &testkit::testbed::Node) -> SocketAddr {
    g.lines()
        .iter()
        .find_map(|l| {
            let rest = l.text.split("relay 0: RTP ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        })
        .expect("the gateway logs its relay sockets")
}

/// Sends 2500 Hz RTP (µ-law, 20 ms frames, its own SSRC) from the stranger's address to
/// `to` until `done`.
fn stranger(to: SocketAddr, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let sock = UdpSocket::bind(SocketAddr::from((STRANGER, 0))).expect("stranger's socket");
    std::thread::spawn(move || {
        let (mut seq, mut phase) = (0u16, 0f32);
        while !done.load(Ordering::Relaxed) {
            let mut pkt = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0xad, 0xf0, 0x0d];
            pkt[2..4].copy_from_slice(&seq.to_be_bytes());
            pkt[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
            let mut pcm = [0i16; 160];
            for s in pcm.iter_mut() {
                *s = (phase.sin() * 8000.0) as i16;
                phase = (phase + 2.0 * std::f32::consts::PI * 2500.0 / 8000.0)
                    % (2.0 * std::f32::consts::PI);
            }
            let mut payload = [0u8; 160];
            Law::Ulaw.encode(&pcm, &mut payload);
            pkt.extend_from_slice(&payload);
            let _ = sock.send_to(&pkt, to);
            seq = seq.wrapping_add(1);
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

/// A forwarded call between sipp parties: the caller at `a_sip` (RTP playing 1000 Hz)
/// calls phone 201 of the gateway at `gw` configured by `conf`, which forwards it to the
/// target at `t_sip` (RTP playing 1400 Hz). Once the call is up (1.5 s after the start),
/// `during` runs (the talk: its sleeps are the window measured); then both sipp scripts
/// must succeed (the caller hangs up 4 s after the answer).
struct Forwarded {
    g: Node,
    caller: Party,
    target: Party,
    talk: Instant,
    end: Instant,
}

fn forwarded_call(
    tmp: &TempDir,
    gw: SocketAddr,
    (a_sip, t_sip): (SocketAddr, SocketAddr),
    conf: &Conf,
    seed: u64,
    during: impl FnOnce(&Node),
) -> Forwarded {
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let target = party(PARTIES, 1400.0, done.clone());
    for d in ["a", "t"] {
        std::fs::create_dir_all(tmp.0.join(d)).expect("sipp's directory");
    }
    let g = start("gw", &tmp.0.join("gw"), gw, conf, seed);
    let (rtp_a, rtp_t) = (caller.port.to_string(), target.port.to_string());
    let mut t = sipp(
        &tmp.0.join("t"),
        "gw_fwd_target.xml",
        t_sip,
        &["-set", "rtp", &rtp_t],
    );
    let mut a = sipp(
        &tmp.0.join("a"),
        "gw_fwd_caller.xml",
        a_sip,
        &[&gw.to_string(), "-set", "rtp", &rtp_a],
    );
    // The call is up within a second (300 ms of ringing).
    std::thread::sleep(Duration::from_millis(1500));
    let talk = Instant::now();
    during(&g);
    let end = Instant::now();
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    let (st, out_t) = t.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(sa.success(), "the caller was answered and hung up: {out_a}");
    assert!(
        st.success(),
        "the target got the gateway's INVITE (From, Diversion, Max-Forwards checked), \
         answered, and the caller's hang-up: {out_t}"
    );
    Forwarded {
        g,
        caller,
        target,
        talk,
        end,
    }
}

#[test]
fn the_gateway_places_the_forwarded_call_and_relays_both_parties() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-fwd-gw").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 87, 1], 25110));
    let sips = (
        SocketAddr::from((PARTIES, 25110)),
        SocketAddr::from((PARTIES, 25111)),
    );
    let port = format!(
        "{}forward_always = \"sip:300@{}\"\nforward_mode = \"gateway\"\n",
        fxs("201", "Desk"),
        sips.1
    );
    let records = tmp.0.join("calls.jsonl");
    let conf = Conf::new(gw)
        .ports(&port)
        .trust("127.0.87.9")
        .table(&format!(
            "[records]\nfile = \"{}\"\njournal = false\n",
            records.display()
        ));
    let mut injected = None;
    let f = forwarded_call(&tmp, gw, sips, &conf, 110, |g| {
        std::thread::sleep(Duration::from_millis(1000));
        let stop = Arc::new(AtomicBool::new(false));
        let intruder = stranger(relay_caller_leg(g), stop.clone());
        injected = Some(Instant::now());
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        intruder.join().expect("stranger's thread");
    });
    let injected = injected.expect("the stranger sent");
    let caller_hears = tone_share(&f.caller, f.talk, f.end, 1400.0);
    let target_hears = tone_share(&f.target, f.talk, f.end, 1000.0);
    let target_hears_stranger = tone_share(&f.target, injected, f.end, 2500.0);
    println!(
        "caller hears the target: {:.1} %; target hears the caller: {:.1} %, \
         the stranger: {:.3} %",
        caller_hears * 100.0,
        target_hears * 100.0,
        target_hears_stranger * 100.0
    );
    assert!(caller_hears > 0.8, "{caller_hears}");
    assert!(target_hears > 0.8, "{target_hears}");
    assert!(target_hears_stranger < 0.01, "{target_hears_stranger}");
    let mut g = f.g;
    assert_eq!(commands(&g, 0), [], "the phone never rang");
    std::thread::sleep(Duration::from_millis(300));
    let log: Vec<String> = g.lines().iter().map(|l| l.text.clone()).collect();
    assert!(log.iter().any(|l| l.contains("relay 0: ended")), "{log:#?}");
    let text = std::fs::read_to_string(&records).unwrap_or_default();
    let record: serde_json::Value = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("a call record: {text:?}"));
    assert_eq!(record["direction"], "forwarded", "{record}");
    assert_eq!(record["port"], 0, "{record}");
    assert_eq!(record["sip_code"], 200, "{record}");
    assert_eq!(record["cause"], "remote_hangup", "{record}");
    assert!(
        record["caller"]
            .as_str()
            .is_some_and(|c| c.contains("sip:5551@"))
            && record["called"]
                .as_str()
                .is_some_and(|c| c.starts_with("sip:300@")),
        "{record}"
    );
    assert!(
        record["rtp"]["received"].as_u64().is_some_and(|n| n > 100),
        "the caller leg's RTP: {record}"
    );
    f.caller.thread.join().expect("caller's media");
    f.target.thread.join().expect("target's media");
    wait_exit_ok(&mut g);
}

#[test]
fn a_call_forwarded_by_the_gateway_to_baresip_carries_audio_both_ways() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-fwd-bs").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 87, 1], 25112));
    let a_sip = SocketAddr::from((PARTIES, 25112));
    let bs_addr = SocketAddr::from(([127, 0, 87, 5], 25113));
    let bs = Baresip::start("hil-fwd", bs_addr, "300", &["-t", "30"]);
    assert!(
        bs.wait_for("baresip is ready", Duration::from_secs(5)),
        "{}",
        bs.output()
    );
    let done = Arc::new(AtomicBool::new(false));
    let caller = party(PARTIES, 1000.0, done.clone());
    let port = format!(
        "{}forward_always = \"sip:300@{bs_addr}\"\nforward_mode = \"gateway\"\n",
        fxs("201", "Desk")
    );
    let conf = Conf::new(gw).ports(&port).trust("127.0.87.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 112);
    let rtp_a = caller.port.to_string();
    let mut a = sipp(
        &tmp.0,
        "gw_fwd_caller.xml",
        a_sip,
        &[&gw.to_string(), "-set", "rtp", &rtp_a],
    );
    assert!(
        bs.wait_for(BARESIP_ESTABLISHED, Duration::from_secs(10)),
        "baresip answered the gateway's call: {}",
        bs.output()
    );
    std::thread::sleep(Duration::from_millis(1000));
    let talk = Instant::now();
    std::thread::sleep(Duration::from_millis(2000));
    let end = Instant::now();
    let (sa, out_a) = a.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    assert!(sa.success(), "the caller was answered and hung up: {out_a}");
    let echoed = tone_share(&caller, talk, end, 1000.0);
    println!(
        "the caller hears its tone back through baresip: {:.1} %",
        echoed * 100.0
    );
    assert!(echoed > 0.5, "{echoed}");
    assert!(
        bs.wait_for("terminated", Duration::from_secs(5)),
        "the caller's hang-up reached baresip: {}",
        bs.output()
    );
    caller.thread.join().expect("caller's media");
    wait_exit_ok(&mut g);
}

#[test]
fn a_call_forwarded_by_the_gateway_goes_out_through_the_accounts_proxy() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-fwd-kam").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 87, 1], 25115));
    let sips = (
        SocketAddr::from((PARTIES, 25115)),
        SocketAddr::from((PARTIES, 25116)),
    );
    let proxy_at = SocketAddr::from(([127, 0, 87, 10], 25115));
    let proxy = Kamailio::start(
        "hil-fwd-kam",
        proxy_at,
        Role::Proxy {
            record_route: true,
            next_hop: Some(sips.1),
            follow_redirects: false,
        },
    );
    // The target is a number of the account's domain: routed through its proxy.
    let port = format!(
        "{}forward_always = \"sip:300@example.test\"\nforward_mode = \"gateway\"\n",
        fxs("201", "Desk")
    );
    let conf = Conf::new(gw)
        .account(
            "sp",
            &format!("domain = \"example.test\"\nproxy = \"sip:{proxy_at}\""),
        )
        .ports(&port)
        .trust("127.0.87.9");
    let f = forwarded_call(&tmp, gw, sips, &conf, 115, |_| {
        std::thread::sleep(Duration::from_millis(2000));
    });
    let p = proxy.lines();
    assert!(
        p.iter()
            .any(|l| l.starts_with(&format!("reply 200 OK to INVITE from {}", sips.1))),
        "{p:#?}"
    );
    assert!(
        p.iter().any(|l| l == "in-dialog BYE routed"),
        "the BYE to the target crossed the record-routing proxy: {p:#?}"
    );
    let caller_hears = tone_share(&f.caller, f.talk, f.end, 1400.0);
    let target_hears = tone_share(&f.target, f.talk, f.end, 1000.0);
    assert!(
        caller_hears > 0.8 && target_hears > 0.8,
        "{caller_hears} {target_hears}"
    );
    f.caller.thread.join().expect("caller's media");
    f.target.thread.join().expect("target's media");
    let mut g = f.g;
    wait_exit_ok(&mut g);
}
