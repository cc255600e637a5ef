//! SRTP keyed by SDES over TLS (RFC 3711, RFC 4568): two boxes whose accounts require
//! media encryption call each other over TLS; the audio crosses both ways, and tshark on
//! the loopback sees RTP whose payload is ciphertext, not G.711. A box that requires SRTP
//! refuses a call offering media in clear; an offer with a key that comes over UDP gets no
//! key back (answered in clear, or refused where SRTP is required). The same against
//! baresip (`mediaenc=srtp-mand`) is in `gateway_srtp_baresip.rs`.

mod common;

use common::gateway::{Conf, fxs, run, sipp, start, tone_passes, wait_exit_ok};
use common::pki::Pki;
use std::net::SocketAddr;
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::measure::{Capture as Sink, analyse};
use testkit::testbed::{Node, TempDir};
use testkit::tshark::Capture;

const A: ([u8; 4], u16) = ([127, 0, 77, 1], 25091);
const B: ([u8; 4], u16) = ([127, 0, 77, 2], 25092);

/// A box at `me` with phone `number`, whose account reaches the box at `far` over TLS
/// with `media_encryption = encryption`.
fn box_conf(
    me: SocketAddr,
    far: SocketAddr,
    pki: &Pki,
    leaf: &str,
    number: &str,
    encryption: &str,
) -> Conf {
    Conf::new(me)
        .tls(
            &pki.path(&format!("{leaf}.pem")),
            &pki.path(&format!("{leaf}.key")),
            &pki.path("ca.pem"),
        )
        .account(
            "far",
            &format!(
                "proxy = \"sip:{far};lr\"\ntransport = \"tls\"\nmedia_encryption = \"{encryption}\""
            ),
        )
        .trust(&far.ip().to_string())
        .ports(&fxs(number, "Phone"))
}

fn boxes(tmp: &Path, a_enc: &str, b_enc: &str, seed: u64) -> (Node, Node) {
    let (a, b) = (SocketAddr::from(A), SocketAddr::from(B));
    let pki = Pki::new(
        &tmp.join("pki"),
        "tipring SRTP test CA",
        &[("a", "127.0.77.1"), ("b", "127.0.77.2")],
    );
    let gb = start(
        "b",
        &tmp.join("b"),
        b,
        &box_conf(b, a, &pki, "b", "200", b_enc),
        seed + 1,
    );
    let ga = start(
        "a",
        &tmp.join("a"),
        a,
        &box_conf(a, b, &pki, "a", "100", a_enc),
        seed,
    );
    (ga, gb)
}

/// What `g` logged it refused by SRTP when its call's bridge stopped (waited for: the log
/// comes through a pipe).
fn refused_by_srtp(g: &Node) -> u64 {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let found = g.lines().iter().find_map(|l| {
            let (_, tail) = l.text.split_once("events sent, ")?;
            tail.strip_suffix(" refused by SRTP")?.parse::<u64>().ok()
        });
        if let Some(n) = found {
            return n;
        }
        assert!(
            Instant::now() < end,
            "{} never logged its call's end",
            g.name
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The SSRC of the RTP an attacker injects.
const INJECTED_SSRC: u32 = 0x0bad_f00d;

/// The UDP ports of `g`'s process in the RTP range.
fn rtp_ports(g: &Node) -> Vec<u16> {
    let pid = g.pid().expect("running");
    let out = std::process::Command::new("ss")
        .args(["-Hlunp"])
        .output()
        .expect("ss (iproute2)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("pid={pid},")))
        .filter_map(|l| {
            l.split_whitespace()
                .nth(3)?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()
        })
        .filter(|p| (10_000..=20_000).contains(p))
        .collect()
}

/// Sends `count` RTP packets of PCMU 2 kHz at -10 dBm0, 20 ms apart, from A's address to
/// every RTP port of `g`; how many ports.
fn inject_clear_tone(g: &Node, count: u16) -> usize {
    let ports = rtp_ports(g);
    let s = UdpSocket::bind("127.0.77.1:0").unwrap();
    let amp = 10f32.powf((-10.0 + 3.17) / 20.0) * 32767.0;
    for k in 0..count {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&INJECTED_SSRC.to_be_bytes());
        p[2..4].copy_from_slice(&(40_000u16.wrapping_add(k)).to_be_bytes());
        p[4..8].copy_from_slice(&(u32::from(k) * 160).to_be_bytes());
        let pcm: Vec<i16> = (0..160)
            .map(|i| (amp * (std::f32::consts::TAU * 2000.0 * i as f32 / 8000.0).sin()) as i16)
            .collect();
        let mut ulaw = [0u8; 160];
        tipring_media::g711::Law::Ulaw.encode(&pcm, &mut ulaw);
        p.extend_from_slice(&ulaw);
        for port in &ports {
            let _ = s.send_to(&p, (g.sip.ip(), *port));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ports.len()
}

#[test]
fn two_boxes_requiring_srtp_talk_encrypted_over_tls() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-srtp").expect("temp dir");
    let (mut ga, mut gb) = boxes(&tmp.0, "mandatory", "mandatory", 91);
    let cap = Capture::start_filter(
        "srtp",
        "udp and portrange 10000-20000 and (host 127.0.77.1 or host 127.0.0.253)",
        &[10000],
    );
    run(&ga, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200");
    run(&gb, "expect-ringing 0 8s\noffhook 0\nwait 500ms");
    tone_passes(&ga, 0, &gb, 0, 1000.0);
    tone_passes(&gb, 0, &ga, 0, 1000.0);
    // Someone on the LAN who knows A's address sends B's RTP ports G.711 of a 2 kHz tone
    // in clear: B's phone must not hear it.
    let heard = Sink::default();
    gb.card.add_sink(0, Box::new(heard.clone()));
    let t0 = Instant::now();
    let injected = inject_clear_tone(&gb, 100);
    assert!(injected > 0, "B's RTP ports found");
    assert!(
        analyse(&heard.since(t0), 2000.0, -10.0, t0).is_none(),
        "injected clear RTP was played to B's phone"
    );
    run(&ga, "onhook 0\nwait 300ms");
    run(&gb, "onhook 0");
    let refused = refused_by_srtp(&gb);
    assert!(refused >= 100, "{refused} packets refused by SRTP");
    let rtp: Vec<_> = cap
        .stop_rtp()
        .into_iter()
        .filter(|p| p.src.starts_with("127.0.77.") && p.dst.starts_with("127.0.77."))
        .filter(|p| p.ssrc != INJECTED_SSRC)
        .collect();
    let each_way = |src: &str| rtp.iter().filter(|p| p.src == src).count();
    assert!(
        each_way("127.0.77.1") > 100 && each_way("127.0.77.2") > 100,
        "RTP both ways: {} packets",
        rtp.len()
    );
    for p in &rtp {
        // 160 octets of G.711 and the 80-bit tag (RFC 3711 §4.2), and no periodic
        // G.711 of a 1 kHz tone or of silence.
        assert_eq!(p.payload.len(), 170, "{p:?}");
        assert!(p.periodicity() < 0.2, "G.711 in clear on the wire: {p:?}");
    }
    for g in [&ga, &gb] {
        for l in g.lines() {
            assert!(!l.text.contains("inline:"), "a key in the log: {}", l.text);
        }
    }
    wait_exit_ok(&mut ga);
    wait_exit_ok(&mut gb);
}

#[test]
fn a_box_requiring_srtp_refuses_media_in_clear() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-srtp-clear").expect("temp dir");
    let (mut ga, mut gb) = boxes(&tmp.0, "none", "mandatory", 93);
    run(
        &ga,
        "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200\nexpect-tone 0 congestion 8s\nonhook 0",
    );
    assert!(
        gb.lines()
            .iter()
            .any(|l| l.text.contains("media encryption required")),
        "B says why it refused"
    );
    assert!(!common::gateway::ringing(&gb, 0), "B's phone never rang");
    wait_exit_ok(&mut ga);
    wait_exit_ok(&mut gb);
}

/// sipp at A's (trusted) address calls B's phone over UDP, with an SDES key in its offer;
/// `scenario` checks B's answer.
fn udp_offer_with_a_key(tag: &str, b_enc: &str, scenario: &str, phone: &str, rings: bool) {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new(tag).expect("temp dir");
    let (_ga, mut gb) = boxes(&tmp.0, "none", b_enc, 99);
    let me = SocketAddr::from(([127, 0, 77, 1], 25099));
    let mut uac = sipp(&tmp.0, scenario, me, &[&gb.sip.to_string()]);
    run(&gb, phone);
    let (st, out) = uac.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    let rang = common::gateway::commands(&gb, 0)
        .iter()
        .any(|c| matches!(c, tipring_hal::model::Command::Ring(_)));
    assert_eq!(rang, rings, "B's phone rang");
    wait_exit_ok(&mut gb);
}

/// A best-effort account over TLS reached over UDP by an offer with a key: the call is
/// taken in clear and the box's answer carries no key (a key in clear is no key).
#[test]
fn an_sdes_offer_over_udp_gets_no_key_back() {
    udp_offer_with_a_key(
        "hil-srtp-udp-opt",
        "optional",
        "srtp_udp_offer_clear_answer.xml",
        "expect-ringing 0 8s\noffhook 0\nwait 1500ms\nonhook 0",
        true,
    );
}

/// A mandatory account reached over UDP: 488, and the phone never rings.
#[test]
fn a_mandatory_account_refuses_an_offer_over_udp() {
    udp_offer_with_a_key(
        "hil-srtp-udp-mand",
        "mandatory",
        "srtp_udp_offer_refused.xml",
        "wait 1500ms",
        false,
    );
}
