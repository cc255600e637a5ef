//! SRTP with baresip (Debian `baresip`, its `srtp` module, `mediaenc=srtp-mand`): over TLS
//! both ways, a phone on `tipring run` and baresip call each other with media encryption
//! required on both sides. baresip's aubridge echoes what it receives, so a tone from the
//! phone that comes back crossed both directions encrypted and decrypted by two
//! independent SRTP implementations; tshark sees only ciphertext payloads. Best effort on
//! both sides (`media_encryption = "optional"`, baresip's `mediaenc=srtp`) ends up
//! encrypted too.

mod common;

use common::baresip::{Baresip, Extra};
use common::gateway::{Conf, fxs, run, start, talk_through_baresip_and_hang_up, wait_exit_ok};
use common::pki::Pki;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};
use testkit::tshark::Capture;

fn pki(dir: &Path, gw: SocketAddr, bs: SocketAddr) -> Pki {
    let pki = Pki::new(
        dir,
        "tipring SRTP interop CA",
        &[("gw", &gw.ip().to_string()), ("bs", &bs.ip().to_string())],
    );
    // baresip reads its certificate and key from one file.
    let both = [pki.path("bs.pem"), pki.path("bs.key")]
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>();
    std::fs::write(pki.path("bs-both.pem"), both).unwrap();
    pki
}

/// baresip over TLS (it listens for TLS one port above its SIP port) with its media
/// encryption `mediaenc` (`srtp-mand`: required, `srtp`: best effort).
fn baresip(
    test: &str,
    at: SocketAddr,
    user: &str,
    pki: &Pki,
    mediaenc: &str,
    args: &[&str],
) -> Baresip {
    let extra = Extra {
        config: format!(
            "sip_certificate {}\nsip_cafile {}\nmodule srtp.so\n",
            pki.path("bs-both.pem").display(),
            pki.path("ca.pem").display()
        ),
        uri_params: ";transport=tls".into(),
        account_params: format!(";mediaenc={mediaenc}"),
    };
    Baresip::start_with(test, at, user, &extra, args)
}

/// The gateway over TLS whose account (baresip at `bs_tls`) has `media_encryption =
/// encryption`.
fn gateway(
    tmp: &Path,
    gw: SocketAddr,
    bs_tls: SocketAddr,
    pki: &Pki,
    encryption: &str,
    seed: u64,
) -> Node {
    let conf = Conf::new(gw)
        .tls(
            &pki.path("gw.pem"),
            &pki.path("gw.key"),
            &pki.path("ca.pem"),
        )
        .account(
            "soft",
            &format!(
                "proxy = \"sip:{bs_tls};lr\"\ntransport = \"tls\"\nmedia_encryption = \"{encryption}\""
            ),
        )
        .trust(&bs_tls.ip().to_string())
        // baresip's TLS connections leave from 127.0.0.1, not from its SIP address.
        .trust_bound("127.0.0.1", "tls")
        .ports(&fxs("100", "Alice"));
    start("gw", &tmp.join("gw"), gw, &conf, seed)
}

/// Once the call is up: the phone's tone comes back through baresip's echo, the phone
/// hangs up; every RTP packet between the two was SRTP.
fn talk_encrypted(g: &Node, bs: &Baresip, cap: Capture) {
    talk_through_baresip_and_hang_up(g, bs);
    // baresip's TLS connection, and so its SDP and RTP, use 127.0.0.1 rather than its SIP
    // address: every packet to or from the gateway is the call's.
    let ours = g.sip.ip().to_string();
    let rtp: Vec<_> = cap
        .stop_rtp()
        .into_iter()
        .filter(|p| p.src == ours || p.dst == ours)
        .collect();
    let sent = rtp.iter().filter(|p| p.src == ours).count();
    assert!(
        sent > 50 && rtp.len() - sent > 50,
        "RTP both ways: {sent} of {} packets from the gateway\n{}",
        rtp.len(),
        bs.output()
    );
    for p in &rtp {
        // 160 octets of G.711 and a 32- or 80-bit tag, not periodic like G.711 in clear.
        assert!([164, 170].contains(&p.payload.len()), "{p:?}");
        assert!(p.periodicity() < 0.2, "G.711 in clear on the wire: {p:?}");
    }
}

fn capture(test: &str) -> Capture {
    Capture::start_filter(
        test,
        "udp and portrange 10000-20000 and (host 127.0.87.1 or host 127.0.88.1 \
         or host 127.0.89.1 or host 127.0.0.253)",
        &[10000],
    )
}

#[test]
fn baresip_requiring_srtp_calls_a_phone_over_tls() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-srtp-bs-in").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 87, 1], 25181));
    let bs = SocketAddr::from(([127, 0, 87, 5], 25182));
    let bs_tls = SocketAddr::new(bs.ip(), bs.port() + 1);
    let pki = pki(&tmp.0.join("pki"), gw, bs);
    let mut g = gateway(&tmp.0, gw, bs_tls, &pki, "mandatory", 95);
    let cap = capture("srtp-bs-in");
    let b = baresip(
        "srtp-in",
        bs,
        "555",
        &pki,
        "srtp-mand",
        &[
            "-e",
            &format!("/dial sip:100@{gw};transport=tls"),
            "-t",
            "25",
        ],
    );
    run(&g, "expect-ringing 0 10s\noffhook 0");
    talk_encrypted(&g, &b, cap);
    wait_exit_ok(&mut g);
}

/// The phone calls baresip; `gateway_enc` and `mediaenc` are the two sides' settings.
fn phone_calls_baresip(test: &str, net: u8, gateway_enc: &str, mediaenc: &str, seed: u64) {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new(test).expect("temp dir");
    let gw = SocketAddr::from(([127, 0, net, 1], 25191));
    let bs = SocketAddr::from(([127, 0, net, 5], 25192));
    let bs_tls = SocketAddr::new(bs.ip(), bs.port() + 1);
    let pki = pki(&tmp.0.join("pki"), gw, bs);
    let b = baresip(test, bs, "300", &pki, mediaenc, &["-t", "30"]);
    assert!(
        b.wait_for("baresip is ready", Duration::from_secs(5)),
        "{}",
        b.output()
    );
    let mut g = gateway(&tmp.0, gw, bs_tls, &pki, gateway_enc, seed);
    let cap = capture(test);
    run(&g, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 300");
    talk_encrypted(&g, &b, cap);
    wait_exit_ok(&mut g);
}

#[test]
fn a_phone_calls_baresip_requiring_srtp_over_tls() {
    phone_calls_baresip("hil-srtp-bs-out", 88, "mandatory", "srtp-mand", 96);
}

/// Best effort on both sides: our RTP/AVP offer carries a key, baresip's `srtp` takes it.
#[test]
fn best_effort_srtp_with_baresip_ends_up_encrypted() {
    phone_calls_baresip("hil-srtp-bs-opt", 89, "optional", "srtp", 97);
}
